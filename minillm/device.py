"""Device, precision and seeding.

Precision rules (DESIGN.md):

- CUDA with compute capability >= 8.0 (Ampere and newer): bf16 autocast, no loss scaling.
- CUDA below 8.0 (e.g. a Colab T4, 7.5): fp16 autocast with a ``GradScaler``.
  ``torch.cuda.is_bf16_supported()`` says True on a T4 because it counts emulation,
  so we decide from the compute capability instead.
- Apple ``mps`` and CPU: fp32.

Usage::

    device = pick_device()                  # cuda > mps > cpu, or $MINILLM_DEVICE
    precision = precision_for(device)
    with precision.autocast(device):
        loss = model(x, y)
    seed_everything(1337)                   # Python, NumPy and torch generators
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
from dataclasses import dataclass

import numpy as np
import torch


def pick_device(requested: str | None = None) -> torch.device:
    """The device to use: ``requested``, else ``$MINILLM_DEVICE``, else cuda > mps > cpu."""
    requested = requested or os.environ.get("MINILLM_DEVICE") or None
    if requested is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"device {requested!r} was requested but CUDA is not available on this machine "
            f"(torch {torch.__version__}). Use device='cpu', unset MINILLM_DEVICE, or install a "
            f"CUDA build of torch (see README: TORCH=...)."
        )
    if device.type == "mps" and not (
        getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    ):
        raise RuntimeError(
            f"device {requested!r} was requested but Apple MPS is not available here; use 'cpu'."
        )
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"unsupported device {requested!r}; use 'cpu', 'cuda' or 'mps'")
    return device


@dataclass(frozen=True)
class Precision:
    """How to run math on a device: the autocast dtype and whether to scale the loss."""

    name: str                       # "bf16", "fp16", "fp32"
    autocast_dtype: torch.dtype | None
    use_grad_scaler: bool

    def autocast(self, device: torch.device):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=self.autocast_dtype)

    def grad_scaler(self, device: torch.device) -> torch.amp.GradScaler:
        return torch.amp.GradScaler(device.type, enabled=self.use_grad_scaler)


FP32 = Precision("fp32", None, False)
BF16 = Precision("bf16", torch.bfloat16, False)
FP16 = Precision("fp16", torch.float16, True)


def precision_for(device: torch.device, capability: tuple[int, int] | None = None) -> Precision:
    """bf16 on CUDA >= 8.0, fp16 + GradScaler on older CUDA, fp32 elsewhere.

    ``capability`` overrides the queried compute capability (for tests and planning).
    """
    if device.type != "cuda":
        return FP32
    if capability is None:
        capability = torch.cuda.get_device_capability(device)
    return BF16 if capability[0] >= 8 else FP16


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(index)
        return f"cuda ({props.name}, {props.total_memory / 2**30:.0f} GiB, sm_{props.major}{props.minor})"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({platform.machine()}, {os.cpu_count()} cores)"


def seed_everything(seed: int, deterministic: bool = True) -> torch.Generator:
    """Seed Python, NumPy and torch; return a torch.Generator seeded the same way.

    With ``deterministic=True`` torch is asked for deterministic kernels (warn-only, so an op
    without a deterministic version still runs). On CPU this makes seeded runs reproduce.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        if torch.backends.cudnn.is_available():
            torch.backends.cudnn.benchmark = False
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator
