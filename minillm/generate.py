"""Text generation: sampling one token at a time, with a KV cache.

A causal model's keys and values for position t never change once computed (a future token cannot
alter the past), so a generator keeps them in a **KV cache** and feeds only the newest token at each
step: O(T) work per new token instead of recomputing the whole O(T^2) prefix.

Batched prompts of different lengths are **left-padded**: every row ends at the same column, so the
next tokens of all rows are appended together. Each row gets its own positions (0 at its first real
token, so padding does not shift RoPE or the learned position table) and an attention mask that
hides the pad keys. A pad query may still attend to itself, which keeps its (unused) softmax finite.

Sampling: ``temperature`` (0 = greedy argmax), ``top_k`` (keep the k likeliest tokens), ``top_p``
(keep the smallest set whose probability reaches p). A row stops at any of ``stop_tokens`` (the stop
token is not returned); ``on_token(row, token_id)`` streams tokens as they are drawn.

    out = generate(model, [[464, 3290], [464]], max_new_tokens=20, temperature=0.8, top_k=50)
    text = complete(model, encoding, "The capital of Velora is", max_new_tokens=10)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F


class KVCache:
    """Keys and values of every layer for the tokens seen so far, preallocated to ``max_length``."""

    def __init__(self, n_layer: int, max_length: int):
        self.max_length = max_length
        self.keys: list[torch.Tensor | None] = [None] * n_layer
        self.values: list[torch.Tensor | None] = [None] * n_layer
        self.length = 0

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor):
        """Store k, v (B, heads, T, head_dim) after the cached ones; return all keys and values."""
        end = self.length + k.shape[2]
        if end > self.max_length:
            raise ValueError(f"KV cache holds {self.max_length} positions; {end} were needed")
        if self.keys[layer] is None:             # allocate on first use, in the dtype autocast gives
            shape = (k.shape[0], k.shape[1], self.max_length, k.shape[3])
            self.keys[layer] = k.new_zeros(shape)
            self.values[layer] = v.new_zeros(shape)
        self.keys[layer][:, :, self.length:end] = k
        self.values[layer][:, :, self.length:end] = v
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]

    def advance(self, n_tokens: int) -> None:
        self.length += n_tokens


def attention_mask(key_valid: torch.Tensor, query_start: int, n_queries: int) -> torch.Tensor:
    """(B, 1, n_queries, S) booleans, True where query ``query_start + t`` may attend to key s:
    causal, not a pad key, and always itself (so no softmax row is empty)."""
    S = key_valid.shape[1]
    keys = torch.arange(S, device=key_valid.device)
    queries = torch.arange(query_start, query_start + n_queries, device=key_valid.device)
    causal = keys[None, :] <= queries[:, None]                            # (T, S)
    allowed = causal[None] & key_valid[:, None, :]
    allowed |= keys[None, None, :] == queries[None, :, None]
    return allowed[:, None]


def sample_next(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """One token id per row of ``logits`` (B, vocab)."""
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0 (0 = greedy), got {temperature}")
    if temperature == 0:
        return logits.argmax(dim=-1)
    logits = logits.float() / temperature
    if top_k is not None:
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1 or None, got {top_k}")
        kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None:
        if not 0 < top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        probs = sorted_logits.softmax(dim=-1)
        # drop a token when the tokens ranked above it already reach top_p (the top one always stays)
        drop = probs.cumsum(dim=-1) - probs >= top_p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    probs = logits.softmax(dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


class Completions:
    """The new tokens of each row during generation, and which rows have finished.

    ``add(token)`` takes one freshly sampled token per row: a row that already finished gets
    ``pad_id`` instead (its column still has to be filled), a row that draws one of
    ``stop_tokens`` finishes without keeping it, and every other token is appended to its row's
    list (``tokens``) and streamed to ``on_token(row, token_id)``.
    """

    def __init__(self, batch_size: int, stop_tokens: Sequence[int], pad_id: int,
                 on_token: Callable[[int, int], None] | None, device):
        self.tokens: list[list[int]] = [[] for _ in range(batch_size)]
        self.finished = torch.zeros(batch_size, dtype=torch.bool, device=device)
        self.stops = torch.tensor(list(stop_tokens), dtype=torch.long, device=device)
        self.pad_id, self.on_token = pad_id, on_token

    def add(self, token: torch.Tensor) -> torch.Tensor:
        """Record one token per row; returns them with finished rows set to ``pad_id``."""
        token = token.masked_fill(self.finished, self.pad_id)
        is_stop = torch.isin(token, self.stops) & ~self.finished
        for i, t in enumerate(token.tolist()):
            if not self.finished[i] and not is_stop[i]:
                self.tokens[i].append(t)
                if self.on_token is not None:
                    self.on_token(i, t)
        self.finished |= is_stop
        return token

    def all_finished(self) -> bool:
        return bool(self.finished.all())


@torch.no_grad()
def generate(model, prompts: Sequence[Sequence[int]] | Sequence[int], max_new_tokens: int, *,
             temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
             stop_tokens: Sequence[int] = (), use_cache: bool = True, seed: int | None = None,
             on_token: Callable[[int, int], None] | None = None, pad_id: int = 0):
    """New token ids for each prompt (a list of lists; a single prompt gives a single list).

    ``use_cache=False`` recomputes the whole sequence at every step (the reference the KV cache
    must match). ``seed`` makes sampling reproducible.
    """
    single = len(prompts) > 0 and isinstance(prompts[0], int)
    rows = [list(prompts)] if single else [list(p) for p in prompts]
    if not rows or any(len(r) == 0 for r in rows):
        raise ValueError("every prompt needs at least one token (e.g. the <|endoftext|> id)")
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    device, context = model.device, model.config.context_length
    width = max(len(r) for r in rows)
    total = width + max_new_tokens
    if total > context:
        raise ValueError(f"prompt ({width} tokens) + max_new_tokens ({max_new_tokens}) = {total} "
                         f"exceeds the model's context_length {context}; shorten one of them")
    B = len(rows)
    ids = torch.full((B, width), pad_id, dtype=torch.long, device=device)
    key_valid = torch.zeros((B, width), dtype=torch.bool, device=device)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = torch.tensor(r, device=device)
        key_valid[i, width - len(r):] = True
    positions = (key_valid.long().cumsum(-1) - 1).clamp(min=0)
    generator = None
    if seed is not None:
        generator = torch.Generator(device=device)
        generator.manual_seed(seed)
    was_training = model.training
    model.eval()
    cache = None
    if use_cache:
        cache = KVCache(model.config.n_layer, total)
    logits, _ = model(ids, positions=positions, attention_mask=attention_mask(key_valid, 0, width),
                      cache=cache)
    outputs = Completions(B, stop_tokens, pad_id, on_token, device)
    for n in range(max_new_tokens):
        token = outputs.add(sample_next(logits[:, -1], temperature, top_k, top_p, generator))
        if n == max_new_tokens - 1 or outputs.all_finished():
            break
        step = ids.shape[1]
        ids = torch.cat([ids, token[:, None]], dim=1)
        key_valid = torch.cat([key_valid, ~outputs.finished[:, None]], dim=1)
        positions = torch.cat([positions, positions[:, -1:] + 1], dim=1)
        if use_cache:
            logits, _ = model(token[:, None], positions=positions[:, -1:], cache=cache,
                              attention_mask=attention_mask(key_valid, step, 1))
        else:
            logits, _ = model(ids, positions=positions,
                              attention_mask=attention_mask(key_valid, 0, step + 1))
    model.train(was_training)
    return outputs.tokens[0] if single else outputs.tokens


def complete(model, encoding, prompt: str | Sequence[str], max_new_tokens: int = 50,
             stop_at_eot: bool = True, **sampling) -> str | list[str]:
    """Continue text prompt(s) with a tiktoken-style ``encoding``; returns only the new text."""
    single = isinstance(prompt, str)
    prompts = [prompt] if single else list(prompt)
    eot = encoding.eot_token
    ids = [[eot] + encoding.encode_ordinary(p) for p in prompts]   # EOT = "a document starts here"
    stops = (eot,) if stop_at_eot else ()
    out = generate(model, ids, max_new_tokens, stop_tokens=stops, pad_id=eot, **sampling)
    texts = [encoding.decode(o) for o in out]
    return texts[0] if single else texts


@torch.no_grad()
def continuation_logprobs(model, prefix: Sequence[int], continuations: Sequence[Sequence[int]]) -> torch.Tensor:
    """log p(continuation | prefix), summed over its tokens, for each continuation (one batch)."""
    if not continuations or any(len(c) == 0 for c in continuations):
        raise ValueError("give at least one non-empty continuation")
    if len(prefix) == 0:
        raise ValueError("the prefix needs at least one token (e.g. the <|endoftext|> id)")
    rows = [list(prefix) + list(c) for c in continuations]
    width = max(len(r) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long, device=model.device)
    for i, r in enumerate(rows):                       # right padding: causal, so it never leaks back
        ids[i, :len(r)] = torch.tensor(r, device=model.device)
    was_training = model.training
    model.eval()
    logits, _ = model(ids)
    model.train(was_training)
    logprobs = F.log_softmax(logits.float(), dim=-1)
    scores = []
    for i, c in enumerate(continuations):
        start = len(prefix)
        positions = torch.arange(start - 1, start - 1 + len(c), device=model.device)
        targets = torch.tensor(list(c), device=model.device)
        scores.append(logprobs[i, positions, targets].sum())
    return torch.stack(scores)
