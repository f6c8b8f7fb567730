"""RLHF losses and estimators against hand computations on fixed tensors (no models)."""

import math

import pytest
import torch

from minillm.rlhf.dpo import dpo_loss
from minillm.rlhf.grpo import group_advantages, grpo_loss, verifiable_reward
from minillm.rlhf.logprobs import (
    collate_preferences,
    cycle_batches,
    entropy_from_logits,
    last_token_index,
    make_batch,
    masked_mean,
    masked_whiten,
    token_logprobs,
)
from minillm.rlhf.ppo import (
    KLController,
    gae,
    kl_penalty,
    per_token_rewards,
    ppo_policy_loss,
    ppo_value_loss,
)
from minillm.rlhf.reward import bradley_terry_loss, preference_metrics


def log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x))


# --- reward model ------------------------------------------------------------------------------

def test_bradley_terry_loss_matches_hand_computation():
    r_c, r_r = [1.0, 0.0, -2.0, 3.0], [0.0, 0.5, 1.0, 3.0]
    expected = -sum(log_sigmoid(c - r) for c, r in zip(r_c, r_r, strict=True)) / 4
    loss = bradley_terry_loss(torch.tensor(r_c), torch.tensor(r_r))
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    even = bradley_terry_loss(torch.tensor([0.0]), torch.tensor([0.0]))
    assert even.item() == pytest.approx(math.log(2))
    # stable for huge margins: no inf/nan
    assert math.isfinite(bradley_terry_loss(torch.tensor([-1000.0]), torch.tensor([1000.0])).item())
    metrics = preference_metrics(torch.tensor(r_c), torch.tensor(r_r))
    assert metrics["accuracy"] == pytest.approx(0.25)      # only pair 0 is right; a tie is wrong
    assert metrics["margin"] == pytest.approx((1 - 0.5 - 3 + 0) / 4)
    with pytest.raises(ValueError, match="same shape"):
        bradley_terry_loss(torch.zeros(3), torch.zeros(2))


# --- DPO / IPO -----------------------------------------------------------------------------------

POLICY_C, POLICY_R = [-10.0, -12.0, -5.0], [-11.0, -9.0, -7.0]
REF_C, REF_R = [-10.5, -11.0, -6.0], [-10.0, -10.0, -6.5]


def dpo_inputs():
    return [torch.tensor(v) for v in (POLICY_C, POLICY_R, REF_C, REF_R)]


def test_dpo_sigmoid_loss_and_metrics_match_hand_computation():
    beta = 0.1
    loss, metrics = dpo_loss(*dpo_inputs(), beta=beta, loss_type="sigmoid")
    rows = zip(POLICY_C, POLICY_R, REF_C, REF_R, strict=True)
    hs = [(pc - rc) - (pr - rr) for pc, pr, rc, rr in rows]
    assert hs == pytest.approx([1.5, -2.0, 1.5])
    expected = -sum(log_sigmoid(beta * h) for h in hs) / 3
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    chosen = [beta * (pc - rc) for pc, rc in zip(POLICY_C, REF_C, strict=True)]
    rejected = [beta * (pr - rr) for pr, rr in zip(POLICY_R, REF_R, strict=True)]
    assert metrics["rewards/chosen"] == pytest.approx(sum(chosen) / 3, abs=1e-6)
    assert metrics["rewards/rejected"] == pytest.approx(sum(rejected) / 3, abs=1e-6)
    assert metrics["rewards/margins"] == pytest.approx(beta * sum(hs) / 3, abs=1e-6)
    assert metrics["rewards/accuracy"] == pytest.approx(2 / 3)


def test_ipo_loss_matches_hand_computation():
    beta = 0.25
    loss, _ = dpo_loss(*dpo_inputs(), beta=beta, loss_type="ipo")
    hs = [1.5, -2.0, 1.5]
    expected = sum((h - 1 / (2 * beta)) ** 2 for h in hs) / 3
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_dpo_loss_gradient_raises_chosen_lowers_rejected_and_rejects_bad_input():
    pc, pr, rc, rr = dpo_inputs()
    pc.requires_grad_(True)
    pr.requires_grad_(True)
    loss, _ = dpo_loss(pc, pr, rc, rr, beta=0.1)
    loss.backward()
    # gradient descent raises the chosen log-probs and lowers the rejected ones
    assert bool((pc.grad < 0).all()) and bool((pr.grad > 0).all())
    with pytest.raises(ValueError, match="loss_type"):
        dpo_loss(*dpo_inputs(), loss_type="hinge-ish")
    with pytest.raises(ValueError, match="beta"):
        dpo_loss(*dpo_inputs(), beta=0.0)


