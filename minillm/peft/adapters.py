"""Serving adapters: generation with soft prompts and prefixes, mixed-task batches, save and load.

One frozen base model, many small adapters. Each row of a batch can bring its own soft prompt, its
own prefix and its own LoRA adapter, so one forward pass serves several tasks:

* a row's input is ``[its soft prompt; its tokens]``, and rows are left-padded to one width;
* the KV cache starts with a block of prefix columns: row i's prefix fills the last ``P_i``
  columns of that block, the rest are masked (rows without a prefix mask them all);
* each row's positions start at its prefix length (prefix convention: ``minillm.peft.prefix``), so
  a row computes exactly what it would compute alone;
* LoRA layers add each row's own low-rank update (``set_active_adapters``).

Generation prefills the cache with all of that, then samples one token at a time from the cache;
``use_cache=False`` recomputes everything at each step (the reference the cache must match).

An adapter is saved as a folder with ``adapter.safetensors`` (its tensors: kilobytes) and
``adapter.json`` (kind, hyper-parameters, the base model's shape and a SHA-256 of its embedding
table). Loading checks both against the model it is loaded onto.

    out = generate_with_soft_prompt(model, soft, [[5, 6, 7]], max_new_tokens=20, temperature=0)
    bank = AdapterBank(model)
    bank.load("sentiment", "runs/peft/sentiment");  bank.load("qa", "runs/peft/qa")
    bank.generate(["sentiment", "qa", None], [p1, p2, p3], max_new_tokens=20, temperature=0)
    save_adapter(soft, "runs/peft/sentiment", model);  adapter_file_size("runs/peft/sentiment")
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from minillm.fileio import sha256_file
from minillm.generate import Completions, KVCache, attention_mask, sample_next
from minillm.peft.lora import LoRA, LoRAConfig, lora_layers, set_active_adapters
from minillm.peft.prefix import PrefixConfig, PrefixTuning
from minillm.peft.soft_prompt import SoftPrompt, SoftPromptConfig

WEIGHTS, META = "adapter.safetensors", "adapter.json"
FORMAT = "minillm-peft/1"


# --- one batch, many tasks ------------------------------------------------------------------
@dataclass
class Layout:
    """A mixed-task batch laid out for the model (see the module docstring)."""
    embeds: torch.Tensor            # (B, W, n_embd): left-padded [soft prompt; tokens]
    key_valid: torch.Tensor         # (B, Pm + W): prefix columns, then token columns
    positions: torch.Tensor         # (B, W)
    prefix_width: int               # Pm, the widest prefix
    prefix_kv: tuple | None         # two (n_layer, B, kv_heads, Pm, head_dim) tensors, or None
    prompt_lengths: list[int]


def per_row(value, n_rows: int, what: str) -> list:
    """None, one adapter for every row, or a list with one entry (or None) per row."""
    if value is None or not isinstance(value, (list, tuple)):
        return [value] * n_rows
    if len(value) != n_rows:
        raise ValueError(f"{what} has {len(value)} entries for {n_rows} prompts; give one per prompt "
                         f"(None where a row has none) or a single one for all")
    return list(value)


def layout(model, prompts: Sequence[Sequence[int]], soft_prompts=None, prefixes=None) -> Layout:
    """Embeddings, mask, positions and prefix block of a batch whose rows may differ in task."""
    B, vocab, device = len(prompts), model.config.vocab_size, model.device
    softs, pres = per_row(soft_prompts, B, "soft_prompts"), per_row(prefixes, B, "prefixes")
    for row, ids in enumerate(prompts):
        if any(not 0 <= int(t) < vocab for t in ids):
            raise ValueError(f"prompt {row} has token ids outside the vocabulary [0, {vocab})")
    soft_lengths = [s.n_tokens if s is not None else 0 for s in softs]
    prefix_lengths = [p.n_prefix if p is not None else 0 for p in pres]
    lengths = [s + len(ids) for s, ids in zip(soft_lengths, prompts, strict=True)]
    if min(lengths) == 0:
        raise ValueError("a row needs at least one token or a soft prompt to condition on")
    W, Pm = max(lengths), max(prefix_lengths)
    dtype, d = model.wte.weight.dtype, model.config.n_embd
    rows, key_valid = [], torch.zeros(B, Pm + W, dtype=torch.bool, device=device)
    for i, ids in enumerate(prompts):
        tokens = model.wte(torch.tensor(list(ids), dtype=torch.long, device=device).view(-1))
        parts = [tokens.new_zeros(W - lengths[i], d)]
        if softs[i] is not None:
            parts.append(softs[i].embeddings.to(device=device, dtype=dtype))
        rows.append(torch.cat(parts + [tokens]))
        key_valid[i, Pm - prefix_lengths[i]:Pm] = True
        key_valid[i, Pm + W - lengths[i]:] = True
    positions = (key_valid[:, Pm:].long().cumsum(-1) - 1).clamp(min=0)
    positions = positions + torch.tensor(prefix_lengths, device=device)[:, None]
    prefix_kv = None
    if Pm:
        c = model.config
        keys = torch.zeros(c.n_layer, B, c.kv_heads, Pm, c.head_dim, dtype=dtype, device=device)
        values = torch.zeros_like(keys)
        computed = {}
        for i, prefix in enumerate(pres):
            if prefix is None:
                continue
            if id(prefix) not in computed:         # one MLP evaluation per distinct prefix
                computed[id(prefix)] = prefix.key_values()
            k, v = computed[id(prefix)]
            keys[:, i, :, Pm - prefix.n_prefix:] = k.to(device=device, dtype=dtype)
            values[:, i, :, Pm - prefix.n_prefix:] = v.to(device=device, dtype=dtype)
        prefix_kv = (keys, values)
    return Layout(torch.stack(rows), key_valid, positions, Pm, prefix_kv, [len(p) for p in prompts])


def start_cache(model, lay: Layout, length: int) -> KVCache | None:
    """A cache holding the batch's prefix block (None when nothing needs one)."""
    if lay.prefix_kv is None and length == 0:
        return None
    cache = KVCache(model.config.n_layer, lay.prefix_width + length)
    if lay.prefix_kv is not None:
        keys, values = lay.prefix_kv
        for layer in range(model.config.n_layer):
            cache.append(layer, keys[layer], values[layer])
        cache.advance(lay.prefix_width)
    return cache


