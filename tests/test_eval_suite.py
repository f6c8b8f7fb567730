"""The evaluation suite: one row per model, prompt sensitivity, n-gram overlap, judge probes."""

import math

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from minillm import profiles
from minillm.data.tinyworld.judge import GoldJudge, candidate_variants
from minillm.data.tinyworld.sft import make_sft_examples
from minillm.data.tinyworld.world import Fact
from minillm.evaluate import make_redteam_set, report_card, suite
from minillm.evaluate.suite import ModelSpec
from minillm.model import GPT, GPTConfig
from minillm.sft import add_chat_tokens
from minillm.tokenizer import Tokenizer, to_tiktoken

COMPLIANCE = "Sure! Here is how to do it: first, gather what you need, then follow the steps."


@pytest.fixture(scope="module")
def encoding():
    """Bytes as tokens (<|endoftext|> = 256) plus the chat template's special tokens."""
    ranks = {bytes([b]): b for b in range(256)}
    return add_chat_tokens(to_tiktoken(Tokenizer(ranks, special_tokens={"<|endoftext|>": 256})))


def tiny_gpt(vocab_size: int, context_length: int = 512, seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig.modern(vocab_size=vocab_size, n_layer=1, n_head=2, n_embd=16,
                                context_length=context_length)).eval()


@pytest.fixture(scope="module")
def judge(world):
    return GoldJudge(world)


@pytest.fixture(scope="module")
def qa(world):
    return [ex for ex in make_sft_examples(world, "test", n_per_family=3, seed=0)
            if ex.family in ("fact_qa", "arithmetic", "refusal")]


@pytest.fixture(scope="module")
def redteam(world):
    return make_redteam_set(world, 0, n_harmful_per_pattern=2, n_benign_per_pattern=1,
                            patterns=("direct", "roleplay"))


def reference(ex):
    return ex.messages[-1]["content"]


def test_stage_registered_for_every_profile():
    for profile in profiles.PROFILES:
        config = profiles.stage_config("evaluate", profile)
        assert isinstance(config, suite.EvalConfig) and config.qa_per_family > 0
    assert profiles.get_stage("evaluate").minutes["smoke"] <= 1.5


def test_language_modelling_matches_hand_computation(encoding):
    model = tiny_gpt(encoding.n_vocab)
    text = "The capital of Velora is Brenno. Brenno is cold."
    tokens = encoding.encode_ordinary(text)
    out = suite.language_modelling(model, encoding, tokens)
    ids = torch.tensor([encoding.eot_token, *tokens])[None]
    with torch.no_grad():
        logits = model(ids)[0][0]
    nll = float(F.cross_entropy(logits[:-1].double(), ids[0, 1:], reduction="sum"))
    assert out["val loss"] == pytest.approx(nll / len(tokens), rel=1e-5)
    assert out["bits per byte"] == pytest.approx(nll / (math.log(2) * len(text.encode())), rel=1e-5)


def test_scores_of_scripted_replies_match_the_judge(monkeypatch, encoding, judge, qa, redteam):
    """Reference replies to the test prompts, compliance to every red-team prompt: every rate
    is what the judge says row by row."""
    def scripted(spec, encoding, examples, shots=(), max_new_tokens=48):
        return [COMPLIANCE if ex.meta.get("pattern") else reference(ex) for ex in examples]

    monkeypatch.setattr(suite, "respond", scripted)
    model = tiny_gpt(encoding.n_vocab)
    row, responses = suite.evaluate_model(ModelSpec("sft", model), encoding, judge, qa=qa,
                                          redteam=redteam, speed_tokens=4, speed_repeats=1)
    seen_qa = [ex for ex in qa if ex.family == "fact_qa" and not ex.meta.get("heldout")]
    assert seen_qa and row["QA accuracy"] == 1.0
    gold = [judge.judge(ex, reference(ex)).score for ex in qa]
    assert row["gold score"] == pytest.approx(sum(gold) / len(gold))
    assert row["refusal rate (harmful)"] == 0.0 and row["attack success"] == 1.0
    assert row["over-refusal (benign)"] == 0.0          # compliance is no refusal
    params = sum(p.numel() for p in model.parameters())  # tied embedding counted once
    assert row["size (MB)"] == pytest.approx(4 * params / 1e6)
    assert row["tokens/s"] > 0
    assert len(responses) == len(qa) + len(redteam)
    assert set(responses["model"]) == {"sft"} and set(responses["set"]) == {"qa", "redteam"}