# --- KL estimators --------------------------------------------------------------------------------

def test_kl_estimators_match_hand_values():
    logp = torch.tensor([-1.0, -2.0, -0.5, -3.0])
    ref = torch.tensor([-1.5, -1.0, -0.5, -0.2])
    for est in ("k1", "k2", "k3"):
        out = kl_penalty(logp, ref, est).tolist()
        for i, (p, q) in enumerate(zip(logp.tolist(), ref.tolist(), strict=True)):
            r = math.exp(q - p)
            expected = {"k1": p - q, "k2": 0.5 * (p - q) ** 2, "k3": (r - 1) - math.log(r)}[est]
            assert out[i] == pytest.approx(expected, rel=1e-5, abs=1e-7)
    with pytest.raises(ValueError, match="k1"):
        kl_penalty(logp, ref, "k4")


def test_k3_is_nonnegative_and_k1_k3_are_unbiased_for_the_true_kl():
    gen = torch.Generator().manual_seed(0)
    p_logits, q_logits = torch.randn(6, generator=gen), torch.randn(6, generator=gen)
    logp_all, logq_all = p_logits.log_softmax(-1), q_logits.log_softmax(-1)
    true_kl = float((logp_all.exp() * (logp_all - logq_all)).sum())
    tokens = torch.multinomial(logp_all.exp(), 200_000, replacement=True, generator=gen)
    logp, logq = logp_all[tokens], logq_all[tokens]
    k3 = kl_penalty(logp, logq, "k3")
    assert float(k3.min()) >= 0
    assert float(kl_penalty(logp, logq, "k1").mean()) == pytest.approx(true_kl, rel=0.05)
    assert float(k3.mean()) == pytest.approx(true_kl, rel=0.05)
    a, b = torch.randn(1000, generator=gen), torch.randn(1000, generator=gen)
    assert float(kl_penalty(a, b, "k3").min()) >= 0


# --- GAE and PPO losses ---------------------------------------------------------------------------

def reference_gae(rewards, values, gamma, lam):
    """Textbook GAE over one response (python lists, backwards)."""
    advantages, running = [0.0] * len(rewards), 0.0
    for t in reversed(range(len(rewards))):
        next_value = values[t + 1] if t + 1 < len(rewards) else 0.0
        delta = rewards[t] + gamma * next_value - values[t]
        running = delta + gamma * lam * running
        advantages[t] = running
    return advantages, [a + v for a, v in zip(advantages, values, strict=True)]


def test_gae_matches_a_python_loop_on_rows_of_different_lengths():
    gen = torch.Generator().manual_seed(1)
    spans = [(2, 5), (1, 9), (4, 1), (3, 6)]                 # (response start, response length)
    T = 10
    rewards, values = torch.randn(4, T, generator=gen), torch.randn(4, T, generator=gen)
    mask = torch.zeros(4, T, dtype=torch.bool)
    for i, (s, n) in enumerate(spans):
        mask[i, s:s + n] = True
    gamma, lam = 0.9, 0.8
    adv, ret = gae(rewards, values, mask, gamma, lam)
    for i, (s, n) in enumerate(spans):
        exp_adv, exp_ret = reference_gae(rewards[i, s:s + n].tolist(), values[i, s:s + n].tolist(),
                                         gamma, lam)
        assert adv[i, s:s + n].tolist() == pytest.approx(exp_adv, rel=1e-5, abs=1e-6)
        assert ret[i, s:s + n].tolist() == pytest.approx(exp_ret, rel=1e-5, abs=1e-6)
        assert float(adv[i][~mask[i]].abs().sum()) == 0 and float(ret[i][~mask[i]].abs().sum()) == 0
    # gamma = lam = 1: the advantage is the sum of future rewards minus the value
    adv1, _ = gae(rewards, values, mask, 1.0, 1.0)
    s, n = spans[0]
    expected = float(rewards[0, s:s + n].sum() - values[0, s])
    assert adv1[0, s].item() == pytest.approx(expected, rel=1e-5)


