"""Tests of evalib.train: the loop, its history, checkpoints, the optimizer and schedule."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from evalib.book.checkpointing import load_checkpoint
from evalib.book.data import load
from evalib.train import (
    History,
    evaluate,
    fit,
    momentum_sgd,
    one_cycle,
    predict,
)
from tiny_net import TinyNet


@pytest.fixture(scope="module")
def digits():
    """128 training and 64 test digits, batches of 32: 4 steps per epoch."""
    return load("digits", batch_size=32, train_size=128, test_size=64, seed=0)


def make_run(data, epochs: int, seed: int = 0):
    torch.manual_seed(seed)
    model = TinyNet()
    optimizer = momentum_sgd(
        model.parameters(), lr_eff=0.5, beta=0.9, nesterov=True, weight_decay=5e-4
    )
    scheduler = one_cycle(optimizer, total_steps=epochs * len(data.train), warmup=0.5)
    return model, optimizer, scheduler


def test_one_epoch_of_fit_lowers_the_loss():
    data = load("digits", batch_size=32, train_size=512, test_size=64, seed=0)  # 16 steps
    torch.manual_seed(0)
    model = TinyNet()
    optimizer = momentum_sgd(model.parameters(), lr_eff=0.2, beta=0.0)
    before, _ = evaluate(model, data.train, device="cpu")
    history = fit(model, optimizer, data.train, data.test, epochs=1, device="cpu", progress=False)
    after, _ = evaluate(model, data.train, device="cpu")
    assert after < before - 0.05
    assert history.epoch == [1]
    assert len(history.lr) == len(history.step_loss) == len(data.train) == 16
    assert 0.0 <= history.test_acc[0] <= 1.0 and history.seconds[0] > 0


def test_history_records_the_one_cycle_learning_rates(digits):
    model, optimizer, scheduler = make_run(digits, epochs=2)
    history = fit(model, optimizer, digits.train, None, epochs=2, scheduler=scheduler,
                  device="cpu", progress=False)  # fmt: skip
    peak = 0.5 * (1 - 0.9)
    assert history.lr[0] == pytest.approx(peak / 25)
    assert max(history.lr) == pytest.approx(peak, rel=0.05)
    assert history.lr[-1] < history.lr[0]
    assert all(math.isnan(v) for v in history.test_acc)


def test_resuming_from_a_checkpoint_reproduces_the_uninterrupted_run(tmp_path):
    epochs = 3
    data = load("digits", batch_size=32, train_size=128, test_size=64, seed=0)
    model, optimizer, scheduler = make_run(data, epochs)
    full = fit(model, optimizer, data.train, data.test, epochs, scheduler,
               device="cpu", progress=False)  # fmt: skip
    reference = {k: v.clone() for k, v in model.state_dict().items()}

    path = tmp_path / "run.pt"
    data = load("digits", batch_size=32, train_size=128, test_size=64, seed=0)  # a new loader
    model, optimizer, scheduler = make_run(data, epochs)
    fit(
        model,
        optimizer,
        data.train,
        data.test,
        2,
        scheduler,
        device="cpu",
        checkpoint=path,
        progress=False,
    )  # the "interrupted" run stops after epoch 2
    # A new process would start from other random states and a fresh model.
    model, optimizer, scheduler = make_run(data, epochs, seed=99)
    torch.manual_seed(1234)
    resumed = fit(model, optimizer, data.train, data.test, epochs, scheduler, device="cpu",
                  checkpoint=path, resume=True, progress=False)  # fmt: skip

    for name, value in model.state_dict().items():
        assert torch.equal(value, reference[name]), f"{name} differs after resuming"
    assert resumed.epoch == full.epoch == [1, 2, 3]
    for key in ("train_loss", "train_acc", "test_loss", "test_acc", "lr", "step_loss"):
        assert getattr(resumed, key) == getattr(full, key), key


def test_checkpoint_loads_with_weights_only_and_restores_the_objects(digits, tmp_path):
    path = tmp_path / "one.pt"
    model, optimizer, scheduler = make_run(digits, epochs=2)
    fit(model, optimizer, digits.train, None, 2, scheduler, device="cpu", checkpoint=path,
        progress=False)  # fmt: skip
    payload = torch.load(path, weights_only=True)  # refuses anything but plain data
    assert payload["epoch"] == 2 and set(payload) >= {"model", "optimizer", "scheduler", "rng"}
    fresh, fresh_opt, fresh_sched = make_run(digits, epochs=2, seed=7)
    epoch, history = load_checkpoint(path, fresh, fresh_opt, fresh_sched)
    assert epoch == 2 and isinstance(history, History) and history.epoch == [1, 2]
    assert all(
        torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), model.state_dict().values())
    )
    assert fresh_sched.last_epoch == scheduler.last_epoch
    assert not (tmp_path / "one.pt.tmp").exists()


def nan_loss_at_call(n: int):
    """Cross-entropy that turns NaN on its n-th call, as a diverging run does."""
    calls = {"n": 0}

    def loss_fn(out, y):
        calls["n"] += 1
        loss = nn.functional.cross_entropy(out, y)
        return loss * float("nan") if calls["n"] == n else loss

    return loss_fn


def test_a_non_finite_loss_stops_training_naming_epoch_and_step(digits):
    model, optimizer, _ = make_run(digits, epochs=2)
    loss_fn = nan_loss_at_call(6)  # epoch 2, step 2

    with pytest.raises(FloatingPointError, match="nan at epoch 2, step 2 of 4"):
        fit(model, optimizer, digits.train, None, 2, loss_fn=loss_fn, device="cpu", progress=False)


def test_momentum_sgd_takes_the_same_steady_step_for_every_beta():
    """On a constant gradient g, every beta's step tends to lr*g (the EWMA form)."""
    for beta, nesterov in [(0.0, False), (0.5, False), (0.9, False), (0.9, True)]:
        w = torch.zeros(1, requires_grad=True)
        optimizer = momentum_sgd([w], lr_eff=0.1, beta=beta, nesterov=nesterov)
        assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * (1 - beta))
        previous = 0.0
        for _ in range(300):
            optimizer.zero_grad()
            (2.0 * w).sum().backward()  # gradient 2 everywhere
            optimizer.step()
            step, previous = previous - w.item(), w.item()
        assert step == pytest.approx(0.1 * 2.0, rel=1e-4), beta  # float32 steps


