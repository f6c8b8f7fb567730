"""Tiny models and batches shared by the compression tests."""

import torch

from minillm.model import GPT, GPTConfig


def tiny_gpt(seed=0, **overrides):
    torch.manual_seed(seed)
    kw = dict(vocab_size=97, n_layer=2, n_head=2, n_embd=32, context_length=64)
    return GPT(GPTConfig.modern(**{**kw, **overrides})).eval()


def token_batches(n=2, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randint(0, 97, (4, 32), generator=g), torch.randint(0, 97, (4, 32), generator=g))
            for _ in range(n)]
