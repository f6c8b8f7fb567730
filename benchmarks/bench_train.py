"""Training throughput: tokens/s and MFU, with ratios measured in the same run.

Variants of the same model and batch, each timed over ``--steps`` optimizer steps after warm-up:

- ``eager + SDPA``        the reference
- ``eager + manual attn`` softmax(q k^T) v spelled out         -> ratio SDPA / manual
- ``compiled + SDPA``     torch.compile of the model           -> ratio compiled / eager
- on CUDA additionally the precision actually used (bf16 on Ampere+, fp16 + GradScaler before)
  vs fp32, to show what mixed precision buys.

MFU is against the data-sheet peak of the GPU in use (``minillm.compute.GPU_PEAK_FLOPS``) or, on a
CPU, against a measured fp32 matmul (what this CPU's BLAS reaches).

    python benchmarks/bench_train.py                         # CPU: ~3M modern model, context 256
    python benchmarks/bench_train.py --size 124m --batch 16  # CUDA: GPT-2-small-sized modern model
    python benchmarks/bench_train.py --no-compile            # skip the (slow on CPU) compile
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from minillm import compute
from minillm.device import describe_device, pick_device, precision_for, seed_everything
from minillm.model import GPT, GPTConfig
from minillm.train import TokenLoader, TrainConfig, Trainer

SIZES = {   # name: (n_layer, n_head, n_embd, vocab, context)
    "3m": (4, 4, 192, 4096, 256),
    "20m": (6, 6, 384, 8192, 512),
    "124m": (12, 12, 768, 50304, 1024),
}


def run_variant(config: GPTConfig, device, batch: int, steps: int, warmup: int, compile_: bool,
                precision_override=None) -> dict:
    seed_everything(0)
    model = GPT(config)
    tokens = np.random.default_rng(0).integers(0, config.vocab_size, 200_000).astype(np.uint16)
    loader = TokenLoader(tokens, batch, config.context_length, rank=0, world_size=1)
    train_cfg = TrainConfig(max_steps=warmup + steps, lr=1e-3, min_lr=1e-4, warmup_steps=5,
                            eval_every=0, compile=compile_)
    trainer = Trainer(model, train_cfg, loader, device=str(device), progress=False)
    if precision_override is not None:
        trainer.precision = precision_override
        trainer.scaler = precision_override.grad_scaler(trainer.device)
    trainer.fit(steps=warmup)                                     # compile, allocator, caches
    start_tokens, start = trainer.tokens_seen, time.perf_counter()
    trainer.fit(steps=steps)
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    tok_s = (trainer.tokens_seen - start_tokens) / seconds
    peak, source = compute.peak_flops(trainer.device, trainer.precision.name)
    flops = compute.flops_per_token(config, config.context_length)
    return {"tokens_per_s": tok_s, "mfu": compute.mfu(tok_s, flops, peak), "peak_source": source,
            "precision": trainer.precision.name, "final_loss": trainer.history[-1]["loss"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default=None)
    parser.add_argument("--size", choices=sorted(SIZES), default=None)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--compiled-only", action="store_true",
                        help="time only eager + SDPA (the reference) and compiled + SDPA")
    args = parser.parse_args()
    device = pick_device(args.device)
    on_gpu = device.type == "cuda"
    size = args.size or ("124m" if on_gpu else "3m")
    n_layer, n_head, n_embd, vocab, context = SIZES[size]
    batch = args.batch or (16 if on_gpu else 8)
    steps = args.steps or (20 if on_gpu else 6)
    config = GPTConfig.modern(vocab_size=vocab, context_length=context, n_layer=n_layer,
                              n_head=n_head, n_embd=n_embd)
    counts = compute.config_param_counts(config)
    print(f"device: {describe_device(device)}; torch {torch.__version__}; threads {torch.get_num_threads()}")
    print(f"model: modern preset '{size}', {counts['total'] / 1e6:.1f}M params "
          f"({counts['non_embedding'] / 1e6:.1f}M non-embedding), context {context}, batch {batch}, "
          f"{compute.flops_per_token(config) / 1e6:.1f} MFLOP/token (6N + attention)")

    variants = {"eager + SDPA": dict(compile_=False)}
    if not args.compiled_only:
        variants["eager + manual attention"] = dict(compile_=False, config=GPTConfig.modern(
            vocab_size=vocab, context_length=context, n_layer=n_layer, n_head=n_head, n_embd=n_embd,
            attention="manual"))
    if not args.no_compile:
        variants["compiled + SDPA"] = dict(compile_=True)
    if on_gpu and precision_for(device).name != "fp32" and not args.compiled_only:
        from minillm.device import FP32
        variants["eager + SDPA, fp32 (no autocast)"] = dict(compile_=False, precision_override=FP32)

    results = {}
    for name, kw in variants.items():
        cfg = kw.pop("config", config)
        r = run_variant(cfg, device, batch, steps, warmup=3 if not on_gpu else 5, **kw)
        results[name] = r
        print(f"  {name:<34} {r['tokens_per_s']:>10,.0f} tokens/s   MFU {r['mfu']:6.1%}   "
              f"[{r['precision']}, loss {r['final_loss']:.3f}]")
    print(f"MFU reference: {next(iter(results.values()))['peak_source']}")
    ref = results["eager + SDPA"]["tokens_per_s"]
    if "eager + manual attention" in results:
        print(f"ratio SDPA / manual attention: {ref / results['eager + manual attention']['tokens_per_s']:.2f}x")
    if "compiled + SDPA" in results:
        print(f"ratio compiled / eager:        {results['compiled + SDPA']['tokens_per_s'] / ref:.2f}x")
    fp32_key = "eager + SDPA, fp32 (no autocast)"
    if fp32_key in results:
        print(f"ratio {precision_for(device).name} / fp32:            {ref / results[fp32_key]['tokens_per_s']:.2f}x")


if __name__ == "__main__":
    main()
