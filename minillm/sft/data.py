"""SFT batches: conversations as (input, target) rows with a loss mask, padded or packed.

Targets are the inputs shifted by one; a target is ``-100`` (no loss) unless the template's mask
marks it as an assistant token. Two ways to make rows of ``context_length`` tokens:

- **padding**: one conversation per row, right-padded. Simple; wastes compute on pads.
- **packing**: several conversations per row, back to back. No pads wasted, but a token must not
  attend to the conversation before it, so each row carries a block-diagonal causal
  ``attention_mask`` (B, 1, T, T) and ``positions`` that restart at 0 for every conversation:
  the model then computes exactly what it would on each conversation alone.

``SFTBatches`` is an endless, seeded, resumable iterator of such batches. ``mix_tokens`` and
``mix_fraction`` replace that fraction of every batch's rows by random windows of pretraining text
(all positions trained): rehearsal that limits forgetting.

    data = encode_examples(enc, examples, context_length=128)
    batches = SFTBatches(data, batch_size=16, context_length=128, pack=True, seed=0)
    trainer = Trainer(model, config, batches, loss_fn=sft_loss)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from minillm.sft.template import encode_conversation

IGNORE = -100


@dataclass
class Encoded:
    ids: list[int]
    mask: list[bool]             # True: a trained (assistant) token
    example_id: str = ""


def encode_examples(encoding, examples: Sequence, context_length: int,
                    on_too_long: str = "drop") -> list[Encoded]:
    """Each example's conversation encoded with its loss mask. A conversation longer than
    ``context_length + 1`` tokens does not fit a row: ``on_too_long="drop"`` skips it (the count
    is in the warning), ``"error"`` raises."""
    if on_too_long not in ("drop", "error"):
        raise ValueError(f"on_too_long must be 'drop' or 'error', got {on_too_long!r}")
    out, dropped = [], []
    for ex in examples:
        messages = ex.messages if hasattr(ex, "messages") else ex
        ids, mask = encode_conversation(encoding, messages)
        if len(ids) > context_length + 1:
            dropped.append(getattr(ex, "id", "?"))
            continue
        out.append(Encoded(ids, mask, getattr(ex, "id", "")))
    if dropped and on_too_long == "error":
        raise ValueError(f"{len(dropped)} conversations are longer than context_length + 1 = "
                         f"{context_length + 1} tokens (e.g. {dropped[:3]}); use a longer context "
                         f"or on_too_long='drop'")
    if dropped:
        import warnings

        warnings.warn(f"dropped {len(dropped)} of {len(examples)} conversations longer than "
                      f"{context_length + 1} tokens", stacklevel=2)
    if not out:
        raise ValueError("no conversation fits the context: nothing to train on")
    return out


def targets_of(item: Encoded) -> tuple[list[int], list[int]]:
    """(inputs, targets) of one conversation: targets shifted by one, -100 where not trained."""
    x = item.ids[:-1]
    y = [t if m else IGNORE for t, m in zip(item.ids[1:], item.mask[1:], strict=True)]
    return x, y


def pack_rows(items: Sequence[Encoded], context_length: int) -> list[list[Encoded]]:
    """Greedy packing in order: conversations go into the current row while its tokens
    (``len(ids) - 1`` each, after the shift) fit in ``context_length``."""
    rows: list[list[Encoded]] = []
    used = context_length + 1
    for item in items:
        n = len(item.ids) - 1
        if n > context_length:
            raise ValueError(f"a conversation of {len(item.ids)} tokens does not fit context_length "
                             f"{context_length}; encode_examples drops those")
        if used + n > context_length:
            rows.append([])
            used = 0
        rows[-1].append(item)
        used += n
    return rows


def make_batch(rows: Sequence[Sequence[Encoded]], context_length: int, pad_id: int,
               pack: bool = True, full_width: bool = False) -> dict[str, torch.Tensor]:
    """Tensors ``x``, ``y`` (B, T); with ``pack`` also ``positions`` (B, T) and the block-diagonal
    causal ``attention_mask`` (B, 1, T, T). Padding (right) has target -100 and, in packed rows,
    forms a segment of its own. Unpacked rows are as wide as the longest one unless
    ``full_width`` (then ``context_length``)."""
    longest = max(sum(len(i.ids) - 1 for i in r) for r in rows)
    T = context_length if pack or full_width else longest
    if longest > T:
        raise ValueError(f"a row of {longest} tokens does not fit context_length {T}; "
                         f"pack rows with pack_rows(items, {T})")
    B = len(rows)
    x = torch.full((B, T), pad_id, dtype=torch.long)
    y = torch.full((B, T), IGNORE, dtype=torch.long)
    segment = torch.full((B, T), -1, dtype=torch.long)
    positions = torch.zeros((B, T), dtype=torch.long)
    for b, row in enumerate(rows):
        start = 0
        for s, item in enumerate(row):
            xs, ys = targets_of(item)
            end = start + len(xs)
            x[b, start:end] = torch.tensor(xs)
            y[b, start:end] = torch.tensor(ys)
            segment[b, start:end] = s
            positions[b, start:end] = torch.arange(len(xs))
            start = end
        positions[b, start:] = torch.arange(T - start)
    batch = {"x": x, "y": y}
    if pack:
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        same = segment[:, :, None] == segment[:, None, :]
        batch["attention_mask"] = (same & causal)[:, None]
        batch["positions"] = positions
    return batch


def pretraining_rows(tokens: np.ndarray, n: int, context_length: int,
                     rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` random windows of pretraining tokens as (x, y), every position trained."""
    starts = rng.integers(0, len(tokens) - context_length - 1, size=n)
    data = np.stack([np.asarray(tokens[s:s + context_length + 1], dtype=np.int64) for s in starts])
    data = torch.from_numpy(data)
    return data[:, :-1], data[:, 1:]


