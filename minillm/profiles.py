"""Profiles: one table of configs per stage, picked by the machine you are on.

=========  ================================  =====================================
profile    chosen when                       purpose
=========  ================================  =====================================
smoke      ``MINILLM_PROFILE=smoke`` (CI)    every code path runs in <= 60 s on 2 CPU cores
cpu        no accelerator                    results that teach, <= ~10 min per notebook
gpu        CUDA is available                 bigger models, <= ~10 min on a Colab T4
=========  ================================  =====================================

Each stage registers its configs once, in code, next to the function that uses them::

    from dataclasses import dataclass
    from minillm import profiles

    @dataclass(frozen=True)
    class PretrainConfig:
        n_layer: int
        steps: int

    profiles.register_stage(
        "pretrain",
        configs={"smoke": PretrainConfig(2, 20), "cpu": PretrainConfig(4, 2000),
                 "gpu": PretrainConfig(8, 5000)},
        minutes={"smoke": 0.5, "cpu": 8, "gpu": 6},
    )
    cfg = profiles.stage_config("pretrain")     # the config of the active profile
    print(profiles.banner("pretrain"))          # the first line every notebook prints
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from typing import Any

PROFILES = ("smoke", "cpu", "gpu")
ENV_VAR = "MINILLM_PROFILE"


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def active_profile() -> str:
    """``$MINILLM_PROFILE`` if set, else ``gpu`` when CUDA is available, else ``cpu``."""
    requested = os.environ.get(ENV_VAR, "").strip().lower()
    if requested:
        if requested not in PROFILES:
            raise ValueError(
                f"{ENV_VAR}={requested!r} is not a profile; use one of {', '.join(PROFILES)} "
                f"(or unset it to pick automatically)"
            )
        return requested
    return "gpu" if _cuda_available() else "cpu"


@dataclass
class Stage:
    name: str
    configs: dict[str, Any]
    minutes: dict[str, float] = field(default_factory=dict)
    description: str = ""


_STAGES: dict[str, Stage] = {}


def register_stage(
    name: str, configs: dict[str, Any], minutes: dict[str, float] | None = None,
    description: str = "",
) -> Stage:
    """Register a stage's per-profile configs (every profile must have one)."""
    missing = [p for p in PROFILES if p not in configs]
    if missing:
        raise ValueError(f"stage {name!r} has no config for profile(s) {missing}; give all of {PROFILES}")
    unknown = [p for p in configs if p not in PROFILES]
    if unknown:
        raise ValueError(f"stage {name!r}: unknown profile(s) {unknown}; profiles are {PROFILES}")
    stage = Stage(name, dict(configs), dict(minutes or {}), description)
    _STAGES[name] = stage
    return stage


def stages() -> dict[str, Stage]:
    _load_stage_modules()
    return dict(_STAGES)


def get_stage(name: str) -> Stage:
    _load_stage_modules()
    if name not in _STAGES:
        raise KeyError(f"no stage named {name!r}; registered stages: {sorted(_STAGES)}")
    return _STAGES[name]


def stage_config(name: str, profile: str | None = None) -> Any:
    """The config of ``name`` for ``profile`` (default: the active profile)."""
    return get_stage(name).configs[profile or active_profile()]


def _load_stage_modules() -> None:
    # Stage modules register themselves on import; the pipeline module imports them all.
    from minillm import pipeline  # noqa: F401


def expected_minutes(stage: str | None, profile: str) -> float | None:
    if stage is None:
        return None
    return get_stage(stage).minutes.get(profile)


def banner(stage: str | None = None, profile: str | None = None) -> str:
    """One line: profile, device, precision, torch version and expected time.

    >>> print(banner("pretrain"))  # doctest: +SKIP
    minillm 0.1.0 | profile cpu | device cpu (x86_64, 2 cores) | fp32 | torch 2.13.0 | expected ~8 min
    """
    import torch

    from minillm import __version__
    from minillm.device import describe_device, pick_device, precision_for

    profile = profile or active_profile()
    device = pick_device()
    precision = precision_for(device)
    parts = [
        f"minillm {__version__}",
        f"profile {profile}",
        f"device {describe_device(device)}",
        precision.name,
        f"torch {torch.__version__.split('+')[0]}",
        f"python {platform.python_version()}",
    ]
    minutes = expected_minutes(stage, profile)
    if minutes is not None:
        parts.append(f"expected ~{_format_minutes(minutes)}")
    return " | ".join(parts)


def _format_minutes(minutes: float) -> str:
    if minutes < 1:
        return f"{max(1, round(minutes * 60))} s"
    return f"{minutes:.0f} min"
