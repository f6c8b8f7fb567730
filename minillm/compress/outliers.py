"""Activation outliers: the few hidden dimensions that break int8 activations (LLM.int8()).

Dettmers et al. (2022) found that beyond a few billion parameters, a handful of hidden dimensions
carry activations far larger than the rest (|x| > 6, against a typical ~1), in nearly every layer
and token. Per-token int8 rounds each token vector with one scale set by its largest entry, so one
outlier of 60 makes the step ~0.5 and wipes out every ordinary value. Their fix is a **mixed-
precision decomposition**: multiply the outlier columns in float16 and the rest in int8.

This module runs calibration batches through a model with forward hooks on every linear layer and
records, per input dimension, the largest |x|, how many tokens exceed the threshold, and the sum
of squares (Wanda pruning reuses it). ``outlier_report`` turns that into a DataFrame;
``quantize_model_mixed`` builds the W8A8 model with the outlier columns kept in float.

    report = outlier_report(model, batches, threshold=6.0)     # one row per linear layer
    mixed = quantize_model_mixed(model, batches, threshold=6.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from minillm.compress.quantize import QuantLinear, linear_layers, quantize_model


@torch.no_grad()
def run_batches(model: nn.Module, batches) -> None:
    """Forward every calibration batch (token ids (B, T), or an (x, y) pair whose x is used)
    through ``model`` in eval mode, for the hooks to see; restores the training flag after."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    n = 0
    try:
        for batch in batches:
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            model(x.to(device))
            n += 1
    finally:
        model.train(was_training)
    if n == 0:
        raise ValueError("no calibration batches: pass a few batches of token ids (e.g. 8 x 128)")


@dataclass
class InputStats:
    """What one layer's inputs looked like over the calibration tokens, per input dimension."""

    max_abs: torch.Tensor         # (in,) largest |x|
    sum_squares: torch.Tensor     # (in,) float64 sum of x^2 over tokens (Wanda's ||X_j||^2)
    n_over: torch.Tensor          # (in,) tokens with |x| > threshold in this dimension
    tokens_with_outlier: int      # tokens with at least one such dimension
    n_tokens: int
    threshold: float

    def outlier_dims(self) -> torch.Tensor:
        return torch.nonzero(self.max_abs > self.threshold).flatten()

    @property
    def norms(self) -> torch.Tensor:
        """The L2 norm of each input feature over all calibration tokens."""
        return self.sum_squares.sqrt()


def collect_input_stats(model: nn.Module, batches, threshold: float = 6.0,
                        names=None) -> dict[str, InputStats]:
    """Per-dimension input statistics of the linear layers (``nn.Linear`` and ``QuantLinear``)
    of ``model``, or only those in ``names``."""
    if threshold <= 0:
        raise ValueError(f"threshold must be > 0 (LLM.int8() uses 6.0), got {threshold}")
    layers = {n: m for n, m in model.named_modules() if isinstance(m, (nn.Linear, QuantLinear))}
    if names is not None:
        missing = sorted(set(names) - set(layers))
        if missing:
            raise ValueError(f"no linear layers named {missing} in the model")
        layers = {n: layers[n] for n in names}
    stats: dict[str, InputStats] = {}

    def hook_for(name):
        def hook(module, inputs, output):
            x = inputs[0].detach().reshape(-1, inputs[0].shape[-1]).float()
            over = x.abs() > threshold
            s = stats.get(name)
            if s is None:
                zeros = torch.zeros(x.shape[-1], device=x.device)
                s = stats[name] = InputStats(zeros.clone(), zeros.double(), zeros.long(), 0, 0,
                                             threshold)
            s.max_abs = torch.maximum(s.max_abs, x.abs().amax(dim=0))
            s.sum_squares += x.double().pow(2).sum(dim=0)
            s.n_over += over.sum(dim=0)
            s.tokens_with_outlier += int(over.any(dim=-1).sum())
            s.n_tokens += x.shape[0]
        return hook

    handles = [m.register_forward_hook(hook_for(n)) for n, m in layers.items()]
    try:
        run_batches(model, batches)
    finally:
        for h in handles:
            h.remove()
    return {n: stats[n] for n in layers if n in stats}


def outlier_report(model: nn.Module, batches, threshold: float = 6.0, max_listed: int = 10):
    """One row per linear layer: how large its inputs get and which dimensions hold outliers
    (|x| > ``threshold``). Columns: layer, in_features, max_abs, n_outlier_dims, outlier_dims (the
    ``max_listed`` worst, by max |x|), outlier_token_frac (tokens with any outlier)."""
    import pandas as pd

    rows = []
    for name, s in collect_input_stats(model, batches, threshold).items():
        dims = s.outlier_dims()
        worst = dims[s.max_abs[dims].argsort(descending=True)][:max_listed]
        rows.append({"layer": name, "in_features": len(s.max_abs), "max_abs": float(s.max_abs.max()),
                     "n_outlier_dims": len(dims), "outlier_dims": worst.tolist(),
                     "outlier_token_frac": s.tokens_with_outlier / max(s.n_tokens, 1)})
    return pd.DataFrame(rows)


def outlier_columns(stats: dict[str, InputStats]) -> dict[str, torch.Tensor]:
    """Layer name -> input dimensions whose |x| exceeded the threshold (layers without any are
    left out)."""
    return {name: s.outlier_dims() for name, s in stats.items() if len(s.outlier_dims())}


def quantize_model_mixed(model: nn.Module, batches, threshold: float = 6.0, *, bits: int = 8,
                         act_bits: int | None = 8, skip=("lm_head",), **quant_kwargs) -> nn.Module:
    """LLM.int8()-style mixed precision: int8 weights and per-token int8 activations, except the
    input dimensions that showed |x| > ``threshold`` on the calibration batches, which stay in
    float for both. Other keyword arguments go to ``quantize_model``."""
    names = list(linear_layers(model, skip))
    columns = outlier_columns(collect_input_stats(model, batches, threshold, names=names))
    return quantize_model(model, bits, act_bits=act_bits, skip=skip, fp_columns=columns,
                          **quant_kwargs)
