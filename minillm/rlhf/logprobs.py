"""Batches of (prompt + response) token ids, and the log-probability of each response token.

Every RLHF method here scores *responses*: the reward model reads a whole sequence, PPO, DPO and
GRPO need ``log pi(token | everything before it)`` for each response token. This module does the
shared bookkeeping once:

- ``make_batch`` right-pads rows of ``prompt + response`` ids. Right padding needs no attention
  mask: attention is causal, so a real token never looks at the pads that come after it, and each
  row keeps positions 0, 1, 2, ... exactly as if it were alone.
- ``response_mask`` is True on response tokens only (not the prompt, not the padding); every loss
  averages over it with ``masked_mean``.
- ``token_logprobs`` lines the log-probs up with the ids:
  ``out[b, t] = log p(ids[b, t] | ids[b, :t])``, read from the logits at position ``t - 1``
  (a causal LM's logits at t predict token t + 1).
  Keeping the (B, T) layout of ``input_ids`` means ``response_mask`` applies to it directly.

    batch = make_batch(prompts=[[1, 2, 3], [4, 5]], responses=[[6, 7], [8, 9, 10]], pad_id=0)
    logps = sequence_logprobs(model, batch)                 # (2, 5), zero outside the responses
    per_sequence = logps.sum(-1)                            # log pi(response | prompt)

``cycle_batches`` and ``PreferenceBatches`` feed the shared ``Trainer``; ``LoggedLoss`` is a
``loss_fn`` that also writes its metrics (accuracy, margins, ...) into the Trainer's history.
"""

from __future__ import annotations

import abc
import numbers
import random
from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F

from minillm.train import Callback


def _check_ids(name: str, rows: Sequence[Sequence[int]], allow_empty: bool = False) -> None:
    for i, row in enumerate(rows):
        if not allow_empty and len(row) == 0:
            raise ValueError(f"{name}[{i}] is empty; every {name[:-1]} needs at least one token id")
        if any(not isinstance(t, numbers.Integral) or t < 0 for t in row):   # numpy ints too
            raise ValueError(f"{name}[{i}] must be a list of non-negative int token ids, "
                             f"got {row!r}")


def make_batch(prompts: Sequence[Sequence[int]], responses: Sequence[Sequence[int]],
               pad_id: int = 0, device: torch.device | str | None = None) -> dict:
    """Right-padded ``prompt + response`` rows as a dict of (B, T) tensors.

    ``input_ids`` (long), ``attention_mask`` (bool, True on real tokens) and ``response_mask``
    (bool, True on response tokens). A dict, so ``Trainer``'s ``to_device`` moves it. A prompt
    needs at least one token (its last one predicts the first response token); a response may
    be empty.
    """
    if len(prompts) != len(responses):
        raise ValueError(f"got {len(prompts)} prompts but {len(responses)} responses; "
                         f"pair them one to one")
    if len(prompts) == 0:
        raise ValueError("make_batch needs at least one (prompt, response) pair")
    _check_ids("prompts", prompts)
    _check_ids("responses", responses, allow_empty=True)
    width = max(len(p) + len(r) for p, r in zip(prompts, responses, strict=True))
    B = len(prompts)
    input_ids = torch.full((B, width), pad_id, dtype=torch.long)
    attention = torch.zeros((B, width), dtype=torch.bool)
    response = torch.zeros((B, width), dtype=torch.bool)
    for i, (p, r) in enumerate(zip(prompts, responses, strict=True)):
        n = len(p) + len(r)
        input_ids[i, :n] = torch.tensor(list(p) + list(r), dtype=torch.long)
        attention[i, :n] = True
        response[i, len(p):n] = True
    batch = {"input_ids": input_ids, "attention_mask": attention, "response_mask": response}
    return {k: v.to(device) for k, v in batch.items()} if device is not None else batch


