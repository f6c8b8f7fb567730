"""The training loop: schedule, optimizer groups, loader, overfitting, determinism, exact resume,
divergence and OOM messages, metrics files, callbacks."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from minillm.device import seed_everything
from minillm.model import GPT, GPTConfig
from minillm.train import (
    Callback,
    TokenLoader,
    TrainConfig,
    Trainer,
    TrainingDiverged,
    fixed_batches,
    lm_loss,
    lr_at,
    param_groups,
)

VOCAB, CONTEXT = 64, 16


def tiny_model(seed=0, **kw):
    seed_everything(seed)
    cfg = GPTConfig.modern(vocab_size=VOCAB, context_length=CONTEXT, n_layer=2, n_head=2, n_embd=32, **kw)
    return GPT(cfg)


def tokens(n=4000, seed=0):
    # a learnable stream: a noisy counter, so the loss can fall well below log(VOCAB)
    rng = np.random.default_rng(seed)
    base = np.arange(n) % 50
    noise = rng.random(n) < 0.1
    return np.where(noise, rng.integers(0, VOCAB, n), base).astype(np.uint16)


def make_trainer(model, steps=20, batch=4, seed=0, **kw):
    cfg = TrainConfig(max_steps=steps, lr=1e-2, min_lr=1e-3, warmup_steps=3, eval_every=10,
                      log_every=5, seed=seed, **{k: v for k, v in kw.items() if k in TrainConfig.__dataclass_fields__})
    loader = TokenLoader(tokens(), batch, CONTEXT, mode=kw.get("mode", "random"), seed=seed, rank=0, world_size=1)
    extra = {k: v for k, v in kw.items() if k in ("callbacks", "out_dir", "loss_fn", "bytes_per_token")}
    return Trainer(model, cfg, loader, val_batches=fixed_batches(tokens(seed=1), 4, CONTEXT, 2),
                   device="cpu", progress=False, **extra)


def test_lr_schedule_values():
    cfg = TrainConfig(max_steps=110, lr=1.0, min_lr=0.1, warmup_steps=10)
    assert lr_at(0, cfg) == pytest.approx(0.1)
    assert lr_at(9, cfg) == pytest.approx(1.0)
    assert lr_at(10, cfg) == pytest.approx(1.0)
    assert lr_at(60, cfg) == pytest.approx(0.55)            # half-way through the cosine
    assert lr_at(110, cfg) == pytest.approx(0.1)
    assert lr_at(500, cfg) == pytest.approx(0.1)
    lrs = [lr_at(s, cfg) for s in range(10, 111)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:], strict=False))
    with pytest.raises(ValueError, match="min_lr <= lr"):
        TrainConfig(lr=1e-3, min_lr=1e-2)


def test_param_groups_decay_only_matrices():
    model = tiny_model(tie_embeddings=True)
    decay, no_decay = param_groups(model, 0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decay["params"]) and all(p.dim() == 1 for p in no_decay["params"])
    assert "wte.weight" in decay["names"] and "norm_f.weight" in no_decay["names"]
    assert "lm_head.weight" not in decay["names"]              # tied: one tensor, counted once
    assert sum(p.numel() for g in (decay, no_decay) for p in g["params"]) == model.num_params()
    gpt2 = GPT(GPTConfig.gpt2(vocab_size=VOCAB, context_length=CONTEXT, n_layer=1, n_head=2, n_embd=16))
    names = param_groups(gpt2, 0.1)[1]["names"]
    assert "blocks.0.attn.q_proj.bias" in names and "blocks.0.norm1.bias" in names


def test_loader_windows_shift_and_sequential_epochs():
    data = np.arange(1000, dtype=np.uint16)
    loader = TokenLoader(data, 4, 10, mode="sequential", rank=0, world_size=1)
    x, y = next(loader)
    assert x.dtype == torch.int64 and x.shape == (4, 10)
    assert torch.equal(y, x + 1) and x[1, 0].item() == 10
    for _ in range(24):                     # 99 windows = 24 batches of 4, then a new epoch
        next(loader)
    assert loader.epoch == 1 and next(loader)[0][0, 0].item() == 40
    rand = TokenLoader(data, 8, 10, seed=3, rank=0, world_size=1)
    x, y = next(rand)
    assert torch.equal(y, x + 1) and len(set(x[:, 0].tolist())) > 1


def test_loader_ranks_split_the_same_global_batch():
    data = np.arange(5000, dtype=np.uint16)
    for mode in ("random", "sequential"):
        whole = TokenLoader(data, 6, 8, mode=mode, seed=1, rank=0, world_size=1)
        parts = [TokenLoader(data, 3, 8, mode=mode, seed=1, rank=r, world_size=2) for r in (0, 1)]
        for _ in range(3):
            x = next(whole)[0]
            assert torch.equal(torch.cat([next(p)[0] for p in parts]), x)


def test_loader_state_roundtrip_and_errors():
    data = np.arange(3000, dtype=np.uint16)
    a = TokenLoader(data, 4, 8, seed=5, rank=0, world_size=1)
    next(a)
    state = a.state_dict()
    expected = next(a)[0]
    b = TokenLoader(data, 4, 8, seed=99, rank=0, world_size=1)
    b.load_state_dict(state)
    assert torch.equal(next(b)[0], expected)
    with pytest.raises(ValueError, match="cannot fill one window"):
        TokenLoader(data[:5], 1, 8, rank=0, world_size=1)
    with pytest.raises(ValueError, match="mode must be"):
        TokenLoader(data, 1, 8, mode="shuffled", rank=0, world_size=1)


def test_loss_falls_when_overfitting_one_batch():
    model = tiny_model()
    batch = next(TokenLoader(tokens(), 4, CONTEXT, seed=0, rank=0, world_size=1))
    repeat = iter(lambda: batch, None)
    trainer = Trainer(model, TrainConfig(max_steps=60, lr=1e-2, min_lr=1e-2, warmup_steps=0, eval_every=0),
                      repeat, device="cpu", progress=False)
    history = trainer.fit()
    assert history.loss.iloc[0] > math.log(VOCAB) - 0.5
    assert history.loss.iloc[-1] < 0.3 * history.loss.iloc[0]


def test_same_seed_same_run_and_metrics(tmp_path):
    runs = [make_trainer(tiny_model(), steps=12, bytes_per_token=2.0, out_dir=tmp_path / str(i)).fit()
            for i in range(2)]
    assert runs[0].loss.tolist() == runs[1].loss.tolist()
    assert runs[0].loss.iloc[-1] < runs[0].loss.iloc[0]
    evaluated = runs[0].dropna(subset=["val_loss"])
    assert evaluated.step.tolist() == [10, 12]
    assert np.allclose(evaluated.val_bpb, evaluated.val_loss / math.log(2) / 2.0)
    csv = pd.read_csv(tmp_path / "0" / "metrics.csv")
    assert csv.loss.tolist() == pytest.approx(runs[0].loss.tolist())
    rows = [json.loads(line) for line in (tmp_path / "0" / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and rows[-1]["step"] == 12 and rows[-1]["tokens_seen"] == 12 * 4 * CONTEXT
    assert (tmp_path / "0" / "checkpoint" / "model.safetensors").exists()


def test_resume_continues_exactly(tmp_path):
    straight = make_trainer(tiny_model(), steps=20)
    full = straight.fit()
    first = make_trainer(tiny_model(), steps=20)
    first.fit(steps=10)
    first.save_checkpoint(tmp_path / "ckpt")
    torch.manual_seed(123)                      # disturb every RNG: resume must restore them
    np.random.seed(123)
    second = make_trainer(tiny_model(seed=7), steps=20, seed=0)
    second.resume(tmp_path / "ckpt")
    resumed = second.fit()
    assert resumed.step.tolist() == list(range(1, 21))
    assert resumed.loss.tolist() == full.loss.tolist()
    for a, b in zip(straight.model.state_dict().values(), second.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_gradient_accumulation_equals_a_bigger_batch():
    big = make_trainer(tiny_model(), steps=4, batch=8, mode="sequential", grad_accum=1).fit()
    small = make_trainer(tiny_model(), steps=4, batch=4, mode="sequential", grad_accum=2).fit()
    assert np.allclose(big.loss, small.loss, atol=1e-5)


def test_nan_loss_stops_with_a_clear_message():
    calls = {"n": 0}

    def poisoned(model, batch):
        calls["n"] += 1
        loss = lm_loss(model, batch)
        return loss * float("nan") if calls["n"] >= 3 else loss

    trainer = make_trainer(tiny_model(), steps=10, loss_fn=poisoned)
    with pytest.raises(TrainingDiverged, match=r"loss is nan at step 3.*learning rate too high"):
        trainer.fit()
    assert trainer.step == 2


def test_out_of_memory_suggests_a_smaller_batch():
    def oom(model, batch):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    with pytest.raises(RuntimeError, match=r"out of GPU memory at step 1 \(batch_size=4.*double grad_accum"):
        make_trainer(tiny_model(), steps=2, loss_fn=oom).fit()


def test_callbacks_see_steps_evals_and_end():
    seen = []

    class Recorder(Callback):
        def on_step(self, trainer, row):
            seen.append(("step", row["step"]))

        def on_eval(self, trainer, row):
            seen.append(("eval", row["step"], round(row["val_loss"], 6)))

        def on_end(self, trainer):
            seen.append(("end", trainer.step))

    make_trainer(tiny_model(), steps=10, callbacks=[Recorder()]).fit()
    assert [s for s in seen if s[0] == "step"] == [("step", i) for i in range(1, 11)]
    assert [s[:2] for s in seen if s[0] == "eval"] == [("eval", 10)] and seen[-1] == ("end", 10)


def test_masked_targets_are_ignored():
    model = tiny_model()
    x = torch.randint(0, VOCAB, (2, 8))
    y = torch.randint(0, VOCAB, (2, 8))
    masked = y.clone()
    masked[:, :4] = -100
    logits, loss = model(x, targets=masked)
    expected = torch.nn.functional.cross_entropy(logits[:, 4:].reshape(-1, VOCAB), y[:, 4:].reshape(-1))
    torch.testing.assert_close(loss, expected)
