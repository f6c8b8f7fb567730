"""RLHF with tiny random GPTs: log-prob alignment, reward model, DPO, PPO, GRPO, labelling."""

import copy

import pytest
import torch

from minillm.model import GPT, GPTConfig
from minillm.rlhf.dpo import DPOConfig, DPOLoss, preference_eval_batches, train_dpo
from minillm.rlhf.grpo import GRPOConfig, GRPOTrainer, verifiable_reward
from minillm.rlhf.labeling import Comparison, PreferenceLabeler, gold_judge_fn, label_headless
from minillm.rlhf.logprobs import (
    PreferenceBatches,
    cycle_batches,
    make_batch,
    reference_sequence_logps,
    sequence_logprobs,
)
from minillm.rlhf.ppo import PolicyWithValueHead, PPOConfig, PPOTrainer, sample_responses
from minillm.rlhf.reward import RewardModel, RewardModelLoss, evaluate_reward_model
from minillm.train import TrainConfig, Trainer

VOCAB = 32
TARGET = 5          # the token the toy rewards ask for


def tiny_gpt(seed: int = 0, preset: str = "modern") -> GPT:
    torch.manual_seed(seed)
    make = GPTConfig.modern if preset == "modern" else GPTConfig.gpt2
    return GPT(make(vocab_size=VOCAB, n_layer=2, n_head=2, n_embd=32, context_length=64))


