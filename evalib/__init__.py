"""evalib: the companion package of the EVA momentum book.

The course: one module per idea, each explained by a chapter of the book.

- ``evalib.averages``: simple, weighted and exponential moving averages.
- ``evalib.theory``: convergence rates of gradient descent, the heavy ball and Nesterov on a quadratic.
- ``evalib.polynomials``: residual polynomials, Chebyshev's iteration and conjugate gradients.
- ``evalib.worst_case``: the worst quadratic for methods in the span of their gradients, colorization, and a
  function on which Polyak's heavy ball cycles.
- ``evalib.landscapes``: 2-D test functions (quadratic ravine, Rosenbrock, Beale, saddle).
- ``evalib.optim``: heavy-ball and Nesterov optimisers written from their update rules.
- ``evalib.noise``: minibatch gradient noise and what a moving average does to it.
- ``evalib.models``: the CIFAR ResNet-18 with a gradient hook on ``layer4``.
- ``evalib.cam``: Grad-CAM (and Grad-CAM++) on any model, and the pointing game.
- ``evalib.train``: training and evaluation loops with progress bars.
- ``evalib.sweep``: a momentum sweep: one run per setting, same start, same batches.
- ``evalib.curvature``: a loss's sharpness (its Hessian's top eigenpair) and directional curvature.

The book's machinery, in ``evalib.book``: what runs the chapters, not what they teach.

- ``evalib.book.runtime``: the device, the quick/full run profile and the CPU threads.
- ``evalib.book.plots``: the book's figure style and its landscape and CAM plots.
- ``evalib.book.live``: live figures whose sliders recompute in the reader's browser.
- ``evalib.book.live.colorization``: the colorization explorer ("The limits of descent").
- ``evalib.book.data``: CIFAR-10 loaders with an offline digits fallback.
- ``evalib.book.checkpointing``: checkpoints of a training run, to resume it exactly.
- ``evalib.book.digits``: the offline digits: handwritten digits on cluttered canvases, with boxes.
- ``evalib.book.glue``: the numbers the prose quotes, stored for the book build (myst-nb).
"""

from importlib.metadata import PackageNotFoundError, version

try:  # the one place the version lives is pyproject.toml's [project] version
    __version__ = version("evalib")
except PackageNotFoundError:  # a checkout on sys.path that was never pip-installed
    __version__ = "0+unknown"
