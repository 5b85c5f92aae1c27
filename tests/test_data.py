"""Tests of evalib.book.data: data root, offline fallback, transforms, loaders and their subsets."""

from __future__ import annotations

import socket
import threading
import time
import warnings
from pathlib import Path

import pytest
import torch

from evalib.book import data
from evalib.book.data import OfflineDataWarning, OfflineDigits, load


@pytest.fixture
def no_network(monkeypatch):
    """Every attempt to open a connection fails at once, as on an offline machine."""

    def refuse(*args, **kwargs):
        raise OSError("network is unreachable (test)")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_data_root_prefers_argument_then_environment_then_home_cache(monkeypatch, tmp_path):
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    assert data.data_root() == Path.home().resolve() / ".cache" / "evalib"
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "env"))
    assert data.data_root() == tmp_path / "env"
    assert data.data_root(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.chdir(tmp_path)
    assert data.data_root("relative").is_absolute()
    with pytest.raises(TypeError, match="root"):
        data.data_root(3)


def test_cifar10_without_network_warns_once_and_falls_back_to_digits(no_network, tmp_path):
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load("cifar10", root=tmp_path, batch_size=32, train_size=64, test_size=32)
    elapsed = time.perf_counter() - start
    offline = [w for w in caught if issubclass(w.category, OfflineDataWarning)]
    assert len(offline) == 1
    message = str(offline[0].message)
    assert str(tmp_path) in message and "NOT CIFAR-10" in message
    assert loaded.name == "digits" and loaded.classes == data.DIGIT_CLASSES
    x, y = next(iter(loaded.train))
    assert x.shape == (32, 3, 32, 32) and y.shape == (32,)
    assert elapsed < 10.0, f"the offline fallback took {elapsed:.1f} s"


def test_download_false_falls_back_without_touching_the_network(monkeypatch, tmp_path):
    def forbidden(*args, **kwargs):
        raise AssertionError("download=False must not open a connection")

    monkeypatch.setattr(socket, "create_connection", forbidden)
    with pytest.warns(OfflineDataWarning, match="download=False"):
        loaded = load("cifar10", root=tmp_path, download=False, train_size=64, batch_size=32)
    assert loaded.name == "digits"


def test_reachability_probe_gives_up_on_a_hanging_lookup(monkeypatch):
    release = threading.Event()

    def hang(*args, **kwargs):  # a lookup that answers only after the caller gave up
        release.wait(30)
        raise OSError("lookup abandoned (test)")

    monkeypatch.setattr(socket, "create_connection", hang)
    start = time.perf_counter()
    try:
        ok, why = data._reachable("https://www.cs.toronto.edu/x.tar.gz", timeout=0.2)
    finally:
        release.set()  # let the probe thread finish now, not during a later test
    assert not ok and "within 0.2 s" in why
    assert time.perf_counter() - start < 2.0


def test_normalised_training_digits_have_zero_mean_and_unit_std():
    train = OfflineDigits("train")
    x = data.test_transform(train.mean, train.std)(train.images)
    assert torch.allclose(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-3)


def test_cutout_blanks_one_square_to_the_mean_colour():
    mean, std = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)
    white = torch.full((3, 32, 32), 255, dtype=torch.uint8)
    torch.manual_seed(0)
    out = data.train_transform(mean, std, cutout=8)(white)
    assert out.shape == (3, 32, 32)
    # Cutout zeroes one 8x8 square; elsewhere a pixel is white, (1 - 0.5)/0.25 = 2, or
    # black padding that the crop shifted in, (0 - 0.5)/0.25 = -2.
    assert int((out == 0).sum()) == 3 * 8 * 8
    assert set(out[out != 0].unique().tolist()) <= {2.0, -2.0}
    with pytest.raises(ValueError, match="cutout"):
        data.train_transform(mean, std, cutout=40)


def test_denormalize_inverts_the_test_transform():
    loaded = load("digits", batch_size=16, train_size=32)  # the whole test split, in order
    x, _ = next(iter(loaded.test))
    images = OfflineDigits("test").images[: len(x)]
    assert torch.allclose(loaded.denormalize(x), images.float() / 255, atol=1e-5)


def test_subsets_keep_their_sizes_and_the_matching_boxes():
    loaded = load("digits", batch_size=50, train_size=200, test_size=60, seed=3)
    assert len(loaded.train.dataset) == 200 and len(loaded.train) == 4
    test = loaded.test.dataset
    assert len(test) == 60 and loaded.boxes is test.boxes and test.boxes.shape == (60, 4)
    # Each kept image carries its own box: find it among all test digits by its pixels.
    everything = OfflineDigits("test")
    pixels = everything.images.flatten(1)
    for i in range(len(test)):
        image, label = test[i]
        raw = (loaded.denormalize(image) * 255).round().to(torch.uint8).flatten()
        (match,) = (pixels == raw).all(dim=1).nonzero()[:, 0].tolist()
        assert label == int(everything.targets[match])
        assert torch.equal(test.boxes[i], everything.boxes[match])


