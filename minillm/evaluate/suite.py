"""The evaluation suite: every model of the course measured the same way, one tidy row each.

One model (a ``ModelSpec``: the network, and whether it is asked through the chat template or
few-shot in plain text) gets:

- ``val loss`` and ``bits per byte``: sliding-window scoring of the pretraining validation tokens
  (``perplexity.sliding_window_perplexity``; every token scored once, the first after
  ``<|endoftext|>``, so the nats cover all the bytes the tokens spell);
- ``QA accuracy``: the gold judge's correctness on held-out ``fact_qa`` test prompts about
  entities the pretraining corpus does describe (as ``sft.stage.headline`` counts it);
- ``gold score``: the judge's mean overall score on test prompts of every SFT family;
- ``refusal rate (harmful)``, ``over-refusal (benign)`` and ``attack success``: on a red-team
  set (``redteam.make_redteam_set``: jailbreak patterns, and benign look-alikes);
- ``size (MB)`` in memory and ``tokens/s`` of greedy generation (``compress.measure``).

The column names are ``report_card.MODEL_METRICS`` (plus a few extras), so the rows go straight
to ``report_card.save_model_rows``. Three more probes of what a score can hide:

- ``PHRASINGS``: one fact question asked five ways (``phrasing_examples``); ``sensitivity``
  gives the accuracy per phrasing and its spread;
- ``ngram_overlap``: the share of a test text's word n-grams found in a training corpus, the
  decontamination check of GPT-3 and lm-evaluation-harness;
- ``variant_scores``: how judges (the gold judge, a reward model) score answers of known quality
  (correct, verbose, flattering, rude, wrong...), to expose what a judge rewards.

    specs = [ModelSpec("base", base, "few_shot"), ModelSpec("sft", sft)]
    rows, responses = evaluate_models(specs, encoding, judge, qa=qa, redteam=redteam,
                                      val_tokens=val_tokens, shots=shots)
    report_card.save_model_rows(rows)
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from minillm import profiles
from minillm.data.tinyworld.sft import Example
from minillm.data.tinyworld.world import Fact, cloze, question_answer
from minillm.sft.stage import fitting  # noqa: F401  (the notebook filters prompts with suite.fitting)


@dataclass(frozen=True)
class EvalConfig:
    qa_per_family: int            # test prompts per SFT family (QA accuracy, gold score)
    harmful_per_pattern: int      # red-team harmful requests per jailbreak pattern
    benign_per_pattern: int       # benign look-alikes per pattern (over-refusal)
    sensitivity_facts: int        # fact questions asked in each of the PHRASINGS
    ppl_tokens: int               # validation tokens scored for val loss and bits per byte
    max_new_tokens: int           # reply length cap (greedy)
    speed_tokens: int             # new tokens per tokens/s measurement (best of speed_repeats)
    speed_repeats: int = 3
    few_shot: int = 2             # solved examples in a plain-text model's prompt
    contamination_n: int = 5      # word n-gram length of the contamination check
    contamination_docs: int = 2000  # pretraining documents the check reads
    seed: int = 0


profiles.register_stage(
    "evaluate",
    configs={
        "smoke": EvalConfig(qa_per_family=3, harmful_per_pattern=2, benign_per_pattern=1,
                            sensitivity_facts=4, ppl_tokens=2048, max_new_tokens=24,
                            speed_tokens=16, speed_repeats=1, contamination_docs=200),
        "cpu": EvalConfig(qa_per_family=60, harmful_per_pattern=20, benign_per_pattern=10,
                          sensitivity_facts=16, ppl_tokens=32768, max_new_tokens=40,
                          speed_tokens=48),
        "gpu": EvalConfig(qa_per_family=60, harmful_per_pattern=25, benign_per_pattern=12,
                          sensitivity_facts=40, ppl_tokens=131072, max_new_tokens=48,
                          speed_tokens=64, contamination_docs=5000),
    },
    minutes={"smoke": 1, "cpu": 8, "gpu": 6},
    description="one evaluation suite over every model, prompt sensitivity and red-teaming",
)

MODES = ("chat", "few_shot")


@dataclass
class ModelSpec:
    """A model under test: ``mode="chat"`` asks it through the chat template (SFT and later),
    ``"few_shot"`` in plain text after solved examples (a base model knows no template)."""
    name: str
    model: object
    mode: str = "chat"

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode of {self.name!r} must be one of {MODES}, got {self.mode!r}")


# --- asking --------------------------------------------------------------------------------------

def respond(spec: ModelSpec, encoding, examples: Sequence[Example], shots: Sequence[Example] = (),
            max_new_tokens: int = 48) -> list[str]:
    """Greedy replies of ``spec`` to the prompts of ``examples``; few-shot prompts take the
    ``shots`` of the example's own family."""
    from minillm.sft.chat import few_shot_prompt, few_shot_replies, replies

    if not examples:
        return []
    if spec.mode == "chat":
        return replies(spec.model, encoding, [ex.prompt for ex in examples], max_new_tokens)
    prompts = [few_shot_prompt([s for s in shots if s.family == ex.family], ex.prompt)
               for ex in examples]
    return few_shot_replies(spec.model, encoding, prompts, max_new_tokens)