def test_ppo_policy_loss_matches_hand_computation():
    logp = torch.tensor([[0.0, -1.0, -0.5, -2.0], [0.0, -0.2, -3.0, -1.0]])
    old = torch.tensor([[0.0, -1.5, -0.4, -2.0], [0.0, -1.0, -2.0, -1.1]])
    adv = torch.tensor([[0.0, 1.0, -2.0, 0.5], [0.0, -1.0, 2.0, 0.3]])
    mask = torch.tensor([[False, True, True, True], [False, True, True, False]])
    eps = 0.2
    loss, stats = ppo_policy_loss(logp, old, adv, mask, eps)
    terms, clipped, kls = [], [], []
    for b in range(2):
        for t in range(4):
            if not mask[b, t]:
                continue
            ratio = math.exp(logp[b, t] - old[b, t])
            a = adv[b, t].item()
            unclipped_term, clipped_term = -a * ratio, -a * min(max(ratio, 1 - eps), 1 + eps)
            terms.append(max(unclipped_term, clipped_term))
            clipped.append(clipped_term > unclipped_term)
            kls.append((ratio - 1) - math.log(ratio))
    assert loss.item() == pytest.approx(sum(terms) / len(terms), rel=1e-6)
    assert stats["clip_frac"] == pytest.approx(sum(clipped) / len(clipped))
    assert stats["approx_kl"] == pytest.approx(sum(kls) / len(kls), rel=1e-5)
    assert 0 < stats["clip_frac"] < 1                      # the fixture exercises both branches


def test_ppo_value_loss_matches_hand_computation():
    values = torch.tensor([[0.0, 1.0, 0.5, -0.3]])
    old = torch.tensor([[0.0, 0.5, 0.45, 0.0]])
    returns = torch.tensor([[0.0, 2.0, 0.0, -1.0]])
    mask = torch.tensor([[False, True, True, True]])
    c = 0.2
    loss, stats = ppo_value_loss(values, old, returns, mask, c)
    terms, clipped = [], []
    for t in (1, 2, 3):
        v, o, r = values[0, t].item(), old[0, t].item(), returns[0, t].item()
        vc = o + min(max(v - o, -c), c)
        terms.append(max((v - r) ** 2, (vc - r) ** 2))
        clipped.append((vc - r) ** 2 > (v - r) ** 2)
    assert loss.item() == pytest.approx(0.5 * sum(terms) / 3, rel=1e-6)
    assert stats["value_clip_frac"] == pytest.approx(sum(clipped) / 3)


def test_per_token_rewards_put_the_score_on_the_last_response_token():
    mask = torch.tensor([[False, True, True, False], [False, False, True, True]])
    kl = torch.tensor([[9.0, 0.5, -0.1, 9.0], [9.0, 9.0, 0.2, 0.3]])
    rewards = per_token_rewards(torch.tensor([1.0, -2.0]), kl, mask, kl_coef=0.1)
    expected = torch.tensor([[0.0, -0.05, 0.01 + 1.0, 0.0], [0.0, 0.0, -0.02, -0.03 - 2.0]])
    torch.testing.assert_close(rewards, expected)


def test_masked_whiten_and_masked_mean():
    x = torch.tensor([[100.0, 1.0, 2.0, 3.0], [4.0, 5.0, -50.0, -50.0]])
    mask = torch.tensor([[False, True, True, True], [True, True, False, False]])
    assert masked_mean(x, mask).item() == pytest.approx(3.0)
    assert masked_mean(x, mask, dim=-1).tolist() == pytest.approx([2.0, 4.5])
    white = masked_whiten(x, mask)
    assert masked_mean(white, mask).item() == pytest.approx(0.0, abs=1e-6)
    assert masked_mean(white ** 2, mask).item() == pytest.approx(1.0, rel=1e-5)
    assert float(white[~mask].abs().sum()) == 0


def test_adaptive_kl_controller_follows_ziegler_update():
    ctl = KLController(0.1, target=6.0, horizon=1000)
    assert ctl.update(9.0, 100) == pytest.approx(0.1 * (1 + 0.2 * 100 / 1000))   # error clipped
    ctl = KLController(0.1, target=6.0, horizon=1000)
    assert ctl.update(5.4, 50) == pytest.approx(0.1 * (1 + (5.4 / 6 - 1) * 50 / 1000))
    fixed = KLController(0.1)
    assert fixed.update(100.0, 1000) == 0.1
    with pytest.raises(ValueError):
        KLController(-1.0)


# --- GRPO -----------------------------------------------------------------------------------------

