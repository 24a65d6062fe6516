"""``glue`` for the chapters without book tooling: myst-nb's when it is installed, else a plain display.

The website's build (Jupyter Book, myst-nb) pastes glued values into the text; in Colab or a plain
Jupyter without myst-nb the chapter still runs, and ``glue(..., display=True)`` shows the value in
the cell's output. Introduced in the chapter "How this book works".
"""

from __future__ import annotations

from typing import Any


def glue(name: str, variable: Any, display: bool = True) -> None:
    """Record ``variable`` under ``name`` for the book's text (myst-nb), or just display it.

    Without myst-nb there is no text to paste into, so ``display=False`` does nothing.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        if display:
            from IPython.display import display as show

            show(variable)
        return
    myst_glue(name, variable, display=display)