def token_logprobs(logits: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
    """(B, T) with ``out[:, t] = log softmax(logits[:, t - 1])[input_ids[:, t]]``; ``out[:, 0]``
    is 0 (the first token has no prediction). Computed in float32."""
    logp = F.log_softmax(logits[:, :-1].float(), dim=-1)
    picked = logp.gather(-1, input_ids[:, 1:, None]).squeeze(-1)
    return F.pad(picked, (1, 0), value=0.0)


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of the next-token distribution, aligned like ``token_logprobs`` (entry t: the
    distribution that token t was drawn from)."""
    logp = F.log_softmax(logits[:, :-1].float(), dim=-1)
    entropy = -(logp.exp() * logp).sum(-1)
    return F.pad(entropy, (1, 0), value=0.0)


def sequence_logprobs(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Per-token log-probs (B, T) of the response tokens under ``model``; 0 off ``response_mask``.
    Sum over the last dim for ``log pi(response | prompt)``. Gradients flow (wrap in
    ``torch.no_grad()`` for a reference model)."""
    logits, _ = model(batch["input_ids"])
    return token_logprobs(logits, batch["input_ids"]) * batch["response_mask"]


def masked_sum(x: torch.Tensor, mask: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    mask = mask.to(x.dtype)
    return (x * mask).sum() if dim is None else (x * mask).sum(dim)


def masked_mean(x: torch.Tensor, mask: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    """Mean of ``x`` where ``mask`` is True (over everything, or along ``dim``); 0 if empty."""
    count = mask.to(x.dtype).sum() if dim is None else mask.to(x.dtype).sum(dim)
    return masked_sum(x, mask, dim) / count.clamp(min=1)


def masked_var(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Variance of the masked entries (population form: divides by the count)."""
    mean = masked_mean(x, mask)
    return masked_mean((x - mean) ** 2, mask)


def masked_whiten(x: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True,
                  eps: float = 1e-8) -> torch.Tensor:
    """(x - mean) / std over the masked entries, 0 elsewhere (``shift_mean=False``: no shift)."""
    mean, var = masked_mean(x, mask), masked_var(x, mask)
    white = (x - mean) * torch.rsqrt(var + eps)
    if not shift_mean:
        white = white + mean
    return white * mask


def last_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Index of the last True of each row of a (B, T) mask (the last real token)."""
    if not bool(attention_mask.any(-1).all()):
        raise ValueError("a row of attention_mask has no real token; every sequence needs one")
    positions = torch.arange(attention_mask.shape[1], device=attention_mask.device)
    return (positions * attention_mask.long()).argmax(-1)


def cycle_batches(items: Sequence, batch_size: int, seed: int = 0,
                  shuffle: bool = True) -> Iterator[list]:
    """Endless lists of ``batch_size`` items: a fresh shuffled pass each epoch (the ragged tail
    of a pass is dropped so every batch has the same size)."""
    if batch_size < 1 or len(items) < batch_size:
        raise ValueError(f"need 1 <= batch_size <= len(items); got batch_size={batch_size}, "
                         f"{len(items)} items")
    rng = random.Random(seed)
    order = list(range(len(items)))
    while True:
        if shuffle:
            rng.shuffle(order)
        for start in range(0, len(order) - batch_size + 1, batch_size):
            yield [items[i] for i in order[start:start + batch_size]]


def collate_preferences(triples: Sequence[Sequence[Sequence[int]]], pad_id: int = 0) -> dict:
    """(prompt, chosen, rejected) id triples as one batch of 2n rows: chosen rows first, then the
    rejected rows in the same order (one forward pass scores both)."""
    for i, t in enumerate(triples):
        if len(t) != 3:
            raise ValueError(f"preference {i} must be a (prompt, chosen, rejected) triple, "
                             f"got {len(t)} parts")
    prompts = [list(t[0]) for t in triples] * 2
    responses = [list(t[1]) for t in triples] + [list(t[2]) for t in triples]
    return make_batch(prompts, responses, pad_id)


class PreferenceBatches:
    """An endless iterator of ``collate_preferences`` batches for ``Trainer`` (reward model, DPO).

    With ``reference_model``, each pair's reference log-probs (summed over the response) travel
    in the batch as ``ref_logps`` (2n,): DPO then never runs the reference model in its training
    step. They are computed under no_grad the first time a batch draws the pair and kept, so a
    pair is scored once however often it comes back, and pairs a short run never draws are never
    scored (a run of 120 steps of 16 pairs touches ~2k of, say, 7k pairs).
    """

    def __init__(self, triples: Sequence, batch_size: int, pad_id: int = 0, seed: int = 0,
                 reference_model=None, shuffle: bool = True):
        self.triples, self.pad_id = list(triples), pad_id
        self.reference_model = reference_model
        # (n, 2) reference log-probs of (chosen, rejected); NaN until a batch draws the pair
        self.ref_logps = torch.full((len(self.triples), 2), float("nan"))
        self._indices = cycle_batches(range(len(self.triples)), batch_size, seed, shuffle)

    def __iter__(self):
        return self

    def __next__(self) -> dict:
        idx = next(self._indices)
        batch = collate_preferences([self.triples[i] for i in idx], self.pad_id)
        if self.reference_model is not None:
            new = [i for i in idx if torch.isnan(self.ref_logps[i, 0])]
            if new:
                self.ref_logps[new] = reference_sequence_logps(
                    self.reference_model, [self.triples[i] for i in new], self.pad_id)
            batch["ref_logps"] = torch.cat([self.ref_logps[idx, 0], self.ref_logps[idx, 1]])
        return batch


@torch.no_grad()
def reference_sequence_logps(model, triples: Sequence, pad_id: int = 0,
                             batch_size: int = 32) -> torch.Tensor:
    """(n, 2) summed response log-probs of (chosen, rejected) for every triple, on the CPU."""
    was_training = model.training
    model.eval()
    out = []
    device = next(model.parameters()).device
    for start in range(0, len(triples), batch_size):
        chunk = triples[start:start + batch_size]
        batch = {k: v.to(device) for k, v in collate_preferences(chunk, pad_id).items()}
        logps = sequence_logprobs(model, batch).sum(-1).cpu()
        out.append(torch.stack([logps[:len(chunk)], logps[len(chunk):]], dim=1))
    model.train(was_training)
    return torch.cat(out)


class LoggedLoss(Callback, abc.ABC):
    """A ``Trainer`` loss_fn that also reports metrics: ``compute(model, batch) -> (loss, dict)``.

    Pass the same object as ``loss_fn`` and in ``callbacks``; the metrics of each training step
    are then added as columns of the history DataFrame. Evaluation calls (model in eval mode) do
    not overwrite them.
    """

    def __init__(self):
        self.metrics: dict[str, float] = {}

    @abc.abstractmethod
    def compute(self, model, batch) -> tuple[torch.Tensor, dict[str, float]]:
        """The loss of ``batch`` and the metrics to log with it (each subclass defines it)."""

    def __call__(self, model, batch) -> torch.Tensor:
        loss, metrics = self.compute(model, batch)
        if model.training:
            self.metrics = metrics
        return loss

    def on_step(self, trainer, row: dict) -> None:
        row.update(self.metrics)
