"""The book's machinery: what runs the chapters, as opposed to what they teach.

The course modules (``evalib.averages``, ``theory``, ``optim``, ...) hold the ideas the
chapters explain. This subpackage holds what the chapters need to run and to show
them: the device and run profile (:mod:`~evalib.book.runtime`), the figure style
(:mod:`~evalib.book.plots`), the live figures (:mod:`~evalib.book.live`,
:mod:`~evalib.book.live.colorization`), the data
(:mod:`~evalib.book.data`, :mod:`~evalib.book.digits`), and the numbers the prose
quotes (:mod:`~evalib.book.glue`).
"""
