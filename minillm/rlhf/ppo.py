"""PPO for language models, piece by piece (Ouyang et al. 2022; Stiennon et al. 2020).

The policy writes a response token by token; a reward function scores the finished response. One
PPO step:

1. **Rollout**: sample responses to a batch of prompts from the policy (KV-cache generation);
   record their log-probs under the policy (``old_logp``), under a frozen **reference** model
   (the SFT model) and the value estimates.
2. **Rewards per token**: ``-kl_coef * KL_t`` on every response token (stay close to the reference,
   or the policy drifts into text that fools the reward model), plus the score on the final token.
   ``kl_penalty`` offers three estimators of KL(policy || reference) from a sampled token
   (Schulman, "Approximating KL divergence"): k1 = log p - log q (unbiased, can be negative),
   k2 = (log p - log q)^2 / 2 (low variance, biased), k3 = (r - 1) - log r with r = q/p (unbiased
   and always >= 0).
3. **GAE** (Schulman et al. 2016): advantages A_t = sum_l (gamma lambda)^l delta_{t+l} with
   delta_t = r_t + gamma V_{t+1} - V_t, over the response tokens only; returns = A + V. Advantages
   are then whitened (masked mean 0, std 1) across the batch.
4. **Update**: several epochs of minibatches on the clipped surrogate
   ``max(-A ratio, -A clip(ratio, 1 - eps, 1 + eps))`` and a clipped value loss, so no update moves
   the policy far from the one that sampled the data.
5. Optionally adapt ``kl_coef`` towards a target KL (Ziegler et al. 2019).

Alignment. A token's log-prob sits at its own index t (from the logits at t - 1, see
``minillm.rlhf.logprobs``). Its state is "every token before t", so the value V_t is read from
the hidden state at t - 1 too: every per-token tensor here shares the (B, T) layout of
``input_ids`` and the ``response_mask``.

Value head: a scalar head on the **policy's own backbone** (``PolicyWithValueHead``), one forward
pass for logits and values and no second model in memory, at the price of the value loss also
shaping the policy's features (hence a small ``vf_coef``). InstructGPT instead used a separate
critic initialised from the reward model; at this course's scale the shared trunk works well.

    policy_ref = copy.deepcopy(sft_model)                  # frozen reference
    trainer = PPOTrainer(sft_model, policy_ref, reward_fn, PPOConfig(max_new_tokens=32, eos_id=end))
    history = trainer.train(cycle_batches(prompts, 16), n_steps=100)    # DataFrame, a row per step

``reward_fn(prompts, responses) -> list[float]`` gets token-id lists (a response ends with
``eos_id`` when the policy stopped).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from minillm.device import precision_for
from minillm.generate import generate
from minillm.rlhf.logprobs import (
    entropy_from_logits,
    last_token_index,
    make_batch,
    masked_mean,
    masked_whiten,
    token_logprobs,
)
from minillm.train import TrainConfig, make_optimizer

KL_ESTIMATORS = ("k1", "k2", "k3")


# --- the pieces ------------------------------------------------------------------------------

def kl_penalty(logp: torch.Tensor, ref_logp: torch.Tensor, estimator: str = "k1") -> torch.Tensor:
    """Per-token estimate of KL(policy || reference) from the log-probs of sampled tokens."""
    log_ratio = logp - ref_logp                                      # log p/q
    if estimator == "k1":
        return log_ratio
    if estimator == "k2":
        return 0.5 * log_ratio ** 2
    if estimator == "k3":
        return torch.expm1(-log_ratio) + log_ratio                   # (r - 1) - log r, r = q/p
    raise ValueError(f"unknown KL estimator {estimator!r}; choose one of {KL_ESTIMATORS}")


def per_token_rewards(scores: torch.Tensor, kl: torch.Tensor, response_mask: torch.Tensor,
                      kl_coef: float) -> torch.Tensor:
    """(B, T): ``-kl_coef * kl`` on response tokens, plus each row's score on its last one."""
    rewards = -kl_coef * kl * response_mask
    last = last_token_index(response_mask)
    rows = torch.arange(rewards.shape[0], device=rewards.device)
    rewards[rows, last] += scores.to(rewards.dtype)
    return rewards


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float = 1.0,
        lam: float = 0.95) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimates and returns (both (B, T), 0 off ``mask``).

    Each row's masked tokens must be contiguous (a response); the value after a row's last
    token is 0 (the episode ends there).
    """
    mask = mask.to(rewards.dtype)
    T = rewards.shape[1]
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    for t in reversed(range(T)):
        next_value = values[:, t + 1] * mask[:, t + 1] if t + 1 < T else torch.zeros_like(running)
        next_alive = mask[:, t + 1] if t + 1 < T else torch.zeros_like(running)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = (delta + gamma * lam * next_alive * running) * mask[:, t]
        advantages[:, t] = running
    returns = (advantages + values) * mask
    return advantages, returns


def ppo_policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor,
                    mask: torch.Tensor, clip_range: float = 0.2) -> tuple[torch.Tensor, dict]:
    """Clipped surrogate, masked mean over tokens; also the clip fraction and approx-KL (k3)."""
    log_ratio = logp - old_logp
    ratio = log_ratio.exp()
    unclipped = -advantages * ratio
    clipped = -advantages * ratio.clamp(1 - clip_range, 1 + clip_range)
    loss = masked_mean(torch.maximum(unclipped, clipped), mask)
    with torch.no_grad():
        clip_frac = masked_mean((clipped > unclipped).float(), mask)
        approx_kl = masked_mean(torch.expm1(log_ratio) - log_ratio, mask)
    return loss, {"clip_frac": float(clip_frac), "approx_kl": float(approx_kl)}


def ppo_value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor,
                   mask: torch.Tensor, clip_range: float = 0.2) -> tuple[torch.Tensor, dict]:
    """0.5 * max((V - R)^2, (V_clipped - R)^2), V_clipped = old + clip(V - old, -c, c)."""
    clipped_values = old_values + (values - old_values).clamp(-clip_range, clip_range)
    unclipped_err, clipped_err = (values - returns) ** 2, (clipped_values - returns) ** 2
    loss = 0.5 * masked_mean(torch.maximum(unclipped_err, clipped_err), mask)
    with torch.no_grad():
        clip_frac = masked_mean((clipped_err > unclipped_err).float(), mask)
    return loss, {"value_clip_frac": float(clip_frac)}


class KLController:
    """``kl_coef``, fixed (``target=None``) or adaptive (Ziegler et al. 2019): after a step with
    mean KL ``kl`` over ``n`` samples,

        coef *= 1 + clip(kl / target - 1, -0.2, 0.2) * n / horizon
    """

    def __init__(self, kl_coef: float, target: float | None = None, horizon: int = 10000):
        if kl_coef < 0 or (target is not None and target <= 0) or horizon < 1:
            raise ValueError(f"need kl_coef >= 0, target > 0 (or None), horizon >= 1; got "
                             f"{kl_coef}, {target}, {horizon}")
        self.kl_coef, self.target, self.horizon = kl_coef, target, horizon

    def update(self, kl: float, n_samples: int) -> float:
        if self.target is not None:
            error = min(max(kl / self.target - 1, -0.2), 0.2)
            self.kl_coef *= 1 + error * n_samples / self.horizon
        return self.kl_coef


class PolicyWithValueHead(nn.Module):
    """A GPT policy plus ``value_head`` (Linear(n_embd, 1)) on the same final hidden states.
    ``forward(ids) -> (logits, values)``; values are shifted like log-probs (V_t from position
    t - 1), so ``values[:, t]`` estimates the return from the state before token t."""

    def __init__(self, policy: nn.Module):
        super().__init__()
        self.policy = policy
        self.value_head = nn.Linear(policy.config.n_embd, 1)
        nn.init.zeros_(self.value_head.weight)          # start at V = 0: no made-up baseline
        nn.init.zeros_(self.value_head.bias)

    def forward(self, input_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.policy.hidden_states(input_ids)
        logits = self.policy.lm_head(hidden)
        values = self.value_head(hidden).squeeze(-1).float()
        return logits, F.pad(values[:, :-1], (1, 0), value=0.0)


def sample_responses(policy, prompts: Sequence[Sequence[int]], max_new_tokens: int,
                     eos_id: int | None, pad_id: int, seed: int) -> list[list[int]]:
    """Sampled responses (temperature 1, no top-k/p: the log-probs must be the policy's own).
    A response that stopped keeps its ``eos_id`` at the end, so the policy learns when to stop."""
    stops = () if eos_id is None else (eos_id,)
    out = generate(policy, [list(p) for p in prompts], max_new_tokens, temperature=1.0,
                   stop_tokens=stops, seed=seed, pad_id=pad_id)
    # generate drops the stop token; a row shorter than max_new_tokens stopped on it
    return [r + [eos_id] if eos_id is not None and len(r) < max_new_tokens else r for r in out]


def check_prompts(prompts, model, max_new_tokens: int) -> list[list[int]]:
    prompts = [list(p) for p in prompts]
    if not prompts or any(len(p) == 0 for p in prompts):
        raise ValueError("give a non-empty batch of prompts, each a non-empty list of token ids")
    longest = max(len(p) for p in prompts) + max_new_tokens
    if longest > model.config.context_length:
        raise ValueError(f"prompt + max_new_tokens = {longest} tokens exceeds context_length="
                         f"{model.config.context_length}; shorten the prompts or max_new_tokens")
    return prompts


def check_reference(policy: nn.Module, ref: nn.Module) -> nn.Module:
    """Freeze ``ref`` (no grads, eval mode) after checking it is a separate copy of the policy."""
    policy_tensors = {id(p) for p in policy.parameters()}
    if ref is policy or any(id(q) in policy_tensors for q in ref.parameters()):
        raise ValueError("the reference model shares weights with the policy; pass a frozen copy, "
                         "e.g. ref = copy.deepcopy(policy), made before training")
    if ref.config.vocab_size != policy.config.vocab_size:
        raise ValueError(f"policy (vocab {policy.config.vocab_size}) and reference (vocab "
                         f"{ref.config.vocab_size}) must share a tokenizer")
    return ref.requires_grad_(False).eval().to(policy.device)


def scores_tensor(reward_fn, prompts, responses, device) -> torch.Tensor:
    scores = reward_fn(prompts, responses)
    scores = torch.as_tensor(list(scores), dtype=torch.float32, device=device)
    if scores.shape != (len(prompts),) or not bool(torch.isfinite(scores).all()):
        raise ValueError(f"reward_fn must return one finite float per (prompt, response) "
                         f"({len(prompts)} here), got {scores.tolist()}")
    return scores


# --- what both trainers share ----------------------------------------------------------------

def mean_stats(rows: list[dict[str, float]]) -> dict[str, float]:
    """The mean of each stat over the rows (one row per minibatch)."""
    return {k: sum(row[k] for row in rows) / len(rows) for k in rows[0]}


class RolloutTrainer:
    """The machinery PPOTrainer and GRPOTrainer share; each adds its own ``rollout`` (how it turns
    scores into advantages), ``update`` (its loss) and ``step`` (its stats).

    ``self.model`` is what runs and trains: the policy itself, or with ``value_head=True`` the
    policy plus PPO's value head. Randomness is seeded by ``config.seed``: ``rng`` draws one
    sampling seed per rollout and ``shuffler`` orders the minibatches, so a run repeats exactly.
    The config needs ``max_new_tokens``, ``eos_id``, ``pad_id``, ``lr``, ``weight_decay``,
    ``minibatch_size``, ``max_grad_norm`` and ``seed``.
    """

    def __init__(self, policy: nn.Module, ref: nn.Module, reward_fn: Callable, config,
                 value_head: bool = False):
        self.config = config
        self.policy, self.reward_fn = policy, reward_fn
        self.ref = check_reference(policy, ref)
        self.model = PolicyWithValueHead(policy).to(policy.device) if value_head else policy
        self.device = policy.device
        self.precision = precision_for(self.device)
        self.optimizer = make_optimizer(self.model, TrainConfig(lr=config.lr, min_lr=0.0,
                                                                weight_decay=config.weight_decay))
        self.rng = random.Random(config.seed)
        self.shuffler = torch.Generator().manual_seed(config.seed)
        self.history: list[dict] = []
        self.last_rollout: dict = {}

    def sample_batch(self, prompts: list[list[int]]):
        """The start of every rollout: sample a response to each prompt (eval mode, a fresh seed
        from ``rng``), pad prompts + responses into one batch (``make_batch``) and run it through
        the model and the reference. Returns ``(responses, batch, model_output, ref_logits)``;
        ``model_output`` is whatever ``self.model`` returns: (logits, values) or (logits, loss)."""
        cfg = self.config
        self.model.eval()
        responses = sample_responses(self.policy, prompts, cfg.max_new_tokens, cfg.eos_id,
                                     cfg.pad_id, seed=self.rng.randrange(2**31))
        batch = make_batch(prompts, responses, cfg.pad_id, self.device)
        with self.precision.autocast(self.device):
            model_output = self.model(batch["input_ids"])
            ref_logits, _ = self.ref(batch["input_ids"])
        return responses, batch, model_output, ref_logits

    def minibatches(self, rollout: dict, epochs: int):
        """``epochs`` passes over the rollout's rows, each in a fresh shuffled order, in chunks of
        ``minibatch_size``: yields ``(idx, input_ids, response_mask)`` for each chunk."""
        B, size = rollout["input_ids"].shape[0], self.config.minibatch_size
        for _ in range(epochs):
            order = torch.randperm(B, generator=self.shuffler).to(self.device)
            for start in range(0, B, size):
                idx = order[start:start + size]
                yield idx, rollout["input_ids"][idx], rollout["response_mask"][idx]

    def gradient_step(self, loss: torch.Tensor) -> None:
        """Backpropagate ``loss``, clip the gradient norm (unless ``max_grad_norm`` is 0), step."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.max_grad_norm)
        self.optimizer.step()

    def train(self, prompt_batches: Iterable[Sequence[Sequence[int]]], n_steps: int,
              callback: Callable[[RolloutTrainer, dict], bool | None] | None = None):
        """``n_steps`` steps on batches from ``prompt_batches`` (e.g. ``cycle_batches(prompts,
        16)``); ``callback(trainer, stats)`` after each may return True to stop early. The full
        history as a DataFrame."""
        import pandas as pd

        if n_steps < 1:
            raise ValueError(f"n_steps must be >= 1, got {n_steps}")
        batches = iter(prompt_batches)
        for _ in range(n_steps):
            try:
                prompts = next(batches)
            except StopIteration:
                raise ValueError("prompt_batches ran out; pass an endless iterator such as "
                                 "cycle_batches(prompts, batch_size)") from None
            stats = self.step(prompts)
            if callback is not None and callback(self, stats):
                break
        return pd.DataFrame(self.history)


# --- the trainer -----------------------------------------------------------------------------

@dataclass
class PPOConfig:
    max_new_tokens: int = 32
    eos_id: int | None = None          # the stop token (e.g. the chat template's <|end|>)
    pad_id: int = 0
    lr: float = 1e-5
    weight_decay: float = 0.0
    ppo_epochs: int = 4                # passes over each rollout batch
    minibatch_size: int = 8            # rows per gradient step
    clip_range: float = 0.2
    clip_range_value: float = 0.2
    vf_coef: float = 0.1
    entropy_coef: float = 0.0
    gamma: float = 1.0
    lam: float = 0.95
    kl_coef: float = 0.05
    kl_estimator: str = "k1"
    kl_target: float | None = None     # set (e.g. 6.0 nats) for the adaptive controller
    kl_horizon: int = 10000
    whiten_advantages: bool = True
    max_grad_norm: float = 1.0         # 0 turns clipping off
    seed: int = 0

    def __post_init__(self):
        if self.kl_estimator not in KL_ESTIMATORS:
            raise ValueError(f"kl_estimator must be one of {KL_ESTIMATORS}, "
                             f"got {self.kl_estimator!r}")
        if min(self.max_new_tokens, self.ppo_epochs, self.minibatch_size) < 1:
            raise ValueError("max_new_tokens, ppo_epochs and minibatch_size must all be >= 1")
        if not (0 <= self.gamma <= 1 and 0 <= self.lam <= 1):
            raise ValueError(f"gamma and lam must lie in [0, 1], got {self.gamma}, {self.lam}")
        if self.clip_range <= 0 or self.clip_range_value <= 0 or self.lr <= 0:
            raise ValueError("lr, clip_range and clip_range_value must be > 0")


class PPOTrainer(RolloutTrainer):
    """PPO on ``policy`` (trained in place) against a frozen ``ref``; see the module docstring.

    ``step(prompts)`` runs one rollout + update and returns its stats; ``train`` loops and returns
    the history as a DataFrame. ``last_rollout`` keeps the latest prompts, responses and scores.
    The model runs in eval mode throughout, so dropout cannot make the update's log-probs differ
    from the sampler's.
    """

    def __init__(self, policy: nn.Module, ref: nn.Module, reward_fn: Callable,
                 config: PPOConfig | None = None):
        super().__init__(policy, ref, reward_fn, config or PPOConfig(), value_head=True)
        cfg = self.config
        self.kl_controller = KLController(cfg.kl_coef, cfg.kl_target, cfg.kl_horizon)

    @torch.no_grad()
    def rollout(self, prompts: Sequence[Sequence[int]]) -> dict:
        """Sample, score and compute per-token rewards, advantages and returns (no update)."""
        cfg = self.config
        prompts = check_prompts(prompts, self.policy, cfg.max_new_tokens)
        responses, batch, (logits, values), ref_logits = self.sample_batch(prompts)
        ids, mask = batch["input_ids"], batch["response_mask"]
        logp = token_logprobs(logits, ids) * mask
        ref_logp = token_logprobs(ref_logits, ids) * mask
        scores = scores_tensor(self.reward_fn, prompts, responses, self.device)
        kl = kl_penalty(logp, ref_logp, cfg.kl_estimator) * mask
        rewards = per_token_rewards(scores, kl, mask, self.kl_controller.kl_coef)
        values = values * mask
        advantages, returns = gae(rewards, values, mask, cfg.gamma, cfg.lam)
        if cfg.whiten_advantages:
            advantages = masked_whiten(advantages, mask)
        self.last_rollout = {"prompts": prompts, "responses": responses, "scores": scores.tolist()}
        return {**batch, "logp": logp, "ref_logp": ref_logp, "values": values, "scores": scores,
                "kl": kl, "rewards": rewards, "advantages": advantages, "returns": returns,
                "entropy": masked_mean(entropy_from_logits(logits), mask)}

    def update(self, rollout: dict) -> dict[str, float]:
        """``ppo_epochs`` passes of shuffled minibatches over one rollout; mean stats."""
        cfg = self.config
        logs: list[dict] = []
        for idx, ids, mask in self.minibatches(rollout, cfg.ppo_epochs):
            with self.precision.autocast(self.device):
                logits, values = self.model(ids)
            logp = token_logprobs(logits, ids)
            pg_loss, pg_stats = ppo_policy_loss(logp, rollout["logp"][idx],
                                                rollout["advantages"][idx], mask, cfg.clip_range)
            vf_loss, vf_stats = ppo_value_loss(values, rollout["values"][idx],
                                               rollout["returns"][idx], mask,
                                               cfg.clip_range_value)
            entropy = masked_mean(entropy_from_logits(logits), mask)
            loss = pg_loss + cfg.vf_coef * vf_loss - cfg.entropy_coef * entropy
            self.gradient_step(loss)
            logs.append({"policy_loss": float(pg_loss.detach()),
                         "value_loss": float(vf_loss.detach()),
                         "entropy": float(entropy.detach()), **pg_stats, **vf_stats})
        return mean_stats(logs)

    def step(self, prompts: Sequence[Sequence[int]]) -> dict[str, float]:
        """One rollout + update. Stats: mean score (``reward``), KL to the reference (summed over
        a response, mean over the batch), entropy, clip fractions, losses, approx-KL, ..."""
        rollout = self.rollout(prompts)
        mask = rollout["response_mask"]
        kl_per_sequence = float(rollout["kl"].sum(-1).mean())
        stats = {"step": len(self.history) + 1,
                 "reward": float(rollout["scores"].mean()),
                 "reward_std": float(rollout["scores"].std(correction=0)),
                 "kl": kl_per_sequence, "kl_coef": self.kl_controller.kl_coef,
                 "rollout_entropy": float(rollout["entropy"]),
                 "response_length": float(mask.sum(-1).float().mean()),
                 "value_mean": float(masked_mean(rollout["values"], mask)),
                 "return_mean": float(masked_mean(rollout["returns"], mask))}
        stats.update(self.update(rollout))
        self.kl_controller.update(kl_per_sequence, len(rollout["scores"]))
        self.history.append(stats)
        return stats
