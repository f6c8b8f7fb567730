"""What a model costs: parameters, FLOPs per token, memory, and how well the hardware is used.

- **Parameters.** Kaplan et al. (2020) count N without the embedding tables: they are lookups, not
  matrix multiplies. The output head is a real matmul, so it counts when untied.
- **FLOPs per token** for training = 6 N_matmul + 12 n_layer T d. A weight in a matmul costs 2
  FLOPs (multiply + add) forward and 4 backward; attention's ``q k^T`` and ``weights @ v`` add
  2 x 2 T d per layer forward, x3 with backward (the PaLM appendix convention: the causal half is
  not subtracted). Here N_matmul = N_non-embedding + the head's d x vocab (tied or not).
- **Memory** for training with AdamW in mixed precision: fp32 weights (4 bytes), fp32 grads (4),
  Adam's two moments (8), plus activations (Korthikanti et al. 2022: ~34 s b h bytes per layer
  in 16-bit, + 5 a s^2 b without flash attention).
- **MFU**, model FLOPs utilisation (PaLM, 2022): achieved FLOPs/s over the hardware's peak.

    counts = param_counts(model)                   # {"total", "embedding", "non_embedding"}
    flops = flops_per_token(model.config)
    mem = estimate_memory(model.config, batch_size=16, precision="bf16")
    mfu(tokens_per_second, flops, peak_flops("cuda"))
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import torch

# Dense (no sparsity) tensor-core peaks from the vendors' data sheets, FLOP/s.
# fp16/bf16 with fp32 accumulation where the sheet lists both; fp32 is plain (non-TF32) math.
GPU_PEAK_FLOPS = {
    "H200": {"bf16": 989e12, "fp16": 989e12, "fp32": 67e12},
    "H100 PCIe": {"bf16": 756e12, "fp16": 756e12, "fp32": 51e12},
    "H100": {"bf16": 989e12, "fp16": 989e12, "fp32": 67e12},          # SXM
    "A100": {"bf16": 312e12, "fp16": 312e12, "fp32": 19.5e12},
    "A10G": {"bf16": 70e12, "fp16": 70e12, "fp32": 31.2e12},
    "L4": {"bf16": 121e12, "fp16": 121e12, "fp32": 30.3e12},
    "T4": {"fp16": 65e12, "fp32": 8.1e12},
    "V100": {"fp16": 125e12, "fp32": 15.7e12},
    "RTX 4090": {"bf16": 165e12, "fp16": 165e12, "fp32": 82.6e12},
    "RTX 3090": {"bf16": 71e12, "fp16": 71e12, "fp32": 35.6e12},
}
BYTES = {"fp32": 4, "bf16": 2, "fp16": 2}


def param_counts(model) -> dict[str, int]:
    total = model.num_params()
    non_embedding = model.num_params(embedding=False)
    return {"total": total, "embedding": total - non_embedding, "non_embedding": non_embedding}


def config_param_counts(config) -> dict[str, int]:
    """The same counts from a config alone (no model is built): for sweeps and planning."""
    d, L, hd = config.n_embd, config.n_layer, config.head_dim
    kv = config.kv_heads * hd
    attn = d * d * 2 + d * kv * 2 + (2 * d + 2 * kv if config.bias else 0)
    n_mats = 3 if config.mlp == "swiglu" else 2
    mlp = n_mats * d * config.hidden + ((n_mats - 1) * config.hidden + d if config.bias else 0)
    norm = d * (2 if config.norm == "layernorm" and config.bias else 1)
    non_embedding = L * (attn + mlp + 2 * norm) + norm
    if not config.tie_embeddings:
        non_embedding += d * config.vocab_size
    embedding = config.vocab_size * d + (config.context_length * d if config.position == "learned" else 0)
    return {"total": embedding + non_embedding, "embedding": embedding, "non_embedding": non_embedding}


def flops_per_token(config, seq_len: int | None = None, training: bool = True) -> float:
    """Training (or, with ``training=False``, forward-only) FLOPs per token at ``seq_len``."""
    T = seq_len or config.context_length
    counts = config_param_counts(config)
    matmul_params = counts["non_embedding"] + (config.vocab_size * config.n_embd if config.tie_embeddings else 0)
    forward = 2 * matmul_params + 4 * config.n_layer * T * config.n_embd
    return 3 * forward if training else forward


@dataclass
class MemoryEstimate:
    weights: float
    grads: float
    optimizer: float
    activations: float

    @property
    def total(self) -> float:
        return self.weights + self.grads + self.optimizer + self.activations

    def gib(self) -> dict[str, float]:
        return {k: round(v / 2**30, 3) for k, v in {**asdict(self), "total": self.total}.items()}


def estimate_memory(config, batch_size: int, seq_len: int | None = None, precision: str = "bf16",
                    flash_attention: bool = True) -> MemoryEstimate:
    """Bytes to train ``config`` with AdamW: fp32 master weights, grads and two moments, and
    activations kept for backward (16-bit under autocast, 32-bit in fp32)."""
    if precision not in BYTES:
        raise ValueError(f"precision must be one of {sorted(BYTES)}, got {precision!r}")
    n = config_param_counts(config)["total"]
    T, b, h, a = seq_len or config.context_length, batch_size, config.n_embd, config.n_head
    per_layer = 34 * T * b * h + (0 if flash_attention else 5 * a * T * T * b)   # 16-bit bytes
    scale = BYTES[precision] / 2
    # + logits in fp32 for the loss (often the largest single tensor with a big vocabulary)
    activations = config.n_layer * per_layer * scale + 2 * 4 * T * b * config.vocab_size
    return MemoryEstimate(weights=4.0 * n, grads=4.0 * n, optimizer=8.0 * n, activations=float(activations))


def gpu_peak_flops(name: str, precision: str = "bf16") -> float | None:
    """The data-sheet peak of a GPU named like ``torch.cuda.get_device_name()``, or None."""
    upper = name.upper()
    for key, peaks in GPU_PEAK_FLOPS.items():      # ordered: "H100 PCIe" before "H100"
        if all(part in upper for part in key.upper().split()):
            return peaks.get(precision) or peaks.get("fp16")
    return None


_MEASURED: dict[tuple[str, str], float] = {}


def measure_matmul_flops(device: torch.device | str = "cpu", size: int = 1024, repeats: int = 5,
                         dtype: torch.dtype = torch.float32) -> float:
    """FLOP/s of a large square matmul on ``device``: a measured "peak" where no data sheet
    applies (CPUs). Cached per device and dtype for the process."""
    device = torch.device(device)
    key = (str(device), str(dtype))
    if key not in _MEASURED:
        a = torch.randn(size, size, device=device, dtype=dtype)
        b = torch.randn(size, size, device=device, dtype=dtype)
        a @ b                                                     # warm-up
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(repeats):
            a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        _MEASURED[key] = 2 * size**3 * repeats / (time.perf_counter() - start)
    return _MEASURED[key]


def peak_flops(device: torch.device | str, precision: str = "bf16") -> tuple[float, str]:
    """(peak FLOP/s, where it comes from) for ``device``: the data sheet for known GPUs, else a
    measured fp32 matmul (so CPU "MFU" is relative to what this CPU's BLAS reaches)."""
    device = torch.device(device)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        peak = gpu_peak_flops(name, precision)
        if peak is not None:
            return peak, f"{name} data sheet ({precision})"
    return measure_matmul_flops(device), f"measured fp32 matmul on {device.type}"


def mfu(tokens_per_second: float, flops_per_token_: float, peak: float) -> float:
    """Model FLOPs utilisation: achieved training FLOP/s over peak FLOP/s (0..1)."""
    if peak <= 0:
        raise ValueError(f"peak FLOP/s must be positive, got {peak}")
    return tokens_per_second * flops_per_token_ / peak
