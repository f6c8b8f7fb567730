"""Every notebook meets the course's bar: badge, set-up cell, banner, exercises, summary.

(Execution itself is nbval's job: `make test` runs `pytest --nbval-lax` over notebooks/.)
"""

import json
from pathlib import Path

import pytest

from minillm.notebook import CHAPTERS, REPO, colab_url

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _text(cell):
    return "".join(cell["source"])


def test_there_are_notebooks_and_each_is_a_chapter():
    assert NOTEBOOKS, "notebooks/ has no numbered notebooks"
    names = {c.filename for c in CHAPTERS}
    assert {p.name for p in NOTEBOOKS} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_structure(path):
    cells = _cells(path)
    first = _text(cells[0])
    assert first.lstrip().startswith("[![Open In Colab]"), "first cell starts with the Colab badge"
    assert colab_url(path.name) in first, "the badge points at this notebook's path"
    assert "\n# " in first, "a title"
    assert "learning goals" in first.lower() or "you will learn" in first.lower()
    code = [c for c in cells if c["cell_type"] == "code"]
    setup = _text(code[0])
    assert "google.colab" in setup and f"https://github.com/{REPO}" in setup
    install_lines = [line for line in setup.splitlines() if "pip" in line]
    assert install_lines and not any("torch" in line for line in install_lines), \
        "the Colab cell installs the course but keeps Colab's own torch"
    assert "notebook.start(" in _text(code[1]), "the second code cell prints the banner"
    markdown = "\n".join(_text(c) for c in cells if c["cell_type"] == "markdown").lower()
    assert "exercise" in markdown and "solution" in markdown
    assert "summary" in markdown and "references" in markdown
    assert any("plt." in _text(c) or "plot" in _text(c) for c in code), "at least one plot"
    for cell in code:
        src = _text(cell)
        if "import ipywidgets" in src or "widgets.interact" in src:
            assert "nbval-ignore-output" in cell["metadata"].get("tags", []), \
                "widget cells ignore their output under nbval"


def test_readme_lists_every_chapter():
    readme = (ROOT / "README.md").read_text()
    for chapter in CHAPTERS:
        assert chapter.filename in readme
    for path in NOTEBOOKS:
        assert colab_url(path.name) in readme
