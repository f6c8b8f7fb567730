"""What compression buys: bytes in memory, bytes on disk, CPU tokens per second, and the loss.

* ``memory_bytes`` -- every parameter and buffer once (tied weights and shared storage counted
  once), including the packed int8 weights inside torch's dynamic-quantized layers.
* ``save_compressed`` / ``load_compressed`` -- a GPT with ``QuantLinear`` layers as one
  safetensors file (integer codes and scales as they are, the layer formats and model config in
  its metadata), written atomically; ``disk_bytes`` is that file's size. torch's dynamic-quantized
  modules cannot be written as safetensors, so their size is that of ``torch.save``.
* ``tokens_per_second`` -- greedy generation with ``minillm.generate.generate`` and the KV cache.
* ``compare_models`` -- all of it as a DataFrame, with ratios against the first model.

    save_compressed(model_int8, "runs/int8.safetensors")
    same = load_compressed("runs/int8.safetensors")
    compare_models({"fp32": model, "int8": model_int8}, batches=val_batches)
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

import torch
import torch.nn as nn

from minillm.compress.quantize import QuantLinear, replace_module

FORMAT = "minillm-compressed-v1"


def memory_bytes(model: nn.Module) -> int:
    """Bytes held by the model's parameters and buffers, each storage once."""
    seen: set[int] = set()
    total = 0

    def add(t: torch.Tensor) -> None:
        nonlocal total
        if t.is_quantized:          # one int8 per weight, plus per-channel scales and zero points
            total += t.numel() * t.element_size()
            if t.qscheme() in (torch.per_channel_affine, torch.per_channel_symmetric):
                total += t.q_per_channel_scales().numel() * 8 + t.q_per_channel_zero_points().numel() * 8
            return
        key = t.untyped_storage().data_ptr()
        if key in seen and key != 0:
            return
        seen.add(key)
        total += t.numel() * t.element_size()

    for t in list(model.parameters()) + list(model.buffers()):
        add(t)
    for module in model.modules():
        packed = getattr(module, "_packed_params", None)   # torch.ao dynamic quantized Linear
        if packed is not None and hasattr(module, "weight") and callable(module.weight):
            add(module.weight())
            if module.bias() is not None:
                total += module.bias().numel() * module.bias().element_size()
    return total


def quant_specs(model: nn.Module) -> dict[str, dict]:
    return {name: m.spec() for name, m in model.named_modules() if isinstance(m, QuantLinear)}


