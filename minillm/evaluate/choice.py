"""Multiple-choice (cloze) scoring, with lm-evaluation-harness's ``acc`` and ``acc_norm``.

A multiple-choice item is a context ("The capital of Velora is") and a few choices ("Brenno",
"Tessa", ...). Nothing is generated: the model scores each choice as a continuation of the
context, ``log p(" " + choice | context)`` summed over the choice's tokens, and the best score
wins. Two ways to pick the best, as the harness defines them:

- ``acc``:      argmax of the summed log-likelihoods. Long choices have more tokens to pay for,
                so it leans towards short choices;
- ``acc_norm``: argmax of the summed log-likelihood divided by the choice's length in characters
                (``len(choice)``, the harness's ``completion_len``; ``length_unit="bytes"`` uses
                UTF-8 bytes instead). A per-character average is fair across tokenizers, unlike
                a per-token one.

Tokenization follows the harness too: whitespace at the end of the context moves to the front
of the continuation, the pair is encoded as one string and the continuation's tokens are those
after the context's own tokens. An empty context is conditioned on ``<|endoftext|>``.

    items = [MultipleChoiceItem("The capital of Velora is", ["Brenno", "Tessa"], gold=0)]
    table = score_multiple_choice(model, encoding, items)   # one row per item
    table[["acc", "acc_norm"]].mean()
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

LENGTH_UNITS = ("chars", "bytes")


@dataclass
class MultipleChoiceItem:
    context: str
    choices: list[str]
    gold: int  # index of the right choice
    id: str = ""
    meta: dict = field(default_factory=dict)  # copied into the result table (e.g. family)


def _as_item(item, index: int) -> MultipleChoiceItem:
    if isinstance(item, MultipleChoiceItem):
        parsed = item
    elif isinstance(item, dict):
        parsed = MultipleChoiceItem(item["context"], list(item["choices"]), item["gold"],
                                    str(item.get("id", "")), dict(item.get("meta", {})))
    elif isinstance(item, tuple | list) and len(item) == 3:
        parsed = MultipleChoiceItem(item[0], list(item[1]), item[2])
    else:
        raise ValueError(f"item {index} must be a MultipleChoiceItem, a dict with context/choices/"
                         f"gold, or a (context, choices, gold) tuple; got {item!r}")
    if len(parsed.choices) < 2 or any(not isinstance(c, str) or not c for c in parsed.choices):
        raise ValueError(f"item {index} needs at least two non-empty string choices, "
                         f"got {parsed.choices!r}")
    if not isinstance(parsed.gold, int | np.integer) or not 0 <= parsed.gold < len(parsed.choices):
        raise ValueError(f"item {index}: gold must be an index into its {len(parsed.choices)} "
                         f"choices, got {parsed.gold!r}")
    return parsed


def choice_length(choice: str, unit: str = "chars") -> int:
    """The length ``acc_norm`` divides by: characters (the harness) or UTF-8 bytes."""
    if unit not in LENGTH_UNITS:
        raise ValueError(f"length_unit must be one of {LENGTH_UNITS}, got {unit!r}")
    return len(choice) if unit == "chars" else len(choice.encode("utf-8"))


def _encode(encoding, text: str, allowed_special=frozenset()) -> list[int]:
    """Special-token strings are plain text unless ``allowed_special`` names them (e.g. the
    chat template's ``<|user|>`` when scoring a chat model, or "all")."""
    if allowed_special:
        return list(encoding.encode(text, allowed_special=allowed_special))
    if hasattr(encoding, "encode_ordinary"):
        return list(encoding.encode_ordinary(text))
    return list(encoding.encode(text))


def encode_pair(encoding, context: str, continuation: str, empty_context_id: int | None = None,
                allowed_special=frozenset()) -> tuple[list[int], list[int]]:
    """(context ids, continuation ids) the harness's way; see the module docstring."""
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        context, continuation = context[:-n_spaces], context[-n_spaces:] + continuation
    whole = _encode(encoding, context + continuation, allowed_special)
    context_ids = _encode(encoding, context, allowed_special)
    continuation_ids = whole[len(context_ids):]
    if not context_ids:
        if empty_context_id is None:
            empty_context_id = getattr(encoding, "eot_token", None)
        if empty_context_id is None:
            raise ValueError("the context is empty and the encoding has no eot_token; pass "
                             "empty_context_id=")
        context_ids = [empty_context_id]
    if not continuation_ids:
        raise ValueError(f"the continuation {continuation!r} encodes to no tokens")
    return context_ids, continuation_ids


@torch.no_grad()
def loglikelihoods(model, requests: Sequence[tuple[list[int], list[int]]],
                   batch_size: int = 16) -> list[tuple[float, bool]]:
    """``(sum log p(continuation | context), is_greedy)`` per (context ids, continuation ids).

    ``is_greedy`` says whether every continuation token is the model's argmax. A context too long
    for the model loses its oldest tokens (the continuation always stays whole).
    """
    max_length = getattr(getattr(model, "config", None), "context_length", None)
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    results: list[tuple[float, bool]] = []
    try:
        for start in range(0, len(requests), batch_size):
            rows, targets_per_row = [], []
            for context_ids, continuation_ids in requests[start : start + batch_size]:
                full = list(context_ids) + list(continuation_ids)
                if max_length is not None and len(continuation_ids) > max_length:
                    raise ValueError(f"a continuation of {len(continuation_ids)} tokens does not "
                                     f"fit the model's context_length={max_length}")
                # the last token is only ever a target, never an input
                inputs = full[:-1] if max_length is None else full[:-1][-max_length:]
                rows.append(inputs)
                targets_per_row.append(list(continuation_ids))
            width = max(len(r) for r in rows)
            # right padding: attention is causal, so padding after a row cannot change its scores
            batch = torch.zeros((len(rows), width), dtype=torch.long, device=device)
            for i, r in enumerate(rows):
                batch[i, : len(r)] = torch.tensor(r, dtype=torch.long)
            logits, _ = model(batch)
            logprobs = F.log_softmax(logits.float(), dim=-1)
            for i, (r, wanted) in enumerate(zip(rows, targets_per_row, strict=True)):
                predicted = logprobs[i, len(r) - len(wanted) : len(r)]
                targets = torch.tensor(wanted, dtype=torch.long, device=device)
                total = float(predicted.gather(-1, targets.unsqueeze(-1)).double().sum())
                greedy = bool((predicted.argmax(-1) == targets).all())
                results.append((total, greedy))
    finally:
        model.train(was_training)
    return results


def score_multiple_choice(model, encoding, items: Sequence, *, target_delimiter: str = " ",
                          length_unit: str = "chars", batch_size: int = 16,
                          allowed_special=frozenset()):
    """Score every item; one row per item: id, context, gold, pred, pred_norm, acc, acc_norm,
    the per-choice ``loglikelihoods`` and ``lengths``, plus the item's ``meta`` fields.

    ``target_delimiter`` goes between context and choice (the harness's default is one space);
    ``allowed_special`` lets special tokens in the context through (see ``encode_pair``).
    """
    import pandas as pd

    if not items:
        raise ValueError("give at least one multiple-choice item")
    parsed = [_as_item(item, i) for i, item in enumerate(items)]
    requests, owners = [], []
    for index, item in enumerate(parsed):
        for choice in item.choices:
            requests.append(encode_pair(encoding, item.context, target_delimiter + choice,
                                        allowed_special=allowed_special))
            owners.append(index)
    scores = loglikelihoods(model, requests, batch_size)
    per_item: list[list[float]] = [[] for _ in parsed]
    for index, (total, _) in zip(owners, scores, strict=True):
        per_item[index].append(total)
    rows = []
    for index, (item, lls) in enumerate(zip(parsed, per_item, strict=True)):
        lengths = [choice_length(c, length_unit) for c in item.choices]
        pred = int(np.argmax(lls))
        pred_norm = int(np.argmax(np.array(lls) / np.array(lengths, dtype=float)))
        rows.append({**item.meta,  # the scores below win over a meta field of the same name
                     "id": item.id or str(index), "context": item.context, "gold": int(item.gold),
                     "pred": pred, "pred_norm": pred_norm, "acc": float(pred == item.gold),
                     "acc_norm": float(pred_norm == item.gold), "loglikelihoods": lls,
                     "lengths": lengths})
    return pd.DataFrame(rows)


def accuracy_summary(table) -> dict:
    """Mean ``acc`` and ``acc_norm`` of a ``score_multiple_choice`` table, with the item count."""
    if len(table) == 0:
        raise ValueError("the table is empty; score some items first")
    return {"n": len(table), "acc": float(table["acc"].mean()),
            "acc_norm": float(table["acc_norm"].mean())}