def prefix_only(lay: Layout, length: int) -> int:
    """Cache room for ``length`` tokens when the batch has prefixes, else none (no cache needed)."""
    return 0 if lay.prefix_kv is None else length


@contextlib.contextmanager
def lora_selection(model, selection):
    """Use ``selection`` (see ``set_active_adapters``: names or ``LoRA`` handles) inside the block;
    ``...`` leaves the model's LoRA state as it is."""
    if selection is ...:
        yield
        return
    before = {name: layer.active for name, layer in lora_layers(model).items()}
    set_active_adapters(model, selection)
    try:
        yield
    finally:
        for name, layer in lora_layers(model).items():
            layer.active = before.get(name)


@torch.no_grad()
def adapter_logits(model, prompts: Sequence[Sequence[int]], *, soft_prompts=None, prefixes=None,
                   lora=...) -> list[torch.Tensor]:
    """Logits at each prompt token, one (len(prompt), vocab) tensor per row, in one batch where
    every row may use its own soft prompt, prefix and LoRA adapter."""
    rows = [list(p) for p in prompts]
    lay = layout(model, rows, soft_prompts, prefixes)
    W = lay.embeds.shape[1]
    was_training = model.training
    model.eval()
    with lora_selection(model, lora):
        logits, _ = model(None, inputs_embeds=lay.embeds, positions=lay.positions,
                          attention_mask=attention_mask(lay.key_valid, lay.prefix_width, W),
                          cache=start_cache(model, lay, prefix_only(lay, W)))
    model.train(was_training)
    return [logits[i, W - n:] for i, n in enumerate(lay.prompt_lengths)]


