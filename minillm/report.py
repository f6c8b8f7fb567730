"""Headline metrics: each notebook records a few numbers; ``make course`` collects them.

    from minillm import report
    report.record("03_pretraining", {"val loss": 1.92, "tokens/s": 5400})

The metrics land in ``runs/<profile>/metrics/<notebook>.json`` (written atomically) and
``python -m minillm.course`` turns them into one row per notebook of ``REPORT.md``.
``record`` returns the metrics as a one-row pandas DataFrame so the notebook can show them.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from pathlib import Path

from minillm import paths, profiles


def metrics_dir(profile: str | None = None) -> Path:
    return paths.runs_dir(profile or profiles.active_profile()) / "metrics"


def _clean(value):
    if hasattr(value, "item"):           # numpy / torch scalars
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return round(value, 6)
    if isinstance(value, (int, str, bool)) or value is None:
        return value
    raise TypeError(f"metric value {value!r} must be a number or a string")


def record(notebook: str, metrics: dict, profile: str | None = None):
    """Save ``metrics`` (name -> number or string) as this notebook's headline metrics."""
    import pandas as pd

    if not metrics:
        raise ValueError("record() needs at least one metric, e.g. {'val loss': 1.9}")
    clean = {str(k): _clean(v) for k, v in metrics.items()}
    folder = metrics_dir(profile)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{notebook}.json"
    tmp = folder / f".{notebook}.{uuid.uuid4().hex}.tmp"
    tmp.write_text(json.dumps(clean, indent=2))
    os.replace(tmp, target)
    return pd.DataFrame([clean], index=[notebook])


def load(notebook: str, profile: str | None = None) -> dict | None:
    target = metrics_dir(profile) / f"{notebook}.json"
    if not target.exists():
        return None
    return json.loads(target.read_text())