def test_cifar10_on_disk_is_loaded_without_boxes(monkeypatch, tmp_path):
    # A stand-in for torchvision's CIFAR10 on disk: ten 32x32 images per split.
    class FakeCIFAR10(torch.utils.data.Dataset):
        base_folder, url = "cifar-10-batches-py", "https://example.invalid/cifar.tar.gz"

        def __init__(self, root, train=True, download=False):
            self.images = torch.zeros(64 if train else 16, 32, 32, 3, dtype=torch.uint8).numpy()

        def __len__(self):
            return len(self.images)

        def __getitem__(self, index):
            return self.images[index], index % 10

    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeCIFAR10)
    loaded = load("cifar10", root=tmp_path, batch_size=32, test_size=8)
    assert loaded.name == "cifar10" and loaded.boxes is None and loaded.test.dataset.boxes is None
    assert len(loaded.test.dataset) == 8 and loaded.classes == data.CIFAR10_CLASSES


def test_training_loader_order_depends_only_on_the_seed():
    first = [y for _, y in load("digits", batch_size=64, train_size=128, seed=5).train]
    torch.manual_seed(123)  # the global generator must not matter
    second = [y for _, y in load("digits", batch_size=64, train_size=128, seed=5).train]
    assert all(torch.equal(a, b) for a, b in zip(first, second))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dataset": "mnist"}, "dataset"),
        ({"batch_size": 0}, "batch_size"),
        ({"train_size": 0}, "train_size"),
        ({"seed": -1}, "seed"),
        ({"num_workers": -2}, "num_workers"),
        ({"train_size": 10, "batch_size": 32}, "batch_size=32 exceeds"),
    ],
)
def test_load_rejects_bad_arguments(kwargs, match):
    kwargs = {"dataset": "digits", **kwargs}
    with pytest.raises(ValueError, match=match):
        load(**kwargs)


def test_offline_warning_fires_once_per_session_and_root(no_network, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_offline_warned", set(), raising=False)  # a fresh session
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # the registry alone must not be what stops repeats
        for _ in range(2):
            first = load("cifar10", root=tmp_path, batch_size=32, train_size=64, test_size=32)
        load("cifar10", root=tmp_path / "other", batch_size=32, train_size=64, test_size=32)
    offline = [str(w.message) for w in caught if issubclass(w.category, OfflineDataWarning)]
    assert len(offline) == 2 and str(tmp_path / "other") in offline[1]
    assert first.name == "digits"  # the result still says what was loaded


def test_more_training_images_than_exist_is_refused_saying_how_many_there_are():
    with pytest.raises(ValueError, match=r"train_size=1000000000.*1,438"):
        load("digits", train_size=10**9)
    with pytest.raises(ValueError, match=r"test_size=5000.*359"):
        load("digits", test_size=5000)


def test_the_offline_fallback_uses_all_digits_and_says_so_when_asked_for_more(no_network, tmp_path):
    with (
        pytest.warns(OfflineDataWarning),
        pytest.warns(UserWarning, match=r"train_size=50000.*1,438 training"),
    ):
        loaded = load("cifar10", root=tmp_path, batch_size=32, train_size=50_000, test_size=32)
    assert loaded.name == "digits" and len(loaded.train.dataset) == 1438


@pytest.mark.parametrize("root", ["", "   "])
def test_an_empty_data_root_is_refused(root):
    with pytest.raises(ValueError, match="root must not be empty"):
        data.data_root(root)


def test_denormalize_refuses_images_that_are_not_floating_point():
    loaded = load("digits", batch_size=16, train_size=32, test_size=16)
    with pytest.raises(TypeError, match=r"x must be a floating-point tensor.*uint8"):
        loaded.denormalize(torch.zeros(3, 4, 4, dtype=torch.uint8))


def test_corrupted_cifar10_files_are_reported_as_unreadable_not_missing(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "data_batch_1").write_bytes(b"not a pickle")
    with pytest.warns(OfflineDataWarning) as caught:
        load("cifar10", root=tmp_path, download=False, train_size=64, batch_size=32)
    message = str(caught[0].message)
    assert "unreadable" in message and str(folder) in message and "not in" not in message


@pytest.mark.parametrize("make", [data.train_transform, data.test_transform])
def test_transforms_refuse_what_they_would_get_wrong_silently(make):
    transform = make((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    with pytest.raises(ValueError, match=r"float image must lie in \[0, 1\].*divide by 255"):
        transform(torch.full((3, 32, 32), 200.0))  # 0-255 floats: ToDtype does not rescale
    with pytest.raises(ValueError, match=r"1 channel\(s\) but mean and std give 3"):
        transform(torch.zeros(1, 32, 32, dtype=torch.uint8))  # Normalize would broadcast it
    assert transform(torch.rand(3, 32, 32)).shape == (3, 32, 32)


def test_load_takes_every_seed_a_torch_generator_takes():
    with pytest.raises(ValueError, match=r"seed must be between 0 and 18446744073709551615"):
        load("digits", train_size=8, test_size=8, seed=2**64)
