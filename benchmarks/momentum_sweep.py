"""The β sweep of "Training it with momentum", repeated over seeds of the whole run.

The chapter trains the quick-profile network once, then sweeps β on its classifier
(a fresh linear layer on the network's features) with three seeds, and states what held
for every seed: at one PyTorch learning rate α the final loss falls as β grows; β = 0.9
at α ends near plain SGD at α/(1 − 0.9); at one effective rate the runs end close
together; every run learns. This script repeats the main run itself with other seeds
(same data, budget and optimiser), runs the chapter's sweep from each network, and
prints the main run's test accuracy, each setting's final loss (mean of the last 10
steps) and test accuracy with their mean and range, and whether each statement held.
Run it on the slower CPU class too (or emulate it on an AVX-512 machine with
``ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2``).

    .venv/bin/python benchmarks/momentum_sweep.py [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import functools
import time
import warnings

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from evalib.book import data as evadata
from evalib.book.runtime import seed_everything, set_threads
from evalib.models import ResNet18
from evalib.sweep import classifier_inputs, largest_curvature, momentum_sweep
from evalib.train import fit, momentum_sgd, one_cycle

# The chapter's quick profile (book/training.md, BUDGETS["quick"]).
WIDTH, BATCH, LR, EPOCHS, SWEEP_STEPS = 8, 16, 0.1, 6, 200
WEIGHT_DECAY, BETA, SWEEP_SEEDS = 5e-4, 0.9, (0, 1, 2)


def run(seed: int) -> tuple[float, pd.DataFrame]:
    """The chapter's main run with ``seed``, and its sweep: (test accuracy, sweep table)."""
    seed_everything(seed)
    data = evadata.load("digits", batch_size=BATCH, augment=False, seed=seed)
    model = ResNet18(num_classes=10, width=WIDTH)
    optimizer = momentum_sgd(model.parameters(), lr_eff=LR, beta=BETA, nesterov=True,
                             weight_decay=WEIGHT_DECAY)  # fmt: skip
    history = fit(model, optimizer, data.train, data.test, EPOCHS,
                  one_cycle(optimizer, EPOCHS * len(data.train)), progress=False)  # fmt: skip

    train_features = classifier_inputs(model, data.train.dataset)
    test_features = DataLoader(classifier_inputs(model, data.test.dataset), batch_size=512)
    features, labels = train_features.tensors

    def fresh_classifier(head_seed: int) -> torch.nn.Module:
        torch.manual_seed(head_seed)
        return torch.nn.Linear(features.shape[1], 10)

    start = fresh_classifier(SWEEP_SEEDS[0])
    lam_max = largest_curvature(lambda: F.cross_entropy(start(features), labels),
                                list(start.parameters())) + WEIGHT_DECAY  # fmt: skip
    eff = 1 / lam_max
    alpha = eff * (1 - 0.9)
    settings = [("SGD at α", 0.0, alpha), ("β = 0.5 at α", 0.5, alpha), ("β = 0.9 at α", 0.9, alpha),
                ("SGD at 1/λ_max", 0.0, eff), ("β = 0.5 at 1/λ_max", 0.5, eff * 0.5)]  # fmt: skip
    rows = []
    for head_seed in SWEEP_SEEDS:
        sweep = momentum_sweep(functools.partial(fresh_classifier, head_seed), settings, train_features,
                               steps=SWEEP_STEPS, batch_size=BATCH, test_loader=test_features,
                               weight_decay=WEIGHT_DECAY, seed=head_seed, progress=False)  # fmt: skip
        rows += [(seed, head_seed, name, float(np.mean(h.step_loss[-10:])), 100 * h.test_acc[-1])
                 for name, h in sweep.items()]  # fmt: skip
    table = pd.DataFrame(rows, columns=["seed", "sweep seed", "setting", "loss", "accuracy"])
    return 100 * history.test_acc[-1], table


def statements(runs: pd.DataFrame) -> pd.Series:
    """The chapter's statements about one sweep (one main run, one sweep seed)."""
    loss = runs.set_index("setting")["loss"]
    at_alpha = loss[["SGD at α", "β = 0.5 at α", "β = 0.9 at α"]].to_numpy()
    at_eff = loss[["SGD at 1/λ_max", "β = 0.5 at 1/λ_max", "β = 0.9 at α"]].to_numpy()
    return pd.Series({
        "loss falls with β at one α": bool(at_alpha[0] > at_alpha[1] > at_alpha[2]),
        "β=0.9 at α ≈ SGD at 10α": bool(abs(at_alpha[2] - at_eff[0]) < 0.1 * (at_alpha[0] - at_eff[0])),
        "close at one effective rate": bool(np.ptp(at_eff) < np.ptp(at_alpha) / 5),
        "every run above 2× chance": bool((runs["accuracy"] > 20).all()),
    })  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    set_threads()
    warnings.simplefilter("ignore", evadata.OfflineDataWarning)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}")  # fmt: skip
    start = time.perf_counter()
    results = [run(seed) for seed in args.seeds]
    for seed, (accuracy, _) in zip(args.seeds, results):
        print(f"main run, seed {seed}: {accuracy:.1f} % test accuracy")
    runs = pd.concat([table for _, table in results], ignore_index=True)
    summary = runs.groupby("setting", sort=False)[["loss", "accuracy"]].agg(["mean", "min", "max"])
    print(summary.round(3).to_string())
    held = runs.groupby(["seed", "sweep seed"]).apply(statements, include_groups=False)
    print(held.to_string())
    print(f"all statements held for every seed: {bool(held.to_numpy().all())} "
          f"({time.perf_counter() - start:.0f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
