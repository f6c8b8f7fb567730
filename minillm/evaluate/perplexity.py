"""Perplexity and bits per byte of a long token stream, with a sliding window.

A model sees at most ``context_length`` tokens, so a long text is scored window by window.
Cutting it into disjoint chunks is cheap but unfair: the first tokens of every chunk are
predicted from almost no context. The sliding window of the Hugging Face perplexity guide
fixes that. Windows of ``window`` tokens start every ``stride`` tokens; each window scores only
the tokens that no earlier window scored (its last ``stride`` tokens, all of them for the first
window). So:

- every token except the very first is scored exactly once (the first has nothing to be
  predicted from; pass ``prefix_id``, e.g. ``<|endoftext|>``, to score it too);
- a token scored in window ``[begin, end)`` is predicted from ``tokens[begin:t]``: up to
  ``window - 1`` tokens of context, and at least ``window - stride`` once past the first window;
- ``stride == window - 1`` is the cheap split into disjoint chunks of targets (windows overlap
  by the one token the next target is predicted from), ``stride == 1`` gives every token the
  full ``window - 1`` tokens of context at one forward pass per token.

``stride`` may not equal ``window``: a window of W tokens predicts only W - 1 of them, so the
first token of each window would never be scored.

Perplexity is ``exp(mean nats per token)``; it depends on the tokenizer. Bits per byte,
``total nats / (ln 2 * bytes of text)``, does not, so models with different tokenizers (or a
byte-level baseline) can be compared.

    result = sliding_window_perplexity(model, tokens, window=256, stride=128)
    result.perplexity, result.loss, result.n_scored
    text_bits_per_byte(model, encoding, text, window=256, stride=128)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class PerplexityResult:
    nll_total: float  # summed negative log-likelihood of the scored tokens, in nats
    n_scored: int  # tokens scored (each once)
    n_windows: int  # forward passes of `window` tokens or fewer
    window: int
    stride: int

    @property
    def loss(self) -> float:
        """Mean nats per scored token (the cross-entropy a trainer reports)."""
        return self.nll_total / self.n_scored

    @property
    def perplexity(self) -> float:
        return math.exp(self.loss)

    def bits_per_byte(self, n_bytes: int) -> float:
        """Bits per byte, given how many bytes of text the scored tokens spell."""
        return bits_per_byte(self.nll_total, n_bytes)


def bits_per_byte(nats_total: float, n_bytes: int) -> float:
    """Convert a summed negative log-likelihood (nats) over a text of ``n_bytes`` bytes to bits
    per byte: ``nats_total / (ln 2 * n_bytes)``."""
    if not isinstance(n_bytes, int | np.integer) or n_bytes <= 0:
        raise ValueError(f"n_bytes must be a positive int (UTF-8 bytes of the text), "
                         f"got {n_bytes!r}")
    if not math.isfinite(nats_total) or nats_total < 0:
        raise ValueError(f"nats_total must be a finite number >= 0 (a summed NLL), "
                         f"got {nats_total!r}")
    return float(nats_total) / (math.log(2) * int(n_bytes))


def window_plan(n_tokens: int, window: int, stride: int) -> list[tuple[int, int, int]]:
    """The windows as ``(begin, end, first_scored)``: run the model on ``tokens[begin:end]`` and
    score the tokens at positions ``first_scored .. end - 1`` (positions in the full stream)."""
    if not isinstance(window, int) or window < 2:
        raise ValueError(f"window must be an int >= 2 (tokens per forward pass), got {window!r}")
    if not isinstance(stride, int) or not 1 <= stride < window:
        raise ValueError(f"stride must be an int in [1, window - 1 = {window - 1}] (a window of "
                         f"{window} tokens predicts {window - 1} of them), got {stride!r}")
    if n_tokens < 2:
        raise ValueError(f"need at least 2 tokens to score (got {n_tokens}); pass a longer text "
                         f"or a prefix_id")
    plan, scored_until = [], 1  # token 0 has no context: it is never a target
    for begin in range(0, n_tokens, stride):
        end = min(begin + window, n_tokens)
        plan.append((begin, end, max(scored_until, begin + 1)))
        scored_until = end
        if end == n_tokens:
            break
    return plan


def _as_token_array(tokens, prefix_id: int | None) -> np.ndarray:
    array = np.asarray(tokens)
    if array.ndim != 1:
        raise ValueError(f"tokens must be a 1-D array of token ids, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"tokens must be integer ids, got dtype {array.dtype}")
    array = array.astype(np.int64)
    if prefix_id is not None:
        array = np.concatenate([np.array([prefix_id], dtype=np.int64), array])
    return array


def _model_device(model) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


@torch.no_grad()
def sliding_window_perplexity(model, tokens: Sequence[int] | np.ndarray, window: int | None = None,
                              stride: int | None = None, *, prefix_id: int | None = None,
                              batch_size: int = 8) -> PerplexityResult:
    """Score a 1-D stream of token ids with a sliding window (see the module docstring).

    ``window`` defaults to the model's ``config.context_length``, ``stride`` to half the window.
    ``model(idx)`` must return ``(logits, _)`` like ``minillm.model.GPT``. Windows of equal length
    run ``batch_size`` at a time; the model is put in eval mode and restored afterwards.
    """
    context_length = getattr(getattr(model, "config", None), "context_length", None)
    if window is None:
        if context_length is None:
            raise ValueError("this model has no config.context_length; pass window=...")
        window = int(context_length)
    if context_length is not None and window > context_length:
        raise ValueError(f"window={window} is longer than the model's context_length="
                         f"{context_length}; use window <= {context_length}")
    stride = max(1, window // 2) if stride is None else stride
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    stream = _as_token_array(tokens, prefix_id)
    plan = window_plan(len(stream), window, stride)
    device = _model_device(model)
    was_training = model.training
    model.eval()
    try:
        nll_total, n_scored = 0.0, 0
        # Windows of one length batch together; only the last one can be shorter.
        groups: dict[int, list[tuple[int, int, int]]] = {}
        for begin, end, first in plan:
            groups.setdefault(end - begin, []).append((begin, end, first))
        for length, group in groups.items():
            for i in range(0, len(group), batch_size):
                chunk = group[i : i + batch_size]
                ids = torch.from_numpy(np.stack([stream[b:e] for b, e, _ in chunk])).to(device)
                logits, _ = model(ids)
                logprobs = F.log_softmax(logits.float(), dim=-1)
                for row, (begin, end, first) in enumerate(chunk):
                    # logits at local position p predict the token at local position p + 1
                    targets = ids[row, first - begin : length]
                    picked = logprobs[row, first - begin - 1 : length - 1].gather(
                        -1, targets.unsqueeze(-1))
                    nll_total -= float(picked.double().sum())
                    n_scored += end - first
    finally:
        model.train(was_training)
    return PerplexityResult(nll_total, n_scored, len(plan), window, stride)


def text_bits_per_byte(model, encoding, text: str, window: int | None = None,
                       stride: int | None = None, *, prefix_id: int | None = None,
                       batch_size: int = 8) -> float:
    """Bits per byte of ``text``: every token is scored, the first one after ``prefix_id``
    (default: the encoding's ``eot_token``), so the nats cover all UTF-8 bytes of the text."""
    if not isinstance(text, str) or not text:
        raise ValueError("text must be a non-empty string")
    if prefix_id is None:
        prefix_id = getattr(encoding, "eot_token", None)
        if prefix_id is None:
            raise ValueError("this encoding has no eot_token; pass prefix_id= (a token id to "
                             "condition the first token on)")
    encode = getattr(encoding, "encode_ordinary", encoding.encode)  # special tokens as plain text
    tokens = encode(text)
    result = sliding_window_perplexity(model, tokens, window, stride, prefix_id=prefix_id,
                                       batch_size=batch_size)
    return result.bits_per_byte(len(text.encode("utf-8")))
