"""Compute accounting for planning runs: FLOPs of a whole run, hours on a GPU, compute-optimal sizes.

Per-model counts (parameters, FLOPs per token, memory) live in ``minillm.compute``; this module
multiplies them out to whole training runs and answers the planning questions of a scaling
study: *with this GPU for this many hours at this MFU, how big a model, on how many tokens?*

    flops = training_flops(175e9, 300e9)                     # GPT-3: 3.15e23 FLOPs
    days = training_seconds(flops, "A100", mfu=0.4) / 86400  # on one A100
    plan = plan_budget("H100", hours=24, mfu=0.4)            # N, D, FLOPs, memory
"""

from __future__ import annotations

import math

from minillm import compute
from minillm.scaling.fits import CHINCHILLA_LAW, ParametricLaw

GPT3 = {"params": 175e9, "tokens": 300e9}          # Brown et al. (2020)
TOKENS_PER_PARAM = 20                              # Hoffmann et al. (2022), rule of thumb


def training_flops(n_params: float, n_tokens: float) -> float:
    """C = 6 N D: 2 FLOPs per weight per token forward, 4 backward."""
    if n_params <= 0 or n_tokens <= 0:
        raise ValueError(f"parameters and tokens must be > 0, got {n_params}, {n_tokens}")
    return 6.0 * n_params * n_tokens


def config_training_flops(config, n_tokens: float, seq_len: int | None = None) -> float:
    """FLOPs to train ``config`` on ``n_tokens``, attention included (``compute.flops_per_token``)."""
    return compute.flops_per_token(config, seq_len) * n_tokens


def peak_for(gpu: str, precision: str = "bf16") -> float:
    peak = compute.gpu_peak_flops(gpu, precision)
    if peak is None:
        raise ValueError(f"unknown GPU {gpu!r}; known: {', '.join(compute.GPU_PEAK_FLOPS)} "
                         f"(or pass peak FLOP/s yourself to training_seconds)")
    return peak


def training_seconds(flops: float, gpu: str | float, mfu: float = 0.4, precision: str = "bf16",
                     n_gpus: int = 1) -> float:
    """Wall-clock seconds to spend ``flops`` on ``n_gpus`` GPUs (a name from
    ``compute.GPU_PEAK_FLOPS`` or a peak in FLOP/s) running at ``mfu`` of their peak."""
    if not 0 < mfu <= 1:
        raise ValueError(f"mfu is a fraction of peak in (0, 1], got {mfu}; 0.3-0.5 is typical")
    if n_gpus < 1:
        raise ValueError(f"n_gpus must be >= 1, got {n_gpus}")
    peak = float(gpu) if isinstance(gpu, (int, float)) else peak_for(gpu, precision)
    return flops / (peak * mfu * n_gpus)


def budget_flops(gpu: str, hours: float, mfu: float = 0.4, precision: str = "bf16", n_gpus: int = 1) -> float:
    """FLOPs that ``hours`` on ``n_gpus`` GPUs deliver at ``mfu``."""
    if hours <= 0:
        raise ValueError(f"hours must be > 0, got {hours}")
    # the inverse of training_seconds, which also checks mfu and n_gpus
    return hours * 3600 / training_seconds(1.0, gpu, mfu, precision, n_gpus)


def rule_of_thumb_optimal(flops: float, tokens_per_param: float = TOKENS_PER_PARAM) -> tuple[float, float]:
    """(N, D) with D = k N and 6 N D = C: N = sqrt(C / 6k)."""
    n = math.sqrt(flops / (6 * tokens_per_param))
    return n, tokens_per_param * n


def plan_budget(gpu: str, hours: float, mfu: float = 0.4, precision: str = "bf16", n_gpus: int = 1,
                law: ParametricLaw = CHINCHILLA_LAW) -> dict:
    """What a GPU budget buys: FLOPs, the compute-optimal N and D (the ``law``'s and the
    20-tokens-per-parameter rule's), the loss the law expects, and the memory to train N
    with AdamW (16 bytes per parameter, activations not included)."""
    flops = budget_flops(gpu, hours, mfu, precision, n_gpus)
    n_law, d_law = law.compute_optimal(flops)
    n_rule, d_rule = rule_of_thumb_optimal(flops)
    return {"flops": flops, "params (law)": float(n_law), "tokens (law)": float(d_law),
            "params (20 tok/param)": n_rule, "tokens (20 tok/param)": d_rule,
            "loss (law)": float(law.loss(n_law, d_law)),
            "train memory GiB (law N)": 16 * float(n_law) / 2**30}


def gpt3_days(gpu: str, mfu: float = 0.4, precision: str = "bf16", n_gpus: int = 1) -> float:
    """Days to train GPT-3 (175B parameters on 300B tokens) on ``n_gpus`` of ``gpu``."""
    flops = training_flops(GPT3["params"], GPT3["tokens"])
    return training_seconds(flops, gpu, mfu, precision, n_gpus) / 86400
