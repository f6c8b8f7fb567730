"""LoRA (Hu et al. 2021): learn a low-rank change to chosen weight matrices.

Fine-tuning changes a weight ``W`` (out x in) by some ``dW``; LoRA bets that ``dW`` has low rank
and learns it as ``B @ A`` with ``A`` (r x in) and ``B`` (out x r), ``r`` much smaller than either
side. The layer computes ``W x + (alpha / r) * B A dropout(x)``. ``B`` starts at zero, so the
adapted model starts out *equal* to the base model; ``A`` starts random, so gradients flow to
``B`` from the first step. ``alpha / r`` keeps the update's scale steady when you change ``r``.

After training, ``merge()`` folds ``(alpha / r) * B @ A`` into ``W``: inference costs nothing extra.
``unmerge()`` subtracts it again (equal to the original up to float rounding).

Targets are chosen by name: a pattern matches a ``Linear``'s full name (``blocks.0.attn.q_proj``)
as a glob (``blocks.*.attn.q_proj``) or by its last parts (``q_proj``, ``attn.v_proj``). The
default adapts the attention queries and values, as the paper did; ``targets=("all",)`` adapts
every linear layer of every block. One model can hold several named adapters; ``activate``
switches between them, and ``set_active_adapters(model, ["a", "b", None])`` gives each row of the
next batches its own adapter (one batch serving several tasks).

    lora = LoRA(model, LoRAConfig(r=8, alpha=16, targets=("q_proj", "v_proj")), name="qa")
    mark_only_adapters_trainable(model)           # everything else frozen
    history = Trainer(model, TrainConfig(max_steps=200, lr=1e-3), batches).fit()
    lora.merge(); ...; lora.unmerge()
    trainable_parameters(model), lora.num_parameters()
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class LoRAConfig:
    r: int = 8
    alpha: float = 16.0
    dropout: float = 0.0
    targets: tuple[str, ...] = ("attn.q_proj", "attn.v_proj")   # ("all",): every linear in blocks
    seed: int = 0

    def __post_init__(self):
        if self.r < 1:
            raise ValueError(f"LoRA rank r must be >= 1, got {self.r}")
        if self.alpha <= 0:
            raise ValueError(f"alpha must be > 0, got {self.alpha}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if isinstance(self.targets, str):
            object.__setattr__(self, "targets", (self.targets,))
        object.__setattr__(self, "targets", tuple(self.targets))
        if not self.targets:
            raise ValueError('targets is empty: name the layers to adapt, e.g. ("q_proj", "v_proj")')

    @property
    def scale(self) -> float:
        return self.alpha / self.r


def matches(name: str, pattern: str) -> bool:
    """Does the module ``name`` match a LoRA target ``pattern`` (see the module docstring)?"""
    if pattern == "all":
        return name.startswith("blocks.") or ".blocks." in name
    return fnmatch.fnmatchcase(name, pattern) or name == pattern or name.endswith("." + pattern)


class LoRALinear(nn.Linear):
    """A ``Linear`` (sharing the original's weight and bias tensors) plus named LoRA adapters.

    ``active`` is None (base only), an adapter name, or one name-or-None per batch row.
    """

    def __init__(self, linear: nn.Linear):
        nn.Module.__init__(self)
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.weight, self.bias = linear.weight, linear.bias       # the same Parameters: no copy
        self.lora_A, self.lora_B = nn.ParameterDict(), nn.ParameterDict()
        self.scales: dict[str, float] = {}
        self.dropouts = nn.ModuleDict()
        self.merged: set[str] = set()
        self.active: str | tuple[str | None, ...] | None = None

    def add(self, name: str, config: LoRAConfig, generator: torch.Generator) -> None:
        A = torch.empty(config.r, self.in_features)
        # nn.Linear's own init (Kaiming-uniform, a=sqrt(5)), drawn from the adapter's generator
        bound = 1 / math.sqrt(self.in_features)
        A.uniform_(-bound, bound, generator=generator)
        like = self.weight
        self.lora_A[name] = nn.Parameter(A.to(device=like.device, dtype=like.dtype))
        self.lora_B[name] = nn.Parameter(torch.zeros(self.out_features, config.r, device=like.device,
                                                     dtype=like.dtype))
        self.scales[name] = config.scale
        self.dropouts[name] = nn.Dropout(config.dropout)

    def delta_weight(self, name: str) -> torch.Tensor:
        return (self.lora_B[name] @ self.lora_A[name]) * self.scales[name]

    def lora_output(self, name: str, x: torch.Tensor) -> torch.Tensor:
        A, B = self.lora_A[name].to(x.dtype), self.lora_B[name].to(x.dtype)
        return F.linear(F.linear(self.dropouts[name](x), A), B) * self.scales[name]

    def forward(self, x):
        y = F.linear(x, self.weight, self.bias)
        active = self.active
        if active is None:
            return y
        if isinstance(active, str):      # a layer another adapter targets does not hold this one
            if active not in self.lora_A or active in self.merged:
                return y
            return y + self.lora_output(active, x)
        if len(active) != x.shape[0]:
            raise ValueError(f"{len(active)} per-row adapters are active but the batch has "
                             f"{x.shape[0]} rows: call set_active_adapters with one entry per row")
        for name in sorted({a for a in active if a is not None and a in self.lora_A}):
            rows = torch.tensor([i for i, a in enumerate(active) if a == name], device=x.device)
            y = y.index_add(0, rows, self.lora_output(name, x.index_select(0, rows)))
        return y


def lora_layers(model: nn.Module) -> dict[str, LoRALinear]:
    return {name: m for name, m in model.named_modules() if isinstance(m, LoRALinear)}


def adapter_names(model: nn.Module) -> list[str]:
    """Names of the LoRA adapters injected into ``model``."""
    names = set()
    for layer in lora_layers(model).values():
        names.update(layer.lora_A.keys())
    return sorted(names)


def set_active_adapters(model: nn.Module, selection) -> None:
    """Which LoRA adapter the next forward passes use: None (the base model), a name (or a ``LoRA``),
    or one of those per batch row (mixed-task batches; merged adapters cannot be mixed)."""
    named = lambda a: a.name if isinstance(a, LoRA) else a
    selection = named(selection) if selection is None or isinstance(selection, (str, LoRA)) \
        else [named(a) for a in selection]
    layers = lora_layers(model)
    known = adapter_names(model)
    wanted = {selection} if isinstance(selection, str) else set(selection or ()) - {None}
    unknown = sorted(wanted - set(known))
    if unknown:
        raise ValueError(f"unknown LoRA adapter(s) {unknown}; this model has {known}")
    for layer in layers.values():
        if layer.merged and (not isinstance(selection, str) or layer.merged != {selection}):
            raise ValueError(f"adapter {sorted(layer.merged)} is merged into the weights; call "
                             f"unmerge() before switching adapters")
        layer.active = selection if selection is None or isinstance(selection, str) \
            else tuple(selection)


class LoRA:
    """One named LoRA adapter injected into ``model`` (and made the active one)."""

    kind = "lora"

    def __init__(self, model: nn.Module, config: LoRAConfig = LoRAConfig(), name: str = "default"):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
            raise ValueError(f"adapter name {name!r} must be letters, digits, '_' or '-' (no dots)")
        if name in adapter_names(model):
            raise ValueError(f"model already has a LoRA adapter named {name!r}; pick another name")
        self.model, self.config, self.name = model, config, name
        targets = [n for n, m in model.named_modules()
                   if isinstance(m, nn.Linear) and any(matches(n, p) for p in config.targets)]
        if not targets:
            linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
            raise ValueError(f"no Linear layer matches targets {config.targets}; layers are e.g. "
                             f"{linears[:6]}")
        wte = getattr(model, "wte", None)
        generator = torch.Generator().manual_seed(config.seed)
        self.layers: dict[str, LoRALinear] = {}
        for target in targets:
            parent_name, _, child = target.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            layer = getattr(parent, child)
            if wte is not None and layer.weight is wte.weight:
                raise ValueError(f"{target} shares its weight with the token embedding (tied); "
                                 f"adapting it would change the input embeddings too. Leave it out.")
            if not isinstance(layer, LoRALinear):
                layer = LoRALinear(layer)
                setattr(parent, child, layer)
            layer.add(name, config, generator)
            self.layers[target] = layer
        self.activate()

    def activate(self) -> LoRA:
        set_active_adapters(self.model, self.name)
        return self

    def parameters(self) -> list[nn.Parameter]:
        return [p for layer in self.layers.values()
                for p in (layer.lora_A[self.name], layer.lora_B[self.name])]

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def state_dict(self) -> dict[str, torch.Tensor]:
        """``{layer}.lora_A`` / ``{layer}.lora_B`` tensors (names free of the adapter's name)."""
        out = {}
        for target, layer in self.layers.items():
            out[f"{target}.lora_A"] = layer.lora_A[self.name].detach()
            out[f"{target}.lora_B"] = layer.lora_B[self.name].detach()
        return out

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        expected = self.state_dict()
        if set(state) != set(expected):
            raise ValueError(f"LoRA tensors do not match this adapter's layers: missing "
                             f"{sorted(set(expected) - set(state))[:4]}, unexpected "
                             f"{sorted(set(state) - set(expected))[:4]}")
        for key, target in expected.items():
            if state[key].shape != target.shape:
                raise ValueError(f"{key} has shape {tuple(state[key].shape)}, this model needs "
                                 f"{tuple(target.shape)}: the adapter was made for another model")
            target.copy_(state[key])

    @torch.no_grad()
    def merge(self) -> None:
        """W <- W + (alpha/r) B A in every adapted layer; the adapter becomes the active one and
        costs nothing at inference any more (switching adapters needs unmerge() first)."""
        if any(self.name in layer.merged for layer in self.layers.values()):
            raise ValueError(f"adapter {self.name!r} is already merged")
        self.activate()
        for layer in self.layers.values():
            layer.weight += layer.delta_weight(self.name).to(layer.weight.dtype)
            layer.merged.add(self.name)

    @torch.no_grad()
    def unmerge(self) -> None:
        """Subtract the merged update again (the base weights come back, up to float rounding)."""
        for layer in self.layers.values():
            if self.name not in layer.merged:
                raise ValueError(f"adapter {self.name!r} is not merged")
        for layer in self.layers.values():
            layer.weight -= layer.delta_weight(self.name).to(layer.weight.dtype)
            layer.merged.discard(self.name)

    def remove(self) -> None:
        """Take this adapter out of the model (unmerging first); layers left without adapters
        become plain ``nn.Linear`` again, holding the same weight tensors."""
        if any(self.name in layer.merged for layer in self.layers.values()):
            self.unmerge()
        for target, layer in self.layers.items():
            del layer.lora_A[self.name], layer.lora_B[self.name], layer.dropouts[self.name]
            del layer.scales[self.name]
            if layer.active == self.name or not isinstance(layer.active, (str, type(None))):
                layer.active = None
            if not layer.lora_A:
                plain = nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None,
                                  device="meta")
                plain.weight, plain.bias = layer.weight, layer.bias
                parent_name, _, child = target.rpartition(".")
                parent = self.model.get_submodule(parent_name) if parent_name else self.model
                setattr(parent, child, plain)
        self.layers = {}


def mark_only_adapters_trainable(model: nn.Module, lora_names: Sequence[str] | None = None) -> int:
    """Freeze every parameter of ``model`` except its adapters' (LoRA matrices, soft prompts,
    prefixes); ``lora_names`` limits the LoRA ones to those adapters. Returns the trainable count."""
    model.requires_grad_(False)
    for module in model.modules():
        if getattr(module, "peft_adapter", False):
            module.requires_grad_(True)
        elif isinstance(module, LoRALinear):
            for name in module.lora_A.keys():
                if lora_names is None or name in lora_names:
                    module.lora_A[name].requires_grad_(True)
                    module.lora_B[name].requires_grad_(True)
    return trainable_parameters(model)


def trainable_parameters(model: nn.Module) -> int:
    """How many numbers an optimizer would update (shared tensors counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def parameter_summary(model: nn.Module) -> dict:
    """Trainable and total parameters of ``model`` and the trainable share (for a results table)."""
    total = sum(p.numel() for p in model.parameters())
    trainable = trainable_parameters(model)
    return {"trainable": trainable, "total": total, "trainable_pct": 100.0 * trainable / max(total, 1)}
