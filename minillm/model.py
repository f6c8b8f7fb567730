"""A GPT in one file: the decoder-only transformer, in two flavours.

Every token id becomes a vector (an embedding); ``n_layer`` blocks each let every position look at
the positions before it (causal self-attention) and then think on its own (an MLP); a final norm and
a linear head turn each vector into logits over the vocabulary, the scores of the next token.

Two presets share the code and differ in a few switches of ``GPTConfig``:

==============  =============================  ==========================================
switch          ``GPTConfig.gpt2()``           ``GPTConfig.modern()`` (Llama-style)
==============  =============================  ==========================================
positions       learned table ``wpe``          rotary (RoPE) on queries and keys
norm            LayerNorm (with bias)          RMSNorm
MLP             GELU, 4x wide                  SwiGLU, ~8/3x wide
biases          yes                            none
heads           one K/V head per query head    optional grouped-query attention (n_kv_head)
output head     tied to the embedding          tied or untied
==============  =============================  ==========================================

The gpt2 preset loads OpenAI's GPT-2 weights (``GPT.from_pretrained("gpt2")``); the modern preset
loads Llama-format weights (``convert_llama_state_dict``). Attention runs through
``F.scaled_dot_product_attention`` (flash / memory-efficient kernels where the hardware has them);
``attention="manual"`` spells the softmax out, for teaching and for the benchmark.

    config = GPTConfig.modern(vocab_size=4096, context_length=256, n_layer=4, n_head=4, n_embd=128)
    model = GPT(config)
    logits, loss = model(x, targets=y)            # x, y: (batch, time) token ids
    model.num_params(), model.num_params(embedding=False)

Generation with a KV cache lives in ``minillm.generate``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

POSITIONS, NORMS, MLPS, ATTENTIONS = ("learned", "rope"), ("layernorm", "rmsnorm"), ("gelu", "swiglu"), ("sdpa", "manual")


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int = 50257
    context_length: int = 1024
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    n_kv_head: int | None = None       # None: as many as n_head; fewer: grouped-query attention
    mlp_hidden: int | None = None      # None: 4 * n_embd (gelu) or ~8/3 * n_embd (swiglu)
    position: str = "learned"
    norm: str = "layernorm"
    mlp: str = "gelu"
    bias: bool = True
    tie_embeddings: bool = True
    norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    dropout: float = 0.0
    attention: str = "sdpa"

    def __post_init__(self):
        for name, value, allowed in (("position", self.position, POSITIONS), ("norm", self.norm, NORMS),
                                     ("mlp", self.mlp, MLPS), ("attention", self.attention, ATTENTIONS)):
            if value not in allowed:
                raise ValueError(f"GPTConfig.{name}={value!r} is not one of {allowed}")
        for name in ("vocab_size", "context_length", "n_layer", "n_head", "n_embd"):
            if getattr(self, name) < 1:
                raise ValueError(f"GPTConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd} must be divisible by n_head={self.n_head}")
        if self.n_head % self.kv_heads:
            raise ValueError(f"n_head={self.n_head} must be a multiple of n_kv_head={self.kv_heads}")
        if self.position == "rope" and self.head_dim % 2:
            raise ValueError(f"RoPE needs an even head size, got n_embd/n_head={self.head_dim}")

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    @property
    def kv_heads(self) -> int:
        return self.n_kv_head or self.n_head

    @property
    def hidden(self) -> int:
        if self.mlp_hidden is not None:
            return self.mlp_hidden
        if self.mlp == "gelu":
            return 4 * self.n_embd
        return 32 * math.ceil(8 * self.n_embd / 3 / 32)   # SwiGLU: 3 matrices at ~2/3 width

    @classmethod
    def gpt2(cls, **overrides) -> GPTConfig:
        """GPT-2 (2019): learned positions, LayerNorm, GELU, biases, tied embeddings."""
        base = dict(position="learned", norm="layernorm", mlp="gelu", bias=True, tie_embeddings=True,
                    norm_eps=1e-5)
        return cls(**{**base, **overrides})

    @classmethod
    def modern(cls, **overrides) -> GPTConfig:
        """Llama-style: RoPE, RMSNorm, SwiGLU, no biases (optionally GQA and an untied head)."""
        base = dict(position="rope", norm="rmsnorm", mlp="swiglu", bias=False, tie_embeddings=True,
                    norm_eps=1e-6)
        return cls(**{**base, **overrides})

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> GPTConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown GPTConfig fields {unknown}; known fields are {sorted(known)}")
        return cls(**data)


class RMSNorm(nn.Module):
    """x / rms(x) * weight: LayerNorm without centring or bias (cheaper, works as well)."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        # normalise in fp32 even under autocast: the mean of squares overflows fp16 easily
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)


