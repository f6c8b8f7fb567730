"""GPTQ: quantize a layer's weights one column at a time, letting later columns absorb the error.

Round-to-nearest (RTN) rounds every weight on its own. But what matters is the layer's *output*
on real inputs X: the error ``||W X - Q X||^2``. Frantar et al. (2022) minimise it greedily. With
H = 2 X X^T (the Hessian of that error in each row of W), after rounding column j to q_j, the
best correction of the columns not yet quantized is

    W[:, j+1:] -= (w_j - q_j) / [H^-1]_jj * [H^-1]_{j, j+1:}

so inputs that are correlated with column j carry its rounding error forward. Two tricks make it
fast and stable: the rows of H^-1 needed at each step are the rows of the upper Cholesky factor
of H^-1 (computed once), and H gets damping ``damp * mean(diag H)`` on its diagonal. Updates are
applied lazily in blocks of columns. With groups, a group's scale is fit when its first column is
reached, on the weights as they are then (already corrected).

``gptq_quantize_model`` goes block by block through a GPT: the calibration batches run through
the model whose earlier blocks are already quantized, hooks collect H for this block's linear
layers, and they are replaced by ``QuantLinear`` layers (the same format as round-to-nearest).

    qt = gptq_quantize(layer.weight, hessian, bits=4, granularity="group", group_size=64)
    model_q = gptq_quantize_model(model, calibration_batches, bits=4, group_size=64)
"""

from __future__ import annotations

import copy

import torch
import torch.nn as nn

from minillm.compress.outliers import run_batches
from minillm.compress.quantize import (
    QuantizedTensor,
    QuantLinear,
    block_key,
    check_format,
    fit_scale_zero,
    grouped,
    linear_layers,
    replace_module,
    round_to_grid,
)


def input_hessian(inputs: torch.Tensor) -> torch.Tensor:
    """H = 2/n X^T X for layer inputs X (n_tokens, in_features) (float64)."""
    x = inputs.reshape(-1, inputs.shape[-1]).double()
    return 2.0 / x.shape[0] * x.T @ x


def reconstruction_error(weight: torch.Tensor, approx: torch.Tensor, inputs: torch.Tensor) -> float:
    """Relative output error ``||X W^T - X A^T||_F / ||X W^T||_F`` of an approximate weight A."""
    x = inputs.reshape(-1, inputs.shape[-1]).double()
    exact = x @ weight.detach().double().T
    return float((exact - x @ approx.detach().double().T).norm() / exact.norm())


def collect_hessians(model: nn.Module, batches, names) -> dict[str, torch.Tensor]:
    """H = 2/n X^T X of the inputs of each named linear layer over all calibration tokens."""
    sums: dict[str, torch.Tensor] = {}
    counts: dict[str, int] = {}

    def hook_for(name):
        def hook(module, inputs, output):
            x = inputs[0].detach().reshape(-1, inputs[0].shape[-1]).double()
            sums[name] = sums.get(name, 0) + x.T @ x
            counts[name] = counts.get(name, 0) + x.shape[0]
        return hook

    handles = [model.get_submodule(n).register_forward_hook(hook_for(n)) for n in names]
    try:
        run_batches(model, batches)
    finally:
        for h in handles:
            h.remove()
    silent = [n for n in names if n not in counts]
    if silent:
        raise ValueError(f"layers {silent} received no input from the calibration batches; they "
                         f"are not used in forward and can be added to skip=...")
    return {n: 2.0 / counts[n] * sums[n] for n in names}


