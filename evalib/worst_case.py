"""The hardest quadratics for gradient-span methods, and one where the heavy ball fails.

- :class:`GraphQuadratic`, :func:`path_laplacian`, :func:`grid_laplacian`: quadratics built
  from the Laplacian of a graph, whose gradient at a node reads only its neighbours.
- :func:`worst_case`: Nesterov's worst function, a path-graph Laplacian plus a multiple
  of the identity (Goh's "convex Rosenbrock"): from ``w_0 = 0``, ``k`` steps of any method
  whose points lie in the span of the gradients it has queried touch only the first ``k``
  nodes, so
  the error stays above :func:`lower_bound` ``((√κ − 1)/(√κ + 1))^k``.
- :func:`colorization`, :func:`hops`: Goh's colorization problem, colours that spread
  from a few seed pixels along a line or a grid, one pixel per step at most.
- :func:`lrp_function`, :func:`lrp_gradient`: the piecewise quadratic of Lessard, Recht
  and Packard (2016), strongly convex and smooth, on which Polyak's tuning of the heavy
  ball cycles for ever from some starts.

All explained in "The limits of descent". Inputs follow evalib's one rule
(``evalib._checks``): ``TypeError`` for non-numbers, ``ValueError`` for numbers out of
range, each naming the argument.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evalib._checks import finite_real, integer, real_array

__all__ = [
    "GraphQuadratic",
    "path_laplacian",
    "grid_laplacian",
    "worst_case",
    "lower_bound",
    "colorization",
    "hops",
    "LRP_MU",
    "LRP_L",
    "lrp_function",
    "lrp_gradient",
]


@dataclass(frozen=True, eq=False)
class GraphQuadratic:
    """``f(w) = ½ wᵀAw − bᵀw`` on the nodes of a graph, with ``μ ≤ λ_1 ≤ λ_n ≤ L``.

    ``A`` is symmetric positive definite with non-zero entries only on the diagonal and
    between neighbouring nodes, so the gradient at a node depends on that node and its
    neighbours only. ``solution`` is the minimiser ``A⁻¹b``; ``mu`` and ``L`` bound the
    spectrum of ``A`` (the class a method is tuned for).
    """

    A: NDArray[np.float64]
    b: NDArray[np.float64]
    solution: NDArray[np.float64]
    mu: float
    L: float

    def grad(self, w: ArrayLike) -> NDArray[np.float64]:
        """``∇f(w) = Aw − b`` (``w`` of shape ``(n,)``)."""
        return self.A @ np.asarray(w, dtype=float) - self.b

    def __call__(self, w: ArrayLike) -> float:
        """``f(w) = ½ wᵀAw − bᵀw``."""
        x = np.asarray(w, dtype=float)
        return float(0.5 * x @ (self.A @ x) - self.b @ x)

    @property
    def kappa(self) -> float:
        """The condition number ``L / μ`` of the class."""
        return self.L / self.mu

    @property
    def rate(self) -> float:
        """``(√L − √μ)/(√L + √μ) = (√κ − 1)/(√κ + 1)``: the lower bound's rate."""
        return (math.sqrt(self.L) - math.sqrt(self.mu)) / (math.sqrt(self.L) + math.sqrt(self.mu))


# -- graphs ---------------------------------------------------------------------------
def path_laplacian(n: int) -> NDArray[np.float64]:
    """The Laplacian of a path of ``n`` nodes: ``wᵀ L w = Σ_i (w_i − w_{i+1})²``.

    Degrees on the diagonal (1 at the two ends, 2 inside), −1 between neighbours.
    """
    size = integer("n", n, 1)
    return grid_laplacian(1, size)


def grid_laplacian(rows: int, cols: int) -> NDArray[np.float64]:
    """The Laplacian of a ``rows × cols`` grid of pixels (4 neighbours), numbered row by row.

    ``wᵀ L w`` is the sum of ``(w_i − w_j)²`` over pairs of horizontally or vertically
    adjacent pixels ``i, j``.
    """
    r, c = integer("rows", rows, 1), integer("cols", cols, 1)
    index = np.arange(r * c).reshape(r, c)
    lap = np.zeros((r * c, r * c))
    for a, b in ((index[:, :-1], index[:, 1:]), (index[:-1, :], index[1:, :])):
        i, j = a.ravel(), b.ravel()
        lap[i, j] = lap[j, i] = -1.0
    lap[np.diag_indices(r * c)] = -lap.sum(axis=1)
    return lap


