from dataclasses import dataclass

import pytest

from minillm import profiles


def test_env_var_picks_profile(monkeypatch):
    for name in profiles.PROFILES:
        monkeypatch.setenv("MINILLM_PROFILE", name)
        assert profiles.active_profile() == name
    monkeypatch.setenv("MINILLM_PROFILE", " CPU ")
    assert profiles.active_profile() == "cpu"


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("MINILLM_PROFILE", "turbo")
    with pytest.raises(ValueError, match="smoke, cpu, gpu"):
        profiles.active_profile()


@pytest.mark.parametrize("cuda, expected", [(True, "gpu"), (False, "cpu")])
def test_auto_selection_follows_cuda(monkeypatch, cuda, expected):
    monkeypatch.delenv("MINILLM_PROFILE", raising=False)
    monkeypatch.setattr(profiles, "_cuda_available", lambda: cuda)
    assert profiles.active_profile() == expected


@dataclass(frozen=True)
class ToyConfig:
    width: int


def test_register_stage_and_lookup(monkeypatch):
    profiles.register_stage(
        "toy_stage", {"smoke": ToyConfig(1), "cpu": ToyConfig(2), "gpu": ToyConfig(3)},
        minutes={"smoke": 0.25, "cpu": 4, "gpu": 2},
    )
    monkeypatch.setenv("MINILLM_PROFILE", "cpu")
    assert profiles.stage_config("toy_stage") == ToyConfig(2)
    assert profiles.stage_config("toy_stage", "gpu") == ToyConfig(3)
    line = profiles.banner("toy_stage")
    assert "profile cpu" in line and "expected ~4 min" in line and "torch" in line
    assert "expected ~15 s" in profiles.banner("toy_stage", profile="smoke")


def test_stage_needs_every_profile():
    with pytest.raises(ValueError, match="no config for profile"):
        profiles.register_stage("broken", {"smoke": 1, "cpu": 2})
    with pytest.raises(ValueError, match="unknown profile"):
        profiles.register_stage("broken", {"smoke": 1, "cpu": 2, "gpu": 3, "tpu": 4})


def test_unknown_stage_lists_known_ones():
    with pytest.raises(KeyError, match="registered stages"):
        profiles.get_stage("no_such_stage")
