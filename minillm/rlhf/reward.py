"""A reward model: the GPT backbone with a scalar head, trained on human (or judge) preferences.

People find it easier to say which of two answers is better than to give one a score, so the
reward model r(x, y) is fitted to comparisons with the **Bradley-Terry** model
(Ouyang et al. 2022, Stiennon et al. 2020):

    P(chosen beats rejected) = sigmoid(r(x, y_chosen) - r(x, y_rejected))
    loss = -log sigmoid(r_chosen - r_rejected), averaged over pairs

Only differences matter, so the scale's zero point is arbitrary. The model is a language model
(usually a copy of the SFT model: it already reads the chat format) whose final hidden state at the
**last real token** goes through a linear layer to one number. With right padding that token is
the last one of ``attention_mask``; reading a pad position instead would make the reward depend on
how much padding the batch needed.

    rm = RewardModel(copy.deepcopy(sft_model))
    loss_fn = RewardModelLoss()
    batches = PreferenceBatches(triples, batch_size=16, pad_id=pad)  # (prompt, chosen, rejected)
    history = Trainer(rm, TrainConfig(max_steps=300, lr=1e-4), batches, loss_fn=loss_fn,
                      callbacks=[loss_fn]).fit()            # columns: loss, accuracy, margin, ...
    rm.score([prompt + response, ...])                      # floats
    reward_fn = rm.as_reward_fn(pad_id=pad)                 # for PPOTrainer / GRPOTrainer
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from minillm.rlhf.logprobs import LoggedLoss, collate_preferences, last_token_index, make_batch


def bradley_terry_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    """-log sigmoid(r_chosen - r_rejected), mean over pairs (logsigmoid: stable at any margin)."""
    if r_chosen.shape != r_rejected.shape:
        raise ValueError(f"r_chosen {tuple(r_chosen.shape)} and r_rejected "
                         f"{tuple(r_rejected.shape)} must have the same shape "
                         f"(one reward per pair)")
    return -F.logsigmoid(r_chosen - r_rejected).mean()


def preference_metrics(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> dict[str, float]:
    """accuracy: share of pairs ranked right (ties count as wrong); margin: mean r_c - r_r."""
    margin = (r_chosen - r_rejected).detach().float()
    return {"accuracy": float((margin > 0).float().mean()), "margin": float(margin.mean()),
            "reward_chosen": float(r_chosen.detach().float().mean()),
            "reward_rejected": float(r_rejected.detach().float().mean())}


class RewardModel(nn.Module):
    """``backbone`` (a GPT, trained along) + ``head``: Linear(n_embd, 1) at the last real token.

    The backbone is used as given: pass ``copy.deepcopy(sft_model)`` to keep the SFT model intact.
    Its output head is not used (with untied embeddings it gets no gradient and AdamW skips it).
    """

    def __init__(self, backbone: nn.Module):
        super().__init__()
        if not hasattr(backbone, "hidden_states"):
            raise ValueError("RewardModel needs a minillm GPT backbone (with .hidden_states)")
        self.backbone = backbone
        self.config = backbone.config
        self.head = nn.Linear(backbone.config.n_embd, 1)
        # a small head starts every reward near 0, so the first margins are not arbitrary
        nn.init.normal_(self.head.weight, std=1.0 / (backbone.config.n_embd + 1) ** 0.5)
        nn.init.zeros_(self.head.bias)

    @property
    def device(self) -> torch.device:
        return self.head.weight.device

    def forward(self, input_ids: torch.Tensor,
                attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Rewards (B,) of right-padded rows; ``attention_mask`` (B, T) bool marks real tokens
        (None: no padding)."""
        hidden = self.backbone.hidden_states(input_ids)                   # (B, T, n_embd)
        if attention_mask is None:
            B, T = input_ids.shape
            last = torch.full((B,), T - 1, device=input_ids.device)
        else:
            last = last_token_index(attention_mask)
        picked = hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
        return self.head(picked).squeeze(-1).float()

    @torch.no_grad()
    def score(self, sequences: Sequence[Sequence[int]], pad_id: int = 0,
              batch_size: int = 32) -> list[float]:
        """Rewards of many full sequences (prompt + response ids), in batches, in eval mode."""
        if len(sequences) == 0:
            return []
        was_training = self.training
        self.eval()
        out: list[float] = []
        for start in range(0, len(sequences), batch_size):
            chunk = [list(s) for s in sequences[start:start + batch_size]]
            batch = make_batch(chunk, [[] for _ in chunk], pad_id, self.device)
            out += self(batch["input_ids"], batch["attention_mask"]).tolist()
        self.train(was_training)
        return out

    def as_reward_fn(self, pad_id: int = 0) -> Callable[[list, list], list[float]]:
        """``reward_fn(prompts, responses) -> list[float]`` for PPO and GRPO (prompt + response)."""

        def reward_fn(prompts, responses):
            pairs = zip(prompts, responses, strict=True)
            return self.score([list(p) + list(r) for p, r in pairs], pad_id)

        return reward_fn


class RewardModelLoss(LoggedLoss):
    """Bradley-Terry loss on a ``collate_preferences`` batch (chosen rows, then rejected rows).
    Use as ``Trainer(..., loss_fn=l, callbacks=[l])`` to log accuracy and margin per step."""

    def compute(self, model, batch):
        rewards = model(batch["input_ids"], batch["attention_mask"])
        r_chosen, r_rejected = rewards.chunk(2)
        return bradley_terry_loss(r_chosen, r_rejected), preference_metrics(r_chosen, r_rejected)


@torch.no_grad()
def evaluate_reward_model(model: RewardModel, triples: Sequence, pad_id: int = 0,
                          batch_size: int = 32) -> dict[str, float]:
    """Bradley-Terry loss, accuracy and mean margin on held-out (prompt, chosen, rejected)."""
    if len(triples) == 0:
        raise ValueError("evaluate_reward_model needs at least one (prompt, chosen, rejected)")
    was_training = model.training
    model.eval()
    chosen, rejected = [], []
    for start in range(0, len(triples), batch_size):
        batch = collate_preferences(triples[start:start + batch_size], pad_id)
        batch = {k: v.to(model.device) for k, v in batch.items()}
        r_c, r_r = model(batch["input_ids"], batch["attention_mask"]).chunk(2)
        chosen.append(r_c)
        rejected.append(r_r)
    model.train(was_training)
    r_c, r_r = torch.cat(chosen), torch.cat(rejected)
    return {"loss": float(bradley_terry_loss(r_c, r_r)), **preference_metrics(r_c, r_r)}
