"""Quantization: round-trip error bounds, int4 packing, QuantLinear, torch parity, GPTQ, outliers,
save/load and sizes."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from compress_helpers import tiny_gpt, token_batches

from minillm.compress import (
    QuantLinear,
    collect_input_stats,
    compare_models,
    dequantize,
    disk_bytes,
    eval_loss,
    gptq_quantize,
    gptq_quantize_model,
    input_hessian,
    load_compressed,
    memory_bytes,
    outlier_report,
    pack_int4,
    quantize,
    quantize_model,
    quantize_model_mixed,
    reconstruction_error,
    save_compressed,
    torch_dynamic_int8,
    unpack_int4,
)
from minillm.compress.quantize import GRANULARITIES, SCHEMES, grouped

FORMATS = [(b, s, g) for b in (8, 4) for s in SCHEMES for g in GRANULARITIES]


def step_per_weight(qt):
    """Each weight's quantization step (its group's scale), at the weight's shape."""
    return (grouped(torch.ones(qt.shape), qt.granularity, qt.group_size)
            * qt.scale[..., None]).reshape(qt.shape)


@pytest.mark.parametrize("bits,scheme,granularity", FORMATS)
def test_round_trip_error_is_at_most_half_a_step(bits, scheme, granularity):
    torch.manual_seed(0)
    w = torch.randn(48, 128) * torch.linspace(0.1, 3, 48)[:, None]     # rows of different sizes
    w[:, 5] += 2.0                                                     # and a lopsided column
    qt = quantize(w, bits, scheme, granularity, group_size=32)
    err = (w - dequantize(qt)).abs()
    assert (err <= step_per_weight(qt) / 2 + 1e-6).all()
    lo, hi = (-(2 ** (bits - 1) - 1), 2 ** (bits - 1) - 1) if scheme == "symmetric" else (0, 2 ** bits - 1)
    assert int(qt.q.min()) >= lo and int(qt.q.max()) <= hi
    assert qt.q.dtype == (torch.int8 if scheme == "symmetric" else torch.uint8)
    rows = {"tensor": 1, "channel": 48, "group": 48}[granularity]
    assert qt.scale.shape == (rows, 128 // 32 if granularity == "group" else 1)


def test_finer_granularity_and_more_bits_give_smaller_error():
    torch.manual_seed(0)
    w = torch.randn(64, 256) * torch.logspace(-1, 1, 64)[:, None]
    def error(bits, granularity, group_size=None):
        return float((w - quantize(w, bits, "symmetric", granularity, group_size).dequantize()).pow(2).mean())
    assert error(4, "tensor") > error(4, "channel") > error(4, "group", 128) > error(4, "group", 32)
    assert error(8, "channel") < error(4, "channel") / 100        # 16x finer steps: ~256x less MSE


def test_zero_is_exact_and_asymmetric_fits_one_sided_weights_better():
    torch.manual_seed(0)
    w = torch.rand(16, 64) + 0.5                                    # all positive
    w[0, 0] = 0.0
    sym, asym = quantize(w, 4, "symmetric", "channel"), quantize(w, 4, "asymmetric", "channel")
    assert asym.dequantize()[0, 0] == 0 and sym.dequantize()[0, 0] == 0
    assert (w - asym.dequantize()).abs().mean() < 0.6 * (w - sym.dequantize()).abs().mean()


def test_int4_packing_round_trips_all_sixteen_values():
    codes = torch.arange(16, dtype=torch.uint8)
    packed = pack_int4(codes)
    assert packed.dtype == torch.uint8 and packed.shape == (8,)
    assert packed[0] == 0x10 and packed[7] == 0xFE                   # low nibble = even index
    assert torch.equal(unpack_int4(packed), codes)
    grid = torch.cartesian_prod(codes, codes).reshape(16, 32)          # every pair of nibbles
    assert torch.equal(unpack_int4(pack_int4(grid)), grid)
    with pytest.raises(ValueError, match="even number"):
        pack_int4(torch.zeros(5, dtype=torch.uint8))
    with pytest.raises(ValueError, match="0..15"):
        pack_int4(torch.tensor([3, 16], dtype=torch.uint8))


@pytest.mark.parametrize("bits,scheme,granularity", FORMATS)
def test_quant_linear_computes_with_the_dequantized_weight(bits, scheme, granularity):
    torch.manual_seed(0)
    linear = nn.Linear(64, 24)
    layer = QuantLinear.from_linear(linear, bits, scheme, granularity, group_size=16)
    qt = quantize(linear.weight, bits, scheme, granularity, 16)
    assert torch.equal(layer.quantized().q, qt.q)                    # packing loses nothing
    x = torch.randn(3, 5, 64)
    expected = F.linear(x, qt.dequantize(), linear.bias)
    torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(layer.dequantized_weight(), qt.dequantize())


def test_quant_linear_really_stores_small_integers():
    torch.manual_seed(0)
    linear = nn.Linear(256, 128)
    fp32 = memory_bytes(linear)
    int8 = QuantLinear.from_linear(linear, 8)
    int4 = QuantLinear.from_linear(linear, 4, "asymmetric", "group", 64)
    state8, state4 = int8.state_dict(), int4.state_dict()
    assert state8["qweight"].dtype == torch.int8 and state8["qweight"].shape == (128, 256)
    assert state4["qweight"].dtype == torch.uint8 and state4["qweight"].shape == (128, 128)
    assert state4["zero"].dtype == torch.uint8
    assert not any(isinstance(m, nn.Linear) for m in int8.modules())
    assert memory_bytes(int8) < fp32 / 3
    assert memory_bytes(int4) < fp32 / 6


def test_int8_per_channel_matches_torch_dynamic_quantization():
    torch.manual_seed(0)
    linear = nn.Linear(128, 64)
    ours = QuantLinear.from_linear(linear, 8, "symmetric", "channel")
    theirs = torch_dynamic_int8(nn.Sequential(linear), skip=())
    assert type(theirs[0]).__module__.startswith("torch.ao.nn.quantized.dynamic")
    # weights: torch's grid (max/127.5, codes -128..127) is one step from ours at most
    torch_weight = theirs[0].weight().dequantize()
    assert ((torch_weight - ours.dequantized_weight()).abs() <= ours.scale).all()
    # outputs: torch also rounds the activations (per tensor, 7-8 bits), ~2% relative error
    x = torch.randn(32, 128)
    exact, ours_y, theirs_y = linear(x), ours(x), theirs(x)
    assert (ours_y - exact).norm() / exact.norm() < 0.01               # weight-only int8
    assert (ours_y - theirs_y).norm() / exact.norm() < 0.05


def test_quantize_model_replaces_linears_but_not_the_head_and_leaves_the_original():
    model = tiny_gpt()
    x, _ = token_batches(1)[0]
    fp_logits = model(x)[0]
    q = quantize_model(model, bits=8)
    kinds = {name: type(m).__name__ for name, m in q.named_modules()}
    assert kinds["blocks.0.attn.q_proj"] == kinds["blocks.1.mlp.down_proj"] == "QuantLinear"
    assert kinds["lm_head"] == "Linear" and q.lm_head.weight is q.wte.weight   # still tied
    assert not any(isinstance(m, QuantLinear) for m in model.modules())   # original untouched
    assert torch.equal(model(x)[0], fp_logits)
    q_logits = q(x)[0]
    assert (q_logits - fp_logits).abs().max() < 0.02 * fp_logits.abs().max()
    only_mlp = quantize_model(model, 8, skip=("lm_head", "*.attn.*"))
    assert type(only_mlp.blocks[0].attn.q_proj) is nn.Linear
    assert type(only_mlp.blocks[0].mlp.up_proj) is QuantLinear
    assert memory_bytes(q) < memory_bytes(model) and disk_bytes(q) < disk_bytes(model)


def test_bad_arguments_raise_clear_errors():
    w = torch.randn(8, 48)
    with pytest.raises(ValueError, match="bits=3"):
        quantize(w, bits=3)
    with pytest.raises(ValueError, match="does not divide in_features=48"):
        quantize(w, 4, granularity="group", group_size=32)
    with pytest.raises(ValueError, match="scheme"):
        quantize(w, 8, scheme="absmax")
    with pytest.raises(ValueError, match="2-D"):
        quantize(torch.randn(4, 4, 4))
    with pytest.raises(ValueError, match="must be even"):
        QuantLinear.from_linear(nn.Linear(33, 4), bits=4)
    with pytest.raises(ValueError, match="blocks.0.mlp.down_proj.*does not divide"):
        quantize_model(tiny_gpt(mlp_hidden=40), 4, granularity="group", group_size=16)
    with pytest.raises(ValueError, match="bits=3"):
        quantize_model(tiny_gpt(), bits=3)


@pytest.mark.parametrize("kwargs", [dict(bits=8), dict(bits=4, scheme="asymmetric", granularity="group",
                                                        group_size=16)])
def test_quantized_model_save_load_round_trip_gives_identical_logits(tmp_path, kwargs):
    model = quantize_model(tiny_gpt(), **kwargs)
    path = save_compressed(model, tmp_path / "q.safetensors")
    assert not list(tmp_path.glob(".*tmp*"))                         # the temp file was renamed
    loaded = load_compressed(path).eval()
    x, _ = token_batches(1)[0]
    assert torch.equal(model(x)[0], loaded(x)[0])
    assert type(loaded.blocks[1].mlp.down_proj) is QuantLinear
    assert path.stat().st_size == disk_bytes(model)


def test_load_compressed_rejects_other_files(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(ValueError, match="not written by save_compressed"):
        load_compressed(tmp_path / "plain.safetensors")
    with pytest.raises(FileNotFoundError):
        load_compressed(tmp_path / "missing.safetensors")


def test_memory_bytes_counts_tied_weights_once():
    model = tiny_gpt()
    unique = sum(p.numel() for p in model.parameters()) * 4           # parameters() dedups ties
    assert memory_bytes(model) == unique
    assert memory_bytes(torch_dynamic_int8(model)) < unique / 2


def correlated_inputs(n=2048, d=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    latent = torch.randn(n, 16, generator=g) @ torch.randn(16, d, generator=g)
    return latent + 0.1 * torch.randn(n, d, generator=g)


@pytest.mark.parametrize("scheme,granularity,group_size", [("symmetric", "group", 32),
                                                           ("asymmetric", "channel", None)])
def test_gptq_beats_round_to_nearest_on_correlated_inputs(scheme, granularity, group_size):
    torch.manual_seed(0)
    w, x = torch.randn(64, 128), correlated_inputs()
    gptq = gptq_quantize(w, input_hessian(x), 4, scheme, granularity, group_size)
    rtn = quantize(w, 4, scheme, granularity, group_size)
    assert gptq.q.dtype == rtn.q.dtype and gptq.scale.shape == rtn.scale.shape
    assert reconstruction_error(w, gptq.dequantize(), x) < 0.5 * reconstruction_error(w, rtn.dequantize(), x)


def test_gptq_with_uncorrelated_inputs_is_round_to_nearest():
    # H = c*I: no input correlates with another, so no error can be compensated
    torch.manual_seed(0)
    w = torch.randn(32, 64)
    for granularity, group_size in (("channel", None), ("group", 16)):
        gptq = gptq_quantize(w, 3.0 * torch.eye(64), 4, "symmetric", granularity, group_size)
        assert torch.equal(gptq.q, quantize(w, 4, "symmetric", granularity, group_size).q)


def test_gptq_rejects_bad_inputs():
    w = torch.randn(8, 16)
    with pytest.raises(ValueError, match=r"\(16, 16\)"):
        gptq_quantize(w, torch.eye(8), granularity="channel")
    with pytest.raises(ValueError, match="bits=3"):
        gptq_quantize(w, torch.eye(16), bits=3)


def test_gptq_model_is_deterministic_and_uses_the_quant_linear_format(tmp_path):
    model, batches = tiny_gpt(), token_batches(2)
    a = gptq_quantize_model(model, batches, bits=4, group_size=16)
    b = gptq_quantize_model(model, batches, bits=4, group_size=16)
    layer = a.blocks[0].attn.q_proj
    assert type(layer) is QuantLinear and layer.bits == 4 and layer.group_size == 16
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
    x = batches[0][0]
    fp, q = model(x)[0], a(x)[0]
    assert (q - fp).abs().max() < 0.1 * fp.abs().max()
    loaded = load_compressed(save_compressed(a, tmp_path / "gptq.safetensors"))
    assert torch.equal(loaded(x)[0], q)


def model_with_outliers():
    """Outliers in real LLMs come from a few large norm gains; plant three in block 0's norm1."""
    model = tiny_gpt()
    with torch.no_grad():
        model.blocks[0].norm1.weight[[3, 11, 20]] = 40.0
    return model


def test_outlier_report_finds_the_planted_dimensions():
    model, batches = model_with_outliers(), token_batches(2)
    report = outlier_report(model, batches, threshold=6.0).set_index("layer")
    for name in ("q_proj", "k_proj", "v_proj"):
        row = report.loc[f"blocks.0.attn.{name}"]
        assert sorted(row.outlier_dims) == [3, 11, 20] and row.n_outlier_dims == 3
        assert row.max_abs > 6 and row.outlier_token_frac > 0.9
    assert report.loc["blocks.0.mlp.up_proj", "n_outlier_dims"] == 0
    assert list(report.columns) == ["in_features", "max_abs", "n_outlier_dims", "outlier_dims",
                                    "outlier_token_frac"]
    stats = collect_input_stats(model, batches, names=["blocks.0.attn.q_proj"])
    assert stats["blocks.0.attn.q_proj"].n_tokens == 2 * 4 * 32


def test_mixed_precision_rescues_int8_activations_from_outliers(tmp_path):
    model, batches = model_with_outliers(), token_batches(2)
    x = batches[0][0]
    exact = model(x)[0]
    w8a8 = quantize_model(model, 8, act_bits=8)
    mixed = quantize_model_mixed(model, batches, threshold=6.0)
    assert len(mixed.blocks[0].attn.q_proj.fp_columns) == 3
    assert len(mixed.blocks[1].attn.q_proj.fp_columns) == 0
    err_w8a8 = (w8a8(x)[0] - exact).norm()
    err_mixed = (mixed(x)[0] - exact).norm()
    assert err_mixed < 0.5 * err_w8a8
    layer = mixed.blocks[0].attn.q_proj
    h = torch.randn(5, 32)
    torch.testing.assert_close(layer.dequantized_weight()[:, [3, 11, 20]],
                               model.blocks[0].attn.q_proj.weight[:, [3, 11, 20]].detach())
    loaded = load_compressed(save_compressed(mixed, tmp_path / "mixed.safetensors"))
    assert torch.equal(loaded.blocks[0].attn.q_proj(h), layer(h))
    assert torch.equal(loaded(x)[0], mixed(x)[0])


def test_compare_models_reports_ratios_against_the_first_model():
    model = tiny_gpt()
    table = compare_models({"fp32": model, "int8": quantize_model(model, 8)},
                           batches=token_batches(1), max_new_tokens=4, repeats=1)
    assert list(table.model) == ["fp32", "int8"]
    assert table.memory_ratio.iloc[0] == table.disk_ratio.iloc[0] == table.speed_ratio.iloc[0] == 1
    assert table.memory_ratio.iloc[1] < 1 and (table.tokens_per_s > 0).all()
    assert abs(table.loss.iloc[1] - table.loss.iloc[0]) < 0.01      # int8 barely moves the loss
    assert table.loss.iloc[0] == pytest.approx(eval_loss(model, token_batches(1)))
    with pytest.raises(ValueError, match="torch.save"):
        save_compressed(torch_dynamic_int8(model), "unused.safetensors")
