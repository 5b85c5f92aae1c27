"""A tiny network for the tests of the training loop (tests/test_train.py, tests/test_cuda.py)."""

from __future__ import annotations

import torch
from torch import nn


class TinyNet(nn.Module):
    """A convolution, batch norm, max pool, dropout and a classifier: every kind of
    state the loop must carry (weights, running statistics, random dropout masks)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn(self.conv(x)))
        return self.fc(self.drop(torch.amax(x, dim=(2, 3))))
