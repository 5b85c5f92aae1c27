"""Tests of evalib.book.digits: the offline digits, their boxes and their seeded split."""

from __future__ import annotations

import pytest
import torch

from evalib.book import digits
from evalib.book.digits import OfflineDigits, make_digits


def test_offline_digits_are_deterministic_per_seed():
    images, labels, boxes, masks = make_digits(seed=0)
    # Render again, bypassing the per-process cache, to prove the rendering itself repeats.
    again = digits._render_digits.__wrapped__(0, 32)
    for first, second in zip((images, labels, boxes, masks), again):
        assert torch.equal(first, second)
    other = make_digits(seed=1)[0]
    assert not torch.equal(images, other)
    assert images.shape == (1797, 3, 32, 32) and images.dtype == torch.uint8


def test_offline_digit_boxes_are_the_tight_boxes_of_the_ink():
    _, _, boxes, masks = make_digits(seed=0)
    n, size = masks.shape[0], masks.shape[-1]
    ys = torch.arange(size).view(1, size, 1)
    xs = torch.arange(size).view(1, 1, size)
    x0, y0, x1, y1 = (boxes[:, k].view(n, 1, 1) for k in range(4))
    inside = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
    assert not (masks & ~inside).any(), "some ink lies outside its box"
    # Tight: every edge row and column of the box holds ink.
    for i in range(n):
        a, b, c, d = boxes[i].tolist()
        m = masks[i]
        assert m[b, a:c].any() and m[d - 1, a:c].any() and m[b:d, a].any() and m[b:d, c - 1].any()
    sides = boxes[:, 2:] - boxes[:, :2]
    assert sides.min() >= 4 and sides.max() <= 16


def test_digit_ink_stands_out_from_the_background_in_its_box():
    images, _, boxes, masks = make_digits(seed=0)
    pixels = images.float() / 255
    ring = torch.zeros_like(masks)
    for i, (a, b, c, d) in enumerate(boxes.tolist()):  # the box minus the ink
        ring[i, b:d, a:c] = True
    ring &= ~masks
    around = (pixels * ring[:, None]).sum(dim=(2, 3)) / ring.sum(dim=(1, 2)).clamp(min=1)[:, None]
    # The digit's solid strokes (not its anti-aliased rim) differ from the average
    # background around them by at least 30 % of the range in some channel.
    gap = ((pixels - around[:, :, None, None]).abs() * masks[:, None]).amax(dim=(1, 2, 3))
    assert gap.min() > 0.3


def test_offline_splits_partition_the_1797_digits():
    train, test = OfflineDigits("train"), OfflineDigits("test")
    assert len(train) == 1438 and len(test) == 359
    both = torch.cat([train.images, test.images]).flatten(1)
    assert torch.unique(both, dim=0).shape[0] == 1797
    image, label = train[0]
    assert image.shape == (3, 32, 32) and isinstance(label, int)
    with pytest.raises(ValueError, match="split"):
        OfflineDigits("validation")


@pytest.mark.parametrize("fraction", [1e-4, 0.9999])
def test_a_split_left_empty_by_test_fraction_is_refused(fraction):
    with pytest.raises(ValueError, match="test_fraction"):
        OfflineDigits("train", test_fraction=fraction)