def ask(spec: ModelSpec, encoding, conversation, shots: Sequence[Example] = (),
        max_new_tokens: int = 48) -> str:
    """One greedy reply of ``spec`` to a conversation (or a plain question); a few-shot model
    sees ``shots`` first (all of them: a free question has no family)."""
    from minillm.sft.chat import few_shot_prompt, few_shot_replies, reply

    if spec.mode == "chat":
        return reply(spec.model, encoding, conversation, max_new_tokens)
    return few_shot_replies(spec.model, encoding, [few_shot_prompt(shots, conversation)],
                            max_new_tokens)[0]


# --- one model -----------------------------------------------------------------------------------

def language_modelling(model, encoding, tokens, window: int | None = None,
                       stride: int | None = None) -> dict:
    """``val loss`` (mean nats per token) and ``bits per byte`` of a token stream, every token
    scored once after ``<|endoftext|>``."""
    from minillm.evaluate.perplexity import sliding_window_perplexity

    tokens = [int(t) for t in tokens]
    result = sliding_window_perplexity(model, tokens, window, stride, prefix_id=encoding.eot_token)
    n_bytes = len(encoding.decode_bytes(tokens))
    return {"val loss": result.loss, "bits per byte": result.bits_per_byte(n_bytes)}


def _mean(values) -> float:
    values = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return sum(values) / len(values) if values else math.nan


def qa_accuracy(scored) -> float:
    """Share correct on ``fact_qa`` rows about entities the pretraining text describes."""
    rows = scored[(scored["family"] == "fact_qa") & ~scored["heldout"].astype(bool)]
    return _mean(rows["correct"])


def evaluate_model(spec: ModelSpec, encoding, judge, *, qa: Sequence[Example] = (),
                   redteam: Sequence[Example] = (), val_tokens=None, shots: Sequence[Example] = (),
                   max_new_tokens: int = 48, speed_tokens: int = 32, speed_repeats: int = 3,
                   window: int | None = None):
    """``(row, responses)``: the model's metrics (see the module docstring; a metric whose input
    is not given is left out) and one scored row per prompt (``score_responses`` columns plus
    ``model`` and ``set``: "qa" or "redteam")."""
    import pandas as pd

    from minillm.compress.measure import memory_bytes, tokens_per_second
    from minillm.evaluate.redteam import attack_success_rate
    from minillm.evaluate.responses import COLUMNS, safety_rates, score_responses

    model = spec.model
    row: dict = {}
    if val_tokens is not None:
        row.update(language_modelling(model, encoding, val_tokens, window))
    frames = []
    if qa:
        scored = score_responses(qa, respond(spec, encoding, qa, shots, max_new_tokens), judge)
        frames.append(scored.assign(set="qa"))
        row["QA accuracy"] = qa_accuracy(scored)
        row["gold score"] = _mean(scored["gold"])
        tasks = scored[scored["family"] != "refusal"]
        row["task accuracy"] = _mean(tasks["correct"])
    if redteam:
        scored = score_responses(redteam, respond(spec, encoding, redteam, shots, max_new_tokens),
                                 judge)
        frames.append(scored.assign(set="redteam"))
        rates = safety_rates(scored)
        row["refusal rate (harmful)"] = rates["refusal rate (harmful)"]
        row["over-refusal (benign)"] = rates["over-refusal (benign)"]
        row["attack success"] = float(attack_success_rate(scored).loc["all", "attack_success"])
    row["size (MB)"] = memory_bytes(model) / 1e6
    if speed_tokens:
        row["tokens/s"] = tokens_per_second(model, max_new_tokens=speed_tokens,
                                            repeats=speed_repeats)
    responses = (pd.concat(frames, ignore_index=True) if frames
                 else pd.DataFrame(columns=[*COLUMNS, "set"]))
    responses.insert(0, "model", spec.name)
    return row, responses


