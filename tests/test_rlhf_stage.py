"""The rlhf stage's TinyWorld helpers: judge-labelled pairs, token triples, win rates,
calibration, KL to the reference and policy evaluation (tiny random GPTs, a tiny tokenizer)."""

import copy

import numpy as np
import pytest
import torch

from minillm import profiles
from minillm.data.tinyworld.judge import GoldJudge
from minillm.data.tinyworld.sft import make_sft_examples
from minillm.model import GPT, GPTConfig
from minillm.rlhf.dpo import DPOConfig, train_dpo
from minillm.rlhf.logprobs import make_batch, token_logprobs
from minillm.rlhf.reward import RewardModel
from minillm.rlhf.tinyworld import (
    calibration,
    evaluate_policy,
    per_family,
    preference_table,
    prompt_ids,
    response_ids,
    response_kl,
    response_text,
    to_triples,
    win_tie_loss,
)
from minillm.sft.stage import fitting
from minillm.sft.template import end_token
from minillm.tokenizer import to_tiktoken, train_bpe
from minillm.train import Callback, TrainConfig

TEXT = ["The capital of Velora is Brenno. What is 2 + 3? It is 5. Is it a city or a person?",
        "Write 'Gregesh' in capital letters. Happy to help. I can't help with that."] * 20


@pytest.fixture(scope="module")
def enc():
    return to_tiktoken(train_bpe(TEXT, 320, name="rlhf-test").tokenizer)


@pytest.fixture(scope="module")
def examples(world):
    return make_sft_examples(world, "train", n_per_family=2, seed=3)


def tiny_gpt(vocab_size: int, seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig.modern(vocab_size=vocab_size, n_layer=2, n_head=2, n_embd=32,
                                context_length=256)).eval()


def test_win_tie_loss_counts_strict_wins_and_ties_separately():
    out = win_tie_loss([0.9, 0.5, 0.2, 0.7], [0.8, 0.5, 0.3, 0.7])
    assert out == {"win": 0.25, "tie": 0.5, "loss": 0.25, "n": 4, "win_rate": 0.5}
    with pytest.raises(ValueError, match="equally long"):
        win_tie_loss([0.1], [0.1, 0.2])


def test_calibration_is_symmetric_and_matches_a_hand_count():
    table = calibration([2.0, 0.0, -1.0], [0.0, 0.0, 0.0], bins=2)
    # predicted sigmoid(+-2), 0.5, 0.5, sigmoid(-+1): bin [0, .5) holds the two below 0.5
    assert table.n.sum() == 6
    low, high = table.iloc[0], table.iloc[1]
    assert low.n == 2 and high.n == 4
    assert low.observed == pytest.approx(0.5)            # sigmoid(-2) of a chosen-as-B (0) ...
    assert high.observed == pytest.approx(0.5)           # ... and sigmoid(-1) of a chosen-as-A (1)
    assert low.predicted == pytest.approx((1 / (1 + np.exp(2)) + 1 / (1 + np.exp(1))) / 2)


def test_candidate_pairs_prefer_the_judges_choice_and_become_token_triples(world, enc, examples):
    judge = GoldJudge(world)
    pairs = preference_table(examples, judge, "candidates", seed=0, pairs_per_example=3)
    assert len(pairs) > len(examples)
    assert (pairs.chosen_score > pairs.rejected_score + 0.1).all()
    assert set(pairs.split) == {"train"} and set(pairs.source) == {"candidates"}
    by_id = {ex.id: ex for ex in examples}
    triples, keep = to_triples(enc, pairs, by_id, context_length=10_000)
    assert keep.all() and len(triples) == len(pairs)
    p, c, r = triples[0]
    assert p == prompt_ids(enc, by_id[pairs.example_id[0]])
    assert c[-1] == end_token(enc) and response_text(enc, c) == pairs.chosen[0].strip()
    short, keep = to_triples(enc, pairs, by_id, context_length=len(p) + 3)
    assert len(short) == int(keep.sum()) < len(pairs)


def test_sample_pairs_keep_small_gaps_only_above_the_margin(world, examples):
    judge = GoldJudge(world)
    ex = examples[0]
    samples = {ex.id: [ex.messages[-1]["content"], "Certainly. " + ex.messages[-1]["content"],
                       "no idea"]}
    wide = preference_table([ex], judge, "sft samples", responses=samples, pairs_per_example=3)
    narrow = preference_table([ex], judge, "sft samples", responses=samples, pairs_per_example=3,
                              min_margin=0.0)
    assert len(narrow) >= len(wide)
    assert (narrow.chosen_score > narrow.rejected_score).all()


