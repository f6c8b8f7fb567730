"""Direct Preference Optimization (Rafailov et al. 2023) and IPO (Azar et al. 2023).

RLHF with a KL penalty has a closed-form optimum, pi*(y|x) proportional to
pi_ref(y|x) exp(r(x, y) / beta). Turned around, every policy defines an *implicit reward*
``beta * log(pi(y|x) / pi_ref(y|x))`` (up to a per-prompt constant that cancels in a comparison).
DPO fits that implicit reward to preferences with the Bradley-Terry loss, so there is no reward
model, no sampling and no value function: just a classification loss on (prompt, chosen, rejected).

    h = [log pi(y_c|x) - log pi_ref(y_c|x)] - [log pi(y_r|x) - log pi_ref(y_r|x)]
    DPO (sigmoid):  -log sigmoid(beta * h)
    IPO:            (h - 1 / (2 beta))^2    # a squared loss: h is pulled to a target margin
                                            # instead of to infinity, which resists overfitting

Log-probs are summed over the response tokens. Logged, as in TRL: ``rewards/chosen`` and
``rewards/rejected`` (beta times each log-ratio), ``rewards/margins`` and ``rewards/accuracy``.

    ref = copy.deepcopy(sft_model)
    history = train_dpo(sft_model, ref, triples, DPOConfig(beta=0.1),
                        TrainConfig(max_steps=200, lr=5e-6, warmup_steps=10), pad_id=pad)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from minillm.rlhf.logprobs import (
    LoggedLoss,
    PreferenceBatches,
    collate_preferences,
    reference_sequence_logps,
    sequence_logprobs,
)
from minillm.train import TrainConfig, Trainer

LOSS_TYPES = ("sigmoid", "ipo")


def dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, ref_chosen: torch.Tensor,
             ref_rejected: torch.Tensor, beta: float = 0.1,
             loss_type: str = "sigmoid") -> tuple[torch.Tensor, dict[str, float]]:
    """The DPO (``"sigmoid"``) or IPO (``"ipo"``) loss from summed response log-probs (n,) each,
    and its metrics."""
    if beta <= 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    if loss_type not in LOSS_TYPES:
        raise ValueError(f"loss_type must be one of {LOSS_TYPES}, got {loss_type!r}")
    chosen_logratio = policy_chosen - ref_chosen
    rejected_logratio = policy_rejected - ref_rejected
    h = chosen_logratio - rejected_logratio
    if loss_type == "sigmoid":
        loss = -F.logsigmoid(beta * h).mean()
    else:
        loss = ((h - 1 / (2 * beta)) ** 2).mean()
    with torch.no_grad():
        r_chosen, r_rejected = beta * chosen_logratio, beta * rejected_logratio
        metrics = {"rewards/chosen": float(r_chosen.mean()),
                   "rewards/rejected": float(r_rejected.mean()),
                   "rewards/margins": float((r_chosen - r_rejected).mean()),
                   "rewards/accuracy": float((r_chosen > r_rejected).float().mean())}
    return loss, metrics


class DPOLoss(LoggedLoss):
    """``Trainer`` loss_fn on ``collate_preferences`` batches (chosen rows, then rejected rows).

    Reference log-probs come from the batch (``ref_logps``, precomputed by ``PreferenceBatches``)
    or, failing that, from ``reference`` under no_grad. Pass the object as ``callbacks=[loss]``
    too, to log the DPO metrics per step.
    """

    def __init__(self, reference=None, beta: float = 0.1, loss_type: str = "sigmoid"):
        super().__init__()
        if loss_type not in LOSS_TYPES or beta <= 0:
            raise ValueError(f"need beta > 0 and loss_type in {LOSS_TYPES}; "
                             f"got {beta}, {loss_type!r}")
        self.reference, self.beta, self.loss_type = reference, beta, loss_type
        if reference is not None:
            reference.requires_grad_(False).eval()

    def reference_logps(self, batch: dict) -> torch.Tensor:
        if "ref_logps" in batch:
            return batch["ref_logps"]
        if self.reference is None:
            raise ValueError("DPOLoss needs reference log-probs: give it reference=ref_model, or "
                             "build the batches with PreferenceBatches(..., reference_model=ref)")
        device = batch["input_ids"].device
        if next(self.reference.parameters()).device != device:
            self.reference.to(device)
        with torch.no_grad():
            return sequence_logprobs(self.reference, batch).sum(-1)

    def compute(self, model, batch):
        policy_logps = sequence_logprobs(model, batch).sum(-1)
        ref_logps = self.reference_logps(batch).to(policy_logps.dtype)
        policy_chosen, policy_rejected = policy_logps.chunk(2)
        ref_chosen, ref_rejected = ref_logps.chunk(2)
        return dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, self.beta,
                        self.loss_type)


@dataclass
class DPOConfig:
    beta: float = 0.1
    loss_type: str = "sigmoid"         # or "ipo"
    batch_size: int = 8                # pairs per step
    precompute_reference: bool = True  # score each pair with the reference once (when first drawn)
    seed: int = 0

    def __post_init__(self):
        if self.beta <= 0 or self.loss_type not in LOSS_TYPES or self.batch_size < 1:
            raise ValueError(f"DPOConfig needs beta > 0, loss_type in {LOSS_TYPES}, "
                             f"batch_size >= 1; got {self.beta}, {self.loss_type!r}, "
                             f"{self.batch_size}")


def train_dpo(policy, ref, triples: Sequence, config: DPOConfig | None = None,
              train_config: TrainConfig | None = None, pad_id: int = 0,
              val_triples: Sequence | None = None, progress: bool = True, callbacks=()):
    """DPO with the shared ``Trainer``: ``policy`` is trained in place, ``ref`` (a separate copy)
    stays frozen. ``triples`` are (prompt, chosen, rejected) id lists. Returns the history
    DataFrame: loss, lr, rewards/chosen, rewards/rejected, rewards/margins, rewards/accuracy, ...
    (and val_loss, the DPO loss on ``val_triples``, when given). ``callbacks`` (``Trainer``
    callbacks) run after the loss's own, so they see its metrics in each step's row."""
    from minillm.rlhf.ppo import check_reference

    config = config or DPOConfig()
    train_config = train_config or TrainConfig(max_steps=100, lr=1e-5, min_lr=1e-6, warmup_steps=10,
                                               weight_decay=0.0, eval_every=0)
    ref = check_reference(policy, ref)
    batches = PreferenceBatches(triples, config.batch_size, pad_id, config.seed,
                                reference_model=ref if config.precompute_reference else None)
    val = None
    if val_triples:
        val = preference_eval_batches(val_triples, config.batch_size, pad_id, ref)
    loss = DPOLoss(ref, config.beta, config.loss_type)
    trainer = Trainer(policy, train_config, batches, val_batches=val, loss_fn=loss,
                      callbacks=[loss, *callbacks], device=policy.device, progress=progress)
    return trainer.fit()


def preference_eval_batches(triples: Sequence, batch_size: int, pad_id: int,
                            reference) -> list[dict]:
    """Every triple once, in order, with its reference log-probs: fixed validation batches."""
    ref_logps = reference_sequence_logps(reference, list(triples), pad_id)
    batches = []
    for start in range(0, len(triples), batch_size):
        batch = collate_preferences(triples[start:start + batch_size], pad_id)
        chunk = ref_logps[start:start + batch_size]
        batch["ref_logps"] = torch.cat([chunk[:, 0], chunk[:, 1]])
        batches.append(batch)
    return batches