@torch.no_grad()
def gptq_quantize(weight: torch.Tensor, hessian: torch.Tensor, bits: int = 4,
                  scheme: str = "symmetric", granularity: str = "group",
                  group_size: int | None = 128, damp: float = 0.01,
                  block_size: int = 128) -> QuantizedTensor:
    """GPTQ codes for ``weight`` (out, in) given the input Hessian (in, in)."""
    out_features, n = weight.shape
    check_format(bits, scheme, granularity, group_size, n)
    if hessian.shape != (n, n):
        raise ValueError(f"the Hessian must be ({n}, {n}) for a weight with {n} input features, "
                         f"got {tuple(hessian.shape)}")
    if damp <= 0:
        raise ValueError(f"damp must be > 0 (0.01 is usual), got {damp}")
    W = weight.detach().double().clone()
    H = hessian.detach().double().to(W.device).clone()
    dead = H.diagonal() == 0                      # inputs that were always 0: their weights are moot
    H[dead, dead] = 1.0
    W[:, dead] = 0.0
    H.diagonal().add_(damp * H.diagonal().mean())
    try:
        H_inv = torch.cholesky_inverse(torch.linalg.cholesky(H))
        U = torch.linalg.cholesky(H_inv, upper=True)
    except torch.linalg.LinAlgError as err:
        raise ValueError(f"the Hessian is not positive definite even with damp={damp}; use more "
                         f"calibration tokens or a larger damp (e.g. 0.1)") from err

    if granularity == "group":
        block_size = group_size * max(1, block_size // group_size)   # a group never straddles blocks
        scale = torch.zeros(out_features, n // group_size, dtype=W.dtype, device=W.device)
        zero = torch.zeros_like(scale) if scheme == "asymmetric" else None
    else:
        scale, zero = fit_scale_zero(grouped(W, granularity, group_size), bits, scheme)
    codes = torch.zeros_like(W)
    for b0 in range(0, n, block_size):
        b1 = min(b0 + block_size, n)
        W1, U1 = W[:, b0:b1].clone(), U[b0:b1, b0:b1]
        errors = torch.zeros_like(W1)
        for i in range(b1 - b0):
            col = b0 + i
            if granularity == "group":
                g = col // group_size
                if col % group_size == 0:
                    s, z = fit_scale_zero(W1[:, None, i:i + group_size], bits, scheme)
                    scale[:, g] = s[:, 0]
                    if zero is not None:
                        zero[:, g] = z[:, 0]
                s_col, z_col = scale[:, g], None if zero is None else zero[:, g]
            else:                                  # (1, 1) or (out, 1): broadcast over the rows
                s_col, z_col = scale[:, 0], None if zero is None else zero[:, 0]
            w = W1[:, i]
            c = round_to_grid(w, s_col, z_col, bits, scheme)
            codes[:, col] = c
            q = (c - (0 if z_col is None else z_col)) * s_col
            err = (w - q) / U1[i, i]
            W1[:, i:] -= err[:, None] * U1[i, i:][None, :]
            errors[:, i] = err
        W[:, b1:] -= errors @ U[b0:b1, b1:]

    dtype = torch.int8 if scheme == "symmetric" else torch.uint8
    return QuantizedTensor(codes.to(dtype), scale.float(), None if zero is None else zero.float(),
                           bits, scheme, granularity, group_size if granularity == "group" else None)


def gptq_quantize_model(model: nn.Module, batches, bits: int = 4, *, scheme: str = "symmetric",
                        granularity: str = "group", group_size: int | None = 128,
                        damp: float = 0.01, skip=("lm_head",)) -> nn.Module:
    """A copy of ``model`` whose linear layers (minus ``skip``) are GPTQ-quantized, block by block,
    each block calibrated on the outputs of the already-quantized blocks before it."""
    check_format(bits, scheme, granularity, group_size)
    batches = list(batches)
    new = copy.deepcopy(model)
    names = list(linear_layers(new, skip))
    blocks: dict[str, list[str]] = {}
    for name in names:
        blocks.setdefault(block_key(name), []).append(name)
    for layer_names in blocks.values():
        hessians = collect_hessians(new, batches, layer_names)
        for name in layer_names:
            linear = new.get_submodule(name)
            try:
                qt = gptq_quantize(linear.weight, hessians[name], bits, scheme, granularity,
                                   group_size, damp)
            except ValueError as err:
                raise ValueError(f"cannot quantize layer {name!r}: {err}") from err
            replace_module(new, name, QuantLinear.from_quantized(qt, linear.bias))
    return new
