"""The course's report card: every model side by side, every notebook's numbers, a model card.

Each notebook records its headline metrics with ``minillm.report.record`` (they land in
``runs/<profile>/metrics/<notebook>.json``). Notebook 09 compares the models the course built
(base, SFT, prompt-tuned, LoRA, PPO, DPO, int8, int4, pruned, distilled) on the same
metrics and saves that table with ``save_model_rows``. ``write_report_card`` puts it all in one
markdown file:

- a models x metrics table (val loss, bits per byte, QA accuracy, gold score, refusal rates,
  size, tokens/s); a model or metric that was not measured shows "—";
- one row per notebook: wall time and headline metrics;
- the hardware, and links to the plots saved under ``runs/<profile>/``;
- a short model card for the final model: intended use, training data, evaluation results,
  limitations.

    from minillm.evaluate import report_card
    report_card.save_model_rows({"base": {"val loss": 1.9}, "sft": {"gold score": 0.71}})
    report_card.write_report_card("runs/cpu/REPORT_CARD.md",
                                  wall_times={"03_pretraining": 412.0})
"""

from __future__ import annotations

import json
import math
import os
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from minillm import paths, profiles, report

MISSING = "—"
MODEL_ORDER = ("base", "sft", "prompt-tuned", "lora", "ppo", "dpo", "int8", "int4", "pruned",
               "distilled")
MODEL_METRICS = ("val loss", "bits per byte", "QA accuracy", "gold score", "refusal rate (harmful)",
                 "over-refusal (benign)", "size (MB)", "tokens/s")
# Spellings notebooks are likely to use, mapped to the table's column names.
METRIC_ALIASES = {
    "val_loss": "val loss", "validation loss": "val loss", "bpb": "bits per byte",
    "bits_per_byte": "bits per byte", "qa_accuracy": "QA accuracy", "qa accuracy": "QA accuracy",
    "gold": "gold score", "gold_score": "gold score", "refusal_rate": "refusal rate (harmful)",
    "refusal rate": "refusal rate (harmful)", "over_refusal": "over-refusal (benign)",
    "over-refusal": "over-refusal (benign)", "size_mb": "size (MB)", "size": "size (MB)",
    "tokens_per_s": "tokens/s", "tokens per second": "tokens/s",
}
FINAL_MODEL_PREFERENCE = ("dpo", "ppo", "lora", "sft", "prompt-tuned", "distilled", "base")
PLOT_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".pdf")


@dataclass
class ModelCard:
    """The short model card at the end of the report; the defaults describe the course's model."""

    model: str | None = None  # which row of the model table; None picks FINAL_MODEL_PREFERENCE
    intended_use: str = (
        "Teaching: a small GPT that answers questions about TinyWorld, a fictional world, in a "
        "chat format. It shows each stage of an LLM's life at a scale a laptop can run. It is not "
        "meant for any real-world use or for facts about the real world.")
    training_data: str = (
        "Pretraining on TinyWorld documents (stories, encyclopedia entries, dialogues, word "
        "problems; held-out entities never appear in train text), optionally mixed with Python "
        "docstrings, after the course's curation pipeline. Supervised fine-tuning on the TinyWorld "
        "SFT train split; preferences labelled by the programmatic gold judge.")
    limitations: str = (
        "Knows only TinyWorld and makes up answers about anything else; a few million parameters "
        "cannot reason reliably. The gold judge is a program, so its scores reward what its rules "
        "check and nothing more. Refusal was trained and red-teamed on a small set of patterns; "
        "new phrasings can get past it, and benign requests with risky words may be refused.")
    notes: list[str] = field(default_factory=list)  # anything else worth a line


# --- model rows ---------------------------------------------------------------------------------

def canonical_model_name(name: str) -> str:
    """``"Prompt_Tuned"`` -> ``"prompt-tuned"``: model names compare lowercase, with dashes."""
    return str(name).strip().lower().replace("_", "-").replace(" ", "-")


def canonical_metric_name(name: str) -> str:
    key = str(name).strip()
    return METRIC_ALIASES.get(key.lower(), METRIC_ALIASES.get(key, key))


