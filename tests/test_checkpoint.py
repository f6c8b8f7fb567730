"""Checkpoints: round trip, atomic writes, corruption and mismatches caught with clear errors."""

import json

import pytest
import torch

from minillm.checkpoint import CheckpointError, load_checkpoint, load_model, save_checkpoint
from minillm.model import GPT, GPTConfig

CONFIG = GPTConfig.modern(vocab_size=70, context_length=16, n_layer=2, n_head=2, n_embd=16)


def trained_pair():
    torch.manual_seed(0)
    model = GPT(CONFIG)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    x = torch.randint(0, 70, (2, 8))
    model(x, targets=x)[1].backward()
    opt.step()
    return model, opt


def test_round_trip_restores_weights_optimizer_and_state(tmp_path):
    model, opt = trained_pair()
    rng = torch.get_rng_state()
    path = save_checkpoint(tmp_path / "ckpt", model, opt, {"step": 7, "rng": rng},
                           meta={"note": "x"})
    assert sorted(p.name for p in path.iterdir()) == ["MANIFEST.json", "model.safetensors",
                                                      "optimizer.pt", "state.pt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no temp folder left
    fresh = GPT(CONFIG)
    fresh_opt = torch.optim.AdamW(fresh.parameters(), lr=1e-2)
    state = load_checkpoint(path, fresh, fresh_opt)
    assert state["step"] == 7 and torch.equal(state["rng"], rng)
    for a, b in zip(model.state_dict().values(), fresh.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(fresh_opt.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
    assert fresh.lm_head.weight is fresh.wte.weight                          # still tied
    loaded = load_model(path, n_vocab=70)
    assert loaded.config == CONFIG


def test_overwrite_replaces_atomically(tmp_path):
    model, opt = trained_pair()
    save_checkpoint(tmp_path / "ckpt", model, opt, {"step": 1})
    save_checkpoint(tmp_path / "ckpt", model, opt, {"step": 2})
    assert load_checkpoint(tmp_path / "ckpt", GPT(CONFIG))["step"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete"])
def test_corrupted_checkpoint_is_detected(tmp_path, damage):
    model, opt = trained_pair()
    path = save_checkpoint(tmp_path / "ckpt", model, opt, {"step": 1})
    weights = path / "model.safetensors"
    data = weights.read_bytes()
    if damage == "truncate":
        weights.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        weights.write_bytes(data[:-10] + bytes([data[-10] ^ 1]) + data[-9:])
    else:
        weights.unlink()
    with pytest.raises(CheckpointError, match="corrupted|incomplete"):
        load_checkpoint(path, GPT(CONFIG))


def test_missing_and_mismatched_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_model(tmp_path / "nothing")
    model, _ = trained_pair()
    path = save_checkpoint(tmp_path / "ckpt", model)
    with pytest.raises(CheckpointError, match="different model config"):
        load_checkpoint(path, GPT(GPTConfig.modern(vocab_size=70, context_length=16, n_layer=1,
                                                   n_head=2, n_embd=16)))
    with pytest.raises(CheckpointError, match="no optimizer state"):
        load_checkpoint(path, GPT(CONFIG), torch.optim.AdamW(GPT(CONFIG).parameters()))
    with pytest.raises(ValueError, match="vocabulary mismatch: the tokenizer given to load_model"):
        load_model(path, n_vocab=512)
    manifest = json.loads((path / "MANIFEST.json").read_text())
    assert manifest["config"]["vocab_size"] == 70
