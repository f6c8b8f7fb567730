import random

import numpy as np
import pytest
import torch

from minillm import device as dev


@pytest.mark.parametrize(
    "capability, name, dtype, scaler",
    [
        ((9, 0), "bf16", torch.bfloat16, False),   # H100
        ((8, 0), "bf16", torch.bfloat16, False),   # A100
        ((8, 6), "bf16", torch.bfloat16, False),   # RTX 30xx
        ((7, 5), "fp16", torch.float16, True),     # Colab T4: bf16 only emulated
        ((7, 0), "fp16", torch.float16, True),     # V100
    ],
)
def test_cuda_precision_follows_compute_capability(capability, name, dtype, scaler):
    p = dev.precision_for(torch.device("cuda"), capability=capability)
    assert (p.name, p.autocast_dtype, p.use_grad_scaler) == (name, dtype, scaler)


def test_cpu_and_mps_run_fp32():
    for kind in ("cpu", "mps"):
        p = dev.precision_for(torch.device(kind))
        assert p.name == "fp32" and p.autocast_dtype is None and not p.use_grad_scaler
    with dev.FP32.autocast(torch.device("cpu")):
        y = torch.ones(2, 2) @ torch.ones(2, 2)
    assert y.dtype == torch.float32


def test_fp32_grad_scaler_is_a_no_op():
    scaler = dev.FP32.grad_scaler(torch.device("cpu"))
    assert not scaler.is_enabled()
    loss = torch.tensor(3.0, requires_grad=True)
    assert scaler.scale(loss) is loss


def test_pick_device_defaults_to_cpu_here(monkeypatch):
    monkeypatch.delenv("MINILLM_DEVICE", raising=False)
    if not torch.cuda.is_available():
        assert dev.pick_device().type in ("cpu", "mps")
    assert dev.pick_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_wrong_device_is_a_clear_error(monkeypatch):
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        dev.pick_device("cuda")
    monkeypatch.setenv("MINILLM_DEVICE", "cuda:0")
    with pytest.raises(RuntimeError, match="MINILLM_DEVICE"):
        dev.pick_device()


def _draw():
    return (random.random(), np.random.rand(), torch.rand(3).tolist(),
            torch.nn.Linear(4, 4).weight.sum().item())


def test_seeding_reproduces_and_seeds_differ():
    dev.seed_everything(123)
    first = _draw()
    dev.seed_everything(123)
    assert _draw() == first
    dev.seed_everything(124)
    assert _draw() != first


def test_seeded_training_is_bitwise_reproducible_on_cpu():
    def train() -> torch.Tensor:
        gen = dev.seed_everything(7)
        model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.GELU(), torch.nn.Linear(16, 1))
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
        for _ in range(20):
            x = torch.randn(32, 8, generator=gen)
            loss = (model(x) - x.sum(1, keepdim=True)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    assert torch.equal(train(), train())
