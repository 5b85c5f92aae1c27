"""Tests of evalib.cam.pointing_game on hand-made maps."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

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


def test_a_coarse_map_points_at_the_centre_of_its_peak_cell():
    # A 4 x 4 grid over a 32 x 32 image: cell (row 1, column 2) covers x in [16, 24),
    # y in [8, 16), and its centre is the point (20, 12).
    grid = torch.zeros(1, 4, 4)
    grid[0, 1, 2] = 1.0
    cases = {
        (16, 8, 24, 16): True,  # the cell itself
        (19, 11, 21, 13): True,  # a small box around the centre
        (20, 12, 30, 30): True,  # the centre on the box's top-left corner
        (10, 5, 21, 13): True,  # the pixel (20, 12) the centre falls in is the box's last
        (10, 5, 20, 12): False,  # on its bottom-right corner: x1, y1 are exclusive
        (21, 0, 32, 32): False,  # just right of the centre
        (0, 13, 32, 32): False,  # just below it
        (16, 8, 19, 11): False,  # inside the cell, but not at its centre
    }
    for box, expected in cases.items():
        result = pointing_game(grid, torch.tensor([box]), image_size=(32, 32))
        assert bool(result.hits[0]) is expected, box


def test_a_peak_in_a_border_cell_is_not_moved_to_the_image_edge():
    # Upsampled bilinearly (align_corners=False), a peak in the top-left cell of a 4 x 4
    # grid ties on the pixels 0..3 in each direction: the first of them is the image's
    # corner, half a cell from the cell's centre (4, 4). On the grid it is the centre.
    grid = torch.full((1, 4, 4), 0.2)
    grid[0, 0, 0] = 1.0
    up = F.interpolate(grid[:, None], size=(32, 32), mode="bilinear", align_corners=False)[:, 0]
    assert bool((up[0, :4, :4] == up.max()).all())  # the tie
    box = torch.tensor([[2, 2, 14, 14]])  # a digit near the corner, off the edge pixels
    assert pointing_game(up, box).hits.tolist() == [False]  # the tie's first pixel, (0, 0)
    assert pointing_game(grid, box, image_size=(32, 32)).hits.tolist() == [True]


@pytest.mark.parametrize(
    "grid, image",
    [((3, 5), (24, 40)), ((3, 5), (25, 38)), ((4, 4), (30, 30))],  # 8 x 8 cells; fractional
)
def test_coarse_maps_agree_with_an_independent_count_of_cell_centres(grid, image):
    generator = torch.Generator().manual_seed(1)
    n, (h, w), (height, width) = 200, grid, image
    maps = torch.rand(n, h, w, generator=generator)
    corner = torch.stack(
        [
            torch.randint(0, width - 1, (n,), generator=generator),
            torch.randint(0, height - 1, (n,), generator=generator),
        ],
        dim=1,
    )
    size = torch.randint(1, 17, (n, 2), generator=generator)
    far = torch.minimum(corner + size, torch.tensor([width, height]))
    boxes = torch.cat([corner, far], dim=1)
    result = pointing_game(maps, boxes, image_size=(height, width))
    centres = [
        ((c + 0.5) * width / w, (r + 0.5) * height / h) for r in range(h) for c in range(w)
    ]  # row-major, as the maps flatten
    hits, chance = [], 0.0
    for m, (x0, y0, x1, y1) in zip(maps, boxes.tolist()):
        px, py = centres[int(m.flatten().argmax())]
        hits.append(x0 <= px < x1 and y0 <= py < y1)
        chance += sum(x0 <= cx < x1 and y0 <= cy < y1 for cx, cy in centres) / (h * w) / n
    assert result.hits.tolist() == hits
    assert result.chance == pytest.approx(chance)
    assert 0 < result.score < 1


def test_at_the_image_resolution_the_centre_test_is_the_pixel_test():
    generator = torch.Generator().manual_seed(2)
    maps = torch.rand(50, 8, 8, generator=generator)
    corner = torch.randint(0, 7, (50, 2), generator=generator)
    far = torch.minimum(corner + torch.randint(1, 5, (50, 2), generator=generator),
                        torch.tensor(8))  # fmt: skip
    boxes = torch.cat([corner, far], dim=1)
    plain, sized = pointing_game(maps, boxes), pointing_game(maps, boxes, image_size=(8, 8))
    peak = maps.flatten(1).argmax(dim=1)
    y, x = peak // 8, peak % 8
    x0, y0, x1, y1 = boxes.unbind(dim=1)
    pixel_hits = (x0 <= x) & (x < x1) & (y0 <= y) & (y < y1)
    assert plain.hits.tolist() == sized.hits.tolist() == pixel_hits.tolist()
    area = ((x1 - x0) * (y1 - y0)).double().mean() / 64
    assert plain.chance == sized.chance == pytest.approx(float(area))


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


@pytest.mark.parametrize(
    "image_size, boxes, error, match",
    [
        ((32, 32.0), [[0, 0, 8, 8]], TypeError, "image_size"),
        (32, [[0, 0, 8, 8]], TypeError, "image_size"),
        ((32, 32, 3), [[0, 0, 8, 8]], TypeError, "image_size"),
        ((2, 32), [[0, 0, 8, 2]], ValueError, "image_size"),
        ((32, 32), [[0, 0, 33, 8]], ValueError, "x1 <= 32"),
    ],
)
def test_pointing_game_rejects_a_bad_image_size(image_size, boxes, error, match):
    with pytest.raises(error, match=match):
        pointing_game(torch.rand(1, 4, 4), torch.tensor(boxes), image_size=image_size)
