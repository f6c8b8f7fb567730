"""Run the whole course headless: ``python -m minillm.course`` (what ``make course`` calls).

Executes every ``notebooks/NN_*.ipynb`` in order in the active profile (``$MINILLM_PROFILE``
overrides the automatic choice), saves each executed notebook under ``runs/<profile>/`` and
writes ``runs/<profile>/REPORT.md``: one row per notebook with its headline metrics (recorded
by the notebook through ``minillm.report.record``), its wall time and the hardware; and
``runs/<profile>/REPORT_CARD.md``: every model side by side, plots and a model card
(``minillm.evaluate.report_card``).

A failing notebook stops the run; the message names the notebook and the cell. A notebook whose
cell times out, or whose kernel dies, is run once more from the top before the run stops (its
finished artifacts are cached, so the second run skips to where the first one stalled): a
headless run can, rarely, wait forever on a kernel that has finished a widget cell (nbclient
issue #312), and ``--timeout`` turns that wait into a retry.

    python -m minillm.course                 # every notebook
    python -m minillm.course --only 00 03    # some notebooks (their upstream artifacts are
                                             # built on demand by the artifact store)
    python -m minillm.course --timeout 900 --retries 1   # seconds per cell; reruns of a stalled notebook
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from minillm import paths, profiles, report
from minillm.evaluate import report_card


@dataclass
class NotebookRun:
    notebook: str
    status: str                 # "ok", "failed" or "timed out" (a cell, or a dead kernel)
    seconds: float
    metrics: dict
    error: str = ""


class NotebookFailed(RuntimeError):
    pass


def list_notebooks(only: list[str] | None = None) -> list[Path]:
    found = sorted(p for p in (paths.repo_root() / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if only:
        wanted = [o.removesuffix(".ipynb") for o in only]
        found = [p for p in found if any(p.stem == w or p.stem.startswith(w + "_") for w in wanted)]
        if not found:
            raise SystemExit(f"no notebook matches {only}; notebooks are named like 00_welcome")
    return found


def hardware() -> str:
    import torch

    from minillm.device import describe_device, pick_device

    device = pick_device()
    host = f"host CPU {_cpu_model()}, {os.cpu_count()} cores"
    if device.type == "cpu":
        return f"{host}; torch {torch.__version__}"
    return f"{describe_device(device)}; {host}; torch {torch.__version__}"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _failing_cell(nb) -> tuple[int, str]:
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                first_line = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
                return index, first_line
    return -1, ""


def run_notebook(path: Path, out_dir: Path, timeout: int = 1800) -> NotebookRun:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    profile = profiles.active_profile()
    stale = report.metrics_dir(profile) / f"{path.stem}.json"
    stale.unlink(missing_ok=True)
    nb = nbformat.read(path, as_version=4)
    current = {"index": -1}

    def on_cell_start(cell, cell_index):
        current["index"] = cell_index

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", on_cell_start=on_cell_start,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    error = ""
    try:
        client.execute()
        status = "ok"
    except (CellTimeoutError, DeadKernelError) as e:
        status = "timed out"
        index = current["index"]
        what = "the kernel died" if isinstance(e, DeadKernelError) else f"no reply within {timeout} s"
        if index < 0:                                     # the kernel never ran a cell
            error = f"{path.name} stalled before its first cell: {what}"
        else:
            first_line = next((ln for ln in nb.cells[index].source.splitlines() if ln.strip()), "")
            error = f"{path.name} stalled in cell {index} ({first_line!r}): {what}"
    except CellExecutionError as e:
        status = "failed"
        index, first_line = _failing_cell(nb)
        error = (f"{path.name} failed in cell {index} ({first_line!r}): "
                 f"{str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__}")
    seconds = time.perf_counter() - start
    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_dir / path.name)
    return NotebookRun(path.stem, status, seconds, report.load(path.stem, profile) or {}, error)


def write_report(runs: list[NotebookRun], profile: str, target: Path, total_seconds: float) -> None:
    lines = [
        f"# minillm course report ({profile} profile)",
        "",
        f"- hardware: {hardware()}",
        f"- python {platform.python_version()} on {platform.platform()}",
        f"- finished {time.strftime('%Y-%m-%d %H:%M:%S')}, total wall time {total_seconds / 60:.1f} min",
        "",
        "| notebook | status | headline metrics | wall time |",
        "|---|---|---|---|",
    ]
    for run in runs:
        metrics = "; ".join(f"{k}: {_fmt(v)}" for k, v in run.metrics.items()) or "-"
        lines.append(f"| {run.notebook} | {run.status} | {metrics} | {run.seconds:.0f} s |")
    failed = [r for r in runs if r.status != "ok"]
    if failed:
        lines += ["", "## Failures", ""] + [f"- {r.error}" for r in failed]
    tmp = target.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, target)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", help="notebook numbers or names, e.g. 00 03")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--retries", type=int, default=1,
                        help="reruns of a notebook whose cell timed out or whose kernel died")
    args = parser.parse_args(argv)

    profile = profiles.active_profile()
    os.environ[profiles.ENV_VAR] = profile          # the kernels inherit it
    # The kernels draw with IPython's inline backend, so every figure lands in the saved notebook
    # (a non-interactive backend such as Agg would leave them empty).
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    # Nobody watches a headless run's progress bars, and tqdm's widget bars send a comm message
    # per update. (A run can still, rarely, wait on a kernel that has finished a cell: seen in
    # notebooks 02 and 04, both with widgets; nbclient issue #312. --timeout and --retries
    # turn that into a rerun.)
    os.environ.setdefault("TQDM_DISABLE", "1")
    out_dir = paths.runs_dir(profile)
    notebooks = list_notebooks(args.only)
    print(profiles.banner(), flush=True)
    print(f"running {len(notebooks)} notebook(s) in the {profile} profile -> {out_dir}", flush=True)
    runs: list[NotebookRun] = []
    start = time.perf_counter()
    for path in notebooks:
        print(f"== {path.name} ...", flush=True)
        run = run_notebook(path, out_dir, args.timeout)
        for attempt in range(args.retries):
            if run.status != "timed out":
                break
            print(f"   {run.error}; running it again ({attempt + 1} of {args.retries})", flush=True)
            again = run_notebook(path, out_dir, args.timeout)
            again.seconds += run.seconds
            run = again
        runs.append(run)
        print(f"   {run.status} in {run.seconds:.0f} s  {run.metrics or ''}", flush=True)
        if run.status != "ok":
            break
    out_dir.mkdir(parents=True, exist_ok=True)
    write_report(runs, profile, out_dir / "REPORT.md", time.perf_counter() - start)
    card = report_card.write_report_card(out_dir / "REPORT_CARD.md", profile=profile, wall_times=runs)
    print(f"report: {out_dir / 'REPORT.md'}; report card: {card}", flush=True)
    failed = [r for r in runs if r.status != "ok"]
    if failed:
        print(f"FAILED: {failed[0].error}", file=sys.stderr, flush=True)
        print(f"the executed notebook, with the error, is at {out_dir / (failed[0].notebook + '.ipynb')}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
