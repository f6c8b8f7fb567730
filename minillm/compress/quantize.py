"""Weight quantization: store a linear layer's weights as 8- or 4-bit integers plus a few scales.

A float weight ``w`` becomes an integer code ``q`` on a uniform grid and comes back as
``scale * (q - zero)``. Two choices set the grid:

* **scheme** -- ``"symmetric"`` (absmax): ``scale = max|w| / qmax``, codes in [-qmax, qmax], zero 0;
  ``"asymmetric"`` (zero-point): the grid spans [min(w, 0), max(w, 0)] with codes in
  [0, 2^bits - 1] and an integer ``zero`` so that 0.0 stays exactly representable.
* **granularity** -- one scale for the whole ``"tensor"``, one per output ``"channel"`` (row), or
  one per ``"group"`` of ``group_size`` consecutive input weights in a row (32/64/128 are usual).
  Smaller groups follow the weights more closely and cost more scales.

Rounding to the nearest code is off by at most half a step: ``|w - dequantize(quantize(w))| <=
scale / 2`` elementwise, for every scheme and granularity.

``QuantLinear`` really stores the integers (int8, or uint8 with two 4-bit codes per byte) and
dequantizes on the fly in ``forward``, so the memory saving is real; ``quantize_model`` swaps the
``nn.Linear`` layers of a model for it. ``act_bits=8`` also rounds each token's input vector to
int8 (W8A8, as LLM.int8() does), and ``fp_columns`` keeps chosen input columns in floating point:
the mixed-precision decomposition for activation outliers (see ``minillm.compress.outliers``).

    qt = quantize(linear.weight, bits=4, scheme="asymmetric", granularity="group", group_size=64)
    err = (linear.weight - qt.dequantize()).abs().max()
    small = quantize_model(model, bits=8)                  # per-channel int8, lm_head left in fp
    reference = torch_dynamic_int8(model)                  # torch's own int8 kernels, to compare
"""

from __future__ import annotations

import copy
import fnmatch
import warnings
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

BITS = (4, 8)
SCHEMES = ("symmetric", "asymmetric")
GRANULARITIES = ("tensor", "channel", "group")


def check_format(bits: int, scheme: str, granularity: str, group_size: int | None,
                 in_features: int | None = None) -> None:
    """Raise a ValueError that says what to change when a quantization format is not supported."""
    if bits not in BITS:
        raise ValueError(f"bits={bits} is not supported: choose 8 or 4 (codes are stored as int8 or "
                         f"packed two per byte)")
    if scheme not in SCHEMES:
        raise ValueError(f"scheme={scheme!r} is not one of {SCHEMES}")
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity={granularity!r} is not one of {GRANULARITIES}")
    if granularity == "group":
        if group_size is None or group_size < 1:
            raise ValueError(f"granularity='group' needs a group_size >= 1 (e.g. 32, 64 or 128), "
                             f"got {group_size}")
        if in_features is not None and in_features % group_size:
            raise ValueError(f"group_size={group_size} does not divide in_features={in_features}; "
                             f"pick a group size that divides it (e.g. 32 or 64)")


def code_range(bits: int, scheme: str) -> tuple[int, int]:
    """Smallest and largest integer code. Symmetric leaves out -2^(bits-1) so that +-max|w| are
    both on the grid."""
    if scheme == "symmetric":
        return -(2 ** (bits - 1) - 1), 2 ** (bits - 1) - 1
    return 0, 2 ** bits - 1


def grouped(w: torch.Tensor, granularity: str, group_size: int | None) -> torch.Tensor:
    """View a 2-D weight as (rows, groups, width): each [r, g, :] slice shares one scale."""
    out_features, in_features = w.shape
    if granularity == "tensor":
        return w.reshape(1, 1, out_features * in_features)
    if granularity == "channel":
        return w.reshape(out_features, 1, in_features)
    return w.reshape(out_features, in_features // group_size, group_size)


def fit_scale_zero(groups: torch.Tensor, bits: int, scheme: str):
    """Scale and zero point (None for symmetric) for each slice along the last dimension."""
    qmin, qmax = code_range(bits, scheme)
    if scheme == "symmetric":
        scale = groups.abs().amax(dim=-1) / qmax
        return torch.where(scale > 0, scale, torch.ones_like(scale)), None
    low = groups.amin(dim=-1).clamp(max=0)
    high = groups.amax(dim=-1).clamp(min=0)
    scale = (high - low) / (qmax - qmin)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))   # an all-zero slice: any scale
    zero = torch.round(-low / scale).clamp(qmin, qmax)
    return scale, zero