def test_one_cycle_warms_up_to_the_optimizer_lr_and_leaves_momentum_alone():
    w = torch.zeros(1, requires_grad=True)
    optimizer = momentum_sgd([w], lr_eff=1.0, beta=0.9)
    scheduler = one_cycle(optimizer, total_steps=100, warmup=0.3)
    lrs, momenta = [], []
    for _ in range(100):
        lrs.append(optimizer.param_groups[0]["lr"])
        momenta.append(optimizer.param_groups[0]["momentum"])
        optimizer.step()
        scheduler.step()
    peak = 0.1
    assert lrs[0] == pytest.approx(peak / 25)
    assert max(lrs) == pytest.approx(peak, rel=1e-3) and lrs.index(max(lrs)) in (29, 30)
    assert lrs[-1] < peak / 25 / 1e3
    assert set(momenta) == {0.9}


def test_evaluate_and_predict_restore_the_training_mode_and_agree(digits):
    torch.manual_seed(0)
    model = TinyNet().train()
    logits, labels = predict(model, digits.test, device="cpu")
    assert model.training
    assert logits.shape == (64, 10) and torch.equal(labels, torch.cat([y for _, y in digits.test]))
    loss, accuracy = evaluate(model, digits.test, device="cpu")
    assert loss == pytest.approx(float(nn.functional.cross_entropy(logits, labels)), rel=1e-5)
    assert accuracy == pytest.approx(float((logits.argmax(1) == labels).float().mean()))
    model.eval()
    evaluate(model, digits.test, device="cpu")
    assert not model.training