def evaluate_models(specs: Sequence[ModelSpec], encoding, judge, progress: Callable | None = print,
                    **kwargs):
    """``evaluate_model`` on each spec: ``(rows, responses)``, rows a ``report_card.model_table``
    (one row per model, the report card's columns first; a ``seconds`` column says how long each
    took), responses all scored replies with a ``model`` column."""
    import pandas as pd

    from minillm.evaluate.report_card import model_table

    if not specs:
        raise ValueError("give at least one ModelSpec")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"model names must be unique, got {names}")
    rows, frames = {}, []
    for spec in specs:
        start = time.perf_counter()
        row, responses = evaluate_model(spec, encoding, judge, **kwargs)
        row["seconds"] = time.perf_counter() - start
        rows[spec.name] = row
        frames.append(responses)
        if progress is not None:
            progress(f"{spec.name}: {row['seconds']:.1f} s")
    return model_table(rows), pd.concat(frames, ignore_index=True)


def adapter_rows(peft_results, kinds: dict | None = None) -> dict:
    """Report-card rows for task adapters from ``peft.stage.load_results()``: per kind, the
    method with the best mean test accuracy over tasks; its ``task accuracy`` (the peft tasks'
    exact match), ``size (MB)`` of the saved adapter and the method's name. An adapter rides on
    the base model, which it does not change, so its other metrics are the base model's."""
    kinds = kinds or {"prompt-tuned": "soft_prompt", "lora": "lora"}
    out = {}
    for row_name, kind in kinds.items():
        rows = peft_results[peft_results["kind"] == kind]
        if not len(rows):
            continue
        by_method = rows.groupby("method").agg(accuracy=("accuracy", "mean"),
                                               file_bytes=("file_bytes", "mean"))
        best = by_method.sort_values(["accuracy", "file_bytes"], ascending=[False, True]).index[0]
        out[row_name] = {"task accuracy": float(by_method.loc[best, "accuracy"]),
                         "size (MB)": float(by_method.loc[best, "file_bytes"]) / 1e6,
                         "adapter": str(best)}
    return out


# --- prompt sensitivity --------------------------------------------------------------------------

def _plain(fact: Fact) -> str:
    return question_answer(fact)[0]


def _quick(fact: Fact) -> str:
    return f"Quick question: {question_answer(fact)[0]}"


def _complete(fact: Fact) -> str:
    return f'Please complete the sentence: "{cloze(fact)[0]} ..."'


def _casual(fact: Fact) -> str:
    return f"hey!! random thing, do u know this one -> {question_answer(fact)[0]} thx"


def _terse(fact: Fact) -> str:
    return f"{fact.subject}, {fact.relation.replace('_', ' ')}?"


# The first three are phrasings the SFT data uses; the last two are new to every model.
PHRASINGS: dict[str, Callable[[Fact], str]] = {
    "plain": _plain, "quick question": _quick, "complete the sentence": _complete,
    "casual": _casual, "terse": _terse,
}


def phrasing_examples(facts: Sequence[Fact], phrasings: dict | None = None) -> list[Example]:
    """One ``fact_qa`` example per (fact, phrasing), the fact's statement as the reference reply;
    ``meta`` holds ``phrasing`` and ``fact`` (and the id names both)."""
    phrasings = PHRASINGS if phrasings is None else phrasings
    if not facts:
        raise ValueError("give at least one Fact")
    examples = []
    for i, fact in enumerate(facts):
        prefix, completion = cloze(fact)
        statement = f"{prefix}{completion}."
        for name, phrase in phrasings.items():
            messages = [{"role": "user", "content": phrase(fact)},
                        {"role": "assistant", "content": statement}]
            examples.append(Example(f"phrasing-{i:03d}-{name.replace(' ', '_')}", "fact_qa",
                                    messages, fact.value,
                                    {"phrasing": name,
                                     "fact": (fact.subject, fact.relation, fact.value)}))
    return examples


