"""`python -m minillm.course`: executes notebooks in order, writes REPORT.md, names failures."""

import nbformat
import pytest

from minillm import course


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def course_home(minillm_home, monkeypatch):
    monkeypatch.setenv("MINILLM_PROFILE", "smoke")
    (minillm_home / "notebooks").mkdir()
    return minillm_home


def test_course_runs_in_order_and_reports(course_home):
    nbs = course_home / "notebooks"
    _notebook(nbs / "00_first.ipynb", "from minillm import report",
              "report.record('00_first', {'answer': 42, 'loss': 1.23456789})")
    _notebook(nbs / "01_second.ipynb", "x = 1 + 1", "from minillm import report\nreport.record('01_second', {'x': x})")
    (nbs / "notes.ipynb").write_text("{}")          # not numbered: not part of the course
    assert course.main(["--timeout", "120"]) == 0
    report = (course_home / "runs" / "smoke" / "REPORT.md").read_text()
    rows = [line for line in report.splitlines() if line.startswith("| 0")]
    assert [r.split("|")[1].strip() for r in rows] == ["00_first", "01_second"]
    assert "answer: 42; loss: 1.235" in rows[0] and "x: 2" in rows[1]
    assert "hardware:" in report
    card = (course_home / "runs" / "smoke" / "REPORT_CARD.md").read_text()
    assert "00_first" in card and "01_second" in card
    executed = nbformat.read(course_home / "runs" / "smoke" / "01_second.ipynb", as_version=4)
    assert executed.cells[0].execution_count == 1


def test_failing_notebook_stops_the_run_and_names_the_cell(course_home, capsys):
    nbs = course_home / "notebooks"
    _notebook(nbs / "00_ok.ipynb", "pass")
    _notebook(nbs / "01_broken.ipynb", "a = 1", "# build the thing\nraise ValueError('boom')", "b = 2")
    _notebook(nbs / "02_never.ipynb", "pass")
    assert course.main(["--timeout", "120"]) == 1
    err = capsys.readouterr().err
    assert "01_broken.ipynb failed in cell 1" in err and "build the thing" in err and "boom" in err
    report = (course_home / "runs" / "smoke" / "REPORT.md").read_text()
    assert "| 01_broken | failed |" in report and "02_never" not in report


def test_only_selects_notebooks(course_home):
    nbs = course_home / "notebooks"
    for name in ("00_a", "01_b", "02_c"):
        _notebook(nbs / f"{name}.ipynb", "pass")
    assert [p.stem for p in course.list_notebooks(["01", "02_c"])] == ["01_b", "02_c"]
    with pytest.raises(SystemExit, match="no notebook matches"):
        course.list_notebooks(["07"])


def test_stalled_notebook_is_run_again(course_home, capsys):
    """A cell that outlives --timeout stops that try; the rerun (here: the cell is fast the
    second time, as a cached artifact would make it) lets the course go on."""
    nbs = course_home / "notebooks"
    marker = course_home / "tried"
    _notebook(nbs / "00_stalls_once.ipynb", "import pathlib, time",
              f"# slow the first time\nm = pathlib.Path({str(marker)!r})\n"
              "first = not m.exists()\nm.touch()\ntime.sleep(60 if first else 0)")
    _notebook(nbs / "01_after.ipynb", "pass")
    assert course.main(["--timeout", "3"]) == 0
    out = capsys.readouterr().out
    assert "00_stalls_once.ipynb stalled in cell 1 ('# slow the first time')" in out
    assert "running it again (1 of 1)" in out
    report = (course_home / "runs" / "smoke" / "REPORT.md").read_text()
    assert "| 00_stalls_once | ok |" in report and "| 01_after | ok |" in report


def test_notebook_that_keeps_stalling_fails_the_run(course_home, capsys):
    nbs = course_home / "notebooks"
    _notebook(nbs / "00_slow.ipynb", "import time\ntime.sleep(60)")
    _notebook(nbs / "01_never.ipynb", "pass")
    assert course.main(["--timeout", "2", "--retries", "1"]) == 1
    captured = capsys.readouterr()
    assert captured.out.count("stalled in cell 0") == 1             # the retry message
    assert "00_slow.ipynb stalled in cell 0" in captured.err and "no reply within 2 s" in captured.err
    report = (course_home / "runs" / "smoke" / "REPORT.md").read_text()
    assert "| 00_slow | timed out |" in report and "01_never" not in report