def test_refusing_everything_is_safe_and_over_refuses(monkeypatch, encoding, judge, redteam):
    monkeypatch.setattr(suite, "respond", lambda spec, enc, examples, shots=(), max_new_tokens=48:
                        ["I'm sorry, but I can't help with that request."] * len(examples))
    row, _ = suite.evaluate_model(ModelSpec("dpo", tiny_gpt(encoding.n_vocab)), encoding, judge,
                                  redteam=redteam, speed_tokens=0)
    assert row["refusal rate (harmful)"] == 1.0 and row["over-refusal (benign)"] == 1.0
    assert row["attack success"] == 0.0
    assert "QA accuracy" not in row and "tokens/s" not in row and "val loss" not in row


def test_evaluate_models_runs_real_models_in_both_modes(encoding, judge, world, qa, redteam):
    """Real (random) tiny models, chat and few-shot: one row each in report-card order."""
    shots = [ex for ex in make_sft_examples(world, "train", n_per_family=1, seed=0)
             if ex.family in ("fact_qa", "arithmetic", "refusal")]
    specs = [ModelSpec("sft", tiny_gpt(encoding.n_vocab, seed=1)),
             ModelSpec("base", tiny_gpt(encoding.n_vocab, 1024, seed=2), "few_shot")]
    fitting_qa = suite.fitting(encoding, qa, 512)
    assert fitting_qa
    rows, responses = suite.evaluate_models(
        specs, encoding, judge, qa=fitting_qa, redteam=suite.fitting(encoding, redteam, 512),
        val_tokens=encoding.encode_ordinary("Brenno is the capital of Velora. " * 4), shots=shots,
        max_new_tokens=4, speed_tokens=2, speed_repeats=1, progress=None)
    assert list(rows.index) == ["base", "sft"]                   # report_card.MODEL_ORDER
    assert list(rows.columns[: len(report_card.MODEL_METRICS)]) == list(report_card.MODEL_METRICS)
    assert rows["seconds"].astype(float).gt(0).all()
    assert responses.groupby("model").size().nunique() == 1
    assert all(isinstance(r, str) for r in responses["response"])
    assert suite.ask(specs[1], encoding, "What is 2 + 2?", shots, max_new_tokens=3) is not None
    with pytest.raises(ValueError, match="unique"):
        suite.evaluate_models([specs[0], specs[0]], encoding, judge, qa=fitting_qa)
    with pytest.raises(ValueError, match="mode"):
        ModelSpec("x", specs[0].model, "zero_shot")


def test_phrasing_examples_ask_one_fact_five_ways(judge):
    facts = [Fact("Velora", "capital", "Brenno"), Fact("Brenno", "climate", "cold")]
    examples = suite.phrasing_examples(facts)
    assert len(examples) == 2 * len(suite.PHRASINGS)
    assert len({ex.id for ex in examples}) == len(examples)
    first = [ex for ex in examples if ex.meta["fact"] == ("Velora", "capital", "Brenno")]
    assert [ex.meta["phrasing"] for ex in first] == list(suite.PHRASINGS)
    assert len({ex.prompt[0]["content"] for ex in first}) == len(suite.PHRASINGS)
    assert first[0].prompt[0]["content"] == "What is the capital of Velora?"
    assert all(ex.answer == "Brenno" and "Brenno" in reference(ex) for ex in first)
    with pytest.raises(ValueError):
        suite.phrasing_examples([])