def round_to_grid(w: torch.Tensor, scale: torch.Tensor, zero: torch.Tensor | None, bits: int,
                  scheme: str) -> torch.Tensor:
    """Integer codes (as floats) of ``w`` on the grid given by ``scale``/``zero`` (broadcast)."""
    qmin, qmax = code_range(bits, scheme)
    codes = torch.round(w / scale)
    if zero is not None:
        codes = codes + zero
    return codes.clamp(qmin, qmax)


@dataclass
class QuantizedTensor:
    """Integer codes ``q`` (out, in) -- int8 for symmetric, uint8 for asymmetric, never packed --
    and float32 ``scale``/``zero`` of shape (rows, groups): (1, 1) per tensor, (out, 1) per
    channel, (out, in / group_size) per group."""

    q: torch.Tensor
    scale: torch.Tensor
    zero: torch.Tensor | None
    bits: int
    scheme: str
    granularity: str
    group_size: int | None = None

    @property
    def shape(self) -> torch.Size:
        return self.q.shape

    def dequantize(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return dequantize(self, dtype)


def quantize(w: torch.Tensor, bits: int = 8, scheme: str = "symmetric", granularity: str = "channel",
             group_size: int | None = 128) -> QuantizedTensor:
    """Round-to-nearest quantization of a 2-D weight (out_features, in_features)."""
    if w.dim() != 2:
        raise ValueError(f"quantize expects a 2-D weight (out_features, in_features), got shape "
                         f"{tuple(w.shape)}; reshape it first")
    check_format(bits, scheme, granularity, group_size, w.shape[1])
    w32 = w.detach().float()
    groups = grouped(w32, granularity, group_size)
    scale, zero = fit_scale_zero(groups, bits, scheme)
    codes = round_to_grid(groups, scale[..., None], None if zero is None else zero[..., None],
                          bits, scheme)
    dtype = torch.int8 if scheme == "symmetric" else torch.uint8
    return QuantizedTensor(codes.reshape(w.shape).to(dtype), scale, zero, bits, scheme, granularity,
                           group_size if granularity == "group" else None)


def dequantize(qt: QuantizedTensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``scale * (q - zero)`` back at the weight's shape."""
    groups = grouped(qt.q.float(), qt.granularity, qt.group_size)
    if qt.zero is not None:
        groups = groups - qt.zero[..., None]
    return (groups * qt.scale[..., None]).reshape(qt.q.shape).to(dtype)


def pack_int4(codes: torch.Tensor) -> torch.Tensor:
    """Two 4-bit codes (uint8 values 0..15) per byte along the last dimension: element 2i in the
    low nibble, 2i+1 in the high one. The last dimension must be even."""
    if codes.shape[-1] % 2:
        raise ValueError(f"pack_int4 needs an even number of codes along the last dimension, got "
                         f"{codes.shape[-1]}; pad with one zero code first")
    if codes.dtype != torch.uint8 or (codes.numel() and int(codes.max()) > 15):
        raise ValueError("pack_int4 takes uint8 codes in 0..15 (offset signed codes by +8)")
    return codes[..., 0::2] | (codes[..., 1::2] << 4)


def unpack_int4(packed: torch.Tensor) -> torch.Tensor:
    """Inverse of ``pack_int4``: uint8 codes 0..15, twice as many along the last dimension."""
    low, high = packed & 0x0F, packed >> 4
    return torch.stack([low, high], dim=-1).reshape(*packed.shape[:-1], 2 * packed.shape[-1])


class QuantLinear(nn.Module):
    """A linear layer whose weight lives as integer codes (see the module docstring).

    Buffers: ``qweight`` (int8, or uint8 holding 4-bit codes two per byte), ``scale`` (float32),
    ``zero`` (uint8, asymmetric only), and with mixed precision ``fp_columns`` (input indices kept
    in float) with their weights ``fp_weight`` (out, n_fp_columns).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, bits: int = 8,
                 scheme: str = "symmetric", granularity: str = "channel",
                 group_size: int | None = 128, act_bits: int | None = None, n_fp_columns: int = 0):
        super().__init__()
        check_format(bits, scheme, granularity, group_size, in_features)
        if bits == 4 and in_features % 2:
            raise ValueError(f"4-bit codes are packed two per byte, so in_features must be even "
                             f"(got {in_features}); use bits=8 for this layer or skip it")
        if act_bits not in (None, 8):
            raise ValueError(f"act_bits must be None (float activations) or 8, got {act_bits}")
        self.in_features, self.out_features = in_features, out_features
        self.bits, self.scheme, self.granularity, self.act_bits = bits, scheme, granularity, act_bits
        self.group_size = group_size if granularity == "group" else None
        rows, groups, _ = grouped(torch.empty(out_features, in_features, device="meta"),
                                  granularity, group_size).shape
        if bits == 4:
            self.register_buffer("qweight", torch.zeros(out_features, in_features // 2, dtype=torch.uint8))
        else:
            dtype = torch.int8 if scheme == "symmetric" else torch.uint8
            self.register_buffer("qweight", torch.zeros(out_features, in_features, dtype=dtype))
        self.register_buffer("scale", torch.ones(rows, groups))
        zero = torch.zeros(rows, groups, dtype=torch.uint8) if scheme == "asymmetric" else None
        self.register_buffer("zero", zero)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self.register_buffer("fp_columns", torch.zeros(n_fp_columns, dtype=torch.long))
        self.register_buffer("fp_weight", torch.zeros(out_features, n_fp_columns))

    @classmethod
    def from_quantized(cls, qt: QuantizedTensor, bias: torch.Tensor | None = None, *,
                       act_bits: int | None = None, fp_columns: torch.Tensor | None = None,
                       fp_weight: torch.Tensor | None = None) -> QuantLinear:
        """Wrap codes made by ``quantize`` (or GPTQ). ``fp_weight`` (out, n) holds the float weights
        of input columns ``fp_columns``; their codes in ``qt`` should be zero."""
        out_features, in_features = qt.shape
        n_fp = 0 if fp_columns is None else len(fp_columns)
        layer = cls(in_features, out_features, bias is not None, bits=qt.bits, scheme=qt.scheme,
                    granularity=qt.granularity, group_size=qt.group_size, act_bits=act_bits,
                    n_fp_columns=n_fp)
        layer.load_codes(qt)
        if bias is not None:
            layer.bias.data.copy_(bias.detach().float())
        if n_fp:
            layer.fp_columns.copy_(torch.as_tensor(fp_columns, dtype=torch.long))
            layer.fp_weight.copy_(fp_weight.detach().float())
        return layer.to(qt.scale.device)

    @classmethod
    def from_linear(cls, linear: nn.Linear, bits: int = 8, scheme: str = "symmetric",
                    granularity: str = "channel", group_size: int | None = 128, *,
                    act_bits: int | None = None, fp_columns: torch.Tensor | None = None) -> QuantLinear:
        """Round-to-nearest quantization of ``linear``; ``fp_columns`` stay in float (their
        weights are left out of the integer part, so they cannot inflate its scales)."""
        weight = linear.weight.detach().float()
        fp_weight = None
        if fp_columns is not None and len(fp_columns):
            fp_columns = torch.as_tensor(fp_columns, dtype=torch.long, device=weight.device).unique()
            fp_weight = weight[:, fp_columns].clone()
            weight = weight.clone()
            weight[:, fp_columns] = 0
        qt = quantize(weight, bits, scheme, granularity, group_size)
        return cls.from_quantized(qt, linear.bias, act_bits=act_bits, fp_columns=fp_columns,
                                  fp_weight=fp_weight)

    def load_codes(self, qt: QuantizedTensor) -> None:
        if qt.shape != (self.out_features, self.in_features) or qt.bits != self.bits \
                or qt.scheme != self.scheme or qt.scale.shape != self.scale.shape:
            raise ValueError("these codes were made for a different shape or format than this layer")
        if self.bits == 4:
            offset = 8 if self.scheme == "symmetric" else 0       # signed -7..7 -> nibble 1..15
            self.qweight.copy_(pack_int4((qt.q.to(torch.int16) + offset).to(torch.uint8)))
        else:
            self.qweight.copy_(qt.q)
        self.scale.copy_(qt.scale)
        if self.zero is not None:
            self.zero.copy_(qt.zero.to(torch.uint8))

    def quantized(self) -> QuantizedTensor:
        """The stored codes, unpacked, as a ``QuantizedTensor``."""
        q = self.qweight
        if self.bits == 4:
            q = unpack_int4(q)
            q = (q.to(torch.int16) - 8).to(torch.int8) if self.scheme == "symmetric" else q
        zero = None if self.zero is None else self.zero.float()
        return QuantizedTensor(q, self.scale, zero, self.bits, self.scheme, self.granularity,
                               self.group_size)

    def dequantized_weight(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """The weight this layer computes with, (out, in), float columns included."""
        weight = dequantize(self.quantized(), dtype)
        if len(self.fp_columns):
            weight[:, self.fp_columns] = self.fp_weight.to(dtype)
        return weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_int = x
        if len(self.fp_columns):
            x_int = x.clone()
            x_int[..., self.fp_columns] = 0
        if self.act_bits is not None:
            x_int = fake_quantize_per_token(x_int, self.act_bits)
        if self.bits == 8 and self.scheme == "symmetric" and self.granularity != "group":
            # one scale per output row factors out of the dot products: x @ (s * q)^T = (x @ q^T) * s
            y = F.linear(x_int, self.qweight.to(x.dtype)) * self.scale.to(x.dtype).reshape(-1)
        else:
            y = F.linear(x_int, dequantize(self.quantized(), x.dtype))
        if self.bias is not None:
            y = y + self.bias.to(x.dtype)
        if len(self.fp_columns):
            y = y + F.linear(x[..., self.fp_columns], self.fp_weight.to(x.dtype))
        return y

    def spec(self) -> dict:
        """Constructor arguments that rebuild an empty layer of this exact layout."""
        return dict(in_features=self.in_features, out_features=self.out_features,
                    bias=self.bias is not None, bits=self.bits, scheme=self.scheme,
                    granularity=self.granularity, group_size=self.group_size,
                    act_bits=self.act_bits, n_fp_columns=len(self.fp_columns))

    def extra_repr(self) -> str:
        extra = f", group_size={self.group_size}" if self.group_size else ""
        extra += f", act_bits={self.act_bits}" if self.act_bits else ""
        extra += f", fp_columns={len(self.fp_columns)}" if len(self.fp_columns) else ""
        return (f"in_features={self.in_features}, out_features={self.out_features}, bits={self.bits}, "
                f"scheme={self.scheme}, granularity={self.granularity}{extra}")


def fake_quantize_per_token(x: torch.Tensor, bits: int = 8) -> torch.Tensor:
    """Round each row (token) of ``x`` to a symmetric ``bits``-bit grid scaled by its own absmax.
    The integer product of W8A8 equals this float product up to float rounding, so it is
    simulated in float: the numbers (and the damage outliers do) are the same."""
    qmax = 2 ** (bits - 1) - 1
    scale = x.abs().amax(dim=-1, keepdim=True) / qmax
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return torch.round(x / scale).clamp(-qmax, qmax) * scale


def is_skipped(name: str, skip) -> bool:
    """True when ``name`` matches one of the glob patterns in ``skip`` (e.g. "lm_head", "blocks.0.*")."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in skip)


def linear_layers(model: nn.Module, skip=("lm_head",)) -> dict[str, nn.Linear]:
    """The model's ``nn.Linear`` modules by qualified name, minus those matching ``skip``.
    Embeddings are ``nn.Embedding`` and so never included."""
    return {name: m for name, m in model.named_modules()
            if isinstance(m, nn.Linear) and not is_skipped(name, skip)}


def block_key(name: str) -> str:
    """The enclosing numbered block of a layer: "blocks.3.attn.q_proj" -> "blocks.3". Layer-by-layer
    methods (GPTQ, Wanda) process one block at a time, feeding it the already-compressed earlier
    blocks' outputs."""
    parts = name.split(".")
    for i, part in enumerate(parts):
        if part.isdigit():
            return ".".join(parts[:i + 1])
    return name


def replace_module(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child, new)


def quantize_model(model: nn.Module, bits: int = 8, *, scheme: str = "symmetric",
                   granularity: str = "channel", group_size: int | None = 128,
                   act_bits: int | None = None, skip=("lm_head",),
                   fp_columns: dict[str, torch.Tensor] | None = None) -> nn.Module:
    """A copy of ``model`` with every ``nn.Linear`` not matching ``skip`` replaced by a
    ``QuantLinear`` (round-to-nearest). ``fp_columns`` maps layer names to input columns kept in
    float (mixed precision). The input model is not modified."""
    check_format(bits, scheme, granularity, group_size)
    fp_columns = fp_columns or {}
    unknown = sorted(set(fp_columns) - set(linear_layers(model, skip)))
    if unknown:
        raise ValueError(f"fp_columns names layers that are not quantized: {unknown}")
    new = copy.deepcopy(model)
    for name, linear in linear_layers(new, skip).items():
        try:
            layer = QuantLinear.from_linear(linear, bits, scheme, granularity, group_size,
                                            act_bits=act_bits, fp_columns=fp_columns.get(name))
        except ValueError as err:
            raise ValueError(f"cannot quantize layer {name!r}: {err}. Add it to skip=... to leave "
                             f"it in float") from err
        replace_module(new, name, layer)
    return new


def torch_dynamic_int8(model: nn.Module, skip=("lm_head",), per_channel: bool = True) -> nn.Module:
    """A copy of ``model`` quantized by torch's own dynamic int8 (``quantize_dynamic``): int8
    weights, activations quantized per batch at run time, fbgemm/onednn int8 matmul kernels on CPU.
    The reference our ``QuantLinear`` is compared against."""
    from torch.ao.quantization import (
        default_dynamic_qconfig,
        per_channel_dynamic_qconfig,
        quantize_dynamic,
    )

    qconfig = per_channel_dynamic_qconfig if per_channel else default_dynamic_qconfig
    spec = {name: qconfig for name in linear_layers(model, skip)}
    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated in favour of torchao, but it is what ships with torch
        warnings.simplefilter("ignore")
        return quantize_dynamic(copy.deepcopy(model).cpu().eval(), spec, dtype=torch.qint8)