@torch.no_grad()
def generate_with_adapters(model, prompts, max_new_tokens: int, *, soft_prompts=None, prefixes=None,
                           lora=..., temperature: float = 1.0, top_k: int | None = None,
                           top_p: float | None = None, stop_tokens: Sequence[int] = (),
                           use_cache: bool = True, seed: int | None = None,
                           on_token: Callable[[int, int], None] | None = None, pad_id: int = 0):
    """``minillm.generate.generate`` for adapted prompts: new token ids per row (a single prompt
    gives a single list). ``soft_prompts``, ``prefixes`` and ``lora`` are each None, one for all
    rows, or one per row; ``lora`` names adapters (``...``: keep the model's current choice)."""
    single = len(prompts) > 0 and isinstance(prompts[0], int)
    rows = [list(prompts)] if single else [list(p) for p in prompts]
    if not rows:
        raise ValueError("give at least one prompt")
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
    lay = layout(model, rows, soft_prompts, prefixes)
    B, W = lay.embeds.shape[:2]
    longest = int(lay.positions[:, -1].max()) + 1
    if longest + max_new_tokens > model.config.context_length:
        raise ValueError(f"prefix + soft prompt + prompt ({longest} positions) + max_new_tokens "
                         f"({max_new_tokens}) exceeds context_length {model.config.context_length}")
    device, Pm = model.device, lay.prefix_width
    generator = torch.Generator(device=device).manual_seed(seed) if seed is not None else None
    was_training = model.training
    model.eval()
    key_valid, positions = lay.key_valid, lay.positions
    new_ids = torch.empty(B, 0, dtype=torch.long, device=device)
    # without the cache, a cache still carries the prefix block (start_cache: None if no prefix)
    cache = start_cache(model, lay, W + max_new_tokens if use_cache else prefix_only(lay, W))
    outputs = Completions(B, stop_tokens, pad_id, on_token, device)
    with lora_selection(model, lora):
        logits, _ = model(None, inputs_embeds=lay.embeds, positions=positions, cache=cache,
                          attention_mask=attention_mask(key_valid, Pm, W))
        for n in range(max_new_tokens):
            token = outputs.add(sample_next(logits[:, -1], temperature, top_k, top_p, generator))
            if n == max_new_tokens - 1 or outputs.all_finished():
                break
            width = W + new_ids.shape[1]                  # token columns before this token
            new_ids = torch.cat([new_ids, token[:, None]], dim=1)
            key_valid = torch.cat([key_valid, ~outputs.finished[:, None]], dim=1)
            positions = torch.cat([positions, positions[:, -1:] + 1], dim=1)
            if use_cache:
                logits, _ = model(token[:, None], positions=positions[:, -1:], cache=cache,
                                  attention_mask=attention_mask(key_valid, Pm + width, 1))
            else:
                embeds = torch.cat([lay.embeds, model.wte(new_ids)], dim=1)
                logits, _ = model(None, inputs_embeds=embeds, positions=positions,
                                  cache=start_cache(model, lay, prefix_only(lay, width + 1)),
                                  attention_mask=attention_mask(key_valid, Pm, width + 1))
    model.train(was_training)
    return outputs.tokens[0] if single else outputs.tokens


def generate_with_soft_prompt(model, soft_prompt: SoftPrompt, prompts, max_new_tokens: int, **kw):
    """Generate after ``[soft_prompt; prompt]`` (KV cache by default; see generate_with_adapters)."""
    return generate_with_adapters(model, prompts, max_new_tokens, soft_prompts=soft_prompt, **kw)


def generate_with_prefix(model, prefix: PrefixTuning, prompts, max_new_tokens: int, **kw):
    """Generate with ``prefix`` in front of every layer (see generate_with_adapters)."""
    return generate_with_adapters(model, prompts, max_new_tokens, prefixes=prefix, **kw)


