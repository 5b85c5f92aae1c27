"""Tests of evalib.cam.pointing_game on hand-made maps."""

from __future__ import annotations

import pytest
import torch

from evalib.book.data import make_digits
from evalib.cam import pointing_game


def one_hot_map(height: int, width: int, y: int, x: int) -> torch.Tensor:
    m = torch.zeros(height, width)
    m[y, x] = 1.0
    return m


def test_peak_inside_the_box_is_a_hit_and_outside_a_miss():
    box = torch.tensor([[2, 3, 6, 5]])  # x in [2, 6), y in [3, 5)
    cases = {(3, 2): True, (4, 5): True, (3, 6): False, (5, 2): False, (2, 2): False, (3, 1): False}
    for (y, x), expected in cases.items():
        result = pointing_game(one_hot_map(8, 8, y, x)[None], box)
        assert bool(result.hits[0]) is expected, (y, x)


def test_score_is_the_fraction_of_hits_and_chance_the_mean_box_area():
    maps = torch.stack([one_hot_map(10, 10, 1, 1), one_hot_map(10, 10, 9, 9),
                        one_hot_map(10, 10, 5, 5), one_hot_map(10, 10, 0, 9)])  # fmt: skip
    boxes = torch.tensor([[0, 0, 2, 2], [0, 0, 5, 5], [4, 4, 6, 6], [0, 0, 10, 10]])
    result = pointing_game(maps, boxes)
    assert result.hits.tolist() == [True, False, True, True]
    assert result.score == pytest.approx(0.75)
    assert result.chance == pytest.approx((4 + 25 + 4 + 100) / 4 / 100)


def test_a_map_without_any_positive_value_points_nowhere():
    result = pointing_game(torch.zeros(1, 8, 8), torch.tensor([[0, 0, 8, 8]]))
    assert result.hits.tolist() == [False] and result.score == 0.0


def test_ties_resolve_to_the_first_peak_in_row_major_order():
    m = torch.zeros(1, 6, 6)
    m[0, 1, 4] = m[0, 4, 1] = 1.0  # (y=1, x=4) comes first
    assert pointing_game(m, torch.tensor([[3, 0, 6, 3]])).hits.tolist() == [True]
    assert pointing_game(m, torch.tensor([[0, 3, 3, 6]])).hits.tolist() == [False]


def test_random_maps_score_the_box_area_chance_level_on_the_digits():
    _, _, boxes, _ = make_digits(seed=0)
    generator = torch.Generator().manual_seed(0)
    maps = torch.rand(len(boxes), 32, 32, generator=generator)
    result = pointing_game(maps, boxes)
    # 1,797 independent draws: the standard error is about 0.01.
    assert result.score == pytest.approx(result.chance, abs=0.035)
    # The digit's own ink mask is a perfect map.
    _, _, _, masks = make_digits(seed=0)
    assert pointing_game(masks.float(), boxes).score == 1.0


@pytest.mark.parametrize(
    "maps, boxes, error, match",
    [
        (torch.zeros(2, 4, 4), torch.zeros(3, 4, dtype=torch.long), ValueError, r"\(2, 4\)"),
        (torch.zeros(4, 4), torch.zeros(1, 4, dtype=torch.long), ValueError, "maps"),
        (torch.zeros(1, 4, 4), torch.zeros(1, 4), TypeError, "integer"),
        (torch.zeros(1, 4, 4), torch.tensor([[1, 0, 1, 2]]), ValueError, "x0 < x1"),
        (torch.zeros(1, 4, 4), torch.tensor([[0, 0, 5, 2]]), ValueError, "x1 <= 4"),
        ([[0.0]], torch.zeros(1, 4, dtype=torch.long), TypeError, "maps must be a torch tensor"),
    ],
)
def test_pointing_game_rejects_bad_input(maps, boxes, error, match):
    with pytest.raises(error, match=match):
        pointing_game(maps, boxes)