def _rows_from(models) -> dict[str, dict]:
    """{model: {metric: value}} from a dict of dicts, a DataFrame (index or a "model" column)
    or a list of dicts with a "model" key."""
    import pandas as pd

    if models is None:
        return {}
    if isinstance(models, pd.DataFrame):
        frame = models.set_index("model") if "model" in models.columns else models
        return {str(k): dict(v) for k, v in frame.to_dict(orient="index").items()}
    if isinstance(models, Mapping):
        bad = [k for k, v in models.items() if not isinstance(v, Mapping)]
        if bad:
            raise ValueError(f"models[{bad[0]!r}] must be a dict of metrics, e.g. "
                             f"{{'sft': {{'gold score': 0.7}}}}")
        return {str(k): dict(v) for k, v in models.items()}
    if isinstance(models, Iterable):
        rows = list(models)
        if not all(isinstance(r, Mapping) and "model" in r for r in rows):
            raise ValueError("a list of model rows needs a 'model' key in every row")
        return {str(r["model"]): {k: v for k, v in r.items() if k != "model"} for r in rows}
    raise ValueError(f"models must be a dict, a DataFrame or a list of dicts, got {type(models)}")


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def model_table(models):
    """One row per model (``MODEL_ORDER`` first, then others as given), the ``MODEL_METRICS``
    columns first and any other metric after them; unmeasured cells are NaN."""
    import pandas as pd

    rows: dict[str, dict] = {}
    for name, metrics in _rows_from(models).items():
        row = rows.setdefault(canonical_model_name(name), {})
        for metric, value in metrics.items():
            if hasattr(value, "item"):  # numpy / torch scalars
                value = value.item()
            if not _is_missing(value):
                row[canonical_metric_name(metric)] = value
    order = [m for m in MODEL_ORDER if m in rows] + [m for m in rows if m not in MODEL_ORDER]
    extras = list(dict.fromkeys(k for m in order for k in rows[m] if k not in MODEL_METRICS))
    table = pd.DataFrame([rows[m] for m in order], index=order,
                         columns=list(MODEL_METRICS) + extras, dtype=object)
    table.index.name = "model"
    return table.where(table.notna(), float("nan"))


def _models_file(profile: str | None) -> Path:
    return paths.runs_dir(profile or profiles.active_profile()) / "report_card" / "models.json"