def test_prompt_helpers_filter_and_pick_per_family(enc, examples):
    assert len(per_family(examples, 1)) == len({ex.family for ex in examples})
    lengths = [len(prompt_ids(enc, ex)) for ex in examples]
    cut = sorted(lengths)[len(lengths) // 2]
    kept = fitting(enc, examples, context_length=cut + 4, room=4)
    assert kept and all(len(prompt_ids(enc, ex)) <= cut for ex in kept)


def test_response_kl_is_zero_for_the_reference_and_equals_a_hand_sum(enc):
    ref = tiny_gpt(enc.n_vocab, 0)
    policy = copy.deepcopy(ref)
    prompts, responses = [[1, 2, 3], [4, 5]], [[6, 7, 8], [9]]
    assert response_kl(policy, ref, prompts, responses, pad_id=0) == pytest.approx([0.0, 0.0],
                                                                                   abs=1e-6)
    with torch.no_grad():
        policy.lm_head.weight.mul_(1.5)
    kl = response_kl(policy, ref, prompts, responses, pad_id=0)
    for i, (p, r) in enumerate(zip(prompts, responses, strict=True)):
        batch = make_batch([p], [r])
        ids = batch["input_ids"]
        with torch.no_grad():
            diff = token_logprobs(policy(ids)[0], ids) - token_logprobs(ref(ids)[0], ids)
        assert kl[i] == pytest.approx(float(diff[0, len(p):].sum()), abs=1e-5)


def test_evaluate_policy_scores_replies_with_the_judge_and_the_reward_model(world, enc, examples):
    judge = GoldJudge(world)
    sft = tiny_gpt(enc.n_vocab, 1)
    rm = RewardModel(tiny_gpt(enc.n_vocab, 2)).eval()
    picked = per_family(examples, 1)[:4]
    table = evaluate_policy(sft, copy.deepcopy(sft), rm, enc, picked, judge, "sft",
                            max_new_tokens=6, seed=0)
    assert list(table.id) == [ex.id for ex in picked]
    assert {"gold", "proxy", "kl", "response", "correctness", "politeness"} <= set(table.columns)
    assert table.kl.abs().max() < 1e-4                    # a copy of the reference: no KL
    expected = [judge.judge(ex, t).score for ex, t in zip(picked, table.response, strict=True)]
    assert list(table.gold) == pytest.approx(expected)
    again = evaluate_policy(sft, copy.deepcopy(sft), rm, enc, picked, judge, "sft",
                            max_new_tokens=6, seed=0, sampled=True)
    again2 = evaluate_policy(sft, copy.deepcopy(sft), rm, enc, picked, judge, "sft",
                             max_new_tokens=6, seed=0, sampled=True)
    assert list(again.response) == list(again2.response)     # seeded sampling
    ids = prompt_ids(enc, picked[0]) + response_ids(enc, table.response[0])
    assert table.proxy[0] == pytest.approx(rm.score([ids], end_token(enc))[0], abs=1e-5)


class Counter(Callback):
    def __init__(self):
        self.rows = []

    def on_step(self, trainer, row):
        self.rows.append(dict(row))


def test_train_dpo_hands_rows_with_dpo_metrics_to_extra_callbacks():
    policy, ref = tiny_gpt(40, 0), tiny_gpt(40, 0)
    triples = [([1, 2], [3, 4], [5]), ([6], [7], [8, 9])] * 4
    counter = Counter()
    train_dpo(policy, ref, triples, DPOConfig(batch_size=4),
              TrainConfig(max_steps=3, lr=1e-3, min_lr=1e-4, warmup_steps=1, eval_every=0),
              callbacks=[counter], progress=False)
    assert [r["step"] for r in counter.rows] == [1, 2, 3]
    assert all("rewards/accuracy" in r for r in counter.rows)


def test_every_profile_has_an_rlhf_config_that_fits_the_context():
    for profile in profiles.PROFILES:
        config = profiles.stage_config("rlhf", profile)
        assert config.max_new_tokens < 128 and config.ppo_minibatch_size <= config.ppo_batch_size


def test_load_policy_names_the_two_policies():
    from minillm.rlhf.stage import load_policy

    with pytest.raises(ValueError, match="ppo_policy"):
        load_policy("reward_model")
