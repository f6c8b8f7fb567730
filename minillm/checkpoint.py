"""Checkpoints that survive a killed kernel and refuse to load when damaged.

A checkpoint is a folder::

    model.safetensors    the weights (safetensors: no pickle, memory-mapped, shared tensors once)
    optimizer.pt         optimizer state (torch.save; loaded with weights_only=True)
    state.pt             step, schedule, RNG states, data-loader position (same)
    MANIFEST.json        the model config, metadata and a SHA-256 of every file, written last

It is written into a temporary sibling folder and renamed into place in one step, so a crash
leaves either the old checkpoint or the new one, never half of each. On load every checksum is
checked first: a truncated or altered file raises ``CheckpointError`` saying which file.

    save_checkpoint("runs/cpu/ckpt", model, optimizer, {"step": 100, "rng": ...})
    state = load_checkpoint("runs/cpu/ckpt", model, optimizer)      # returns the state dict
    model = load_model("runs/cpu/ckpt", n_vocab=enc.n_vocab)         # weights only, vocab checked
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import torch

from minillm.fileio import sha256_file
from minillm.model import GPT, GPTConfig

MANIFEST = "MANIFEST.json"
WEIGHTS = "model.safetensors"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, incomplete or corrupted."""


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The plain module inside DDP and/or torch.compile wrappers."""
    while True:
        if hasattr(model, "module") and isinstance(model.module, torch.nn.Module):
            model = model.module
        elif hasattr(model, "_orig_mod"):
            model = model._orig_mod
        else:
            return model


def save_checkpoint(path: str | Path, model: torch.nn.Module, optimizer=None,
                    state: dict | None = None, meta: dict | None = None) -> Path:
    """Write model (+ optimizer, + training state) to the folder ``path``, atomically."""
    from safetensors.torch import save_model

    path = Path(path)
    model = unwrap(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        save_model(model, str(tmp / WEIGHTS), metadata={"config": json.dumps(model.config.to_dict())})
        if optimizer is not None:
            torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        if state is not None:
            torch.save(state, tmp / "state.pt")
        files = {p.name: sha256_file(p) for p in sorted(tmp.iterdir())}
        manifest = {"config": model.config.to_dict(), "meta": meta or {}, "files": files}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        if path.exists():
            trash = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(path, trash)
            os.replace(tmp, path)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def read_manifest(path: str | Path, verify: bool = True) -> dict:
    """The manifest of a checkpoint, after checking every file against its checksum."""
    path = Path(path)
    manifest_file = path / MANIFEST
    if not manifest_file.exists():
        raise CheckpointError(f"no checkpoint at {path} ({MANIFEST} is missing): the run never "
                              f"saved one, or the folder is not a minillm checkpoint")
    try:
        manifest = json.loads(manifest_file.read_text())
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{manifest_file} is not valid JSON ({err}); the checkpoint is "
                              f"corrupted: delete it and resume from an earlier one") from err
    if verify:
        for name, expected in manifest["files"].items():
            file = path / name
            if not file.exists():
                raise CheckpointError(f"checkpoint {path} is incomplete: {name} is missing")
            if sha256_file(file) != expected:
                raise CheckpointError(f"checkpoint {path} is corrupted: {name} does not match its "
                                      f"checksum (truncated or modified). Delete the folder and "
                                      f"resume from an earlier checkpoint, or retrain.")
    return manifest


def load_checkpoint(path: str | Path, model: torch.nn.Module, optimizer=None,
                    map_location: str | torch.device = "cpu") -> dict:
    """Load weights into ``model`` (and ``optimizer``); return the saved training state ({} if
    none). The checkpoint's config must equal the model's."""
    from safetensors.torch import load_model as load_weights

    path = Path(path)
    manifest = read_manifest(path)
    model = unwrap(model)
    saved = GPTConfig.from_dict(manifest["config"])
    if saved != model.config:
        diff = {k: (v, getattr(model.config, k)) for k, v in saved.to_dict().items()
                if getattr(model.config, k) != v}
        raise CheckpointError(f"checkpoint {path} was saved from a different model config; "
                              f"(saved, this model) differ in {diff}")
    load_weights(model, str(path / WEIGHTS), strict=True, device=str(next(model.parameters()).device))
    if optimizer is not None:
        if not (path / "optimizer.pt").exists():
            raise CheckpointError(f"checkpoint {path} has no optimizer state (a weights-only save); "
                                  f"resume needs a checkpoint written during training")
        optimizer.load_state_dict(torch.load(path / "optimizer.pt", map_location=map_location,
                                             weights_only=True))
    if (path / "state.pt").exists():
        return torch.load(path / "state.pt", map_location="cpu", weights_only=True)
    return {}


def load_model(path: str | Path, device: str | torch.device | None = None,
               n_vocab: int | None = None) -> GPT:
    """A ``GPT`` built from a checkpoint's config with its weights. Give the tokenizer's
    ``n_vocab`` to catch a model/tokenizer mismatch here rather than as garbage text later."""
    manifest = read_manifest(path)
    model = GPT(GPTConfig.from_dict(manifest["config"]))
    if n_vocab is not None:
        model.check_vocab(n_vocab, what=f"the tokenizer given to load_model({str(path)!r})")
    if device is not None:
        model.to(device)
    load_checkpoint(path, model)
    return model


def checkpoint_meta(path: str | Path) -> dict:
    return read_manifest(path, verify=False)["meta"]
