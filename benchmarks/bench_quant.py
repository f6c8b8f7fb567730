"""Quantized models on CPU: size in memory and on disk, and generation speed, against fp32.

Builds a modern GPT of a few million parameters (random weights: sizes and speed do not depend
on what the weights learned) and measures, in the same process:

* fp32                       the reference;
* ours int8 (per channel)    ``quantize_model``: int8 codes, dequantized on the fly in Python;
* ours int4 (group 64)       4-bit codes packed two per byte;
* torch dynamic int8         ``torch.ao.quantization.quantize_dynamic``: fused int8 kernels.

Every figure is also printed as a ratio to fp32. The output head stays in float everywhere (it is
tied to the embedding), so memory ratios include the embedding table. Timings vary from machine
to machine; nothing here asserts on them.

    python benchmarks/bench_quant.py
    python benchmarks/bench_quant.py --layers 6 --width 384 --new 128 --threads 1
"""

from __future__ import annotations

import argparse

import pandas as pd
import torch

from minillm.compress import compare_models, quantize_model, torch_dynamic_int8
from minillm.device import seed_everything
from minillm.model import GPT, GPTConfig


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--vocab", type=int, default=4096)
    parser.add_argument("--prompt", type=int, default=16, help="prompt length")
    parser.add_argument("--new", type=int, default=64, help="new tokens per prompt")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(0)
    config = GPTConfig.modern(vocab_size=args.vocab, context_length=args.prompt + args.new,
                              n_layer=args.layers, n_head=max(1, args.width // 64), n_embd=args.width)
    model = GPT(config).eval()
    print(f"model: {model.num_params() / 1e6:.2f}M parameters "
          f"({model.num_params(embedding=False) / 1e6:.2f}M outside the embedding), "
          f"{torch.get_num_threads()} CPU threads; batch {args.batch}, prompt {args.prompt}, "
          f"{args.new} new tokens (greedy, KV cache), best of {args.repeats}")
    models = {
        "fp32": model,
        "ours int8 (channel)": quantize_model(model, bits=8),
        "ours int4 (group 64)": quantize_model(model, bits=4, granularity="group", group_size=64),
        "torch dynamic int8": torch_dynamic_int8(model),
    }
    table = compare_models(models, prompt_length=args.prompt, max_new_tokens=args.new,
                           batch_size=args.batch, repeats=args.repeats)
    with pd.option_context("display.width", 120, "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
