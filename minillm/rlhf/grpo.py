"""GRPO: Group Relative Policy Optimization (Shao et al. 2024, DeepSeekMath).

PPO needs a value function to tell a good token from a lucky one. GRPO drops it: sample a
**group** of G responses to the same prompt, and use how each one did *relative to its group* as
the advantage of every one of its tokens:

    A_i = (r_i - mean(r_group)) / (std(r_group) + eps)

That suits **verifiable** tasks, where ``reward_fn`` returns 1 for a right answer and 0 for a wrong
one: a group with some right and some wrong answers pushes up the right ones; a group that is all
right (or all wrong) has A = 0 and teaches nothing, which the stats report as ``zero_std_groups``.

The loss keeps PPO's clipped ratio and puts the KL to the reference in the loss (not in the
reward), with the k3 estimator, which is >= 0 (see ``ppo.kl_penalty``); each response's tokens are
averaged first, then the responses:

    per token:  -( min(ratio A, clip(ratio, 1 - eps, 1 + eps) A) - beta * KL_k3 )

    reward_fn = verifiable_reward(lambda prompt, resp: decode(resp).strip() == answer_of(prompt))
    config = GRPOConfig(group_size=8, eos_id=end)
    trainer = GRPOTrainer(policy, copy.deepcopy(policy), reward_fn, config)
    history = trainer.train(cycle_batches(prompts, 4), n_steps=50)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn

from minillm.rlhf.logprobs import masked_mean, token_logprobs
from minillm.rlhf.ppo import RolloutTrainer, check_prompts, kl_penalty, mean_stats, scores_tensor


def group_advantages(rewards: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """(r - group mean) / (group std + eps) along the last dim of (n_prompts, group_size) rewards.
    The std is the sample std (divides by G - 1), as in the DeepSeekMath code and TRL."""
    if rewards.dim() != 2 or rewards.shape[1] < 2:
        raise ValueError(f"rewards must be (n_prompts, group_size >= 2), "
                         f"got {tuple(rewards.shape)}")
    mean = rewards.mean(-1, keepdim=True)
    std = rewards.std(-1, keepdim=True)
    return (rewards - mean) / (std + eps)


def grpo_loss(logp: torch.Tensor, old_logp: torch.Tensor, ref_logp: torch.Tensor,
              advantages: torch.Tensor, mask: torch.Tensor, clip_range: float = 0.2,
              beta: float = 0.04) -> tuple[torch.Tensor, dict[str, float]]:
    """The GRPO objective (negated, to minimise). Token tensors (B, T); ``advantages`` (B,)."""
    adv = advantages[:, None].to(logp.dtype)
    ratio = (logp - old_logp).exp()
    surrogate = torch.minimum(ratio * adv, ratio.clamp(1 - clip_range, 1 + clip_range) * adv)
    kl = kl_penalty(logp, ref_logp, "k3")
    per_token = -(surrogate - beta * kl)
    loss = masked_mean(per_token, mask, dim=-1).mean()
    with torch.no_grad():
        clipped = (ratio * adv) > (ratio.clamp(1 - clip_range, 1 + clip_range) * adv)
        stats = {"clip_frac": float(masked_mean(clipped.float(), mask)),
                 "kl": float(masked_mean(kl, mask))}
    return loss, stats


def verifiable_reward(check: Callable[[list[int], list[int]], bool]) -> Callable:
    """A ``reward_fn``: 1.0 where ``check(prompt_ids, response_ids)`` holds, 0.0 elsewhere."""

    def reward_fn(prompts, responses):
        pairs = zip(prompts, responses, strict=True)
        return [1.0 if check(list(p), list(r)) else 0.0 for p, r in pairs]

    return reward_fn


@dataclass
class GRPOConfig:
    group_size: int = 8                # responses sampled per prompt
    max_new_tokens: int = 32
    eos_id: int | None = None
    pad_id: int = 0
    lr: float = 1e-5
    weight_decay: float = 0.0
    epochs: int = 1                    # passes over each group batch (1: ratio = 1 on the first)
    minibatch_size: int = 16           # rows (responses) per gradient step
    clip_range: float = 0.2
    beta: float = 0.04                 # weight of the KL to the reference
    eps: float = 1e-4
    max_grad_norm: float = 1.0
    seed: int = 0

    def __post_init__(self):
        if self.group_size < 2:
            raise ValueError(f"group_size must be >= 2 (advantages compare within a group), "
                             f"got {self.group_size}")
        if min(self.max_new_tokens, self.epochs, self.minibatch_size) < 1:
            raise ValueError("max_new_tokens, epochs and minibatch_size must all be >= 1")
        if self.beta < 0 or self.clip_range <= 0 or self.lr <= 0:
            raise ValueError("need beta >= 0, clip_range > 0 and lr > 0")


class GRPOTrainer(RolloutTrainer):
    """GRPO on ``policy`` (trained in place, eval mode so dropout stays off) against a frozen
    ``ref``. ``step(prompts)`` samples ``group_size`` responses per prompt and updates;
    ``train(prompt_batches, n_steps)`` returns the history DataFrame."""

    def __init__(self, policy: nn.Module, ref: nn.Module, reward_fn: Callable,
                 config: GRPOConfig | None = None):
        super().__init__(policy, ref, reward_fn, config or GRPOConfig())

    @torch.no_grad()
    def rollout(self, prompts: Sequence[Sequence[int]]) -> dict:
        cfg = self.config
        prompts = check_prompts(prompts, self.policy, cfg.max_new_tokens)
        grouped = [p for p in prompts for _ in range(cfg.group_size)]     # G copies, side by side
        responses, batch, (logits, _), ref_logits = self.sample_batch(grouped)
        ids, mask = batch["input_ids"], batch["response_mask"]
        scores = scores_tensor(self.reward_fn, grouped, responses, self.device)
        advantages = group_advantages(scores.view(len(prompts), cfg.group_size), cfg.eps).flatten()
        self.last_rollout = {"prompts": grouped, "responses": responses, "scores": scores.tolist()}
        return {**batch, "logp": token_logprobs(logits, ids) * mask,
                "ref_logp": token_logprobs(ref_logits, ids) * mask, "scores": scores,
                "advantages": advantages}

    def update(self, rollout: dict) -> dict[str, float]:
        cfg = self.config
        logs = []
        for idx, ids, mask in self.minibatches(rollout, cfg.epochs):
            with self.precision.autocast(self.device):
                logits, _ = self.policy(ids)
            logp = token_logprobs(logits, ids)
            loss, stats = grpo_loss(logp, rollout["logp"][idx], rollout["ref_logp"][idx],
                                    rollout["advantages"][idx], mask, cfg.clip_range, cfg.beta)
            self.gradient_step(loss)
            logs.append({"loss": float(loss.detach()), **stats})
        return mean_stats(logs)

    def step(self, prompts: Sequence[Sequence[int]]) -> dict[str, float]:
        """One group rollout + update. Stats: mean reward, share of groups with no spread
        (all right or all wrong: no signal), loss, KL to the reference, clip fraction, length."""
        rollout = self.rollout(prompts)
        groups = rollout["scores"].view(-1, self.config.group_size)
        stats = {"step": len(self.history) + 1, "reward": float(rollout["scores"].mean()),
                 "zero_std_groups": float((groups.std(-1) == 0).float().mean()),
                 "response_length": float(rollout["response_mask"].sum(-1).float().mean())}
        stats.update(self.update(rollout))
        self.history.append(stats)
        return stats