def test_fit_and_helpers_reject_bad_arguments(digits):
    model, optimizer, _ = make_run(digits, epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, optimizer, digits.train, epochs=0, progress=False)
    with pytest.raises(TypeError, match="optimizer"):
        fit(model, "sgd", digits.train, progress=False)
    with pytest.raises(TypeError, match="train_loader"):
        fit(model, optimizer, 5, progress=False)
    with pytest.raises(TypeError, match="wrap a Dataset in a torch DataLoader"):
        fit(model, optimizer, digits.train.dataset, progress=False)
    with pytest.raises(TypeError, match=r"train_loader must yield \(x, y\) pairs"):
        fit(model, optimizer, [torch.zeros(1, 3, 8, 8)], progress=False)
    with pytest.raises(ValueError, match="no batches"):
        fit(model, optimizer, [], progress=False)
    with pytest.raises(ValueError, match="resume"):
        fit(model, optimizer, digits.train, resume=True, progress=False)
    with pytest.raises(ValueError, match="beta"):
        momentum_sgd(model.parameters(), lr_eff=0.1, beta=1.0)
    with pytest.raises(ValueError, match="nesterov"):
        momentum_sgd(model.parameters(), lr_eff=0.1, beta=0.0, nesterov=True)
    with pytest.raises(ValueError, match="lr_eff"):
        momentum_sgd(model.parameters(), lr_eff=-1.0, beta=0.5)
    with pytest.raises(TypeError):  # the effective rate is never passed by position, as lr
        momentum_sgd(model.parameters(), 0.1, 0.9)  # type: ignore[misc]
    with pytest.raises(ValueError, match="total_steps"):
        one_cycle(optimizer, total_steps=1)
    with pytest.raises(ValueError, match="one step or less"):
        one_cycle(optimizer, total_steps=4, warmup=0.25)
    with pytest.raises(FileNotFoundError):
        load_checkpoint("/nonexistent/checkpoint.pt", model)


