"""Stage 7, RLHF: reward models, PPO, DPO/IPO and GRPO on token ids, plus a labelling widget.

- ``logprobs``: right-padded (prompt + response) batches, response masks, per-token log-probs.
- ``reward``: ``RewardModel`` (GPT backbone + scalar head), the Bradley-Terry loss.
- ``ppo``: KL estimators, GAE, clipped losses, adaptive KL, ``PPOTrainer``.
- ``dpo``: DPO and IPO losses, ``DPOLoss`` for the shared ``Trainer``, ``train_dpo``.
- ``grpo``: group-normalised advantages, ``GRPOTrainer`` for verifiable rewards.
- ``labeling``: ``PreferenceLabeler`` (ipywidgets) and a judge-driven headless fallback.

    from minillm.rlhf import PPOConfig, PPOTrainer, cycle_batches
    trainer = PPOTrainer(policy, copy.deepcopy(policy), reward_fn, PPOConfig(eos_id=end_id))
    history = trainer.train(cycle_batches(prompt_ids, 16), n_steps=50)
"""

from minillm.rlhf.dpo import DPOConfig, DPOLoss, dpo_loss, train_dpo
from minillm.rlhf.grpo import (
    GRPOConfig,
    GRPOTrainer,
    group_advantages,
    grpo_loss,
    verifiable_reward,
)
from minillm.rlhf.labeling import (
    Comparison,
    PreferenceLabeler,
    gold_judge_fn,
    label_headless,
)
from minillm.rlhf.logprobs import (
    PreferenceBatches,
    collate_preferences,
    cycle_batches,
    make_batch,
    masked_mean,
    masked_whiten,
    sequence_logprobs,
    token_logprobs,
)
from minillm.rlhf.ppo import (
    KLController,
    PolicyWithValueHead,
    PPOConfig,
    PPOTrainer,
    gae,
    kl_penalty,
    per_token_rewards,
    ppo_policy_loss,
    ppo_value_loss,
)
from minillm.rlhf.reward import (
    RewardModel,
    RewardModelLoss,
    bradley_terry_loss,
    evaluate_reward_model,
    preference_metrics,
)

__all__ = [
    "Comparison", "DPOConfig", "DPOLoss", "GRPOConfig", "GRPOTrainer", "KLController",
    "PPOConfig", "PPOTrainer", "PolicyWithValueHead", "PreferenceBatches", "PreferenceLabeler",
    "RewardModel", "RewardModelLoss", "bradley_terry_loss", "collate_preferences",
    "cycle_batches", "dpo_loss", "evaluate_reward_model", "gae", "gold_judge_fn",
    "group_advantages", "grpo_loss", "kl_penalty", "label_headless", "make_batch", "masked_mean",
    "masked_whiten", "per_token_rewards", "ppo_policy_loss", "ppo_value_loss",
    "preference_metrics", "sequence_logprobs", "token_logprobs", "train_dpo", "verifiable_reward",
]
