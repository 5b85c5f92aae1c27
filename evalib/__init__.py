"""evalib: the companion package of the EVA momentum book.

One module per idea, each explained by a chapter of the book:

- :mod:`evalib.averages`: simple, weighted and exponential moving averages.
- :mod:`evalib.runtime`: the device to run on and the quick/full run profile.
- :mod:`evalib.plots`: the book's figure style.
"""

__version__ = "0.1.0"
