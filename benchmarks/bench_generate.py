"""KV-cache generation vs full recomputation, 256 new tokens (goal: >= 5x).

Both paths produce the same greedy tokens (checked here too); only the work differs: with the
cache each step runs the model on one token, without it on the whole sequence so far.

    python benchmarks/bench_generate.py                      # ~14M modern model (20m preset)
    python benchmarks/bench_generate.py --size 3m --batch 4  # smaller model, 4 prompts
"""

from __future__ import annotations

import argparse
import time

import torch

from minillm.device import describe_device, pick_device, seed_everything
from minillm.generate import generate
from minillm.model import GPT, GPTConfig

SIZES = {"3m": (4, 4, 192, 4096), "20m": (6, 6, 384, 8192), "124m": (12, 12, 768, 50304)}


def timed(fn, device) -> tuple[float, object]:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default=None)
    parser.add_argument("--size", choices=sorted(SIZES), default="20m")
    parser.add_argument("--new", type=int, default=256, help="new tokens per prompt")
    parser.add_argument("--prompt", type=int, default=32, help="prompt length")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    device = pick_device(args.device)
    n_layer, n_head, n_embd, vocab = SIZES[args.size]
    seed_everything(0)
    config = GPTConfig.modern(vocab_size=vocab, context_length=args.prompt + args.new, n_layer=n_layer,
                              n_head=n_head, n_embd=n_embd)
    model = GPT(config).to(device).eval()
    prompts = torch.randint(0, vocab, (args.batch, args.prompt)).tolist()
    print(f"device: {describe_device(device)}; model {model.num_params() / 1e6:.1f}M params; "
          f"batch {args.batch}, prompt {args.prompt}, {args.new} new tokens (greedy)")
    generate(model, prompts, 8, temperature=0)                    # warm-up
    best = {}
    outputs = {}
    for use_cache in (True, False):
        times = []
        for _ in range(args.repeats):
            seconds, out = timed(lambda uc=use_cache: generate(model, prompts, args.new, temperature=0,
                                                               use_cache=uc), device)
            times.append(seconds)
        best[use_cache], outputs[use_cache] = min(times), out
        label = "KV cache" if use_cache else "recompute"
        print(f"  {label:<10} {min(times):7.3f} s   {args.batch * args.new / min(times):8,.0f} tokens/s")
    print(f"same tokens: {outputs[True] == outputs[False]}")
    print(f"ratio KV cache / recompute: {best[False] / best[True]:.1f}x faster")


if __name__ == "__main__":
    main()
