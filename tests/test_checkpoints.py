"""Faults in evalib.book.checkpointing's checkpoints: damaged files are refused by name, writes are
atomic, and a load that cannot finish changes nothing. A tiny model keeps them fast."""

from __future__ import annotations

import random
import threading

import pytest
import torch
from torch import nn

import evalib.book.checkpointing
from evalib.book.checkpointing import load_checkpoint, save_checkpoint
from evalib.train import History, momentum_sgd, one_cycle


class Tiny(nn.Module):
    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.fc = nn.Linear(8, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.hidden(x)))


def trained(classes: int = 3, seed: int = 0, scheduler: bool = True):
    """A model, optimizer and one-cycle schedule after two steps (momentum buffers set)."""
    torch.manual_seed(seed)
    model = Tiny(classes)
    optimizer = momentum_sgd(model.parameters(), lr_eff=0.1, beta=0.9)
    schedule = one_cycle(optimizer, total_steps=10) if scheduler else None
    for _ in range(2):
        optimizer.zero_grad()
        model(torch.randn(5, 4)).square().mean().backward()
        optimizer.step()
        if schedule is not None:
            schedule.step()
    return model, optimizer, schedule


def snapshot(model, optimizer):
    return ({k: v.clone() for k, v in model.state_dict().items()},
            {i: {k: v.clone() for k, v in s.items()} for i, s in optimizer.state_dict()["state"].items()})  # fmt: skip


def assert_unchanged(before, model, optimizer):
    weights, state = before
    now_weights, now_state = snapshot(model, optimizer)
    assert weights.keys() == now_weights.keys() and state.keys() == now_state.keys()
    assert all(torch.equal(weights[k], now_weights[k]) for k in weights)
    assert all(torch.equal(state[i][k], now_state[i][k]) for i in state for k in state[i])


@pytest.fixture
def saved(tmp_path):
    model, optimizer, scheduler = trained()
    path = save_checkpoint(tmp_path / "run.pt", model, optimizer, scheduler, 1, History(epoch=[1]))
    return path, model


def test_a_checkpoint_round_trips_and_carries_its_sha256(saved):
    path, model = saved
    assert path.read_bytes()[-78:-64] == b"evalib-sha256:"  # the zip comment at the end
    fresh, fresh_opt, fresh_sched = trained(seed=1)
    epoch, history = load_checkpoint(path, fresh, fresh_opt, fresh_sched)
    assert epoch == 1 and history.epoch == [1]
    assert all(
        torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), model.state_dict().values())
    )


def test_every_single_bit_flip_is_refused_naming_the_file(saved, tmp_path):
    path, _ = saved
    data = path.read_bytes()
    rng = random.Random(0)
    damaged = tmp_path / "damaged.pt"
    for _ in range(50):
        flipped = bytearray(data)
        position = rng.randrange(len(data))
        flipped[position] ^= 1 << rng.randrange(8)
        damaged.write_bytes(bytes(flipped))
        model, optimizer, scheduler = trained(seed=2)
        before = snapshot(model, optimizer)
        with pytest.raises(ValueError, match=str(damaged)):
            load_checkpoint(damaged, model, optimizer, scheduler)
        assert_unchanged(before, model, optimizer)


def test_truncated_empty_and_foreign_files_are_refused_naming_the_file(saved, tmp_path):
    path, _ = saved
    data = path.read_bytes()
    rng = random.Random(1)
    bad = tmp_path / "bad.pt"
    contents = [data[: rng.randrange(len(data))] for _ in range(20)] + [
        data[:-1], b"", b"epoch,loss\n1,0.5\n", b"PK\x05\x06" + bytes(18),
    ]  # fmt: skip
    for content in contents:
        bad.write_bytes(content)
        with pytest.raises(ValueError, match=str(bad)) as err:
            load_checkpoint(bad, Tiny())
        assert "not loaded" in str(err.value)


def test_a_sealed_file_that_torch_refuses_is_named_and_weights_only_false_is_advised_against(
    tmp_path, monkeypatch
):
    # A file with a valid checksum (anyone can compute one) holding a pickled object
    # that weights_only=True will not build: torch suggests weights_only=False; we do not.
    model, optimizer, scheduler = trained()
    monkeypatch.setattr(evalib.book.checkpointing, "_rng_state", lambda loader: random.Random)
    path = save_checkpoint(tmp_path / "hostile.pt", model, optimizer, scheduler, 1, History())
    with pytest.raises(ValueError, match=r"hostile\.pt") as err:
        load_checkpoint(path, Tiny())
    assert "do not retry with weights_only=False" in str(err.value)


def test_two_writers_of_one_path_never_leave_a_corrupt_file(tmp_path):
    path = tmp_path / "shared.pt"
    runs = [trained(seed=seed) for seed in (0, 1)]
    errors = []

    def write(model, optimizer, scheduler):
        try:
            for epoch in range(20):
                save_checkpoint(path, model, optimizer, scheduler, epoch + 1, History())
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=write, args=run) for run in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    loaded = Tiny()
    assert load_checkpoint(path, loaded, restore_rng=False)[0] == 20
    assert any(all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), m.state_dict().values()))
               for m, _, _ in runs)  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.pt"]


