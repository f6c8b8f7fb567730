"""The pretrain stage's cloze quiz: fixed options, and a model that read the facts passes it."""

import numpy as np
import pytest

from minillm.data.tinyworld.world import cloze, make_world
from minillm.device import seed_everything
from minillm.model import GPT, GPTConfig
from minillm.pretrain import (
    ClozeCurve,
    cloze_accuracy,
    cloze_options,
    model_config,
    profiles,
    sample_facts,
)
from minillm.tokenizer import to_tiktoken, train_bpe
from minillm.train import TokenLoader, TrainConfig, Trainer, fixed_batches

WORLD = make_world(0)


def test_cloze_options_are_fixed_and_of_the_same_relation():
    fact = WORLD.split_facts("train")[0]
    options = cloze_options(fact, WORLD)
    assert options == cloze_options(fact, WORLD) and len(set(options)) == 4 and fact.value in options
    same_relation = {f.value for f in WORLD.facts() if f.relation == fact.relation}
    assert set(options) <= same_relation
    legs = next(f for f in WORLD.facts() if f.relation == "legs")
    assert len(cloze_options(legs, WORLD, n_choices=10)) == len({f.value for f in WORLD.facts()
                                                                 if f.relation == "legs"})
    assert sample_facts(WORLD.facts(), 5, seed=1) == sample_facts(WORLD.facts(), 5, seed=1)


def test_a_model_that_read_the_facts_beats_chance_and_a_fresh_one_does_not():
    facts = [f for f in WORLD.split_facts("train") if f.relation in ("capital", "climate", "export")][:12]
    text = [" ".join(p + a + "." for p, a in map(cloze, facts))] * 20
    encoding = to_tiktoken(train_bpe(text, 300, stop_early=True).tokenizer)
    ids = np.array(sum(([encoding.eot_token] + encoding.encode_ordinary(t) for t in text), []), dtype=np.uint16)
    seed_everything(0)
    model = GPT(GPTConfig.modern(vocab_size=encoding.n_vocab, context_length=64, n_layer=2, n_head=2, n_embd=64))
    fresh = cloze_accuracy(model, encoding, WORLD, facts)
    assert fresh["chance"] == pytest.approx(0.25) and fresh["n"] == 12
    assert all(r["predicted"] in cloze_options(f, WORLD) for r, f in zip(fresh["rows"], facts, strict=True))
    curve = ClozeCurve(encoding, WORLD, n_facts=10)
    Trainer(model, TrainConfig(max_steps=150, lr=1e-2, min_lr=1e-3, warmup_steps=10, eval_every=75),
            TokenLoader(ids, 8, 64, seed=0, rank=0, world_size=1), val_batches=fixed_batches(ids, 8, 64, 1),
            callbacks=[curve], device="cpu", progress=False).fit()
    trained = cloze_accuracy(model, encoding, WORLD, facts)
    assert trained["accuracy"] >= 0.9 > fresh["accuracy"]
    # the curve scored its own fixed facts at each evaluation, with the model as it was then
    assert [(r["step"], r["tokens_seen"]) for r in curve.rows] == [(75, 75 * 8 * 64), (150, 150 * 8 * 64)]
    assert len(curve.facts["train"]) == len(curve.facts["heldout"]) == 10
    assert curve.rows[-1]["cloze_train"] == cloze_accuracy(model, encoding, WORLD, curve.facts["train"])["accuracy"]
    assert curve.rows[-1]["cloze_heldout"] == cloze_accuracy(model, encoding, WORLD, curve.facts["heldout"])["accuracy"]


def test_stage_configs_build_models():
    for profile in profiles.PROFILES:
        config = profiles.stage_config("pretrain", profile)
        model_cfg = model_config(config, vocab_size=512)
        assert model_cfg.context_length == config.context_length and model_cfg.vocab_size == 512


def test_fact_mentions_counts_documents_naming_subject_and_value():
    from minillm.data.tinyworld.world import Fact
    from minillm.pretrain import fact_mentions

    job = Fact("Bonal", "job", "librarian")
    soup = Fact("Trimvi", "food", "tomato stew")
    docs = [
        "Bonal works as a librarian. Bonal is a librarian.",   # twice in one document: counts once
        "LIBRARIAN of the year: bonal!",                      # any case, punctuation between
        "Bonalia hired a librarian.",                          # 'Bonal' only inside a longer name
        "Bonal met a librarians' club.",                       # 'librarian' only inside a longer word
        "Trimvi is famous for its tomato\nstew.",              # a two-word value across a line break
        "Trimvi grows tomatoes; stew is rare.",                # the value's words, not the phrase
        "Nothing here.",
    ]
    assert fact_mentions([job, soup], docs) == [2, 1]
    assert fact_mentions([job], []) == [0]
    with pytest.raises(ValueError, match="no words"):
        fact_mentions([Fact("Bonal", "job", "...")], docs)


def test_rare_fact_reads_repeat_documents_that_state_rare_facts():
    from minillm.data.tinyworld.world import Fact
    from minillm.pretrain import fact_documents, rare_fact_reads

    common = Fact("Lorlan", "export", "amber")     # named by 3 documents
    rare = Fact("Bonal", "job", "librarian")       # named by 1
    rare2 = Fact("Bonal", "pet", "Brommesh")        # named by 1 (the same document)
    docs = ["Lorlan exports amber.", "Amber from Lorlan.", "Lorlan: amber.",
            "Bonal, a librarian, has a pet Brommesh; Lorlan sells amber.", "Fluff."]
    facts = [common, rare, rare2]
    assert fact_documents(facts, docs) == [[0, 1, 2, 3], [3], [3]]
    # document 3 names two facts named by at most 1 document: 1 + 2 reads
    assert rare_fact_reads(facts, docs, rare_at_most=1, max_reads=4) == [1, 1, 1, 3, 1]
    assert rare_fact_reads(facts, docs, rare_at_most=1, max_reads=2) == [1, 1, 1, 2, 1]
    # raise the bar to 4 and the common fact counts as rare too
    assert rare_fact_reads(facts, docs, rare_at_most=4, max_reads=9) == [2, 2, 2, 4, 1]
    assert rare_fact_reads(facts, docs, rare_at_most=0, max_reads=4) == [1] * 5
    with pytest.raises(ValueError, match="max_reads"):
        rare_fact_reads(facts, docs, rare_at_most=1, max_reads=0)


def test_repeat_documents_keeps_every_copy_whole_in_a_seeded_order():
    from minillm.pretrain import repeat_documents
    from minillm.tokenizer.shards import split_documents

    eot = 9
    tokens = np.array([1, 2, eot, 3, eot, 4, 5, 6, eot], dtype=np.uint16)
    reads = [2, 0, 3]
    mixed = repeat_documents(tokens, eot, reads, seed=0)
    assert mixed.dtype == np.uint16 and mixed[-1] == eot
    docs = [tuple(d.tolist()) for d in split_documents(mixed, eot)]
    assert sorted(docs) == sorted([(1, 2)] * 2 + [(4, 5, 6)] * 3)
    assert len(mixed) == 2 * 3 + 3 * 4
    assert np.array_equal(mixed, repeat_documents(tokens, eot, reads, seed=0))
    orders = {tuple(repeat_documents(tokens, eot, [3, 3, 3], seed=s).tolist()) for s in range(8)}
    assert len(orders) > 1                                    # the seed shuffles the copies
    assert np.array_equal(repeat_documents(tokens, eot, [1, 1, 1]).size, tokens.size)
    with pytest.raises(ValueError, match="3 documents"):
        repeat_documents(tokens, eot, [1, 1])