def _write_atomic(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def _json_value(metric: str, value):
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    raise ValueError(f"metric {metric!r} is {value!r}; a model row holds numbers or strings")


def save_model_rows(models, profile: str | None = None) -> Path:
    """Save the model comparison (see ``model_table`` for what ``models`` may be) where
    ``write_report_card`` finds it: ``runs/<profile>/report_card/models.json``."""
    table = model_table(models)
    if table.empty:
        raise ValueError("no model rows to save; give e.g. {'base': {'val loss': 1.9}}")
    data = {model: {k: _json_value(k, v) for k, v in row.items() if not _is_missing(v)}
            for model, row in table.to_dict(orient="index").items()}
    target = _models_file(profile)
    _write_atomic(target, json.dumps(data, indent=2))
    return target


def load_model_rows(profile: str | None = None) -> dict[str, dict]:
    """The rows ``save_model_rows`` saved for this profile ({} if none yet)."""
    target = _models_file(profile)
    return json.loads(target.read_text(encoding="utf-8")) if target.exists() else {}


def collect_notebook_metrics(profile: str | None = None) -> dict[str, dict]:
    """{notebook: headline metrics} from every ``report.record`` of this profile, sorted."""
    folder = report.metrics_dir(profile)
    if not folder.is_dir():
        return {}
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def find_plots(folder: str | Path) -> list[Path]:
    """Saved figures under ``folder`` (any depth), sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in PLOT_SUFFIXES and p.is_file())


# --- rendering ----------------------------------------------------------------------------------

def format_value(value) -> str:
    """A table cell: "—" when missing, 4 significant digits for floats, yes/no for booleans."""
    if hasattr(value, "item"):
        value = value.item()
    if _is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(table, index_name: str | None = None) -> list[str]:
    """Lines of a markdown table for a DataFrame (the index is the first column)."""
    header = [index_name or table.index.name or ""] + [str(c) for c in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, row in table.iterrows():
        values = [format_value(name)] + [format_value(v) for v in row]
        lines.append("| " + " | ".join(values) + " |")
    return lines


def _format_seconds(seconds) -> str:
    if _is_missing(seconds):
        return MISSING
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _wall_times(wall_times) -> dict[str, float]:
    """Accept {notebook: seconds} or course.NotebookRun-like objects (.notebook, .seconds)."""
    if wall_times is None:
        return {}
    if isinstance(wall_times, Mapping):
        return {str(k): float(v) for k, v in wall_times.items()}
    return {run.notebook: float(run.seconds) for run in wall_times}


def _plot_links(plots, base_dir: Path) -> list[str]:
    if isinstance(plots, Mapping):
        named = [(str(k), Path(v)) for k, v in plots.items()]
    else:
        named = [(Path(p).stem, Path(p)) for p in plots]
    lines = []
    for label, path in named:
        target = Path(os.path.relpath(path.resolve(), base_dir.resolve())).as_posix()
        missing = "" if path.exists() else " (file not found)"
        lines.append(f"- [{label}]({target}){missing}")
    return lines


def pick_final_model(table) -> str | None:
    """The model the model card describes: the first of ``FINAL_MODEL_PREFERENCE`` in the
    table, else its first row, else None."""
    for name in FINAL_MODEL_PREFERENCE:
        if name in table.index:
            return name
    return table.index[0] if len(table) else None


def render_model_card(card: ModelCard, table) -> list[str]:
    name = card.model if card.model is not None else pick_final_model(table)
    lines = [f"## Model card: {name or 'final model'}", "",
             f"**Intended use.** {card.intended_use}", "",
             f"**Training data.** {card.training_data}", "", "**Evaluation results.**", ""]
    if name is not None and canonical_model_name(name) in table.index:
        row = table.loc[canonical_model_name(name)]
        measured = [(k, v) for k, v in row.items() if not _is_missing(v)]
        lines += [f"- {k}: {format_value(v)}" for k, v in measured] or [f"- {MISSING}"]
    else:
        lines.append(f"- {MISSING} (no measured row for this model)")
    lines += ["", f"**Limitations.** {card.limitations}"]
    lines += [""] + [f"- {note}" for note in card.notes] if card.notes else []
    return lines


def render_report_card(*, profile: str | None = None, models=None, notebook_metrics=None,
                       wall_times=None, hardware: str | None = None, plots=None,
                       model_card: ModelCard | None = None, base_dir: str | Path | None = None,
                       title: str | None = None) -> str:
    """The report card as markdown. Every input defaults to what this profile saved on disk:
    ``models`` to ``load_model_rows``, ``notebook_metrics`` to ``collect_notebook_metrics``,
    ``plots`` to ``find_plots(runs/<profile>)``, ``hardware`` to ``course.hardware()``.
    ``wall_times`` is {notebook: seconds} or the course's NotebookRun list; plot links are
    relative to ``base_dir`` (default ``runs/<profile>``)."""
    import pandas as pd

    profile = profile or profiles.active_profile()
    runs_dir = paths.runs_dir(profile)
    base_dir = Path(base_dir) if base_dir is not None else runs_dir
    table = model_table(load_model_rows(profile) if models is None else models)
    notebook_metrics = (collect_notebook_metrics(profile) if notebook_metrics is None
                        else dict(notebook_metrics))
    times = _wall_times(wall_times)
    if hardware is None:
        from minillm.course import hardware as describe_hardware

        hardware = describe_hardware()
    plot_paths = find_plots(runs_dir) if plots is None else plots

    lines = [f"# {title or f'minillm report card ({profile} profile)'}", "",
             f"- hardware: {hardware}", f"- written {time.strftime('%Y-%m-%d %H:%M:%S')}"]
    if times:
        lines.append(f"- total wall time: {_format_seconds(sum(times.values()))}")
    lines += ["", "## Models", ""]
    if len(table):
        lines += markdown_table(table, "model")
    else:
        lines.append(f"{MISSING} (no model comparison saved yet: notebook 09 saves it with "
                     "save_model_rows)")
    lines += ["", "## Notebooks", ""]
    notebooks = sorted(set(notebook_metrics) | set(times))
    if notebooks:
        frame = pd.DataFrame(
            {"wall time": [_format_seconds(times.get(n)) for n in notebooks],
             "headline metrics": ["; ".join(f"{k}: {format_value(v)}"
                                            for k, v in notebook_metrics.get(n, {}).items())
                                  or MISSING for n in notebooks]},
            index=notebooks)
        lines += markdown_table(frame, "notebook")
    else:
        lines.append(f"{MISSING} (no notebook has recorded metrics yet)")
    lines += ["", "## Plots", ""]
    links = _plot_links(plot_paths, base_dir)
    lines += links or [f"{MISSING} (no saved plots)"]
    lines += [""] + render_model_card(model_card or ModelCard(), table)
    return "\n".join(lines) + "\n"


def write_report_card(path: str | Path | None = None, **kwargs) -> Path:
    """Render the report card (keyword arguments as ``render_report_card``) and write it
    atomically to ``path`` (default ``runs/<profile>/REPORT_CARD.md``); return the path."""
    profile = kwargs.get("profile") or profiles.active_profile()
    target = Path(path) if path is not None else paths.runs_dir(profile) / "REPORT_CARD.md"
    kwargs.setdefault("base_dir", target.parent)
    _write_atomic(target, render_report_card(**kwargs))
    return target
