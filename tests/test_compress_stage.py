"""The compress stage: every method on a tiny GPT, the KL measure, and students on equal tokens."""

import numpy as np
import pytest
import torch

from minillm.compress import QuantLinear, mean_kl
from minillm.compress import stage as S
from minillm.model import GPT, GPTConfig
from minillm.train import fixed_batches


def tiny_gpt(seed=0):
    torch.manual_seed(seed)
    return GPT(GPTConfig.modern(vocab_size=97, n_layer=2, n_head=2, n_embd=32,
                                context_length=32)).eval()


def config(**overrides):
    kw = dict(calib_batches=2, eval_batches=2, task_per_family=2, student_layers=1,
              student_heads=1, student_embd=16, distill_steps=12, group_size=16)
    return S.CompressConfig(**{**kw, **overrides})


def tokens(n=4000, seed=0):
    """Text with structure a model can learn: a noisy repeating pattern."""
    rng = np.random.default_rng(seed)
    base = np.tile(np.arange(0, 97, 3), n // 33 + 1)[:n]
    noise = rng.integers(0, 97, n)
    return np.where(rng.random(n) < 0.1, noise, base).astype(np.uint16)


@pytest.mark.parametrize("method", [m for m, (kind, _) in S.METHODS.items() if kind != "distill"])
def test_every_method_compresses_a_copy_and_stays_close(method):
    model = tiny_gpt()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    calibration = S.calibration_batches(tokens(), 32, 2, batch_size=4)
    small = S.compress(method, model, calibration, config())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    x = calibration[0]
    kl = mean_kl(model, small, [x])
    assert -1e-6 <= kl < 0.05
    n_quant = sum(isinstance(m, QuantLinear) for m in small.modules())
    if method.startswith("int"):
        assert n_quant == 2 * 7                 # every linear layer but the tied output head
    else:
        assert n_quant == 0
    if method in ("magnitude", "wanda"):
        w = small.blocks[0].mlp.up_proj.weight
        assert float((w == 0).float().mean()) == pytest.approx(0.5)
    if method == "fp32":
        assert kl == 0


def test_int4_is_further_from_the_model_than_int8_and_gptq_beats_rtn_on_kl():
    model = tiny_gpt()
    data = tokens()
    calibration = S.calibration_batches(data, 32, 8, batch_size=4)
    held_out = S.calibration_batches(tokens(seed=1), 32, 2, batch_size=4)
    kl = {m: mean_kl(model, S.compress(m, model, calibration, config()), held_out)
          for m in ("int8", "int4_rtn_channel", "int4_gptq_channel")}
    assert kl["int8"] < kl["int4_gptq_channel"] < kl["int4_rtn_channel"]


def test_mean_kl_is_zero_for_the_same_model_and_positive_otherwise():
    a, b = tiny_gpt(0), tiny_gpt(1)
    x = torch.randint(0, 97, (2, 16), generator=torch.Generator().manual_seed(0))
    assert mean_kl(a, a, [x]) == pytest.approx(0, abs=1e-6)
    assert mean_kl(a, b, [(x, x)]) > 0.01
    with pytest.raises(ValueError, match="at least one batch"):
        mean_kl(a, b, [])


def test_unknown_method_and_unsaved_format_say_what_to_choose():
    with pytest.raises(ValueError, match="choose one of"):
        S.compress("int3", tiny_gpt(), [], config())
    with pytest.raises(ValueError, match="saved formats are"):
        S.load_compressed_model("bf16")
    with pytest.raises(ValueError, match="'distilled' or 'scratch'"):
        S.load_student("teacher")


def test_students_see_equal_tokens_and_distillation_moves_toward_the_teacher():
    teacher = tiny_gpt()
    data = tokens()
    from minillm.train import TokenLoader, TrainConfig, Trainer

    Trainer(teacher, TrainConfig(max_steps=40, lr=1e-2, min_lr=1e-3, warmup_steps=2, eval_every=0),
            TokenLoader(data, 8, 32, seed=0, rank=0, world_size=1), progress=False).fit()
    teacher.eval()
    val = fixed_batches(tokens(seed=2), 8, 32, 2)
    cfg = config(distill_steps=15).distill()
    runs = {d: S.train_student(teacher, cfg, data, val, distill=d) for d in (True, False)}
    (kd, kd_trainer), (scratch, scratch_trainer) = runs[True], runs[False]
    assert kd_trainer.tokens_seen == scratch_trainer.tokens_seen == 15 * 8 * 32
    assert kd.num_params() == scratch.num_params() < teacher.num_params()
    # the val_loss column is the plain next-token loss for both (comparable)
    for trainer, model in ((kd_trainer, kd), (scratch_trainer, scratch)):
        assert trainer.history[-1]["val_loss"] == pytest.approx(
            S._float_eval_loss(model, val[:cfg.eval_batches]), rel=1e-4)
    assert mean_kl(teacher, kd, val) < mean_kl(teacher, scratch, val)
    same = S.train_student(teacher, cfg, data, val, distill=True)[0]
    assert all(torch.equal(p, q) for p, q in zip(kd.state_dict().values(),
                                                  same.state_dict().values(), strict=True))


def test_headline_reads_the_figures_from_a_results_table():
    import pandas as pd

    rows = [{"method": m, "val_loss": 2.0 + i / 100, "kl_to_fp32": i / 1000, "task_accuracy": 0.5,
             "val_loss_increase_pct": float(i), "memory_ratio": 0.5, "disk_ratio": 0.6}
            for i, m in enumerate(S.METHODS)]
    out = S.headline(pd.DataFrame(rows))
    assert out["fp32_val_loss"] == 2.0
    assert out["int8_val_loss_increase_pct"] == list(S.METHODS).index("int8")
    assert out["student_scratch_val_loss"] == 2.0 + (len(S.METHODS) - 1) / 100
