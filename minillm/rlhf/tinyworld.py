"""RLHF on TinyWorld: preference data labelled by the gold judge, and how policies are measured.

The gold judge (``minillm.data.tinyworld.judge``) plays the human. It labels two kinds of pairs:

- **candidate pairs**: programmatic responses of known quality (correct, verbose, rude, wrong,
  hedging, refusing, ...), which teach the broad strokes;
- **sample pairs**: two of the SFT model's own samples (temperature 1) for the same prompt, which
  teach the fine distinctions between responses the policy will actually write. Their score gaps
  are small, so they are kept down to a smaller ``min_margin``.

A policy is then measured on held-out prompts three ways:

- **gold score** of its greedy reply, compared prompt by prompt with the SFT model's: a *win*
  is a strictly higher gold score, a *tie* an equal one, and the win rate counts a tie as half
  a win (``win_tie_loss``);
- **proxy score**: what the reward model says about the same reply;
- **KL to the reference**: ``sum_t log pi(y_t | ...) - log pi_ref(y_t | ...)`` over a reply
  *sampled* from the policy, averaged over prompts: a Monte Carlo estimate of
  KL(pi || pi_ref) per response, in nats (``response_kl``).

    pairs = preference_table(examples, judge, source="candidates")          # DataFrame
    triples = to_triples(encoding, pairs, by_id, context_length=128)         # token ids
    table = evaluate_policy(policy, ref, reward_model, encoding, examples, judge, name="ppo")
    win_tie_loss(table_policy.gold, table_sft.gold)    # {"win": .., "tie": .., "loss": ..}
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np
import torch

from minillm.rlhf.logprobs import make_batch, token_logprobs

PAIR_COLUMNS = ("example_id", "family", "split", "source", "prompt", "chosen", "rejected",
                "chosen_score", "rejected_score")


def prompt_ids(encoding, example) -> list[int]:
    """The example's conversation up to the open assistant header, as token ids."""
    from minillm.sft.template import encode_prompt

    return encode_prompt(encoding, example.prompt)


def response_ids(encoding, text: str) -> list[int]:
    """A reply as the policy writes it: its tokens, then ``<|end|>``."""
    from minillm.sft.template import end_token

    return [*encoding.encode_ordinary(text), end_token(encoding)]


def response_text(encoding, ids: Sequence[int]) -> str:
    """The text of sampled reply ids (without the closing ``<|end|>``)."""
    from minillm.sft.template import end_token

    end = end_token(encoding)
    ids = list(ids)
    if end in ids:
        ids = ids[:ids.index(end)]
    return encoding.decode(ids).strip()


def per_family(examples, n: int) -> list:
    """The first ``n`` examples of every family, in the given order."""
    from minillm.sft.stage import eval_examples

    return eval_examples(examples, n)


def sample_replies(model, encoding, examples, n: int, seed: int,
                   max_new_tokens: int) -> dict[str, list[str]]:
    """``n`` replies per example sampled at temperature 1: ``{example.id: [text, ...]}``."""
    from minillm.sft.chat import replies

    if n < 1:
        raise ValueError(f"ask for at least one sample per prompt, got n={n}")
    conversations = [ex.prompt for ex in examples for _ in range(n)]
    texts = replies(model, encoding, conversations, max_new_tokens=max_new_tokens,
                    temperature=1.0, seed=seed)
    return {ex.id: texts[i * n:(i + 1) * n] for i, ex in enumerate(examples)}


def preference_table(examples, judge, source: str, responses: dict | None = None,
                     seed: int = 0, pairs_per_example: int = 2, min_margin: float = 0.1):
    """Judge-labelled pairs as a DataFrame (one row per pair, ``PAIR_COLUMNS``)."""
    import pandas as pd

    from minillm.data.tinyworld.judge import make_preference_pairs

    pairs = make_preference_pairs(examples, judge, seed=seed, responses=responses,
                                  min_margin=min_margin, pairs_per_example=pairs_per_example)
    split = {ex.id: ex.id.split("-", 1)[0] for ex in examples}
    rows = [{"example_id": p.example_id, "family": p.family, "split": split[p.example_id],
             "source": source, "prompt": json.dumps(p.prompt), "chosen": p.chosen,
             "rejected": p.rejected, "chosen_score": p.chosen_score,
             "rejected_score": p.rejected_score} for p in pairs]
    return pd.DataFrame(rows, columns=list(PAIR_COLUMNS))


def to_triples(encoding, pairs, by_id: dict, context_length: int):
    """(prompt ids, chosen ids, rejected ids) for every row of ``pairs`` that fits the context,
    and the boolean mask of the rows kept."""
    triples, keep = [], []
    for row in pairs.itertuples():
        p = prompt_ids(encoding, by_id[row.example_id])
        c, r = response_ids(encoding, row.chosen), response_ids(encoding, row.rejected)
        fits = len(p) + max(len(c), len(r)) <= context_length
        keep.append(fits)
        if fits:
            triples.append((p, c, r))
    return triples, np.array(keep, dtype=bool)