class AdapterBank:
    """One frozen base model and named task adapters; every request names its task (or None for
    the bare model), and a batch may mix tasks freely."""

    def __init__(self, model):
        self.model = model
        self.adapters: dict[str, SoftPrompt | PrefixTuning | LoRA] = {}
        self.paths: dict[str, Path] = {}

    def add(self, task: str, adapter: SoftPrompt | PrefixTuning | LoRA):
        if task in self.adapters:
            raise ValueError(f"task {task!r} already has an adapter")
        if isinstance(adapter, LoRA) and adapter.model is not self.model:
            raise ValueError("this LoRA adapter lives in another model; load it into the bank's model")
        if not isinstance(adapter, (SoftPrompt, PrefixTuning, LoRA)):
            raise ValueError(f"expected a SoftPrompt, PrefixTuning or LoRA, "
                             f"got {type(adapter).__name__}")
        self.adapters[task] = adapter
        return adapter

    def load(self, task: str, path: str | Path, **kw):
        adapter = self.add(task, load_adapter(path, self.model, name=task, **kw))
        self.paths[task] = Path(path)
        return adapter

    def route(self, tasks: Sequence[str | None]) -> dict:
        unknown = sorted({t for t in tasks if t is not None} - set(self.adapters))
        if unknown:
            raise ValueError(f"no adapter for task(s) {unknown}; the bank has {sorted(self.adapters)}")
        chosen = [self.adapters.get(t) if t is not None else None for t in tasks]
        pick = lambda kind: [a if isinstance(a, kind) else None for a in chosen]
        lora = [a.name if isinstance(a, LoRA) else None for a in chosen]
        return {"soft_prompts": pick(SoftPrompt), "prefixes": pick(PrefixTuning),
                "lora": lora if lora_layers(self.model) else ...}

    def logits(self, tasks: Sequence[str | None], prompts) -> list[torch.Tensor]:
        return adapter_logits(self.model, prompts, **self.route(tasks))

    def generate(self, tasks: Sequence[str | None], prompts, max_new_tokens: int, **sampling):
        return generate_with_adapters(self.model, prompts, max_new_tokens, **self.route(tasks),
                                      **sampling)

    def summary(self):
        """A DataFrame: task, kind, parameters, their share of the base model's, and the bytes on
        disk for adapters the bank loaded from a folder."""
        import pandas as pd

        base = sum(p.numel() for p in self.model.parameters()) - sum(
            a.num_parameters() for a in self.adapters.values() if isinstance(a, LoRA))
        rows = []
        for task, adapter in self.adapters.items():
            n = adapter.num_parameters()
            size = adapter_file_size(self.paths[task]) if task in self.paths else None
            rows.append({"task": task, "kind": adapter.kind, "parameters": n,
                         "pct_of_base": 100.0 * n / base, "bytes_on_disk": size})
        return pd.DataFrame(rows)


# --- save and load ----------------------------------------------------------------------------
def base_signature(model) -> dict:
    """The base model facts an adapter depends on, with a SHA-256 of the embedding table."""
    c = model.config
    table = model.wte.weight.detach().float().cpu().contiguous()
    return {"n_layer": c.n_layer, "n_embd": c.n_embd, "vocab_size": c.vocab_size,
            "kv_heads": c.kv_heads, "head_dim": c.head_dim, "position": c.position,
            "wte_sha256": hashlib.sha256(table.numpy().tobytes()).hexdigest()}


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_adapter(adapter: SoftPrompt | PrefixTuning | LoRA, path: str | Path, model) -> Path:
    """Write ``adapter`` (trained on ``model``) to the folder ``path``; returns the folder."""
    from safetensors.torch import save_file

    if isinstance(adapter, SoftPrompt):
        tensors = {"embeddings": adapter.embeddings}
    elif isinstance(adapter, PrefixTuning):      # the folded form: plain keys and values
        keys, values = adapter.key_values()
        tensors = {"keys": keys, "values": values}
        config = replace(adapter.config, reparameterize=False)
    elif isinstance(adapter, LoRA):
        tensors = adapter.state_dict()
    else:
        raise ValueError(f"cannot save a {type(adapter).__name__}; "
                         f"expected SoftPrompt, PrefixTuning or LoRA")
    if not isinstance(adapter, PrefixTuning):
        config = adapter.config
    tensors = {k: v.detach().float().cpu().contiguous() for k, v in tensors.items()}
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    _atomic_write(path / WEIGHTS, lambda tmp: save_file(tensors, str(tmp), metadata={"format": "pt"}))
    meta = {"format": FORMAT, "kind": adapter.kind, "config": asdict(config),
            "name": getattr(adapter, "name", None),
            "num_parameters": sum(t.numel() for t in tensors.values()),
            "base": base_signature(model), "weights_sha256": sha256_file(path / WEIGHTS)}
    text = json.dumps(meta, indent=2, sort_keys=True) + "\n"
    _atomic_write(path / META, lambda tmp: tmp.write_text(text))       # last: marks the save done
    return path


