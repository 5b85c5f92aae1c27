"""Sentences a careful reading found wrong stay out of the book and of evalib's docs.

Each entry is a claim the book once made, why it is wrong, and where it was. The test
searches every chapter's source and evalib's code with whitespace and line breaks
folded, so a reflowed paragraph cannot bring a claim back unnoticed.
"""

from __future__ import annotations

import re

import pytest

from book_paths import BOOK, ROOT

WRONG = {
    # Along the sharp direction GD at one effective step removes the error in one step;
    # the heavy ball's rate never beats √β there.
    "it buys the speed of a larger step without the instability of one": "training",
    "what momentum adds is that it *can* take that step": "heavy_ball",
    "β changes how the gradients are averaged and little else": "training",
    "changes the averaging and nothing else": "evalib/train.py",
    # On this max-pooled network Grad-CAM is positive where no gradient reaches.
    "found the evidence for its wrong answer": "training",
    "bright = strong evidence": "training",
    "found its evidence outside the object": "training",
    # The book orders λ₁ ≤ … ≤ λₙ: the steep direction is λₙ.
    r"$\alpha/(1-\beta) < 2/\lambda_1$": "why_momentum_works",
    r"On the steep direction $\alpha^*\lambda_1$": "why_momentum_works",
    # With average pooling the two maps are identical, not equal up to a factor.
    "give the same map up to the factor $hw$": "hooked_resnet",
    # Needs h ≪ (1 − β)²; critical damping is the mechanism on the ravine.
    "so it moves like gradient descent with the step $\\alpha/(1-\\beta)$. Gradient descent "
    "cannot take that step": "why_momentum_works",
    # At the critical β the roots are a real double root: the boundary, not a member.
    "It is the smallest ``β`` for which the roots of ``R`` are complex": "evalib/theory.py",
    # Minibatch, non-quadratic logistic regression: acceleration is not guaranteed.
    "small and convex (the cross-entropy": "training",
    "applies to it nearly as it stands": "training",
    # Every built copy trains a narrow ResNet on offline digits (the quick profile).
    "ends on a real network: a ResNet-18 trained on CIFAR-10": "preface",
    "The project's brief asks": "hooked_resnet",
    # A C² function's remainder is o(‖w − w*‖²); "third order" needs more smoothness.
    "terms of third order": "gradient_descent",
    "Too much momentum is as bad as too little": "heavy_ball",
    "What they share is the photo's own structure": "hooked_resnet",
    "shows it on a curved valley": "moving_averages",
    # Goh speaks of a transient phase and a fine-tuning phase.
    "stochastic phase": "why_momentum_works",
    # The book's own glued timings reach close to a minute on a loaded machine.
    "on a laptop CPU in well under a minute": "preface",
    # A spike leaves the WMA by the same 1/15 it faded by: no cliff, unlike the SMA.
    "The WMA fixes the first weakness, not the second": "moving_averages",
    # Uncorrelated (what the variance formula needs), not independent: sizes cluster.
    "They are close to independent": "moving_averages",
    # At the best β the parts are 0.42 and 0.59; they are equal at a larger β.
    "has its minimum where the two are about equal": "moving_averages",
    # The rising target explains one of the three missing steps; the λ = 0.03 mode the rest.
    "a few fewer than predicted, because the target": "gradient_descent",
    # The converging steps form an open range; at 2/λmax the steep factor is −1.
    "what is the largest step size that still converges": "gradient_descent",
    # Under a learning-rate schedule only Sutskever's form parts; EWMA and PyTorch stay one.
    "So under a schedule the two forms are different methods": "sgd_nesterov",
    "where that stops being true (when the learning rate changes": "sgd_nesterov",
    "at a fixed *effective* learning rate": "evalib/train.py",
    # w is already on the far wall: both gradients point back, the look-ahead one harder.
    "which already points back towards the valley floor": "sgd_nesterov",
    "the step is corrected one step earlier": "sgd_nesterov",
    # The buffer is 1/(1 − β) times the EWMA, never an average.
    "is the exponential moving average of gradients": "evalib/averages.py",
    # OneCycleLR warms up along a half-cosine, not a straight line.
    "The learning rate rises from ``peak/start_div`` to the peak": "evalib/train.py",
    # Bilinear upsampling ties a border cell's peak on the image edge: the peak is the cell.
    "a map scores a hit when its brightest pixel falls inside": "training",
    "The peak of map ``i`` is its largest pixel ``(y, x)``": "evalib/cam.py",
    # GD's medians sit 3-6 % above 2/α; the heavy-ball runs within 2 % of their edges.
    "the quadratic theory says it may, and no further": "edge_of_stability",
    # Warm-started, stopped at tol 1e-2: a few parts in a thousand at the edge.
    "the sharpness is measured to about a part in a thousand": "edge_of_stability",
    # No run of that chapter started past its edge.
    "says where a run will end up, not whether it may start": "edge_of_stability",
    # With momentum the step follows the buffer, not the batch's gradient.
    "which is the curvature that a step along the batch's gradient actually meets": (
        "edge_of_stability"
    ),
    # The batch sharpness of plain SGD levels off at 2/α, not at a tenth of it.
    "the level at which {cite:t}`andreyev2024` find the batch sharpness": "edge_of_stability",
    # diverges stops at a loss above 1e6, not at an overflow.
    "the loss overflows after": "edge_of_stability",
    # The sharpness at the step where the component peaked, not its maximum.
    "the sharpness at its peak was": "edge_of_stability",
    # torch warns about a non-full backward hook during the forward call.
    "warns when the backward pass runs": "hooked_resnet",
    # layer1 keeps 64 maps of 32x32.
    "Each stage halves the side of the feature maps": "hooked_resnet",
    # The two untrained maps correlate at 0.3-0.5.
    "two random networks, two unrelated maps": "hooked_resnet",
    # The chapter's glued timings reach about a minute on a loaded machine.
    "the chapter must run in well under a minute": "training",
    # kuangliu's 93 % is for its own architecture and recipe (avg pool, 200 epochs).
    "what kuangliu reports for ResNet-18 with a longer schedule": "training",
    # A direction is not a number.
    "The sharpest direction of the loss at the start, the largest eigenvalue": "training",
    "what separates the runs is the flat directions": "training",
    # Boxes cover a sixth of the canvas; the centre's score comes from where they may sit.
    "a digit anywhere near the middle covers its centre": "training",
    # The run at β = 0.66 has two complex roots, not a double root.
    "the trace of the double root's factor": "heavy_ball",
    # β = 0.9 had the largest gap, not β = 0.98.
    "rests on fewer independent windows": "why_momentum_works",
    # Adam and RMSprop are first-order and not polynomials in A.
    "On a quadratic every first-order": "limits_of_descent",
    # The heavy ball converges linearly on the class with small (α, β); what it lacks is
    # an accelerated guarantee.
    "The heavy ball has no such guarantee, and": "limits_of_descent",
    "quadratics (derived below)": "limits_of_descent",
    # For 1 < h < 4 the double root is negative: the direction overshoots every step.
    "critical damping, λ =": "evalib/book/live/ravine.py",
    # At one effective rate the sharp direction shrinks by √β with momentum, by 0 without.
    "reaches the same speed at": "training",
    # The steep direction's double root is negative: it overshoots, unlike the flat one.
    "both extreme directions are critically damped": "heavy_ball",
    # With n = 5 the oldest point in the window is four days old.
    "a spike five days old": "moving_averages",
    # Races with one shared α credit momentum with the tuning.
    "Momentum pays off in long valleys, not everywhere": "why_momentum_works",
}


def folded(text: str) -> str:
    return re.sub(r"\s+", " ", text)


SOURCES = {
    **{md.stem: folded(md.read_text()) for md in BOOK.glob("*.md")},
    **{str(py.relative_to(ROOT)): folded(py.read_text()) for py in (ROOT / "evalib").rglob("*.py")},
}


@pytest.mark.parametrize("claim", list(WRONG), ids=lambda c: c[:40])
def test_wrong_claim_does_not_come_back(claim):
    found = [name for name, text in SOURCES.items() if folded(claim) in text]
    assert not found, f"{found} state a claim the book corrected: {claim!r}"
