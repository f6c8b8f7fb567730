"""Prefix tuning (Li & Liang 2021): trainable keys and values in front of every layer.

A soft prompt only touches the input; a *prefix* reaches every layer. For each layer we learn
``n_prefix`` key vectors and ``n_prefix`` value vectors per K/V head, and every query of that layer
attends to them as if they came from ``n_prefix`` earlier tokens. The model's weights stay frozen.

How it plugs into the unchanged ``GPT``: a ``KVCache`` pre-filled with the prefix keys and values
(shape (B, kv_heads, n_prefix, head_dim) per layer, the same for every row), then the text run with
``cache=`` and an explicit attention mask whose first ``n_prefix`` columns are open.

Position convention (RoPE): the cache holds keys *after* rotation, so the prefix keys are used as
they are, never rotated again. They are learned directly in the rotated space, and we read them as
the keys of virtual tokens at positions ``0 .. n_prefix - 1``: the text starts at position
``n_prefix`` (it counts towards ``context_length``, with learned positions too). With this
convention a prefix initialised from a text (``init="text"``) is *exactly* that text's KV cache, so
the prefixed model starts out identical to the bare model reading ``text + input``.

Reparameterisation (Li & Liang, section 4.3): training the raw tensors directly can be unstable, so
by default they are produced by a small MLP, ``prefix = init + MLP(E)`` with a trainable (n_prefix,
hidden) matrix ``E``. The MLP's last layer starts at zero, so training starts exactly from ``init``
(the text's or random tokens' keys and values). After training, ``fold()`` evaluates the MLP once
and keeps only the plain tensors: what is saved and served.

    prefix = PrefixTuning(model, PrefixConfig(n_prefix=10, init="text", init_ids=ids))
    tuned = PrefixModel(model, prefix)           # freezes model; Trainer(tuned, ...) trains the prefix
    history = Trainer(tuned, TrainConfig(max_steps=200, lr=1e-2, weight_decay=0.0), batches).fit()
    prefix.fold()                                # drop the MLP: (n_layer, kv_heads, P, head_dim) x 2
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from minillm.generate import KVCache
from minillm.generate import attention_mask as make_attention_mask
from minillm.peft.soft_prompt import AdaptedModel, init_token_ids

PREFIX_INITS = ("vocab", "text")


@dataclass(frozen=True)
class PrefixConfig:
    n_prefix: int = 10
    reparameterize: bool = True              # train through an MLP, fold() afterwards
    mlp_hidden: int = 64
    init: str = "vocab"                      # "vocab": random tokens' keys/values; "text": init_ids'
    init_ids: tuple[int, ...] | None = None
    seed: int = 0

    def __post_init__(self):
        if self.n_prefix < 1:
            raise ValueError(f"n_prefix must be >= 1, got {self.n_prefix}")
        if self.mlp_hidden < 1:
            raise ValueError(f"mlp_hidden must be >= 1, got {self.mlp_hidden}")
        if self.init not in PREFIX_INITS:
            raise ValueError(f"init={self.init!r} is not one of {PREFIX_INITS}")
        if self.init_ids is not None:
            object.__setattr__(self, "init_ids", tuple(int(i) for i in self.init_ids))
        if self.init == "text":
            if not self.init_ids:
                raise ValueError('init="text" needs init_ids: the token ids whose keys and values '
                                 'start the prefix')
            if len(self.init_ids) > self.n_prefix:
                raise ValueError(f"init_ids has {len(self.init_ids)} tokens but n_prefix="
                                 f"{self.n_prefix}; raise n_prefix or give a shorter text")


@torch.no_grad()
def text_key_values(model, ids: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """The KV cache of ``model`` reading ``ids`` at positions 0.. : two (n_layer, kv_heads, T,
    head_dim) tensors, keys post-RoPE (what prefix tuning stores)."""
    was_training = model.training
    model.eval()
    T = len(ids)
    cache = KVCache(model.config.n_layer, T)
    model.hidden_states(torch.tensor([ids], device=model.device), cache=cache)
    model.train(was_training)
    keys = torch.stack([k[0, :, :T] for k in cache.keys])
    values = torch.stack([v[0, :, :T] for v in cache.values])
    return keys, values


class PrefixTuning(nn.Module):
    """Per-layer key/value prefixes for ``model``; ``key_values()`` gives them as
    two (n_layer, kv_heads, n_prefix, head_dim) tensors."""

    peft_adapter = True          # mark_only_adapters_trainable() trains every parameter in here
    kind = "prefix"

    def __init__(self, model, config: PrefixConfig = PrefixConfig()):
        super().__init__()
        c = model.config
        if config.n_prefix > c.context_length - 1:
            raise ValueError(f"n_prefix={config.n_prefix} leaves no room for text in context_length="
                             f"{c.context_length}")
        self.config = config
        self.shape = (c.n_layer, c.kv_heads, config.n_prefix, c.head_dim)
        ids = init_token_ids(config, c.vocab_size, config.n_prefix)
        keys, values = text_key_values(model, ids)
        if config.reparameterize:
            generator = torch.Generator().manual_seed(config.seed)
            width = 2 * keys.numel() // config.n_prefix        # both tensors, per prefix position
            hidden = config.mlp_hidden
            first = nn.utils.skip_init(nn.Linear, hidden, hidden)   # no draw from the global RNG
            last = nn.utils.skip_init(nn.Linear, hidden, width)
            with torch.no_grad():
                first.weight.uniform_(-hidden ** -0.5, hidden ** -0.5, generator=generator)
                first.bias.zero_()
                last.weight.zero_()          # so the prefix starts exactly at init_kv
                last.bias.zero_()
            self.mlp = nn.Sequential(first, nn.Tanh(), last).to(keys.device)
            self.prefix_embedding = nn.Parameter(
                torch.randn(config.n_prefix, hidden, generator=generator).to(keys.device))
            self.register_buffer("init_kv", self._flatten(keys, values), persistent=False)
        else:
            self.keys, self.values = nn.Parameter(keys.clone()), nn.Parameter(values.clone())

    @property
    def n_prefix(self) -> int:
        return self.shape[2]

    @property
    def reparameterized(self) -> bool:
        return hasattr(self, "mlp")

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def _flatten(self, keys, values):
        # (L, H, P, D) x 2 -> (P, 2*L*H*D): one MLP output row per prefix position
        both = torch.stack([keys, values])                       # (2, L, H, P, D)
        return both.permute(3, 0, 1, 2, 4).reshape(self.n_prefix, -1)

    def key_values(self) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.reparameterized:
            return self.keys, self.values
        flat = self.init_kv + self.mlp(self.prefix_embedding)
        L, H, P, D = self.shape
        both = flat.view(P, 2, L, H, D).permute(1, 2, 3, 0, 4)    # (2, L, H, P, D)
        return both[0], both[1]

    @torch.no_grad()
    def fold(self) -> PrefixTuning:
        """Evaluate the reparameterisation once and keep plain tensors (the MLP is dropped)."""
        if self.reparameterized:
            keys, values = (t.detach().clone() for t in self.key_values())
            del self.mlp, self.prefix_embedding, self.init_kv
            self.keys, self.values = nn.Parameter(keys), nn.Parameter(values)
        return self

    def fill_cache(self, cache: KVCache, batch_size: int, dtype: torch.dtype | None = None) -> KVCache:
        """Write the prefix into an empty ``cache`` for ``batch_size`` rows (same prefix each row),
        as ``dtype`` (the model's, so a half-precision model gets half-precision keys)."""
        if cache.length:
            raise ValueError("fill_cache needs an empty KVCache: the prefix must come first")
        keys, values = self.key_values()
        dtype = dtype or keys.dtype
        for layer in range(self.shape[0]):
            cache.append(layer, keys[layer][None].expand(batch_size, -1, -1, -1).to(dtype),
                         values[layer][None].expand(batch_size, -1, -1, -1).to(dtype))
        cache.advance(self.n_prefix)
        return cache


class PrefixModel(AdaptedModel):
    """A frozen GPT behind a prefix, with GPT's forward signature, ready for ``Trainer``.

    Plain (B, T) batches (right padding with -100 targets is fine); logits (B, T, vocab).
    """

    def __init__(self, model, prefix: PrefixTuning, freeze_base: bool = True):
        c = model.config
        if prefix.shape[:2] + prefix.shape[3:] != (c.n_layer, c.kv_heads, c.head_dim):
            raise ValueError(f"the prefix has shape {prefix.shape} (n_layer, kv_heads, P, head_dim) "
                             f"but the model has n_layer={c.n_layer}, kv_heads={c.kv_heads}, "
                             f"head_dim={c.head_dim}")
        super().__init__(model, freeze_base)
        self.prefix = prefix.to(model.device)

    def forward(self, idx=None, targets=None, *, positions=None, attention_mask=None, cache=None,
                ignore_index: int = -100, inputs_embeds=None):
        if positions is not None or attention_mask is not None or cache is not None:
            raise ValueError("PrefixModel takes plain (B, T) batches; for left-padded batches and "
                             "KV-cache generation use minillm.peft.adapter_logits / "
                             "generate_with_prefix")
        B, T = (idx if idx is not None else inputs_embeds).shape[:2]
        P = self.prefix.n_prefix
        cache = self.prefix.fill_cache(KVCache(self.base.config.n_layer, P + T), B,
                                       dtype=self.base.wte.weight.dtype)
        device = self.base.device
        positions = torch.arange(P, P + T, device=device).expand(B, T)
        # explicit mask: SDPA's is_causal would align the causal triangle to the prefix columns
        mask = make_attention_mask(torch.ones(B, P + T, dtype=torch.bool, device=device), P, T)
        return self.base(idx, targets, positions=positions, attention_mask=mask, cache=cache,
                         ignore_index=ignore_index, inputs_embeds=inputs_embeds)
