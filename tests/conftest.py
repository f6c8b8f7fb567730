"""Shared test set-up: the smoke profile, a private artifacts folder, fixed seeds."""

import os

import pytest
import torch

os.environ.setdefault("MINILLM_PROFILE", "smoke")
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

# Test models are tiny: one thread is as fast as two, and on a busy shared machine two threads
# spin waiting for each other (a tiny forward pass measured 0.65 s with 2 threads, 1 ms with 1).
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def world():
    """The seed-0 TinyWorld shared by the data and curation tests (tests only read it)."""
    from minillm.data.tinyworld import make_world

    return make_world(0)


@pytest.fixture
def minillm_home(tmp_path, monkeypatch):
    """Point artifacts/ and runs/ at a temporary folder for one test."""
    monkeypatch.setenv("MINILLM_HOME", str(tmp_path))
    return tmp_path