# -- the lower bound --------------------------------------------------------------------
def _kappa(kappa: Any) -> float:
    out = finite_real("kappa", kappa)
    if not out > 1.0:
        raise ValueError(f"kappa must be > 1, got {out}")
    return out


def worst_case(n: int, kappa: float) -> GraphQuadratic:
    """Nesterov's worst quadratic for condition number ``κ`` on a path of ``n`` nodes.

    ``f(w) = (κ − 1)/8 · ((1 − w_1)² + Σ_{i<n} (w_i − w_{i+1})² + w_n²) + ½‖w‖²`` (``½wᵀAw − bᵀw``
    up to a constant): a node
    0 held at the value 1 (the "seed"), the path ``1..n``, a node ``n + 1`` held at 0, and
    the identity. So ``A = (κ − 1)/4 · T + I`` with ``T`` the tridiagonal ``(−1, 2, −1)``
    and ``b = (κ − 1)/4 · e_1``; ``μ = 1 < λ_1`` and ``λ_n < L = κ``
    (Nesterov 2004, §2.1.4; Goh 2017, "convex Rosenbrock"). Its minimiser is
    ``w*_i = (ρ^i − ρ^{2(n+1)−i}) / (1 − ρ^{2(n+1)})`` with ``ρ = (√κ − 1)/(√κ + 1)``: for
    ``n`` large it is ``ρ^i``, the infinite problem's. From ``w_0 = 0`` the ``k``-th
    iterate of any method in the span of the gradients it has queried is zero beyond
    node ``k``, so
    ``‖w_k − w*‖ ≥ ‖w*_{k+1..n}‖ ≈ ρ^k ‖w_0 − w*‖`` ("The limits of descent").
    """
    size, k = integer("n", n, 1), _kappa(kappa)
    weight = (k - 1.0) / 4.0
    tri = path_laplacian(size)
    tri[0, 0] += 1.0  # the edge to the seed, node 0
    tri[-1, -1] += 1.0  # the edge to node n + 1, held at 0
    A = weight * tri + np.eye(size)
    b = np.zeros(size)
    b[0] = weight
    return GraphQuadratic(
        A=A, b=b, solution=np.asarray(np.linalg.solve(A, b), dtype=np.float64), mu=1.0, L=k
    )


def lower_bound(kappa: float, steps: int) -> NDArray[np.float64]:
    """The factors ``ρ^k = ((√κ − 1)/(√κ + 1))^k``, ``k = 0..steps``.

    On :func:`worst_case` with ``n`` large, no method that queries gradients at points
    ``y_j ∈ w_0 + span{∇f(y_0), …, ∇f(y_{j−1})}`` and whose iterate ``w_k`` lies in
    ``w_0 + span{∇f(y_0), …, ∇f(y_{k−1})}`` has ``‖w_k − w*‖`` below
    ``ρ^k ‖w_0 − w*‖`` (Nesterov 2004, §2.1.4; "The limits of descent").
    """
    k, n = _kappa(kappa), integer("steps", steps, 0)
    rho = (math.sqrt(k) - 1.0) / (math.sqrt(k) + 1.0)
    with np.errstate(under="ignore"):
        return rho ** np.arange(n + 1, dtype=float)


# -- colorization -------------------------------------------------------------------------
def _shape(shape: Any) -> tuple[int, int]:
    """A line of ``n`` pixels (an int) or a grid ``(rows, cols)``, as ``(rows, cols)``."""
    if isinstance(shape, (tuple, list)):
        if len(shape) != 2:
            raise ValueError(f"shape must be an int or (rows, cols), got {len(shape)} numbers")
        return integer("shape[0]", shape[0], 1), integer("shape[1]", shape[1], 1)
    return 1, integer("shape", shape, 1)


def _seeds(seeds: Any, size: int) -> NDArray[np.intp]:
    values = [integer(f"seeds[{i}]", s, 0, size - 1) for i, s in enumerate(_sequence(seeds))]
    if not values:
        raise ValueError("seeds must name at least one pixel, got none")
    if len(set(values)) != len(values):
        raise ValueError(f"seeds must name different pixels, got {values}")
    return np.array(values, dtype=np.intp)