def test_sensitivity_by_hand():
    facts = [Fact("Velora", "capital", "Brenno"), Fact("Brenno", "climate", "cold")]
    phrasings = {"a": suite.PHRASINGS["plain"], "b": suite.PHRASINGS["terse"]}
    examples = suite.phrasing_examples(facts, phrasings)      # ids: fact 0 a, 0 b, 1 a, 1 b
    correct = {"m1": [True, True, True, False], "m2": [False, False, False, False]}
    scored = pd.DataFrame([{"model": m, "id": ex.id, "correct": c}
                           for m, cs in correct.items() for ex, c in zip(examples, cs, strict=True)])
    per_phrasing, summary = suite.sensitivity(scored, examples)
    assert per_phrasing.loc["m1", "a"] == 1.0 and per_phrasing.loc["m1", "b"] == 0.5
    assert summary.loc["m1", "mean"] == 0.75
    assert summary.loc["m1", "spread (max - min)"] == 0.5
    assert summary.loc["m1", "std over phrasings"] == pytest.approx(0.25)
    assert summary.loc["m1", "right in every phrasing"] == 0.5   # fact 0 only
    assert summary.loc["m1", "right in some phrasing"] == 1.0
    assert summary.loc["m2"].drop("std over phrasings").eq(0).all()
    with pytest.raises(ValueError, match="not phrasing examples"):
        suite.sensitivity(scored.assign(id="other"), examples)


def test_ngram_overlap_by_hand():
    corpus = ["The capital of Velora is Brenno.", "Brenno is cold in winter."]
    texts = ["the capital of Velora is cold", "Brenno is cold", "short", "nothing in common here"]
    got = suite.ngram_overlap(texts, corpus, n=3)
    # 3-grams of the first: (the capital of) (capital of velora) (of velora is) (velora is cold)
    assert got[0] == pytest.approx(3 / 4)
    assert got[1] == 1.0
    assert math.isnan(got[2])
    assert got[3] == 0.0
    assert suite.word_ngrams("A, b! c", 2) == {("a", "b"), ("b", "c")}
    with pytest.raises(ValueError):
        suite.word_ngrams("a b", 0)


def test_variant_scores_rank_known_answers(world, judge, qa):
    probe = [ex for ex in qa if ex.family != "refusal"]
    table = suite.variant_scores(probe, world, {"gold": suite.gold_scorer(judge),
                                                "length": lambda exs, rs: [len(r) for r in rs]})
    import random

    rng = random.Random(0)
    assert len(table) == sum(len(candidate_variants(ex, world, rng)) for ex in probe)
    means = table.groupby("variant")["gold"].mean()
    assert means["correct"] > means["wrong"] and means["correct"] > means["hedging"]
    assert (table["length"] == table["response"].str.len()).all()


def test_reward_model_scorer_reads_prompt_and_reply(encoding, qa):
    class Recorder:
        config = GPTConfig.modern(vocab_size=encoding.n_vocab, context_length=64)

        def score(self, rows, pad_id):
            self.rows, self.pad = rows, pad_id
            return [float(len(r)) for r in rows]

    rm = Recorder()
    scores = suite.reward_model_scorer(rm, encoding)(qa[:2], ["Brenno.", "Hi"])
    assert all(len(r) <= 64 for r in rm.rows) and scores == [float(len(r)) for r in rm.rows]
    assert rm.pad == encoding.encode_single_token("<|end|>")


def test_adapter_rows_pick_the_best_method():
    results = pd.DataFrame([
        {"task": "kind", "method": "soft_5", "kind": "soft_prompt", "accuracy": 0.6, "file_bytes": 2000},
        {"task": "mood", "method": "soft_5", "kind": "soft_prompt", "accuracy": 0.8, "file_bytes": 2000},
        {"task": "kind", "method": "soft_1", "kind": "soft_prompt", "accuracy": 0.9, "file_bytes": 800},
        {"task": "mood", "method": "soft_1", "kind": "soft_prompt", "accuracy": 0.3, "file_bytes": 800},
        {"task": "kind", "method": "lora_r1", "kind": "lora", "accuracy": 0.5, "file_bytes": 3000},
        {"task": "kind", "method": "full", "kind": "full", "accuracy": 1.0, "file_bytes": 9e6},
    ])
    rows = suite.adapter_rows(results)
    assert rows["prompt-tuned"] == {"task accuracy": pytest.approx(0.7), "size (MB)": 0.002,
                                    "adapter": "soft_5"}
    assert rows["lora"]["adapter"] == "lora_r1" and set(rows) == {"prompt-tuned", "lora"}
    table = report_card.model_table(rows)
    assert table.loc["lora", "size (MB)"] == 0.003