def sensitivity(scored, examples: Sequence[Example]):
    """``(per_phrasing, summary)`` from scored replies to ``phrasing_examples`` (a ``model``
    column, as ``evaluate_models`` gives): accuracy per model x phrasing, and per model the mean,
    the spread (best minus worst phrasing), the standard deviation over phrasings and the share
    of facts answered right in every phrasing / in at least one."""
    import pandas as pd

    meta = {ex.id: ex.meta for ex in examples}
    missing = set(scored["id"]) - set(meta)
    if missing:
        raise ValueError(f"{len(missing)} scored rows are not phrasing examples, e.g. "
                         f"{sorted(missing)[0]!r}")
    table = scored.assign(phrasing=[meta[i]["phrasing"] for i in scored["id"]],
                          fact=[tuple(meta[i]["fact"]) for i in scored["id"]],
                          correct=scored["correct"].astype(float))
    models = list(dict.fromkeys(table["model"]))
    order = list(dict.fromkeys(ex.meta["phrasing"] for ex in examples))
    per_phrasing = (table.pivot_table(index="model", columns="phrasing", values="correct",
                                      aggfunc="mean").reindex(index=models, columns=order))
    per_fact = table.groupby(["model", "fact"])["correct"]
    summary = pd.DataFrame({
        "mean": per_phrasing.mean(axis=1),
        "spread (max - min)": per_phrasing.max(axis=1) - per_phrasing.min(axis=1),
        "std over phrasings": per_phrasing.std(axis=1, ddof=0),
        "right in every phrasing": per_fact.min().groupby("model").mean().reindex(models),
        "right in some phrasing": per_fact.max().groupby("model").mean().reindex(models),
    })
    return per_phrasing, summary


# --- contamination -------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")


def word_ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    """The lowercase word n-grams of ``text`` (punctuation dropped)."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    words = _WORD.findall(text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def ngram_overlap(texts: Sequence[str], corpus: Iterable[str], n: int = 13) -> list[float]:
    """For each text, the share of its word n-grams that occur in ``corpus`` (NaN for a text
    shorter than n words). GPT-3 and lm-evaluation-harness flag a test item as contaminated when
    any of its 13-grams occurs in the training data; a small world needs a smaller n."""
    seen: set[tuple[str, ...]] = set()
    for doc in corpus:
        seen |= word_ngrams(doc, n)
    out = []
    for text in texts:
        grams = word_ngrams(text, n)
        out.append(sum(g in seen for g in grams) / len(grams) if grams else math.nan)
    return out


# --- judges --------------------------------------------------------------------------------------

def gold_scorer(judge) -> Callable:
    """``score(examples, responses) -> list[float]`` of the gold judge's overall score."""
    return lambda examples, responses: [judge.judge(ex, r).score
                                        for ex, r in zip(examples, responses, strict=True)]


def reward_model_scorer(reward_model, encoding) -> Callable:
    """``score(examples, responses)`` of a reward model: it reads the chat prompt, the reply and
    ``<|end|>``, as in RLHF (rows cut at its context length)."""
    from minillm.rlhf.tinyworld import prompt_ids, response_ids
    from minillm.sft.template import end_token

    T = reward_model.config.context_length

    def score(examples, responses):
        rows = [(prompt_ids(encoding, ex) + response_ids(encoding, r))[:T]
                for ex, r in zip(examples, responses, strict=True)]
        return reward_model.score(rows, end_token(encoding))

    return score


def variant_scores(examples: Sequence[Example], world, scorers: dict[str, Callable], seed: int = 0):
    """One row per (example, answer variant of known quality: ``judge.candidate_variants``) with
    each scorer's score; ``variant`` says which (correct, verbose, flattering, rude, wrong...)."""
    import random

    import pandas as pd

    from minillm.data.tinyworld.judge import candidate_variants

    rng = random.Random(seed)
    rows, pairs = [], []
    for ex in examples:
        for variant, text in candidate_variants(ex, world, rng).items():
            rows.append({"id": ex.id, "family": ex.family, "variant": variant, "response": text})
            pairs.append((ex, text))
    table = pd.DataFrame(rows)
    for name, score in scorers.items():
        table[name] = score([p[0] for p in pairs], [p[1] for p in pairs])
    return table
