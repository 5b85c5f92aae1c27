"""evalib.book.runtime: device order and the quick/full profile switch."""

import pytest
import torch

from evalib.book import runtime


def test_profile_defaults_to_full_with_cuda_and_quick_without(monkeypatch):
    monkeypatch.delenv("EVALIB_PROFILE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.profile() == "full"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert runtime.profile() == "quick"


@pytest.mark.parametrize(
    "value, expected", [("quick", "quick"), ("full", "full"), (" FULL ", "full")]
)
def test_profile_environment_variable_overrides(monkeypatch, value, expected):
    monkeypatch.setenv("EVALIB_PROFILE", value)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert runtime.profile() == expected


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("EVALIB_PROFILE", "fast")
    with pytest.raises(ValueError, match=r"EVALIB_PROFILE='fast'.*quick, full"):
        runtime.profile()


def test_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert runtime.device() == torch.device("mps")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert runtime.device() == torch.device("cpu")


def test_seed_everything_makes_torch_and_numpy_repeat():
    import numpy as np

    runtime.seed_everything(3)
    first = (torch.rand(3), np.random.rand(3))
    runtime.seed_everything(3)
    second = (torch.rand(3), np.random.rand(3))
    assert torch.equal(first[0], second[0]) and np.array_equal(first[1], second[1])


@pytest.mark.parametrize("seed", [-1, 2**70])
def test_seed_everything_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed"):
        runtime.seed_everything(seed)


@pytest.mark.parametrize("seed", [1.5, "1", True, None])
def test_seed_everything_rejects_seeds_that_are_not_ints(seed):
    with pytest.raises(TypeError, match="seed"):
        runtime.seed_everything(seed)


def test_cpu_threads_is_half_the_usable_cores_and_at_least_one(monkeypatch):
    for cores, expected in ((1, 1), (2, 1), (3, 1), (8, 4)):
        monkeypatch.setattr(
            runtime.os, "sched_getaffinity", lambda pid, n=cores: set(range(n)), raising=False
        )
        assert runtime.cpu_threads() == expected


def test_set_threads_sets_torch_and_returns_the_count():
    before = torch.get_num_threads()
    try:
        assert runtime.set_threads(1) == 1 and torch.get_num_threads() == 1
        assert runtime.set_threads() == runtime.cpu_threads() == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize(
    "threads, error", [(0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError)]
)
def test_set_threads_refuses_bad_counts(threads, error):
    with pytest.raises(error, match="threads"):
        runtime.set_threads(threads)


def test_checked_device_gives_a_usable_device_or_says_which_are_allowed(monkeypatch):
    assert runtime.checked_device("cpu") == torch.device("cpu")
    assert runtime.checked_device(None) == runtime.device()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for name in ("meta", "gpu", "cuda:0"):
        with pytest.raises(ValueError, match=rf"device '{name}'"):
            runtime.checked_device(name)
    with pytest.raises(TypeError, match="device must be"):
        runtime.checked_device(0)


def test_set_threads_refuses_more_threads_than_cores():
    before = torch.get_num_threads()
    try:
        with pytest.raises(ValueError, match=r"threads must be between 1 and"):
            runtime.set_threads(10**4)
        assert torch.get_num_threads() == before
    finally:
        torch.set_num_threads(before)