def state_of(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def same_state(model: nn.Module, state: dict[str, torch.Tensor]) -> bool:
    return all(torch.equal(v, state[k]) for k, v in model.state_dict().items())


def test_an_unusable_device_is_refused_before_the_model_is_touched(digits):
    model, optimizer, _ = make_run(digits, epochs=1)
    before = state_of(model)
    bad = ["meta", "gpu", "cuda:99"] + ([] if torch.cuda.is_available() else ["cuda"])
    calls = {
        "fit": lambda device: fit(
            model, optimizer, digits.train, epochs=1, device=device, progress=False
        ),
        "evaluate": lambda device: evaluate(model, digits.test, device=device),
        "predict": lambda device: predict(model, digits.test, device=device),
    }
    for name, call in calls.items():
        for device in bad:
            with pytest.raises(ValueError, match="device") as err:
                call(device)
            assert repr(device) in str(err.value) or device in str(err.value), (name, device)
        with pytest.raises(TypeError, match="device"):
            call(1.5)
    assert same_state(model, before) and next(model.parameters()).device.type == "cpu"


def test_an_optimizer_of_another_models_parameters_is_refused(digits):
    model, _, _ = make_run(digits, epochs=1)
    other = TinyNet()
    before = state_of(model)
    with pytest.raises(ValueError, match="not parameters of the model"):
        fit(model, momentum_sgd(other.parameters(), lr_eff=0.1, beta=0.9), digits.train, device="cpu",
            progress=False)  # fmt: skip
    assert same_state(model, before)
    # A subset of the model's own parameters (fine-tuning the head) is fine.
    fit(model, momentum_sgd(model.fc.parameters(), lr_eff=0.1, beta=0.9), digits.train, device="cpu",
        progress=False)  # fmt: skip


def test_resume_without_a_checkpoint_refuses_objects_that_already_trained(digits, tmp_path):
    path = tmp_path / "never-written.pt"

    def interrupt_at_step_3():
        calls = {"n": 0}

        def loss_fn(out, y):
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt("simulated Ctrl-C before the first checkpoint")
            return nn.functional.cross_entropy(out, y)

        return loss_fn

    for with_scheduler in (True, False):
        model, optimizer, scheduler = make_run(digits, epochs=2)
        scheduler = scheduler if with_scheduler else None
        with pytest.raises(KeyboardInterrupt):
            fit(model, optimizer, digits.train, None, 2, scheduler, loss_fn=interrupt_at_step_3(),
                device="cpu", checkpoint=path, progress=False)  # fmt: skip
        assert not path.exists()
        before = state_of(model)
        with pytest.raises(ValueError, match="no checkpoint") as err:
            fit(model, optimizer, digits.train, None, 2, scheduler, device="cpu", checkpoint=path,
                resume=True, progress=False)  # fmt: skip
        assert ("stepped" if with_scheduler else "optimizer") in str(err.value)
        assert same_state(model, before)
    # New objects: resume=True without a checkpoint is simply a new run.
    model, optimizer, scheduler = make_run(digits, epochs=1)
    fresh = fit(model, optimizer, digits.train, None, 1, scheduler, device="cpu", checkpoint=path,
                resume=True, progress=False)  # fmt: skip
    assert fresh.epoch == [1] and len(fresh.step_loss) == 4 and path.is_file()


def test_resume_refuses_an_optimizer_set_up_differently_from_the_saved_run(digits, tmp_path):
    path = tmp_path / "run.pt"
    torch.manual_seed(0)
    model = TinyNet()
    fit(model, momentum_sgd(model.parameters(), lr_eff=0.2, beta=0.9), digits.train, None, 1,
        device="cpu", checkpoint=path, progress=False)  # fmt: skip
    before = state_of(model)
    with pytest.raises(ValueError, match=r"lr .*0\.05.*0\.02"):
        fit(model, momentum_sgd(model.parameters(), lr_eff=0.5, beta=0.9), digits.train, None, 2,
            device="cpu", checkpoint=path, resume=True, progress=False)  # fmt: skip
    assert same_state(model, before)
    # A run that had a scheduler resumes only with one, and the other way round.
    model, optimizer, scheduler = make_run(digits, epochs=2)
    with pytest.raises(ValueError, match="without a scheduler"):
        fit(model, optimizer, digits.train, None, 2, scheduler, device="cpu", checkpoint=path,
            resume=True, progress=False)  # fmt: skip


def test_one_cycle_refuses_divisors_that_make_no_schedule():
    optimizer = momentum_sgd([torch.zeros(1, requires_grad=True)], lr_eff=0.1, beta=0.9)
    for bad in (-5, 0, 0.5, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="start_div"):
            one_cycle(optimizer, total_steps=100, start_div=bad)
        with pytest.raises(ValueError, match="final_div"):
            one_cycle(optimizer, total_steps=100, final_div=bad)
    with pytest.raises(TypeError, match="start_div"):
        one_cycle(optimizer, total_steps=100, start_div="25")
    with pytest.raises(TypeError, match="optimizer"):
        one_cycle("sgd", total_steps=100)
    one_cycle(optimizer, total_steps=100, start_div=1, final_div=1)  # a flat start is allowed


def test_a_schedule_shorter_than_the_run_is_refused_before_training(digits):
    model, optimizer, _ = make_run(digits, epochs=2)
    scheduler = one_cycle(optimizer, total_steps=len(digits.train), warmup=0.5)  # one epoch
    before = state_of(model)
    with pytest.raises(ValueError, match=r"4 steps.*8"):
        fit(model, optimizer, digits.train, None, 2, scheduler, device="cpu", progress=False)
    assert same_state(model, before) and scheduler.last_epoch == 0


def test_an_error_during_training_carries_the_history_of_the_steps_done(digits):
    model, optimizer, _ = make_run(digits, epochs=2)
    loss_fn = nan_loss_at_call(6)  # epoch 2, step 2

    with pytest.raises(FloatingPointError) as err:
        fit(model, optimizer, digits.train, None, 2, loss_fn=loss_fn, device="cpu", progress=False)
    history = err.value.history
    assert isinstance(history, History) and history.epoch == [1]
    assert len(history.step_loss) == len(history.lr) == 5 and all(
        map(math.isfinite, history.step_loss)
    )


def test_labels_out_of_range_are_named_with_the_number_of_classes():
    images = torch.randn(8, 3, 8, 8)
    labels = torch.tensor([0, 1, 2, 3, 4, 5, 12, 6])
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(images, labels), batch_size=4
    )
    torch.manual_seed(0)
    model = TinyNet()
    optimizer = momentum_sgd(model.parameters(), lr_eff=0.1, beta=0.9)
    with pytest.raises(ValueError, match=r"label 12 .*10 outputs.*\[0, 9\]"):
        fit(model, optimizer, loader, epochs=1, device="cpu", progress=False)
    with pytest.raises(ValueError, match=r"label 12 .*10 outputs"):
        evaluate(model, loader, device="cpu")