def save_compressed(model: nn.Module, path: str | Path) -> Path:
    """Write a GPT (quantized, pruned or plain) to one safetensors file, atomically."""
    from safetensors.torch import save_model

    config = getattr(model, "config", None)
    if config is None or not hasattr(config, "to_dict"):
        raise ValueError("save_compressed writes minillm GPT models (with a .config); for other "
                         "modules use torch.save")
    if any(hasattr(m, "_packed_params") for m in model.modules()):
        raise ValueError("torch's dynamic-quantized layers hold packed weights that safetensors "
                         "cannot store; save those with torch.save(model.state_dict(), path)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    metadata = {"format": FORMAT, "config": json.dumps(config.to_dict()),
                "quantized": json.dumps(quant_specs(model))}
    try:
        save_model(model, str(tmp), metadata=metadata)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_compressed(path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild the GPT that ``save_compressed`` wrote, its ``QuantLinear`` layers included."""
    from safetensors import safe_open
    from safetensors.torch import load_model

    from minillm.model import GPT, GPTConfig

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no compressed model at {path}; write one with save_compressed")
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata() or {}
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path} was not written by save_compressed (format "
                         f"{metadata.get('format')!r}, expected {FORMAT!r})")
    model = GPT(GPTConfig.from_dict(json.loads(metadata["config"])))
    for name, spec in json.loads(metadata["quantized"]).items():
        replace_module(model, name, QuantLinear(**spec))
    load_model(model, str(path), strict=True)
    return model.to(device)


def disk_bytes(model: nn.Module) -> int:
    """Size of the saved model: ``save_compressed``'s safetensors file, or ``torch.save``'s bytes
    for models safetensors cannot hold (torch's dynamic-quantized layers)."""
    has_torch_packed = any(hasattr(m, "_packed_params") for m in model.modules())
    if has_torch_packed or not hasattr(getattr(model, "config", None), "to_dict"):
        buffer = io.BytesIO()
        torch.save(model.state_dict(), buffer)
        return buffer.getbuffer().nbytes
    with tempfile.TemporaryDirectory() as folder:
        return save_compressed(model, Path(folder) / "model.safetensors").stat().st_size


def tokens_per_second(model: nn.Module, prompt_length: int = 16, max_new_tokens: int = 64,
                      batch_size: int = 1, repeats: int = 3, seed: int = 0) -> float:
    """Greedy-generation throughput (new tokens / s, best of ``repeats``) from random prompts."""
    from minillm.generate import generate

    if min(prompt_length, max_new_tokens, batch_size, repeats) < 1:
        raise ValueError("prompt_length, max_new_tokens, batch_size and repeats must all be >= 1")
    rng = torch.Generator().manual_seed(seed)
    prompts = torch.randint(0, model.config.vocab_size, (batch_size, prompt_length),
                            generator=rng).tolist()
    generate(model, prompts, 2, temperature=0)                  # warm-up: allocations, kernels
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        generate(model, prompts, max_new_tokens, temperature=0)
        best = min(best, time.perf_counter() - start)
    return batch_size * max_new_tokens / best


@torch.no_grad()
def eval_loss(model: nn.Module, batches) -> float:
    """Mean next-token cross-entropy over ``(x, y)`` batches, in eval mode."""
    was_training = model.training
    model.eval()
    device = getattr(model, "device", torch.device("cpu"))
    losses = []
    try:
        for x, y in batches:
            losses.append(float(model(x.to(device), targets=y.to(device))[1]))
    finally:
        model.train(was_training)
    if not losses:
        raise ValueError("eval_loss needs at least one (x, y) batch")
    return sum(losses) / len(losses)


def compare_models(models: dict[str, nn.Module], batches=None, speed: bool = True,
                   **speed_kwargs):
    """One row per model: memory and disk MB, their ratio to the first model, tokens/s and its
    ratio (``speed=True``), and ``eval_loss`` on ``batches`` when given."""
    import pandas as pd

    rows = []
    for name, model in models.items():
        row = {"model": name, "memory_MB": memory_bytes(model) / 1e6, "disk_MB": disk_bytes(model) / 1e6}
        if speed:
            row["tokens_per_s"] = tokens_per_second(model, **speed_kwargs)
        if batches is not None:
            row["loss"] = eval_loss(model, batches)
        rows.append(row)
    table = pd.DataFrame(rows)
    table.insert(2, "memory_ratio", table["memory_MB"] / table["memory_MB"].iloc[0])
    table.insert(4, "disk_ratio", table["disk_MB"] / table["disk_MB"].iloc[0])
    if speed:
        table["speed_ratio"] = table["tokens_per_s"] / table["tokens_per_s"].iloc[0]
    return table


@torch.no_grad()
def mean_kl(reference: nn.Module, model: nn.Module, batches) -> float:
    """Mean per-token KL(reference || model) of the next-token distributions over the ``(x, y)``
    (or token-id) batches: how far compression moved the model's predictions, whatever the
    labels. 0 for an identical model; computed in float32 whatever the models' dtypes."""
    import torch.nn.functional as F

    total, n = 0.0, 0
    for batch in batches:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        log_p = F.log_softmax(reference.eval()(x)[0].float(), dim=-1)
        log_q = F.log_softmax(model.eval()(x)[0].float(), dim=-1)
        total += float((log_p.exp() * (log_p - log_q)).sum(-1).sum())
        n += log_p.shape[0] * log_p.shape[1]
    if n == 0:
        raise ValueError("mean_kl needs at least one batch of token ids")
    return total / n
