"""Soft prompt tuning (Lester et al. 2021): learn a few input vectors, keep the model frozen.

A prompt is a sequence of token embeddings. A *soft* prompt drops the constraint that each vector
be the embedding of a real token: ``n_tokens`` free vectors of size ``n_embd`` are prepended to
every input and trained by gradient descent while every weight of the model stays fixed. A task
then costs ``n_tokens * n_embd`` numbers (a few kilobytes), and one frozen model serves many tasks.

Initialisation matters for small models (Lester et al., section 3): ``"random"`` draws Gaussian
vectors at the scale of the embedding table, ``"vocab"`` copies the embeddings of randomly chosen
vocabulary tokens, and ``"text"`` copies the embeddings of given token ids (say, the words of a
task description), so training starts from a real, hard prompt.

Positions: the virtual tokens take positions ``0 .. n_tokens - 1`` and the text follows them, as
if the soft prompt were ordinary text in front of it (it counts towards ``context_length``).

    config = SoftPromptConfig(n_tokens=8, init="text", init_ids=enc.encode("Sentiment:"))
    soft = SoftPrompt(model, config)
    tuned = SoftPromptModel(model, soft)          # freezes model; only soft.embeddings trains
    history = Trainer(tuned, TrainConfig(max_steps=200, lr=3e-2, weight_decay=0.0), batches).fit()
    nearest_tokens(soft, model, k=3)              # (8, 3) vocabulary ids, to decode and inspect

Generation with the KV cache, and batches that mix several soft prompts, are in
``minillm.peft.adapters`` (``generate_with_soft_prompt``, ``generate_with_adapters``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

SOFT_PROMPT_INITS = ("random", "vocab", "text")


@dataclass(frozen=True)
class SoftPromptConfig:
    n_tokens: int = 20
    init: str = "vocab"                      # "random" | "vocab" | "text"
    init_ids: tuple[int, ...] | None = None  # the text for init="text" (cycled up to n_tokens)
    seed: int = 0

    def __post_init__(self):
        if self.n_tokens < 0:
            raise ValueError(f"n_tokens must be >= 0, got {self.n_tokens}")
        if self.init not in SOFT_PROMPT_INITS:
            raise ValueError(f"init={self.init!r} is not one of {SOFT_PROMPT_INITS}")
        if self.init_ids is not None:
            object.__setattr__(self, "init_ids", tuple(int(i) for i in self.init_ids))
        if self.init == "text":
            if not self.init_ids:
                raise ValueError('init="text" needs init_ids: the token ids of the initial prompt')
            if len(self.init_ids) > self.n_tokens:
                raise ValueError(f"init_ids has {len(self.init_ids)} tokens but n_tokens="
                                 f"{self.n_tokens}; raise n_tokens or give a shorter text")


def init_token_ids(config, vocab_size: int, length: int) -> list[int]:
    """The token ids a "vocab" or "text" initialisation copies (shared with prefix tuning)."""
    if config.init == "text":
        if max(config.init_ids) >= vocab_size or min(config.init_ids) < 0:
            raise ValueError(f"init_ids must lie in [0, {vocab_size}) (the model's vocabulary)")
        # repeat the text to fill every slot: each virtual token starts on a real embedding
        return [config.init_ids[i % len(config.init_ids)] for i in range(length)]
    generator = torch.Generator().manual_seed(config.seed)
    return torch.randint(0, vocab_size, (length,), generator=generator).tolist()


class SoftPrompt(nn.Module):
    """``n_tokens`` trainable vectors (``.embeddings``, shape (n_tokens, n_embd)) for ``model``."""

    peft_adapter = True          # mark_only_adapters_trainable() trains every parameter in here
    kind = "soft_prompt"

    def __init__(self, model, config: SoftPromptConfig = SoftPromptConfig()):
        super().__init__()
        self.config = config
        table = model.wte.weight.detach()
        n, d = config.n_tokens, table.shape[1]
        if n > model.config.context_length - 1:
            raise ValueError(f"n_tokens={n} leaves no room for text in context_length="
                             f"{model.config.context_length}")
        if config.init == "random":
            generator = torch.Generator().manual_seed(config.seed)
            # the table's own scale: far larger or smaller vectors would swamp or vanish in attention
            init = torch.randn(n, d, generator=generator) * table.float().std().cpu()
        else:
            ids = torch.tensor(init_token_ids(config, table.shape[0], n), dtype=torch.long)
            init = table[ids.to(table.device)].float().cpu()
        self.embeddings = nn.Parameter(init.to(device=table.device, dtype=table.dtype).clone())

    @property
    def n_tokens(self) -> int:
        return self.embeddings.shape[0]

    def num_parameters(self) -> int:
        return self.embeddings.numel()

    def prepend(self, token_embeds: torch.Tensor) -> torch.Tensor:
        """[soft prompt; token_embeds] for a batch (B, T, n_embd) -> (B, n_tokens + T, n_embd)."""
        B = token_embeds.shape[0]
        soft = self.embeddings.to(token_embeds.dtype)[None].expand(B, -1, -1)
        return torch.cat([soft, token_embeds], dim=1)


class AdaptedModel(nn.Module):
    """What ``SoftPromptModel`` and ``PrefixModel`` share: a GPT (``self.base``, frozen unless
    ``freeze_base=False``) behind a trainable adapter, which passes on the base's ``config`` and
    ``device`` so that ``Trainer`` can treat the wrapper as the model. A subclass checks its
    adapter fits the model, calls ``super().__init__`` and then stores the adapter."""

    def __init__(self, model, freeze_base: bool = True):
        super().__init__()
        self.base = model
        if freeze_base:
            model.requires_grad_(False)

    @property
    def config(self):                 # Trainer reads it to estimate FLOPs
        return self.base.config

    @property
    def device(self) -> torch.device:
        return self.base.device


class SoftPromptModel(AdaptedModel):
    """A frozen GPT behind a soft prompt, with GPT's forward signature, ready for ``Trainer``.

    ``forward(idx, targets)`` returns logits for the ``T`` real positions only (shape (B, T, vocab),
    as the bare model would) and the loss over them; the virtual positions carry no loss.
    """

    def __init__(self, model, soft_prompt: SoftPrompt, freeze_base: bool = True):
        if soft_prompt.embeddings.shape[1] != model.config.n_embd:
            raise ValueError(f"the soft prompt has vectors of size {soft_prompt.embeddings.shape[1]} "
                             f"but the model's n_embd is {model.config.n_embd}")
        super().__init__(model, freeze_base)
        self.soft_prompt = soft_prompt.to(model.device)

    def forward(self, idx=None, targets=None, *, positions=None, attention_mask=None, cache=None,
                ignore_index: int = -100, inputs_embeds=None):
        if positions is not None or attention_mask is not None or cache is not None:
            raise ValueError("SoftPromptModel takes plain (B, T) batches (right padding with -100 "
                             "targets is fine); for left-padded batches and KV-cache generation use "
                             "minillm.peft.adapter_logits / generate_with_soft_prompt")
        if (idx is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of idx (token ids) and inputs_embeds")
        embeds = self.base.wte(idx) if inputs_embeds is None else inputs_embeds
        P = self.soft_prompt.n_tokens
        if targets is not None:
            no_loss = targets.new_full((targets.shape[0], P), ignore_index)
            targets = torch.cat([no_loss, targets], dim=1)
        logits, loss = self.base(None, targets, inputs_embeds=self.soft_prompt.prepend(embeds),
                                 ignore_index=ignore_index)
        return logits[:, P:], loss


@torch.no_grad()
def nearest_tokens(soft_prompt: SoftPrompt, model, k: int = 5) -> torch.Tensor:
    """(n_tokens, k) vocabulary ids nearest to each virtual token by cosine similarity, nearest
    first. Decode them to see what a soft prompt "says" (often little: Lester et al., section 7)."""
    vocab = model.wte.weight.shape[0]
    if not 1 <= k <= vocab:
        raise ValueError(f"k must be between 1 and the vocabulary size {vocab}, got {k}")
    soft = F.normalize(soft_prompt.embeddings.detach().float(), dim=-1)
    table = F.normalize(model.wte.weight.detach().float(), dim=-1).to(soft.device)
    similarity = soft @ table.T                                   # (n_tokens, vocab)
    return similarity.topk(k, dim=-1).indices.cpu()
