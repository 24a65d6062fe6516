"""The book's support code, kept apart from the library: what the chapters need to teach.

* :mod:`.checkers`: the exercises' ``check_*`` functions and hints;
* :mod:`.plots`: matplotlib figures, one module per chapter topic;
* :mod:`.widgets`: sliders over precomputed frames (they work on the static site) and the phi
  explorer;
* :mod:`.paper`: numbers the papers report (accuracies, FLOPs), with their sources;
* :mod:`.baselines`: the per-image PIL pipeline the batched augmentation is measured against.

Chapters import the library as ``import effnet_core as ec`` and support code from here, e.g.
``from effnet_core.book.plots.swish import plot_swish_beta``. This package imports matplotlib
and ipywidgets; the library (``effnet_core`` outside ``book``) imports neither.
"""
