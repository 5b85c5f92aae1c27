"""Two-dimensional test functions ("landscapes") for watching optimisers move.

Each landscape is a callable on points ``w = (x, y)``: a torch tensor of shape ``(2,)``
or ``(..., 2)`` gives a tensor of shape ``()`` or ``(...)`` that autograd can
differentiate; a NumPy array (or list) gives a NumPy array. Each one also carries what
a contour plot and an experiment need: ``bounds`` (the plotting window), ``start`` (a
starting point that shows the landscape's difficulty), ``minimum`` (a known minimiser,
or ``None``), ``stationary_point`` and a closed-form gradient ``grad(w)``.

- :class:`Quadratic`: ``f(w) = ½ (w−c)ᵀ A (w−c)``, the model of chapters 1 and 2
  ("Gradient descent and pathological curvature", "Momentum: the heavy ball").
- ``ravine``: an ill-conditioned, rotated :class:`Quadratic` (chapters 1, 2 and 5).
- ``rosenbrock``, ``beale``, ``saddle``: the classic non-convex tests of chapter 5
  ("Why momentum really works").
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from evalib._checks import check_array, check_int, check_real

__all__ = [
    "Landscape",
    "Quadratic",
    "Rosenbrock",
    "Beale",
    "Saddle",
    "ravine",
    "rosenbrock",
    "beale",
    "saddle",
    "LANDSCAPES",
]

Point = tuple[float, float]
Bounds = tuple[tuple[float, float], tuple[float, float]]


def _check_pair(name: str, value: Any) -> Point:
    """``value`` as a pair of finite floats, else TypeError/ValueError naming it."""
    arr = check_array(name, value)
    if arr.shape != (2,):
        raise ValueError(f"{name} must be a pair (x, y), got shape {arr.shape}")
    return (float(arr[0]), float(arr[1]))


def _check_bounds(bounds: Any) -> Bounds:
    """``bounds`` as ``((xmin, xmax), (ymin, ymax))`` of finite floats with min < max."""
    if (
        isinstance(bounds, (str, bytes))
        or not hasattr(bounds, "__len__")
        or not hasattr(bounds, "__getitem__")
    ):
        raise TypeError(f"bounds must be ((xmin, xmax), (ymin, ymax)), got {type(bounds).__name__}")
    if len(bounds) != 2:
        raise ValueError(f"bounds must be ((xmin, xmax), (ymin, ymax)), got {bounds!r}")
    pairs = (_check_pair("bounds[0]", bounds[0]), _check_pair("bounds[1]", bounds[1]))
    for i, (lo, hi) in enumerate(pairs):
        if not lo < hi:
            raise ValueError(f"bounds[{i}] must be (min, max) with min < max, got {(lo, hi)}")
    return pairs


class Landscape:
    """A function of two variables with what plots and experiments need to know.

    Subclasses implement ``_value(x, y)`` and ``_grad(x, y)`` with arithmetic that
    works on both torch tensors and NumPy arrays (``x``, ``y`` have equal shapes).

    Attributes:

    - ``name``: a short name for legends and titles.
    - ``minimum``: a known global minimiser ``(x, y)``, or ``None`` when there is
      none (or no single one).
    - ``stationary_point``: a point where the gradient vanishes (the minimiser when
      there is one; the saddle point of ``saddle``).
    - ``bounds``: ``((xmin, xmax), (ymin, ymax))``, the window of a contour plot.
    - ``start``: a default starting point that shows the landscape's difficulty.
    """

    name: str = "landscape"
    minimum: Point | None = None
    stationary_point: Point = (0.0, 0.0)
    bounds: Bounds = ((-1.0, 1.0), (-1.0, 1.0))
    start: Point = (0.0, 0.0)
    #: ``True`` when the contours look best on a logarithmic scale (steep walls).
    log_scale: bool = False

    # -- what subclasses provide ------------------------------------------------
    def _value(self, x: Any, y: Any) -> Any:
        raise NotImplementedError

    def _grad(self, x: Any, y: Any) -> tuple[Any, Any]:
        raise NotImplementedError

    # -- public interface ---------------------------------------------------------
    @staticmethod
    def _split(w: Any) -> tuple[Any, Any, bool]:
        """The coordinates ``x, y`` of ``w`` and whether ``w`` was a torch tensor."""
        if isinstance(w, torch.Tensor):
            if not (w.is_floating_point() or w.is_complex()):
                w = w.to(torch.get_default_dtype())
            is_torch = True
        else:  # NaN and inf pass: a diverged trajectory's rows may be evaluated
            w = check_array("w", w, finite=False)
            is_torch = False
        if w.ndim == 0 or w.shape[-1] != 2:
            raise ValueError(f"w must have shape (2,) or (..., 2), got {tuple(w.shape)}")
        return w[..., 0], w[..., 1], is_torch

    def __call__(self, w: torch.Tensor | ArrayLike) -> torch.Tensor | NDArray[np.float64]:
        """``f(w)`` for ``w`` of shape ``(2,)`` or ``(..., 2)``; torch in, torch out."""
        x, y, _ = self._split(w)
        return self._value(x, y)

    def grad(self, w: torch.Tensor | ArrayLike) -> torch.Tensor | NDArray[np.float64]:
        """The gradient ``∇f(w)`` in closed form, with the shape of ``w``."""
        x, y, is_torch = self._split(w)
        gx, gy = self._grad(x, y)
        return torch.stack((gx, gy), dim=-1) if is_torch else np.stack((gx, gy), axis=-1)

    def grid(
        self, n: int = 200, bounds: Bounds | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """``X, Y, Z`` arrays of shape ``(n, n)`` over ``bounds``, for ``contour(X, Y, Z)``."""
        n = check_int("n", n, 2, 4096)  # 4096² points, 128 MiB per array: more than any plot
        (x0, x1), (y0, y1) = self.bounds if bounds is None else _check_bounds(bounds)
        X, Y = np.meshgrid(np.linspace(x0, x1, int(n)), np.linspace(y0, y1, int(n)))
        Z = np.asarray(self._value(X, Y), dtype=np.float64)
        return X, Y, Z

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class Quadratic(Landscape):
    """The convex quadratic ``f(w) = ½ (w−c)ᵀ A (w−c)``, with ``A = Q Λ Qᵀ``.

    ``Λ = diag(λ1, λ2)`` holds the two eigenvalues (the curvatures) and ``Q`` is the
    rotation by ``angle`` radians, so the eigenvector of ``eigvals[i]`` is the column
    ``eigvecs[:, i]`` (``eigvecs[:, 0] = (cos angle, sin angle)``). Expanded, this is
    the contract's form ``½ wᵀAw − bᵀw`` with ``b = A c``, plus the constant
    ``½ cᵀAc`` that makes the minimum value 0. The gradient is ``A (w − c)``; the
    minimiser is ``c``; the condition number is ``κ = λmax / λmin``.

    In eigen-coordinates ``x = Qᵀ(w − c)`` the function separates into
    ``f = ½ Σ λ_i x_i²``: this is the change of basis of "Gradient descent and
    pathological curvature".
    """

    def __init__(
        self,
        eigvals: ArrayLike,
        angle: float = 0.0,
        center: ArrayLike = (0.0, 0.0),
        *,
        name: str | None = None,
        start: ArrayLike | None = None,
        bounds: Bounds | None = None,
    ) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str or None, got {type(name).__name__}")
        lam = _check_pair("eigvals", eigvals)
        if min(lam) <= 0 or not math.isfinite(max(lam) / min(lam)):
            raise ValueError(
                "eigvals must both be > 0 (a convex quadratic with a unique minimum) and their "
                f"ratio, the condition number, within the float range; got {lam}"
            )
        self.eigvals: NDArray[np.float64] = np.array(lam)
        self.angle: float = check_real("angle", angle)
        c = _check_pair("center", center)
        cos, sin = math.cos(self.angle), math.sin(self.angle)
        self.eigvecs: NDArray[np.float64] = np.array([[cos, -sin], [sin, cos]])
        self.A: NDArray[np.float64] = self.eigvecs @ np.diag(self.eigvals) @ self.eigvecs.T
        self.center: NDArray[np.float64] = np.array(c)
        self.b: NDArray[np.float64] = self.A @ self.center
        self.condition_number: float = float(self.eigvals.max() / self.eigvals.min())
        self.minimum = c
        self.stationary_point = c
        self.min_value: float = 0.0
        self.name = name if name is not None else (f"quadratic (λ = {lam[0]:g}, {lam[1]:g})")
        if start is None:
            # Far out along the flat direction, a little off it along the steep one.
            i_flat = int(np.argmin(self.eigvals))
            u_flat, u_steep = self.eigvecs[:, i_flat], self.eigvecs[:, 1 - i_flat]
            start = self.center - 4.0 * u_flat + 1.0 * u_steep
        self.start = _check_pair("start", start)
        if bounds is None:
            r = 1.25 * max(np.abs(np.asarray(self.start) - self.center).max(), 1.0)
            bounds = ((c[0] - r, c[0] + r), (c[1] - r, c[1] + r))
        self.bounds = _check_bounds(bounds)

    def _coef(self) -> tuple[float, float, float, float, float]:
        """``a11, a12, a22`` of the symmetric ``A`` and ``c1, c2`` of ``c``, as Python floats.

        Python floats combine with NumPy arrays and torch tensors alike (a torch tensor
        keeps its dtype), so ``_value`` and ``_grad`` serve both.
        """
        (a11, a12), (_, a22) = self.A.tolist()
        c1, c2 = self.center.tolist()
        return a11, a12, a22, c1, c2

    def _value(self, x: Any, y: Any) -> Any:
        a11, a12, a22, c1, c2 = self._coef()
        dx, dy = x - c1, y - c2
        return 0.5 * (a11 * dx * dx + 2.0 * a12 * dx * dy + a22 * dy * dy)

    def _grad(self, x: Any, y: Any) -> tuple[Any, Any]:
        a11, a12, a22, c1, c2 = self._coef()
        dx, dy = x - c1, y - c2
        return a11 * dx + a12 * dy, a12 * dx + a22 * dy

    def eigen_coords(self, w: torch.Tensor | ArrayLike) -> torch.Tensor | NDArray[np.float64]:
        """``x = Qᵀ (w − c)``: the coordinates of ``w`` along the two eigenvectors."""
        x, y, is_torch = self._split(w)
        (q11, q12), (q21, q22) = self.eigvecs.tolist()
        dx, dy = x - self.center[0], y - self.center[1]
        e1, e2 = q11 * dx + q21 * dy, q12 * dx + q22 * dy
        return torch.stack((e1, e2), dim=-1) if is_torch else np.stack((e1, e2), axis=-1)


class Rosenbrock(Landscape):
    """Rosenbrock's banana valley ``f = (a − x)² + b (y − x²)²``, minimum 0 at ``(a, a²)``.

    The minimiser sits at the bottom of a long, curved, flat-floored valley: easy to
    reach, slow to follow ("Why momentum really works").
    """

    log_scale = True

    def __init__(self, a: float = 1.0, b: float = 100.0) -> None:
        self.a = check_real("a", a)
        self.b = check_real("b", b, above=0)
        self.name = "Rosenbrock"
        self.minimum = (self.a, self.a**2)
        self.stationary_point = self.minimum
        self.min_value = 0.0
        self.bounds = ((self.a - 3.0, self.a + 1.0), (self.a**2 - 2.0, self.a**2 + 2.0))
        self.start = (self.a - 2.5, self.a**2 + 1.0)

    def _value(self, x: Any, y: Any) -> Any:
        return (self.a - x) ** 2 + self.b * (y - x * x) ** 2

    def _grad(self, x: Any, y: Any) -> tuple[Any, Any]:
        inner = y - x * x
        return -2.0 * (self.a - x) - 4.0 * self.b * x * inner, 2.0 * self.b * inner


class Beale(Landscape):
    """Beale's function ``Σ_{i=1..3} (c_i − x + x yⁱ)²`` with ``c = (1.5, 2.25, 2.625)``.

    Minimum 0 at ``(3, 0.5)``, in a narrow curved basin between steep walls and flat
    plateaus ("Why momentum really works").
    """

    log_scale = True
    _C = (1.5, 2.25, 2.625)

    def __init__(self) -> None:
        self.name = "Beale"
        self.minimum = (3.0, 0.5)
        self.stationary_point = self.minimum
        self.min_value = 0.0
        self.bounds = ((-4.5, 4.5), (-4.5, 4.5))
        self.start = (1.0, 1.5)

    def _value(self, x: Any, y: Any) -> Any:
        return sum((c - x + x * y ** (i + 1)) ** 2 for i, c in enumerate(self._C))

    def _grad(self, x: Any, y: Any) -> tuple[Any, Any]:
        gx, gy = 0.0 * x, 0.0 * y
        for i, c in enumerate(self._C):
            k = i + 1
            r = c - x + x * y**k
            gx = gx + 2.0 * r * (y**k - 1.0)
            gy = gy + 2.0 * r * k * x * y ** (k - 1)
        return gx, gy


class Saddle(Landscape):
    """A saddle ``f = x² − y² + y⁴ / 2`` with its saddle point at the origin.

    Near ``(0, 0)`` this is the textbook saddle ``x² − y²`` (Hessian ``diag(2, −2)``):
    the gradient vanishes there, yet it is no minimum. The quartic term bends the
    falling direction back up, so an optimiser that leaves the saddle comes to rest in
    one of the two minima ``(0, ±1)`` (value −½) instead of running off to −∞. There
    is no single minimiser, so ``minimum`` is ``None``; ``minima`` lists both. The
    default start lies close to the ridge line ``y = 0``, where the escape is slow.
    """

    def __init__(self) -> None:
        self.name = "saddle"
        self.minimum = None
        self.minima: tuple[Point, Point] = ((0.0, -1.0), (0.0, 1.0))
        self.stationary_point = (0.0, 0.0)
        self.min_value = -0.5
        self.bounds = ((-2.0, 2.0), (-1.6, 1.6))
        self.start = (-1.8, 1e-3)

    def _value(self, x: Any, y: Any) -> Any:
        y2 = y * y
        return x * x - y2 + 0.5 * y2 * y2

    def _grad(self, x: Any, y: Any) -> tuple[Any, Any]:
        return 2.0 * x, -2.0 * y + 2.0 * y**3


#: An ill-conditioned, rotated quadratic (κ = 40): the ravine of chapters 1, 2 and 5.
ravine = Quadratic(
    (0.5, 20.0),
    angle=math.pi / 6,
    name="ravine",
    start=(
        -3.8,
        -1.5,
    ),  # eigen-coordinates ≈ (−4.0, 0.6): far along the floor, a little up the wall
    bounds=((-4.5, 4.5), (-3.0, 3.0)),
)
rosenbrock = Rosenbrock(a=1.0, b=100.0)
beale = Beale()
saddle = Saddle()

#: Every module-level landscape by name.
LANDSCAPES: dict[str, Landscape] = {
    "ravine": ravine,
    "rosenbrock": rosenbrock,
    "beale": beale,
    "saddle": saddle,
}