def make_norm(config: GPTConfig) -> nn.Module:
    if config.norm == "rmsnorm":
        return RMSNorm(config.n_embd, config.norm_eps)
    return nn.LayerNorm(config.n_embd, eps=config.norm_eps, bias=config.bias)


def rope_tables(head_dim: int, positions: torch.Tensor, theta: float):
    """cos and sin of each (position, frequency) pair, shaped (batch, 1, time, head_dim)."""
    inv_freq = 1.0 / theta ** (torch.arange(0, head_dim, 2, device=positions.device).float() / head_dim)
    angles = positions.float()[..., None] * inv_freq            # (B, T, head_dim/2)
    angles = torch.cat([angles, angles], dim=-1)[:, None]        # (B, 1, T, head_dim)
    return angles.cos(), angles.sin()


def apply_rope(x, cos, sin):
    """Rotate each pair (x_i, x_{i+d/2}) by its angle: the half-split layout Llama weights use."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return (x.float() * cos + rotated.float() * sin).to(x.dtype)


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        hd, nh, nkv = config.head_dim, config.n_head, config.kv_heads
        self.q_proj = nn.Linear(config.n_embd, nh * hd, bias=config.bias)
        self.k_proj = nn.Linear(config.n_embd, nkv * hd, bias=config.bias)
        self.v_proj = nn.Linear(config.n_embd, nkv * hd, bias=config.bias)
        self.o_proj = nn.Linear(nh * hd, config.n_embd, bias=config.bias)
        self.o_proj.residual_scaled = True

    def forward(self, x, rope=None, mask=None, cache=None, layer: int = 0):
        B, T, _ = x.shape
        c = self.config
        q = self.q_proj(x).view(B, T, c.n_head, c.head_dim).transpose(1, 2)      # (B, nh, T, hd)
        k = self.k_proj(x).view(B, T, c.kv_heads, c.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(B, T, c.kv_heads, c.head_dim).transpose(1, 2)
        if rope is not None:
            q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        if cache is not None:
            k, v = cache.append(layer, k, v)                                     # all keys so far
        if c.kv_heads != c.n_head:                                               # GQA: share K/V heads
            k = k.repeat_interleave(c.n_head // c.kv_heads, dim=1)
            v = v.repeat_interleave(c.n_head // c.kv_heads, dim=1)
        dropout = c.dropout if self.training else 0.0
        if c.attention == "sdpa":
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout,
                                               is_causal=mask is None)
        else:
            y = manual_attention(q, k, v, mask, dropout)
        return self.o_proj(y.transpose(1, 2).reshape(B, T, c.n_embd))


def manual_attention(q, k, v, mask=None, dropout: float = 0.0):
    """softmax(q k^T / sqrt(d) + causal mask) v, spelled out (what SDPA computes, slower)."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is None:
        T, S = q.shape[-2], k.shape[-2]
        mask = torch.ones(T, S, dtype=torch.bool, device=q.device).tril(S - T)
    scores = scores.masked_fill(~mask, float("-inf"))
    weights = F.dropout(scores.softmax(dim=-1), p=dropout, training=dropout > 0)
    return weights @ v


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.kind = config.mlp
        if config.mlp == "swiglu":
            self.gate_proj = nn.Linear(config.n_embd, config.hidden, bias=config.bias)
        self.up_proj = nn.Linear(config.n_embd, config.hidden, bias=config.bias)
        self.down_proj = nn.Linear(config.hidden, config.n_embd, bias=config.bias)
        self.down_proj.residual_scaled = True

    def forward(self, x):
        if self.kind == "swiglu":
            return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))
        return self.down_proj(F.gelu(self.up_proj(x), approximate="tanh"))


