"""Parameter counts, FLOPs per token, memory, peak FLOPs and MFU."""

import pytest

from minillm.compute import (
    config_param_counts,
    estimate_memory,
    flops_per_token,
    gpu_peak_flops,
    measure_matmul_flops,
    mfu,
    peak_flops,
)
from minillm.model import GPTConfig


def test_gpt2_small_has_124m_parameters():
    counts = config_param_counts(GPTConfig.gpt2())
    assert counts["total"] == 124_439_808                  # the published GPT-2 124M count
    assert counts["non_embedding"] == 85_056_000


def test_flops_per_token_is_6n_plus_attention():
    config = GPTConfig.gpt2()
    n = config_param_counts(config)["non_embedding"] + 50257 * 768
    expected = 6 * n + 12 * 12 * 1024 * 768
    assert flops_per_token(config) == expected
    assert flops_per_token(config, training=False) == expected / 3
    assert flops_per_token(config, seq_len=256) < expected


def test_memory_estimate():
    config = GPTConfig.gpt2()
    mem = estimate_memory(config, batch_size=8, precision="bf16")
    assert mem.weights == 4 * 124_439_808 and mem.optimizer == 2 * mem.weights
    no_flash = estimate_memory(config, batch_size=8, flash_attention=False)
    assert no_flash.activations > mem.activations
    assert estimate_memory(config, 8, precision="fp32").activations > mem.activations
    assert mem.gib()["total"] == pytest.approx(mem.total / 2**30, abs=1e-3)
    with pytest.raises(ValueError, match="precision must be one of"):
        estimate_memory(config, 8, precision="int8")


def test_gpu_peak_table_lookup():
    assert gpu_peak_flops("NVIDIA H100 80GB HBM3") == 989e12
    assert gpu_peak_flops("NVIDIA H100 PCIe") == 756e12
    assert gpu_peak_flops("NVIDIA A100-SXM4-40GB") == 312e12
    assert gpu_peak_flops("Tesla T4", "bf16") == 65e12          # no bf16 units: fp16 figure
    assert gpu_peak_flops("NVIDIA GeForce RTX 4090") == 165e12
    assert gpu_peak_flops("NVIDIA A10G", "fp32") == 31.2e12
    assert gpu_peak_flops("Some Future GPU") is None


def test_mfu_and_cpu_peak():
    assert mfu(1000, 1e9, 1e13) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        mfu(1, 1, 0)
    measured = measure_matmul_flops("cpu", size=256, repeats=2)
    assert 1e8 < measured < 1e14
    peak, source = peak_flops("cpu")
    assert peak == measured and "measured" in source