def read_adapter_meta(path: str | Path) -> dict:
    path = Path(path)
    if not (path / META).is_file() or not (path / WEIGHTS).is_file():
        raise ValueError(f"{path} is not a saved adapter (needs {META} and {WEIGHTS}); "
                         f"write one with save_adapter(adapter, path, model)")
    meta = json.loads((path / META).read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path / META} has format {meta.get('format')!r}, expected {FORMAT!r}")
    return meta


def check_base(meta: dict, model, check_fingerprint: bool = True, where: str = "the adapter") -> None:
    """Raise a ValueError naming every difference between the adapter's base model and ``model``."""
    expected, actual = meta["base"], base_signature(model)
    shape_keys = ["n_layer", "n_embd", "vocab_size", "kv_heads", "head_dim"]
    wrong = [k for k in shape_keys if expected[k] != actual[k]]
    if wrong:
        want = ", ".join(f"{k}={expected[k]}" for k in shape_keys)
        got = ", ".join(f"{k}={actual[k]}" for k in wrong)
        raise ValueError(f"{where} was trained on a base model with {want}, but this model has {got}. "
                         f"Load it onto the model it was trained with.")
    if check_fingerprint and expected["wte_sha256"] != actual["wte_sha256"]:
        raise ValueError(f"{where} was trained on a different base model of the same shape (the "
                         f"embedding tables differ: sha256 {expected['wte_sha256'][:12]}... vs "
                         f"{actual['wte_sha256'][:12]}...). Load the right base model, or pass "
                         f"check_fingerprint=False to use it anyway.")


def load_adapter(path: str | Path, model, *, name: str | None = None,
                 check_fingerprint: bool = True) -> SoftPrompt | PrefixTuning | LoRA:
    """Load an adapter saved by ``save_adapter`` for ``model``; a LoRA one is injected into
    ``model`` under ``name`` (default: its saved name) and made active."""
    from safetensors.torch import load_file

    path = Path(path)
    meta = read_adapter_meta(path)
    check_base(meta, model, check_fingerprint, where=f"the adapter in {path}")
    if sha256_file(path / WEIGHTS) != meta["weights_sha256"]:
        raise ValueError(f"{path / WEIGHTS} does not match its checksum in {META}: the file is "
                         f"damaged or was replaced; save the adapter again")
    tensors = load_file(str(path / WEIGHTS))
    kind, config = meta["kind"], meta["config"]
    like = model.wte.weight
    if kind == "soft_prompt":
        adapter = SoftPrompt(model, SoftPromptConfig(**config))
        with torch.no_grad():
            adapter.embeddings.copy_(tensors["embeddings"])
    elif kind == "prefix":
        adapter = PrefixTuning(model, PrefixConfig(**config))
        with torch.no_grad():
            adapter.keys.copy_(tensors["keys"])
            adapter.values.copy_(tensors["values"])
    elif kind == "lora":
        adapter = LoRA(model, LoRAConfig(**config), name=name or meta["name"] or "default")
        try:
            adapter.load_state_dict({k: v.to(like.device) for k, v in tensors.items()})
        except ValueError:
            adapter.remove()
            raise
    else:
        raise ValueError(f"unknown adapter kind {kind!r} in {path / META}")
    return adapter.to(like.device) if not isinstance(adapter, LoRA) else adapter


def adapter_file_size(path: str | Path) -> int:
    """Bytes on disk of a saved adapter (tensors + JSON)."""
    path = Path(path)
    return sum((path / f).stat().st_size for f in (WEIGHTS, META))