def calibration(r_chosen: Sequence[float], r_rejected: Sequence[float], bins: int = 10):
    """Predicted P(A preferred) = sigmoid(r_A - r_B) against how often A was the judge's choice.

    Each pair is counted in both orders (chosen as A, then rejected as A), so the table is
    symmetric and needs no coin flips. One row per non-empty bin: predicted, observed, n."""
    import pandas as pd

    margin = np.asarray(r_chosen, dtype=float) - np.asarray(r_rejected, dtype=float)
    p = 1 / (1 + np.exp(-np.concatenate([margin, -margin])))
    y = np.concatenate([np.ones_like(margin), np.zeros_like(margin)])
    which = np.minimum((p * bins).astype(int), bins - 1)
    rows = [{"predicted": float(p[which == b].mean()), "observed": float(y[which == b].mean()),
             "n": int((which == b).sum())} for b in range(bins) if (which == b).any()]
    return pd.DataFrame(rows)


def win_tie_loss(policy_gold: Sequence[float], baseline_gold: Sequence[float],
                 tolerance: float = 1e-9) -> dict[str, float]:
    """Shares of prompts where the policy's gold score is strictly higher (win), equal within
    ``tolerance`` (tie) or lower (loss) than the baseline's, their count ``n``, and the
    ``win_rate`` with ties counted as half a win each (the convention of AlpacaEval and of
    pairwise human ratings where "tie" is a choice)."""
    a, b = np.asarray(policy_gold, dtype=float), np.asarray(baseline_gold, dtype=float)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"need two equally long, non-empty score lists; got {a.shape}, {b.shape}")
    gap = a - b
    win, tie = float((gap > tolerance).mean()), float((np.abs(gap) <= tolerance).mean())
    return {"win": round(win, 4), "tie": round(tie, 4), "loss": round(1 - win - tie, 4),
            "n": int(a.size), "win_rate": round(win + tie / 2, 4)}


@torch.no_grad()
def response_kl(policy, ref, prompts: Sequence[Sequence[int]], responses: Sequence[Sequence[int]],
                pad_id: int, batch_size: int = 64) -> list[float]:
    """Summed log pi - log pi_ref over each response (its k1 KL estimate, nats)."""
    out: list[float] = []
    for start in range(0, len(prompts), batch_size):
        chunk_p = prompts[start:start + batch_size]
        chunk_r = [list(r) or [pad_id] for r in responses[start:start + batch_size]]
        batch = make_batch(chunk_p, chunk_r, pad_id, policy.device)
        ids, mask = batch["input_ids"], batch["response_mask"]
        logp = token_logprobs(policy(ids)[0], ids)
        ref_logp = token_logprobs(ref(ids)[0], ids)
        out += ((logp - ref_logp) * mask).sum(-1).tolist()
    return out


def _generate_ids(model, prompts, max_new_tokens: int, eos: int, temperature: float,
                  seed: int, batch_size: int = 64) -> list[list[int]]:
    """Replies as ids, ending with ``eos`` when the model stopped."""
    from minillm.generate import generate

    out: list[list[int]] = []
    for start in range(0, len(prompts), batch_size):
        chunk = prompts[start:start + batch_size]
        room = min(max_new_tokens, model.config.context_length - max(len(p) for p in chunk))
        new = generate(model, chunk, room, temperature=temperature, stop_tokens=(eos,),
                       seed=seed + start, pad_id=eos)
        out += [r + [eos] if len(r) < room else r for r in new]
    return out


@torch.no_grad()
def evaluate_policy(policy, ref, reward_model, encoding, examples, judge, name: str,
                    max_new_tokens: int = 32, sampled: bool = False, seed: int = 0):
    """One row per example: the policy's reply (greedy, or sampled at T=1), its gold score and
    axes, the reward model's proxy score, and the KL of a reply *sampled* from the policy."""
    import pandas as pd

    from minillm.sft.template import end_token

    eos = end_token(encoding)
    was = policy.training
    policy.eval()
    prompts = [prompt_ids(encoding, ex) for ex in examples]
    sample_ids = _generate_ids(policy, prompts, max_new_tokens, eos, 1.0, seed)
    kl = response_kl(policy, ref, prompts, sample_ids, eos)
    reply_ids = sample_ids if sampled else _generate_ids(policy, prompts, max_new_tokens, eos,
                                                         0.0, seed)
    texts = [response_text(encoding, r) for r in reply_ids]
    # the reward model reads exactly what the judge reads: the text, then <|end|> (re-encoding
    # can add a token or two, so the row is cut at the context length)
    T = reward_model.config.context_length
    proxy = reward_model.score([(p + response_ids(encoding, t))[:T]
                                for p, t in zip(prompts, texts, strict=True)], eos)
    policy.train(was)
    rows = []
    for ex, text, k, r in zip(examples, texts, kl, proxy, strict=True):
        judgement = judge.judge(ex, text)
        rows.append({"model": name, "id": ex.id, "family": ex.family, "response": text,
                     "gold": judgement.score, **judgement.breakdown, "proxy": r, "kl": k,
                     "notes": "; ".join(judgement.notes)})
    return pd.DataFrame(rows)


def curve_point(table, **extra) -> dict:
    """Mean gold, proxy and KL of an ``evaluate_policy`` table, with extra labels."""
    return {**extra, "gold": float(table.gold.mean()), "proxy": float(table.proxy.mean()),
            "kl": float(table.kl.mean())}


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))