def test_an_unusable_checkpoint_path_is_refused_before_training(digits, tmp_path):
    model, optimizer, _ = make_run(digits, epochs=1)
    before = state_of(model)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for path in (tmp_path, blocker / "run.pt"):
        with pytest.raises(ValueError, match="checkpoint") as err:
            fit(
                model,
                optimizer,
                digits.train,
                None,
                1,
                device="cpu",
                checkpoint=path,
                progress=False,
            )
        assert str(path) in str(err.value)
    assert same_state(model, before) and not optimizer.state
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


class TensorLoader:
    """A loader that is no DataLoader: the whole data set as two tensors (on the GPU, in
    airbench), reshuffled on each pass, batches cut by indexing."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> None:
        self.x, self.y, self.batch_size = x, y, batch_size
        self.generator = torch.Generator().manual_seed(0)

    def __len__(self) -> int:
        return len(self.x) // self.batch_size

    def __iter__(self):
        order = torch.randperm(len(self.x), generator=self.generator)
        for i in range(len(self)):
            take = order[i * self.batch_size : (i + 1) * self.batch_size]
            yield self.x[take], self.y[take]


def tensor_loader(data, batch_size: int = 32) -> TensorLoader:
    x, y = (torch.cat(t) for t in zip(*data))
    return TensorLoader(x, y, batch_size)


def test_fit_evaluate_and_predict_take_any_loader_with_len_and_iter(digits, tmp_path):
    train, test = tensor_loader(digits.train), tensor_loader(digits.test, batch_size=16)
    assert not isinstance(train, torch.utils.data.DataLoader)
    model, optimizer, scheduler = make_run(digits, epochs=2)
    before = state_of(model)
    history = fit(model, optimizer, train, test, 2, scheduler, device="cpu",
                  checkpoint=tmp_path / "run.pt", progress=False)  # fmt: skip
    assert len(history.step_loss) == 2 * len(train) == 8 and history.epoch == [1, 2]
    assert all(math.isfinite(v) for v in history.test_loss + history.step_loss)
    assert not same_state(model, before)
    loss, accuracy = evaluate(model, train, device="cpu")
    assert math.isfinite(loss) and 0.0 <= accuracy <= 1.0
    logits, labels = predict(model, test, device="cpu")
    assert logits.shape == (len(test) * 16, 10) and labels.shape == (len(test) * 16,)
    # Its generator travels with the checkpoint, as a DataLoader's does.
    train.generator.manual_seed(123)
    load_checkpoint(tmp_path / "run.pt", model, optimizer, scheduler, train)
    assert not torch.equal(
        train.generator.get_state(), torch.Generator().manual_seed(123).get_state()
    )


def test_evaluate_and_predict_run_on_the_models_device_and_leave_it_as_it_was(digits):
    model, _, _ = make_run(digits, epochs=1)
    model.eval()
    expected, _ = predict(model, digits.test, device="cpu")
    seen = []
    hook = model.conv.register_forward_hook(lambda m, inputs, out: seen.append(inputs[0].device))
    # Without device=..., the model's own device: here the CPU, whatever runtime.device() says.
    evaluate(model, digits.test)
    predict(model, digits.test)
    hook.remove()
    assert {d.type for d in seen} == {"cpu"}

    # A channels-last model on the CPU (as fit leaves one on a GPU) stays channels-last
    # when predict runs it contiguous: only copies of its weights change layout.
    model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    weight, before = model.conv.weight, model.conv.weight.data_ptr()
    logits, _ = predict(model, digits.test, channels_last=False)
    assert model.conv.weight is weight and model.conv.weight.data_ptr() == before
    assert model.conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert not model.conv.weight.is_contiguous()
    torch.testing.assert_close(logits, expected)
    loss, _ = evaluate(model, digits.test, device="cpu", channels_last=False)
    assert math.isfinite(loss) and model.conv.weight.is_contiguous(
        memory_format=torch.channels_last
    )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_evaluate_on_another_device_leaves_the_model_where_it_was(digits):
    model, _, _ = make_run(digits, epochs=1)
    model.eval()
    expected, _ = predict(model, digits.test, device="cpu")
    logits, _ = predict(model, digits.test, device="cuda", amp=False)  # channels-last there
    torch.testing.assert_close(logits, expected, rtol=1e-3, atol=1e-3)
    assert all(t.device.type == "cpu" and t.is_contiguous() for t in model.state_dict().values())
    seen = []
    hook = model.conv.register_forward_hook(lambda m, inputs, out: seen.append(inputs[0].device))
    evaluate(model, digits.test)  # runtime.device() is CUDA here, the model's device the CPU
    hook.remove()
    assert {d.type for d in seen} == {"cpu"}
    evaluate(model.cuda(), digits.test, amp=False)
    assert all(t.device.type == "cuda" and t.is_contiguous() for t in model.state_dict().values())


def test_a_batch_of_nan_images_stops_training_before_batch_norm_sees_it(digits):
    model, optimizer, _ = make_run(digits, epochs=2)
    batches = list(digits.train)
    x, y = batches[1]
    batches[1] = (torch.full_like(x, float("nan")), y)

    with pytest.raises(FloatingPointError, match="images at epoch 1, step 2 of 4") as err:
        fit(model, optimizer, batches, None, 1, device="cpu", progress=False)
    assert (
        torch.isfinite(model.bn.running_mean).all() and torch.isfinite(model.bn.running_var).all()
    )
    assert len(err.value.history.step_loss) == 1  # the step before it, kept


def test_a_loss_that_is_not_a_scalar_and_a_frozen_model_are_named(digits):
    model, optimizer, _ = make_run(digits, epochs=1)
    with pytest.raises(ValueError, match=r"loss_fn must return a scalar tensor .*\(32,\)"):
        fit(model, optimizer, digits.train, None, 1, loss_fn=nn.CrossEntropyLoss(reduction="none"),
            device="cpu", progress=False)  # fmt: skip
    model.requires_grad_(False)
    with pytest.raises(ValueError, match="every parameter is frozen"):
        fit(model, optimizer, digits.train, None, 1, device="cpu", progress=False)


def test_a_resume_into_another_kind_of_optimizer_is_refused_as_such(digits, tmp_path):
    model, optimizer, _ = make_run(digits, epochs=2)
    fit(model, optimizer, digits.train, None, 1, device="cpu", checkpoint=tmp_path / "r.pt",
        progress=False)  # fmt: skip
    fresh = TinyNet()
    adam = torch.optim.Adam(fresh.parameters(), lr=0.01)
    with pytest.raises(ValueError, match=r"another kind of optimizer \(SGD .*\) than Adam"):
        fit(fresh, adam, digits.train, None, 2, device="cpu", checkpoint=tmp_path / "r.pt",
            resume=True, progress=False)  # fmt: skip


def test_a_checkpoint_name_the_file_system_refuses_fails_before_training(digits, tmp_path):
    model, optimizer, _ = make_run(digits, epochs=1)
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"cannot be written \(File name too long\)"):
        fit(model, optimizer, digits.train, None, 1, device="cpu",
            checkpoint=tmp_path / ("r" * 300 + ".pt"), progress=False)  # fmt: skip
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    path = tmp_path / ("r" * 250 + ".pt")  # its temporary file's name is longer: it once failed
    fit(model, optimizer, digits.train, None, 1, device="cpu", checkpoint=path, progress=False)
    assert path.is_file()
