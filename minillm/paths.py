"""Where the course keeps things: the repository root, artifacts/ and runs/.

The course runs from a checkout (locally, or cloned in Colab), so paths are resolved
against the repository root. ``MINILLM_HOME`` overrides it, e.g. to keep artifacts on a
bigger disk.
"""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The minillm checkout: ``$MINILLM_HOME``, else the folder above this package."""
    env = os.environ.get("MINILLM_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parent.parent


def artifacts_dir(profile: str) -> Path:
    return repo_root() / "artifacts" / profile


def runs_dir(profile: str) -> Path:
    return repo_root() / "runs" / profile


def data_dir() -> Path:
    return repo_root() / "data"