def test_group_advantages_match_hand_computation():
    rewards = torch.tensor([[1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0]])
    adv = group_advantages(rewards, eps=1e-4)
    for g, row in enumerate(rewards.tolist()):
        mean = sum(row) / 4
        std = math.sqrt(sum((r - mean) ** 2 for r in row) / 3)
        expected = [(r - mean) / (std + 1e-4) for r in row]
        assert adv[g].tolist() == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert adv[1].abs().sum() == 0                            # all right: no signal
    with pytest.raises(ValueError, match="group_size"):
        group_advantages(torch.ones(4))


def test_grpo_loss_matches_hand_computation():
    logp = torch.tensor([[0.0, -1.0, -0.5], [0.0, -2.0, -1.0]])
    old = torch.tensor([[0.0, -1.2, -0.5], [0.0, -1.0, -1.0]])
    ref = torch.tensor([[0.0, -0.8, -0.7], [0.0, -1.5, -1.0]])
    adv = torch.tensor([1.0, -0.5])
    mask = torch.tensor([[False, True, True], [False, True, False]])
    eps, beta = 0.2, 0.1
    loss, _ = grpo_loss(logp, old, ref, adv, mask, eps, beta)
    per_sequence = []
    for b in range(2):
        terms = []
        for t in range(3):
            if not mask[b, t]:
                continue
            ratio = math.exp(logp[b, t] - old[b, t])
            a = adv[b].item()
            surrogate = min(ratio * a, min(max(ratio, 1 - eps), 1 + eps) * a)
            r = math.exp(ref[b, t] - logp[b, t])
            terms.append(-(surrogate - beta * ((r - 1) - math.log(r))))
        per_sequence.append(sum(terms) / len(terms))
    assert loss.item() == pytest.approx(sum(per_sequence) / 2, rel=1e-6)
    reward_fn = verifiable_reward(lambda prompt, response: response[:1] == [7])
    assert reward_fn([[1], [1], [2]], [[7, 3], [3, 7], []]) == [1.0, 0.0, 0.0]


# --- batching and alignment -----------------------------------------------------------------------

def test_make_batch_masks_and_token_logprobs_alignment():
    batch = make_batch([[1, 2, 3], [4]], [[5, 6], [7, 8, 9]], pad_id=0)
    assert batch["input_ids"].tolist() == [[1, 2, 3, 5, 6], [4, 7, 8, 9, 0]]
    assert batch["attention_mask"].tolist() == [[True] * 5, [True] * 4 + [False]]
    assert batch["response_mask"].tolist() == [[False, False, False, True, True],
                                               [False, True, True, True, False]]
    assert last_token_index(batch["attention_mask"]).tolist() == [4, 3]
    logits = torch.randn(2, 5, 11, generator=torch.Generator().manual_seed(0))
    out = token_logprobs(logits, batch["input_ids"])
    for b in range(2):
        assert out[b, 0].item() == 0
        for t in range(1, 5):
            expected = logits[b, t - 1].log_softmax(-1)[batch["input_ids"][b, t]].item()
            assert out[b, t].item() == pytest.approx(expected, rel=1e-6)
    entropy = entropy_from_logits(logits)
    p = logits[1, 2].softmax(-1)
    assert entropy[1, 3].item() == pytest.approx(float(-(p * p.log()).sum()), rel=1e-5)
    pairs = collate_preferences([([1], [2], [3, 4]), ([5, 6], [7], [8])], pad_id=0)
    assert pairs["input_ids"].tolist() == [[1, 2, 0], [5, 6, 7], [1, 3, 4], [5, 6, 8]]
    with pytest.raises(ValueError, match="prompts"):
        make_batch([[1]], [[2], [3]])
    with pytest.raises(ValueError, match="at least one token"):
        make_batch([[]], [[2]])
    with pytest.raises(ValueError, match="token ids"):
        make_batch([[1, -3]], [[2]])


def test_cycle_batches_is_seeded_and_covers_each_epoch():
    items = list(range(10))
    first = cycle_batches(items, 5, seed=3)
    again = cycle_batches(items, 5, seed=3)
    batches = [next(first) for _ in range(4)]
    assert batches == [next(again) for _ in range(4)]
    assert sorted(batches[0] + batches[1]) == items and sorted(batches[2] + batches[3]) == items
    with pytest.raises(ValueError, match="batch_size"):
        next(cycle_batches(items, 11))
