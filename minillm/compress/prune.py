"""Pruning: set most of a model's weights to zero, choosing the ones it misses least.

A pruning method gives every weight a **score** and zeroes the lowest-scoring ones:

* ``"magnitude"`` -- score |W|: small weights matter little (Han et al., 2015).
* ``"wanda"`` -- score |W_ij| * ||X_j||_2, the weight times the L2 norm of its input feature over
  calibration tokens (Sun et al., 2023). A small weight on a feature that is often huge still
  matters; this is what makes one-shot pruning of LLMs work without retraining.

Scores are compared **within each output row** (each output neuron keeps the same number of
inputs), in one of two patterns:

* ``"unstructured"`` -- any ``round(sparsity * in_features)`` weights of a row;
* ``"N:M"`` semi-structured, e.g. ``"2:4"`` -- in every run of M consecutive weights of a row, keep
  the N best. NVIDIA's sparse tensor cores run 2:4 matrices about twice as fast; sparsity is
  fixed at 1 - N/M.

Wanda goes block by block like GPTQ: each block's input norms are measured on the outputs of the
already-pruned blocks before it.

    pruned = prune_model(model, "wanda", sparsity=0.5, batches=calibration_batches)
    pruned = prune_model(model, "magnitude", pattern="2:4")
    sparsity_report(pruned)          # DataFrame: one row per linear layer
"""

from __future__ import annotations

import copy

import torch
import torch.nn as nn

from minillm.compress.outliers import collect_input_stats
from minillm.compress.quantize import block_key, linear_layers

METHODS = ("magnitude", "wanda")


def parse_pattern(pattern: str) -> tuple[int, int] | None:
    """None for "unstructured"; (N, M) for "N:M"."""
    if pattern == "unstructured":
        return None
    try:
        n, m = (int(p) for p in pattern.split(":"))
    except ValueError:
        n = m = -1
    if not 0 < n < m:
        raise ValueError(f"pattern={pattern!r} is neither 'unstructured' nor 'N:M' with 0 < N < M "
                         f"(e.g. '2:4')")
    return n, m


def magnitude_scores(weight: torch.Tensor) -> torch.Tensor:
    return weight.detach().abs()


def wanda_scores(weight: torch.Tensor, input_norms: torch.Tensor) -> torch.Tensor:
    """|W_ij| * ||X_j||_2, with ``input_norms`` (in_features,) the L2 norm of each input feature."""
    if input_norms.shape != (weight.shape[1],):
        raise ValueError(f"input_norms must have one entry per input feature ({weight.shape[1]}), "
                         f"got shape {tuple(input_norms.shape)}")
    return weight.detach().abs() * input_norms.to(weight.device, torch.float32)[None, :]


def prune_mask(scores: torch.Tensor, sparsity: float = 0.5, pattern: str = "unstructured") -> torch.Tensor:
    """Boolean mask (True = keep) of a 2-D score matrix, pruning the lowest scores of each row.
    Ties go to the earlier column, so the mask is deterministic."""
    nm = parse_pattern(pattern)
    out_features, in_features = scores.shape
    if nm is None:
        if not 0 <= sparsity < 1:
            raise ValueError(f"sparsity must be in [0, 1), got {sparsity}")
        n_prune = round(sparsity * in_features)
        rank = scores.argsort(dim=1, stable=True)           # ascending: the weakest come first
        mask = torch.ones_like(scores, dtype=torch.bool)
        mask.scatter_(1, rank[:, :n_prune], False)
        return mask
    n, m = nm
    if in_features % m:
        raise ValueError(f"pattern {pattern!r} needs in_features ({in_features}) divisible by {m}")
    groups = scores.reshape(out_features, in_features // m, m)
    rank = groups.argsort(dim=-1, stable=True)
    mask = torch.ones_like(groups, dtype=torch.bool)
    mask.scatter_(-1, rank[..., :m - n], False)
    return mask.reshape(out_features, in_features)


@torch.no_grad()
def prune_model(model: nn.Module, method: str = "magnitude", sparsity: float = 0.5,
                pattern: str = "unstructured", batches=None, skip=("lm_head",)) -> nn.Module:
    """A copy of ``model`` with the weights of its linear layers (minus ``skip``) pruned.
    ``"wanda"`` needs calibration ``batches`` (token ids, or (x, y) pairs)."""
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not one of {METHODS}")
    nm = parse_pattern(pattern)
    if nm is not None:
        sparsity = 1 - nm[0] / nm[1]
    if not 0 <= sparsity < 1:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity}")
    if method == "wanda" and batches is None:
        raise ValueError("method='wanda' needs calibration batches (batches=...) to measure input "
                         "norms; use method='magnitude' to prune without data")
    batches = list(batches) if batches is not None else None
    new = copy.deepcopy(model)
    layers = linear_layers(new, skip)
    blocks: dict[str, list[str]] = {}
    for name in layers:
        blocks.setdefault(block_key(name), []).append(name)
    for names in blocks.values():
        stats = collect_input_stats(new, batches, names=names) if method == "wanda" else {}
        silent = [n for n in names if method == "wanda" and n not in stats]
        if silent:
            raise ValueError(f"layers {silent} received no input from the calibration batches; "
                             f"add them to skip=...")
        for name in names:
            weight = layers[name].weight
            scores = wanda_scores(weight, stats[name].norms) if method == "wanda" \
                else magnitude_scores(weight)
            try:
                mask = prune_mask(scores, sparsity, pattern)
            except ValueError as err:
                raise ValueError(f"cannot prune layer {name!r}: {err}") from err
            weight.mul_(mask.to(weight.dtype))
    return new


def sparsity_report(model: nn.Module, skip=()):
    """One row per linear layer: layer, shape, params, zeros, sparsity, and is_2_4 (every run of
    4 input weights holds at most 2 nonzeros)."""
    import pandas as pd

    rows = []
    for name, layer in linear_layers(model, skip).items():
        w = layer.weight.detach()
        nonzero_per_4 = None
        if w.shape[1] % 4 == 0:
            nonzero_per_4 = (w.reshape(w.shape[0], -1, 4) != 0).sum(-1)
        rows.append({"layer": name, "shape": tuple(w.shape), "params": w.numel(),
                     "zeros": int((w == 0).sum()), "sparsity": float((w == 0).float().mean()),
                     "is_2_4": bool(nonzero_per_4 is not None and (nonzero_per_4 <= 2).all())})
    return pd.DataFrame(rows)