class SFTBatches:
    """Endless batches over shuffled epochs of ``items`` (seeded, resumable like ``TokenLoader``)."""

    def __init__(self, items: Sequence[Encoded], batch_size: int, context_length: int, *,
                 pad_id: int, pack: bool = True, seed: int = 0, mix_tokens: np.ndarray | None = None,
                 mix_fraction: float = 0.0):
        if not items:
            raise ValueError("SFTBatches needs at least one encoded conversation")
        if not 0.0 <= mix_fraction < 1.0:
            raise ValueError(f"mix_fraction must be in [0, 1), got {mix_fraction}")
        if mix_fraction > 0 and (mix_tokens is None or len(mix_tokens) <= context_length + 1):
            raise ValueError("mix_fraction > 0 needs mix_tokens: a pretraining token array longer "
                             "than the context")
        self.items, self.batch_size, self.context_length = list(items), batch_size, context_length
        self.pad_id, self.pack, self.seed = pad_id, pack, seed
        self.mix_tokens, self.mix_fraction = mix_tokens, mix_fraction
        self.n_mix = round(batch_size * mix_fraction)
        self.epoch, self.position = 0, 0
        self._rows = self._epoch_rows()

    def _epoch_rows(self) -> list[list[Encoded]]:
        order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.items))
        shuffled = [self.items[i] for i in order]
        if self.pack:
            return pack_rows(shuffled, self.context_length)
        return [[item] for item in shuffled]

    def __iter__(self) -> Iterator[dict]:
        return self

    def __next__(self) -> dict:
        n_sft = self.batch_size - self.n_mix
        rows = []
        while len(rows) < n_sft:
            if self.position >= len(self._rows):
                self.epoch, self.position = self.epoch + 1, 0
                self._rows = self._epoch_rows()
            rows.append(self._rows[self.position])
            self.position += 1
        batch = make_batch(rows, self.context_length, self.pad_id, self.pack, full_width=self.n_mix > 0)
        if self.n_mix:
            rng = np.random.default_rng([self.seed, self.epoch, self.position, 7])
            mx, my = pretraining_rows(self.mix_tokens, self.n_mix, self.context_length, rng)
            batch = _append_rows(batch, mx, my)
        return batch

    @property
    def epoch_progress(self) -> float:
        """Epochs done so far, fractional."""
        return self.epoch + self.position / max(len(self._rows), 1)

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._rows = self._epoch_rows()


def _append_rows(batch: dict, x: torch.Tensor, y: torch.Tensor) -> dict:
    """Add plain causal rows (pretraining text) to a batch, padding them to its width."""
    T = batch["x"].shape[1]
    if x.shape[1] != T:
        raise ValueError(f"pretraining rows of {x.shape[1]} tokens cannot join a batch of width {T}")
    out = {"x": torch.cat([batch["x"], x]), "y": torch.cat([batch["y"], y])}
    if "attention_mask" in batch:
        causal = torch.ones(T, T, dtype=torch.bool).tril().expand(len(x), 1, T, T)
        out["attention_mask"] = torch.cat([batch["attention_mask"], causal])
        out["positions"] = torch.cat([batch["positions"], torch.arange(T).expand(len(x), T)])
    return out


def sft_loss(model, batch: dict) -> torch.Tensor:
    """Mean cross-entropy over the trained (assistant) target tokens of a batch."""
    _, loss = model(batch["x"], targets=batch["y"], positions=batch.get("positions"),
                    attention_mask=batch.get("attention_mask"))
    return loss


def chat_conversations(key: str = "smoltalk", n_rows: int = 2000, data_files=None,
                       fallback_split: str = "train") -> tuple[list[list[dict]], str]:
    """Conversations from an online SFT dataset (``"smoltalk"`` or ``"alpaca"``, through
    ``minillm.data.online``: local files, else the hub), or TinyWorld's SFT split offline;
    returns ``(conversations, source)``. Conversations the template rejects (roles out of
    order, empty turns, text with special tokens) are left out and counted in a warning."""
    from minillm.data.build import load_sft
    from minillm.data.online import load_or_fallback
    from minillm.sft.template import ConversationError, validate

    def fallback():
        return [{"messages": ex.messages} for ex in load_sft(fallback_split)]

    rows, source = load_or_fallback(key, fallback, n_rows=n_rows, data_files=data_files)
    kept, bad = [], 0
    for row in rows:
        try:
            validate(row["messages"])
        except ConversationError:
            bad += 1
            continue
        kept.append(row["messages"])
        if len(kept) == n_rows:
            break
    if bad:
        import warnings

        warnings.warn(f"left out {bad} {key} conversations the chat template rejects", stacklevel=2)
    return kept, source