def snapshot(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_bitwise_equal(model, before: dict) -> None:
    after = model.state_dict()
    assert before.keys() == after.keys()
    for k in before:
        assert torch.equal(before[k], after[k]), f"{k} changed"


def toy_triples(n: int, seed: int):
    """Chosen responses end in token 7, rejected ones in token 8; prompts and stems vary."""
    gen = torch.Generator().manual_seed(seed)
    triples = []
    for _ in range(n):
        prompt = torch.randint(10, VOCAB, (int(torch.randint(2, 6, (1,), generator=gen)),),
                               generator=gen).tolist()
        stem = torch.randint(10, VOCAB, (int(torch.randint(0, 4, (1,), generator=gen)),),
                             generator=gen).tolist()
        triples.append((prompt, stem + [7], stem + [8, 8][: 1 + len(stem) % 2]))
    return triples


PROMPTS = [[1 + i % 7, 2 + i % 5, 3] for i in range(16)]


# --- log-probs ---------------------------------------------------------------------------------

@pytest.mark.parametrize("preset", ["modern", "gpt2"])
def test_sequence_logprobs_match_a_token_by_token_loop_and_ignore_padding(preset):
    model = tiny_gpt(1, preset).eval()
    prompts, responses = [[3, 4, 5], [6], [7, 8]], [[9, 10], [11, 12, 13, 14], [15]]
    batch = make_batch(prompts, responses, pad_id=0)
    with torch.no_grad():
        logps = sequence_logprobs(model, batch)
        for b, (p, r) in enumerate(zip(prompts, responses, strict=True)):
            ids = p + r
            for t in range(len(ids)):
                if t < len(p):
                    assert logps[b, t].item() == 0.0
                    continue
                logits, _ = model(torch.tensor([ids[:t]]))
                expected = logits[0, -1].log_softmax(-1)[ids[t]].item()
                assert logps[b, t].item() == pytest.approx(expected, abs=1e-5)
            assert float(logps[b, len(ids):].abs().sum()) == 0      # padding contributes nothing
        # more right padding (a longer row joins) and another pad id leave the values unchanged
        wider = make_batch(prompts + [[1] * 10], responses + [[2] * 10], pad_id=17)
        wider_logps = sequence_logprobs(model, wider)
    torch.testing.assert_close(wider_logps[:3, :logps.shape[1]], logps, atol=1e-5, rtol=1e-5)
    assert float(wider_logps[:3, logps.shape[1]:].abs().sum()) == 0


# --- reward model ---------------------------------------------------------------------------------

def test_reward_is_read_at_the_last_real_token():
    rm = RewardModel(tiny_gpt(2)).eval()
    seqs = [[3, 4, 5, 6], [7, 8], [9, 10, 11, 12, 13, 14, 15]]
    with torch.no_grad():
        alone = [rm(torch.tensor([s])).item() for s in seqs]
        manual = [rm.head(rm.backbone.hidden_states(torch.tensor([s]))[0, -1]).item() for s in seqs]
        padded = make_batch(seqs, [[] for _ in seqs], pad_id=0)
        batched = rm(padded["input_ids"], padded["attention_mask"]).tolist()
        more_padding = make_batch(seqs + [[1] * 20], [[]] * 4, pad_id=23)
        batched_wide = rm(more_padding["input_ids"], more_padding["attention_mask"]).tolist()[:3]
        reading_pads = rm(padded["input_ids"]).tolist()     # no mask: reads the last column, a pad
    assert alone == pytest.approx(manual, abs=1e-5)
    assert batched == pytest.approx(alone, abs=1e-5)
    assert batched_wide == pytest.approx(alone, abs=1e-5)
    assert rm.score(seqs, pad_id=0, batch_size=2) == pytest.approx(alone, abs=1e-5)
    assert reading_pads[1] != pytest.approx(alone[1], abs=1e-5)
    reward_fn = rm.as_reward_fn()
    assert reward_fn([[3, 4], [7]], [[5, 6], [8]]) == pytest.approx(alone[:2], abs=1e-5)


def test_reward_model_trains_with_the_shared_trainer():
    triples = toy_triples(48, seed=0)
    held_out = toy_triples(16, seed=1)
    rm = RewardModel(tiny_gpt(3))
    before = evaluate_reward_model(rm, held_out)
    loss_fn = RewardModelLoss()
    config = TrainConfig(max_steps=15, lr=3e-3, min_lr=3e-4, warmup_steps=5, weight_decay=0.0,
                         eval_every=0)
    history = Trainer(rm, config, PreferenceBatches(triples, 8, seed=0), loss_fn=loss_fn,
                      callbacks=[loss_fn], device="cpu", progress=False).fit()
    after = evaluate_reward_model(rm, held_out)
    assert {"loss", "accuracy", "margin"} <= set(history.columns)
    assert history["loss"].tail(5).mean() < history["loss"].head(5).mean()
    assert after["loss"] < before["loss"] and after["accuracy"] >= 0.9 and after["margin"] > 0


# --- DPO ------------------------------------------------------------------------------------------

def test_dpo_reference_logps_precomputed_equal_computed_on_the_fly():
    policy, ref = tiny_gpt(4), tiny_gpt(5)
    triples = toy_triples(6, seed=2)
    precomputed = next(PreferenceBatches(triples, 6, shuffle=False, reference_model=ref))
    live = {k: v for k, v in precomputed.items() if k != "ref_logps"}
    loss = DPOLoss(ref, beta=0.5)
    policy.eval()
    torch.testing.assert_close(loss(policy, precomputed), loss(policy, live), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="reference"):
        DPOLoss(None)(policy, live)


def test_reference_logps_are_computed_once_per_pair_and_only_for_pairs_drawn():
    ref = tiny_gpt(5)
    triples = toy_triples(10, seed=3)
    calls = []
    hook = ref.register_forward_hook(lambda module, args, out: calls.append(args[0].shape[0]))
    batches = PreferenceBatches(triples, 4, seed=0, reference_model=ref)
    order = cycle_batches(range(10), 4, 0, True)                 # the same draws, for checking
    assert calls == []                                           # nothing scored up front
    first, first_idx = next(batches), next(order)
    assert sum(calls) == 8                                       # 4 pairs: chosen + rejected rows
    assert (~torch.isnan(batches.ref_logps[:, 0])).sum() == 4
    for _ in range(5):                                           # 2 more batches finish the epoch,
        next(batches)                                            # then pairs come back
    hook.remove()
    assert sum(calls) == 20                                      # every pair scored exactly once
    exact = reference_sequence_logps(ref, triples)
    torch.testing.assert_close(batches.ref_logps, exact, atol=1e-5, rtol=1e-5)
    expected = torch.cat([exact[list(first_idx), 0], exact[list(first_idx), 1]])
    torch.testing.assert_close(first["ref_logps"], expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("loss_type", ["sigmoid", "ipo"])
def test_dpo_steps_raise_the_margin_and_keep_the_reference_frozen(loss_type):
    policy = tiny_gpt(6)
    ref = copy.deepcopy(policy)
    frozen = snapshot(ref)
    triples = toy_triples(32, seed=3)
    val = preference_eval_batches(toy_triples(8, seed=4), 8, 0, ref)
    probe = DPOLoss(ref, beta=0.1, loss_type=loss_type)
    policy.eval()
    _, metrics = probe.compute(policy, val[0])
    assert metrics["rewards/margins"] == pytest.approx(0.0, abs=1e-6)     # policy == reference
    config = DPOConfig(beta=0.1, loss_type=loss_type, batch_size=8)
    train_config = TrainConfig(max_steps=12, lr=3e-3, min_lr=3e-4, warmup_steps=2,
                               weight_decay=0.0, eval_every=0)
    history = train_dpo(policy, ref, triples, config, train_config, progress=False,
                        val_triples=toy_triples(8, seed=4))
    assert_bitwise_equal(ref, frozen)
    assert not any(p.requires_grad for p in ref.parameters())
    logged = {"rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracy",
              "val_loss"}
    assert logged <= set(history.columns)
    assert history["rewards/margins"].tail(3).mean() > history["rewards/margins"].head(3).mean()
    policy.eval()
    val_loss, metrics = probe.compute(policy, val[0])
    assert history["val_loss"].iloc[-1] == pytest.approx(val_loss.item(), rel=1e-5)  # same pairs
    assert metrics["rewards/margins"] > 0.05 and metrics["rewards/accuracy"] == 1.0


def test_train_dpo_refuses_a_reference_that_shares_weights():
    policy = tiny_gpt(7)
    with pytest.raises(ValueError, match="deepcopy"):
        train_dpo(policy, policy, toy_triples(8, seed=0), progress=False)


# --- PPO ------------------------------------------------------------------------------------------

def target_share(prompts, responses):
    """+1 per emitted TARGET token, as a share of the response."""
    return [sum(t == TARGET for t in r) / len(r) for r in responses]


def test_ppo_raises_a_toy_reward_and_keeps_the_reference_frozen():
    policy = tiny_gpt(0)
    ref = copy.deepcopy(policy)
    frozen = snapshot(ref)
    start = snapshot(policy)
    config = PPOConfig(max_new_tokens=8, lr=3e-3, minibatch_size=8, ppo_epochs=4, kl_coef=0.01,
                       seed=0)
    trainer = PPOTrainer(policy, ref, target_share, config)
    history = trainer.train(cycle_batches(PROMPTS, 16), n_steps=10)
    assert_bitwise_equal(ref, frozen)
    assert any(not torch.equal(start[k], v) for k, v in policy.state_dict().items())
    for column in ("reward", "kl", "entropy", "clip_frac", "value_loss", "approx_kl",
                   "policy_loss"):
        assert column in history.columns and history[column].notna().all()
    assert history["reward"].tail(3).mean() > history["reward"].head(3).mean() + 0.15
    assert history["kl"].iloc[-1] > 0                      # moving towards the reward costs KL
    assert len(trainer.last_rollout["responses"]) == 16


def test_value_head_reads_the_state_before_each_token_and_rollout_logps_match_the_update():
    policy = tiny_gpt(5).eval()
    with_value = PolicyWithValueHead(policy)
    torch.nn.init.normal_(with_value.value_head.weight)
    ids = torch.tensor([[3, 4, 5, 6, 7]])
    with torch.no_grad():
        logits, values = with_value(ids)
        hidden = policy.hidden_states(ids)
        torch.testing.assert_close(logits, policy(ids)[0])
        expected = with_value.value_head(hidden).squeeze(-1)
    assert values[0, 0].item() == 0.0
    torch.testing.assert_close(values[0, 1:], expected[0, :-1])
    # one epoch, one minibatch: the update sees exactly the sampler's log-probs (ratio 1)
    config = PPOConfig(max_new_tokens=5, ppo_epochs=1, minibatch_size=8, seed=0)
    stats = PPOTrainer(policy, copy.deepcopy(policy), target_share, config).step(PROMPTS[:8])
    assert stats["clip_frac"] == 0 and stats["approx_kl"] == pytest.approx(0.0, abs=1e-6)
    assert stats["kl"] == pytest.approx(0.0, abs=1e-6)       # not updated yet: policy == reference


def test_ppo_is_deterministic_and_adapts_the_kl_coefficient():
    def run():
        policy = tiny_gpt(1)
        config = PPOConfig(max_new_tokens=4, lr=1e-3, minibatch_size=4, ppo_epochs=2, kl_coef=0.2,
                           kl_target=1e-3, kl_horizon=10, kl_estimator="k3", seed=3)
        trainer = PPOTrainer(policy, copy.deepcopy(policy), target_share, config)
        return trainer.train(cycle_batches(PROMPTS[:8], 8, seed=1), n_steps=3)

    first, second = run(), run()
    assert first.equals(second)
    coefs, kls = first["kl_coef"].tolist(), first["kl"].tolist()
    assert coefs[0] == 0.2 and kls[0] == pytest.approx(0.0, abs=1e-6)   # step 1: policy == ref
    for i in (1, 2):               # 8 samples per step: coef *= 1 + clip(kl/target - 1) * 8/10
        error = min(max(kls[i - 1] / 1e-3 - 1, -0.2), 0.2)
        assert coefs[i] == pytest.approx(coefs[i - 1] * (1 + error * 8 / 10))
    assert coefs[1] < coefs[0] and kls[1] > 1e-3 and coefs[2] > coefs[1]


def test_ppo_with_a_reward_model_and_an_eos_token():
    policy = tiny_gpt(2)
    rm = RewardModel(tiny_gpt(3))
    eos = 4
    config = PPOConfig(max_new_tokens=6, eos_id=eos, minibatch_size=8, ppo_epochs=1, seed=0)
    trainer = PPOTrainer(policy, copy.deepcopy(policy), rm.as_reward_fn(), config)
    stats = trainer.step(PROMPTS[:8])
    assert stats["step"] == 1 and stats["response_length"] <= 6
    responses = sample_responses(policy, PROMPTS, 6, eos_id=eos, pad_id=0, seed=0)
    for r in responses:
        assert eos not in r[:-1]                                # nothing after a stop
        assert len(r) == 6 or r[-1] == eos              # a short response kept its stop token


def test_ppo_rejects_bad_setups():
    policy = tiny_gpt(4)
    with pytest.raises(ValueError, match="deepcopy"):
        PPOTrainer(policy, policy, target_share)
    trainer = PPOTrainer(policy, copy.deepcopy(policy), lambda p, r: [1.0],
                         PPOConfig(max_new_tokens=2))
    with pytest.raises(ValueError, match="one finite float"):
        trainer.step(PROMPTS[:4])
    with pytest.raises(ValueError, match="context_length"):
        trainer.step([[1] * 63])
    with pytest.raises(ValueError, match="kl_estimator"):
        PPOConfig(kl_estimator="k7")
    with pytest.raises(ValueError, match="ran out"):
        trainer.train(iter([]), n_steps=1)


# --- GRPO -----------------------------------------------------------------------------------------

def test_grpo_raises_a_verifiable_reward_and_keeps_the_reference_frozen():
    policy = tiny_gpt(0)
    ref = copy.deepcopy(policy)
    frozen = snapshot(ref)
    reward_fn = verifiable_reward(lambda prompt, response: TARGET in response)
    config = GRPOConfig(group_size=8, max_new_tokens=4, lr=3e-2, minibatch_size=32, seed=0)
    trainer = GRPOTrainer(policy, ref, reward_fn, config)
    history = trainer.train(cycle_batches(PROMPTS, 4), n_steps=8)
    assert_bitwise_equal(ref, frozen)
    assert set(history["reward"].head(1)) <= {0.0, 0.03125, 0.0625, 0.09375, 0.125}
    assert history["reward"].tail(3).mean() > history["reward"].head(3).mean() + 0.3
    assert history["zero_std_groups"].between(0, 1).all()
    with pytest.raises(ValueError, match="group_size"):
        GRPOConfig(group_size=1)


def test_grpo_is_deterministic_over_minibatches_and_epochs():
    def run():
        policy = tiny_gpt(1)
        config = GRPOConfig(group_size=4, max_new_tokens=4, lr=1e-2, minibatch_size=6, epochs=2,
                            seed=3)
        reward_fn = verifiable_reward(lambda prompt, response: TARGET in response)
        trainer = GRPOTrainer(policy, copy.deepcopy(policy), reward_fn, config)
        return trainer.train(cycle_batches(PROMPTS[:8], 4, seed=1), n_steps=2)

    first, second = run(), run()
    assert first.equals(second) and list(first["step"]) == [1, 2]


# --- labelling ------------------------------------------------------------------------------------

def render(messages) -> str:
    return "\n".join(f"{m['role']}: {m['content']}" for m in messages)


def test_headless_labelling_with_the_gold_judge(world):
    from minillm.data.tinyworld.judge import GoldJudge
    from minillm.data.tinyworld.sft import make_sft_examples

    examples = make_sft_examples(world, "train", n_per_family=2, seed=0)
    judge = GoldJudge(world)
    comparisons = [Comparison(render(e.prompt), e.messages[-1]["content"], "I don't know.",
                              {"example_id": e.id, "family": e.family}) for e in examples]
    same = Comparison("same", "one answer", "one answer", {"example_id": examples[0].id})
    comparisons.append(same)
    judge_fn = gold_judge_fn(judge, examples)
    records = label_headless(comparisons, judge_fn, tie_margin=0.0, seed=0)
    assert records == label_headless(comparisons, judge_fn, tie_margin=0.0, seed=0)
    assert len(records) == len(comparisons)
    assert {r["first_shown_as"] for r in records} == {"A", "B"}          # positions are shuffled
    for r, c in zip(records, comparisons, strict=True):
        score_a, score_b = judge_fn(c, r["response_a"]), judge_fn(c, r["response_b"])
        expected = "tie" if score_a == score_b else ("A" if score_a > score_b else "B")
        assert r["choice"] == expected and r["labeler"] == "judge"
        if r["choice"] in ("A", "B"):
            assert judge_fn(c, r["chosen"]) > judge_fn(c, r["rejected"])
    assert records[-1]["choice"] == "tie"
    pairs = zip(records, comparisons, strict=True)
    assert any(r["choice"] != "tie" and r["chosen"] == c.first for r, c in pairs)
    with pytest.raises(ValueError, match="example_id"):
        judge_fn(Comparison("p", "a", "b"), "a")


def test_widget_buttons_record_choices():
    comparisons = [Comparison(f"prompt {i}", f"first {i}", f"second {i}", {"id": i})
                   for i in range(4)]
    labeler = PreferenceLabeler(comparisons, seed=1)
    labeler.widget()
    _, a, b = labeler.shown()
    labeler.buttons["B"].click()
    assert labeler.records[0]["choice"] == "B" and labeler.records[0]["chosen"] == b
    assert labeler.records[0]["rejected"] == a and labeler.records[0]["id"] == 0
    assert labeler._progress.value.startswith("comparison 2 of 4")
    _, a, _ = labeler.shown()
    labeler.buttons["A"].click()
    labeler.buttons["tie"].click()
    labeler.buttons["skip"].click()
    assert [r["choice"] for r in labeler.records] == ["B", "A", "tie", "skip"]
    assert labeler.done and all(button.disabled for button in labeler.buttons.values())
    pairs = labeler.preference_pairs()
    assert pairs[1] == ("prompt 1", a, labeler.records[1]["rejected"]) and len(pairs) == 2
    assert list(labeler.frame()["choice"]) == ["B", "A", "tie", "skip"]
    with pytest.raises(ValueError, match="labelled already"):
        labeler.record("A")
    with pytest.raises(ValueError, match="choice must be"):
        PreferenceLabeler(comparisons).record("C")
    with pytest.raises(ValueError, match="Comparison"):
        PreferenceLabeler([("p", "a", "b")])
