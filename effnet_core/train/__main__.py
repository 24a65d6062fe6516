"""``python -m effnet_core.train``: see :mod:`effnet_core.train.cli`."""

from .cli import main

main()