@pytest.mark.parametrize("where", ["torch.save", "os.fsync", "os.replace"])
def test_an_interrupted_save_leaves_the_old_file_and_no_temporary(
    saved, tmp_path, monkeypatch, where
):
    path, _ = saved
    old = path.read_bytes()
    real_save = torch.save

    def half_then_interrupt(obj, f, *args, **kwargs):
        import io

        buffer = io.BytesIO()
        real_save(obj, buffer)
        data = buffer.getvalue()[:1000]
        if hasattr(f, "write"):
            f.write(data)
        else:
            with open(f, "wb") as out:
                out.write(data)
        raise KeyboardInterrupt("simulated Ctrl-C")

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt("simulated Ctrl-C")

    module, name = where.split(".")
    target = torch if module == "torch" else evalib.book.checkpointing.os
    monkeypatch.setattr(target, name, half_then_interrupt if where == "torch.save" else interrupt)
    other, optimizer, scheduler = trained(seed=5)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, other, optimizer, scheduler, 2, History())
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert load_checkpoint(path, Tiny(), restore_rng=False)[0] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]


def test_a_checkpoint_of_another_shape_changes_nothing(tmp_path):
    ten, ten_opt, ten_sched = trained(classes=10)
    path = save_checkpoint(tmp_path / "ten.pt", ten, ten_opt, ten_sched, 1, History())
    model, optimizer, scheduler = trained(classes=5, seed=3)
    before = snapshot(model, optimizer)
    with pytest.raises(ValueError, match=r"fc\.weight.*\(10, 8\).*\(5, 8\)"):
        load_checkpoint(path, model, optimizer, scheduler)
    assert_unchanged(before, model, optimizer)
    assert scheduler.last_epoch == 2


def test_a_scheduler_mismatch_changes_nothing(tmp_path):
    plain, plain_opt, _ = trained(scheduler=False)
    without = save_checkpoint(tmp_path / "without.pt", plain, plain_opt, None, 1, History())
    with_one = save_checkpoint(tmp_path / "with.pt", *trained(), 1, History())
    model, optimizer, scheduler = trained(seed=3)
    before = snapshot(model, optimizer)
    with pytest.raises(ValueError, match="without a scheduler"):
        load_checkpoint(without, model, optimizer, scheduler)
    step = torch.optim.lr_scheduler.StepLR(
        momentum_sgd(model.parameters(), lr_eff=0.1, beta=0.9), 5
    )
    with pytest.raises(ValueError, match="another kind of scheduler"):
        load_checkpoint(with_one, model, optimizer, step)
    assert_unchanged(before, model, optimizer)
    assert scheduler.last_epoch == 2 and step.last_epoch == 0


def test_a_corrupt_random_state_changes_nothing(tmp_path, monkeypatch):
    real = evalib.book.checkpointing._rng_state

    def corrupt(loader):
        state = real(loader)
        state["numpy"]["keys"] = state["numpy"]["keys"][:10]  # too short for MT19937
        return state

    monkeypatch.setattr(evalib.book.checkpointing, "_rng_state", corrupt)
    path = save_checkpoint(tmp_path / "rng.pt", *trained(), 1, History())
    monkeypatch.undo()
    model, optimizer, scheduler = trained(seed=3)
    before, torch_rng = snapshot(model, optimizer), torch.get_rng_state()
    with pytest.raises(ValueError, match="nothing was changed"):
        load_checkpoint(path, model, optimizer, scheduler)
    assert_unchanged(before, model, optimizer)
    assert scheduler.last_epoch == 2 and torch.equal(torch.get_rng_state(), torch_rng)


def test_an_optimizer_with_other_hyperparameters_is_refused(saved):
    path, _ = saved
    model = Tiny()
    optimizer = momentum_sgd(model.parameters(), lr_eff=0.1, beta=0.5)  # saved with beta=0.9
    with pytest.raises(ValueError, match="momentum"):
        load_checkpoint(path, model, optimizer, one_cycle(optimizer, total_steps=10))


def test_a_schedule_of_another_length_is_refused(saved):
    path, _ = saved
    model, optimizer, _ = trained(seed=3)
    scheduler = one_cycle(momentum_sgd(model.parameters(), lr_eff=0.1, beta=0.9), total_steps=20)
    before = snapshot(model, optimizer)
    with pytest.raises(ValueError, match="total_steps 20 here, 10 in the checkpoint"):
        load_checkpoint(path, model, optimizer, scheduler)
    assert_unchanged(before, model, optimizer)


def test_checking_a_path_leaves_a_file_already_there_alone(tmp_path):
    # Another writer's checkpoint may sit at the path while this run checks it.
    path = tmp_path / "shared.pt"
    path.write_bytes(b"another run's checkpoint")
    evalib.book.checkpointing._check_writable(path)
    assert path.read_bytes() == b"another run's checkpoint"
    missing = tmp_path / "new.pt"
    evalib.book.checkpointing._check_writable(missing)
    assert not missing.exists() and list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("answer", [-1, 0, OSError("no answer")])
def test_a_file_system_that_reports_no_name_limit_is_taken_as_255_bytes(
    tmp_path, monkeypatch, answer
):
    def pathconf(folder, name):
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(evalib.book.checkpointing.os, "pathconf", pathconf)
    evalib.book.checkpointing._check_writable(tmp_path / ("r" * 200 + ".pt"))
    with pytest.raises(ValueError, match="at most 255 bytes"):
        evalib.book.checkpointing._check_writable(tmp_path / ("r" * 300 + ".pt"))