class Block(nn.Module):
    """Pre-norm residual block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.norm1, self.attn = make_norm(config), CausalSelfAttention(config)
        self.norm2, self.mlp = make_norm(config), MLP(config)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x, rope=None, mask=None, cache=None, layer: int = 0):
        x = x + self.dropout(self.attn(self.norm1(x), rope, mask, cache, layer))
        return x + self.dropout(self.mlp(self.norm2(x)))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.context_length, config.n_embd) if config.position == "learned" else None
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.norm_f = make_norm(config)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        if config.tie_embeddings:
            self.lm_head.weight = self.wte.weight
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            std = 0.02
            if getattr(module, "residual_scaled", False):
                # each block adds two outputs to the residual stream; scale them so its variance
                # stays ~constant with depth (GPT-2 paper, section 2.3)
                std = 0.02 / math.sqrt(2 * self.config.n_layer)
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self, embedding: bool = True) -> int:
        """Parameters (shared tensors once). ``embedding=False`` leaves out the token and position
        tables, Kaplan et al.'s N (the output head still counts when it is untied)."""
        total = sum(p.numel() for p in self.parameters())
        if not embedding:
            total -= self.wte.weight.numel()
            if self.wpe is not None:
                total -= self.wpe.weight.numel()
        return total

    @property
    def device(self) -> torch.device:
        return self.wte.weight.device

    def forward(self, idx, targets=None, *, positions=None, attention_mask=None, cache=None,
                ignore_index: int = -100, inputs_embeds=None):
        """Logits (B, T, vocab) and, given ``targets``, the mean cross-entropy over targets that are
        not ``ignore_index`` (SFT masks prompt tokens that way).

        ``positions`` (B, T) and ``attention_mask`` (B, 1, T, S, True = may attend) serve left-padded
        batches and the KV ``cache``; plain training passes neither and gets causal attention.
        ``inputs_embeds`` (B, T, n_embd) replaces the token embeddings (soft prompts use it; pass
        ``idx=None`` then).
        """
        x = self.hidden_states(idx, positions=positions, attention_mask=attention_mask, cache=cache,
                               inputs_embeds=inputs_embeds)
        logits = self.lm_head(x)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1),
                               ignore_index=ignore_index)
        return logits, loss

    def hidden_states(self, idx=None, *, positions=None, attention_mask=None, cache=None,
                      inputs_embeds=None):
        """The final hidden states (B, T, n_embd), after the last norm and before the output head:
        what a reward model's or a value function's scalar head reads."""
        if (idx is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of idx (token ids) and inputs_embeds")
        if inputs_embeds is None:
            if not _compiling() and (int(idx.max()) >= self.config.vocab_size or int(idx.min()) < 0):
                raise ValueError(f"token id {int(idx.max())} is outside the model's vocabulary "
                                 f"(vocab_size={self.config.vocab_size}): tokenizer and model disagree")
            x = self.wte(idx)
        else:
            x = inputs_embeds
        B, T = x.shape[:2]
        past = cache.length if cache is not None else 0
        if positions is None:
            positions = torch.arange(past, past + T, device=x.device).expand(B, T)
        if not _compiling() and int(positions.max()) >= self.config.context_length:
            raise ValueError(f"position {int(positions.max())} is beyond context_length="
                             f"{self.config.context_length}; shorten the input or the generation")
        rope = None
        if self.wpe is not None:
            x = x + self.wpe(positions)
        else:
            rope = rope_tables(self.config.head_dim, positions, self.config.rope_theta)
        x = self.drop(x)
        for i, block in enumerate(self.blocks):
            x = block(x, rope, attention_mask, cache, i)
        if cache is not None:
            cache.advance(T)
        return self.norm_f(x)

    def check_vocab(self, n_vocab: int, what: str = "the tokenizer") -> None:
        """Raise if ``what`` has a vocabulary this model cannot use (ids out of range, or a model
        built for another tokenizer). A model may round its vocabulary up to a multiple of 64."""
        v = self.config.vocab_size
        if v < n_vocab or v >= n_vocab + 64:
            raise ValueError(f"vocabulary mismatch: {what} has {n_vocab} tokens but the model was "
                             f"built for vocab_size={v}. Load the tokenizer the model was trained "
                             f"with, or build the model with GPTConfig(vocab_size={n_vocab}).")

    @classmethod
    def from_pretrained(cls, name: str = "gpt2", cache_dir: str | Path | None = None) -> GPT:
        """OpenAI's GPT-2 (``gpt2``, ``gpt2-medium``, ``gpt2-large``, ``gpt2-xl``) from the Hugging
        Face hub, or from a local folder holding ``config.json`` + ``model.safetensors``."""
        if Path(name).is_dir():
            return load_hf_gpt2(name)
        if name not in GPT2_SIZES:
            raise ValueError(f"unknown model {name!r}; choose one of {sorted(GPT2_SIZES)} or a folder")
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

        try:
            files = [hf_hub_download(f"openai-community/{name}", f, cache_dir=cache_dir)
                     for f in ("config.json", "model.safetensors")]
        except (LocalEntryNotFoundError, OfflineModeIsEnabled, OSError) as err:
            raise RuntimeError(
                f"cannot download {name!r} from the Hugging Face hub (offline, or the hub is "
                f"unreachable: {type(err).__name__}). Connect to the internet and unset "
                f"HF_HUB_OFFLINE, or pass a folder with config.json + model.safetensors."
            ) from err
        return load_hf_gpt2(Path(files[1]).parent)


GPT2_SIZES = {"gpt2": (12, 12, 768), "gpt2-medium": (24, 16, 1024), "gpt2-large": (36, 20, 1280),
              "gpt2-xl": (48, 25, 1600)}


def convert_gpt2_state_dict(hf: dict[str, torch.Tensor], n_layer: int) -> dict[str, torch.Tensor]:
    """Hugging Face GPT-2 tensor names -> ours. GPT-2 stores Linear weights as (in, out) "Conv1D"
    and q, k, v fused in ``c_attn``: transpose and split them."""
    hf = {k.removeprefix("transformer."): v for k, v in hf.items()}
    out = {"wte.weight": hf["wte.weight"], "wpe.weight": hf["wpe.weight"],
           "norm_f.weight": hf["ln_f.weight"], "norm_f.bias": hf["ln_f.bias"]}
    for i in range(n_layer):
        p, o = f"h.{i}.", f"blocks.{i}."
        qw, kw, vw = hf[p + "attn.c_attn.weight"].t().chunk(3, dim=0)
        qb, kb, vb = hf[p + "attn.c_attn.bias"].chunk(3, dim=0)
        for name, w, b in (("q_proj", qw, qb), ("k_proj", kw, kb), ("v_proj", vw, vb)):
            out[o + f"attn.{name}.weight"], out[o + f"attn.{name}.bias"] = w, b
        pairs = {"attn.o_proj": "attn.c_proj", "mlp.up_proj": "mlp.c_fc", "mlp.down_proj": "mlp.c_proj"}
        for ours, theirs in pairs.items():
            out[o + ours + ".weight"] = hf[p + theirs + ".weight"].t()
            out[o + ours + ".bias"] = hf[p + theirs + ".bias"]
        for ours, theirs in (("norm1", "ln_1"), ("norm2", "ln_2")):
            out[o + ours + ".weight"], out[o + ours + ".bias"] = hf[p + theirs + ".weight"], hf[p + theirs + ".bias"]
    out["lm_head.weight"] = out["wte.weight"]
    return {k: v.contiguous() for k, v in out.items()}


def load_hf_gpt2(folder: str | Path) -> GPT:
    """A GPT-2 saved by transformers (``config.json`` + ``model.safetensors``) as our ``GPT``."""
    from safetensors.torch import load_file

    folder = Path(folder)
    hf_config = json.loads((folder / "config.json").read_text())
    config = GPTConfig.gpt2(vocab_size=hf_config["vocab_size"], context_length=hf_config["n_positions"],
                            n_layer=hf_config["n_layer"], n_head=hf_config["n_head"],
                            n_embd=hf_config["n_embd"], norm_eps=hf_config.get("layer_norm_epsilon", 1e-5))
    model = GPT(config)
    state = convert_gpt2_state_dict(load_file(folder / "model.safetensors"), config.n_layer)
    model.load_state_dict(state, strict=True)
    return model


def convert_llama_state_dict(hf: dict[str, torch.Tensor], n_layer: int,
                             tie_embeddings: bool) -> dict[str, torch.Tensor]:
    """Hugging Face Llama tensor names -> ours (same layouts, only the names differ)."""
    hf = {k.removeprefix("model."): v for k, v in hf.items()}
    out = {"wte.weight": hf["embed_tokens.weight"], "norm_f.weight": hf["norm.weight"]}
    out["lm_head.weight"] = out["wte.weight"] if tie_embeddings else hf["lm_head.weight"]
    names = {"attn.q_proj": "self_attn.q_proj", "attn.k_proj": "self_attn.k_proj",
             "attn.v_proj": "self_attn.v_proj", "attn.o_proj": "self_attn.o_proj",
             "mlp.gate_proj": "mlp.gate_proj", "mlp.up_proj": "mlp.up_proj",
             "mlp.down_proj": "mlp.down_proj", "norm1": "input_layernorm",
             "norm2": "post_attention_layernorm"}
    for i in range(n_layer):
        for ours, theirs in names.items():
            out[f"blocks.{i}.{ours}.weight"] = hf[f"layers.{i}.{theirs}.weight"]
    return out


@torch.no_grad()
def resize_vocab(model: GPT, vocab_size: int) -> GPT:
    """Grow the token embedding (and an untied output head) to ``vocab_size`` rows in place, for
    tokens added to the tokenizer (e.g. chat tokens). Old rows are copied unchanged, so every old
    token means what it meant; new rows start at the mean of the old ones, a neutral embedding
    that keeps the first outputs sensible (Hewitt, 2021)."""
    old = model.config.vocab_size
    if vocab_size < old:
        raise ValueError(f"resize_vocab only grows the vocabulary ({old} -> {vocab_size} would drop "
                         f"tokens); build a new model to shrink it")
    if vocab_size == old:
        return model

    def grown(weight: torch.Tensor) -> torch.Tensor:
        rows = weight.mean(dim=0, keepdim=True).expand(vocab_size - old, -1)
        return torch.cat([weight, rows], dim=0)

    model.wte = nn.Embedding.from_pretrained(grown(model.wte.weight), freeze=False)
    if model.config.tie_embeddings:
        model.lm_head = nn.Linear(model.config.n_embd, vocab_size, bias=False,
                                  device=model.wte.weight.device, dtype=model.wte.weight.dtype)
        model.lm_head.weight = model.wte.weight
    else:
        head = nn.Linear(model.config.n_embd, vocab_size, bias=False,
                         device=model.lm_head.weight.device, dtype=model.lm_head.weight.dtype)
        head.weight.copy_(grown(model.lm_head.weight))
        model.lm_head = head
    model.config = replace(model.config, vocab_size=vocab_size)
    return model


def build_model(config: GPTConfig | dict, device=None) -> GPT:
    """A fresh model from a config (or its dict), moved to ``device``."""
    if isinstance(config, dict):
        config = GPTConfig.from_dict(config)
    model = GPT(config)
    return model.to(device) if device is not None else model


def _compiling() -> bool:
    # value checks read tensors back to Python, which would break a torch.compile graph
    compiler = getattr(torch, "compiler", None)
    return bool(compiler is not None and hasattr(compiler, "is_compiling") and compiler.is_compiling())