def _sequence(value: Any) -> Sequence[Any]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise TypeError(f"seeds must be a sequence of pixel indices, got {type(value).__name__}")
    return list(np.asarray(value).ravel()) if isinstance(value, np.ndarray) else list(value)


def colorization(
    shape: int | tuple[int, int], seeds: ArrayLike, colours: ArrayLike
) -> GraphQuadratic:
    """Goh's colorization problem on a line of ``shape`` pixels or a ``(rows, cols)`` grid.

    ``f(w) = ½ Σ_{s ∈ seeds} (w_s − c_s)² + ½ Σ_{i ~ j} (w_i − w_j)²``: the seed pixels
    want their colour ``c_s``, neighbours want to agree. ``A`` is the grid's Laplacian
    (:func:`grid_laplacian`) plus 1 on the seeds' diagonal, ``b`` holds the colours at
    the seeds. The gradient at a pixel reads its neighbours only, so from ``w_0 = 0``
    colour spreads at most one pixel per step (:func:`hops`). ``mu`` and ``L`` are the
    extreme eigenvalues of ``A`` (Goh 2017; "The limits of descent"). Pixels are numbered
    row by row; ``seeds`` are their indices, ``colours`` one number per seed.
    """
    rows, cols = _shape(shape)
    where = _seeds(seeds, rows * cols)
    c = np.atleast_1d(real_array("colours", colours))
    if c.shape != where.shape:
        raise ValueError(
            f"colours must hold one number per seed ({where.size}), got shape {c.shape}"
        )
    A = grid_laplacian(rows, cols)
    A[where, where] += 1.0
    b = np.zeros(rows * cols)
    b[where] = c
    eig = np.linalg.eigvalsh(A)
    return GraphQuadratic(
        A=A,
        b=b,
        solution=np.asarray(np.linalg.solve(A, b), dtype=np.float64),
        mu=float(eig[0]),
        L=float(eig[-1]),
    )


def hops(shape: int | tuple[int, int], seeds: ArrayLike) -> NDArray[np.int64]:
    """Each pixel's distance, in steps between neighbours, to the nearest seed.

    On a grid that is ``min_s |r − r_s| + |c − c_s|``. After ``k`` steps from ``w_0 = 0`` a
    method in the span of the gradients it has queried has changed only pixels with
    ``hops ≤ k − 1``
    ("The limits of descent"). Returns an int array of the pixels' count, row by row.
    """
    rows, cols = _shape(shape)
    where = _seeds(seeds, rows * cols)
    r, c = np.divmod(np.arange(rows * cols), cols)
    sr, sc = np.divmod(where, cols)
    return (np.abs(r[:, None] - sr) + np.abs(c[:, None] - sc)).min(axis=1).astype(np.int64)


# -- Lessard, Recht and Packard's counterexample ---------------------------------------------
#: Strong convexity of :func:`lrp_function`: ``f'' ≥ 1``.
LRP_MU = 1.0
#: Smoothness of :func:`lrp_function`: ``f'' ≤ 25``.
LRP_L = 25.0


def lrp_function(x: ArrayLike) -> NDArray[np.float64]:
    """The piecewise quadratic of Lessard, Recht and Packard (2016), elementwise.

    ``f(x) = 25x²/2`` for ``x < 1``, ``x²/2 + 24x − 12`` for ``1 ≤ x < 2``,
    ``25x²/2 − 24x + 36`` for ``x ≥ 2``: continuous with a continuous derivative,
    ``1 ≤ f'' ≤ 25``, so 1-strongly convex and 25-smooth (``κ = 25``), minimum 0 at 0
    ("The limits of descent").
    """
    v = real_array("x", x)
    return np.where(
        v < 1.0,
        12.5 * v**2,
        np.where(v < 2.0, 0.5 * v**2 + 24.0 * v - 12.0, 12.5 * v**2 - 24.0 * v + 36.0),
    )


def lrp_gradient(x: ArrayLike) -> NDArray[np.float64]:
    """The derivative of :func:`lrp_function`: ``25x``, ``x + 24``, ``25x − 24`` on the three pieces."""
    v = real_array("x", x)
    return np.where(v < 1.0, 25.0 * v, np.where(v < 2.0, v + 24.0, 25.0 * v - 24.0))
