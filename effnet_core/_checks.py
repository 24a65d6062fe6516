"""Argument checks shared by the public functions: a wrong type is a ``TypeError``, a value out of
range a ``ValueError``, and each message names the argument and the values it accepts."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from contextlib import contextmanager

# The largest network or layer a builder makes: 1e9 parameters (4 GB of float32 weights).
MAX_PARAMS = 1_000_000_000


def check_int(name: str, value: object, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as an ``int`` (numpy integers included, ``bool`` not) in ``[minimum, maximum]``."""
    allowed = f"an integer >= {minimum}" if maximum is None else f"an integer in [{minimum}, {maximum}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {allowed}, got {value!r} ({type(value).__name__})")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(value)


def check_float(name: str, value: object, low: float = -math.inf, high: float = math.inf, *,
                low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite ``float`` in the interval from ``low`` to ``high`` (open ends if asked)."""
    allowed = (f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
               if math.isfinite(low) or math.isfinite(high) else "a finite number")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {allowed}, got {value!r} ({type(value).__name__})")
    value = float(value)
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if not math.isfinite(value) or below or above:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return value


def check_module(name: str, value: object) -> object:
    """``value`` unless it is not a ``torch.nn.Module``."""
    from torch import nn  # noqa: PLC0415  (this module stays importable without torch)

    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}")
    return value


def check_shape(name: str, value: object, ndim: int | None = None,
                max_elements: int = 2**31) -> tuple[int, ...]:
    """``value`` as a tuple of positive integers (``ndim`` of them if given), at most ``max_elements``."""
    allowed = f"a tuple of {ndim or 'some'} positive integers with at most {max_elements:,} elements in all"
    if not isinstance(value, tuple | list):  # torch.Size is a tuple
        raise TypeError(f"{name} must be {allowed}, got {value!r:.60}")
    shape = tuple(check_int(f"{name}[{i}]", v) for i, v in enumerate(value))
    if (ndim is not None and len(shape) != ndim) or not shape or math.prod(shape) > max_elements:
        raise ValueError(f"{name} must be {allowed}, got {value!r:.60}")
    return shape


def check_tensor(name: str, value: object, ndim: int | None = None, floating: bool = False) -> object:
    """``value`` unless it is not a tensor (of ``ndim`` dimensions, floating point if asked)."""
    import torch  # noqa: PLC0415

    dims = f" with {ndim} dimensions" if ndim else ""
    kind = f"a {'floating-point ' if floating else ''}torch.Tensor{dims}"
    if not isinstance(value, torch.Tensor) or (floating and not value.is_floating_point()):
        raise TypeError(f"{name} must be {kind}, got {value!r:.60}")
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{name} must be {kind}, got shape {tuple(value.shape)}")
    return value


@contextmanager
def shape_errors(name: str, value: object) -> Iterator[None]:
    """Turn the ``RuntimeError`` of a forward pass on a wrongly shaped input into a named ``ValueError``."""
    try:
        yield
    except RuntimeError as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"{name}={value!r:.60} does not fit the model: {first}") from error


def check_device(name: str, value: object) -> object:
    """``value`` as a ``torch.device`` (from a device or a string such as ``"cpu"``, ``"cuda:0"``)."""
    import torch  # noqa: PLC0415

    if not isinstance(value, torch.device | str):
        raise TypeError(f"{name} must be a torch.device or a str such as 'cpu' or 'cuda', got {value!r:.60}")
    try:
        return torch.device(value)
    except RuntimeError as error:
        raise ValueError(f"{name} must name a device such as 'cpu' or 'cuda', got {value!r:.60}") from error


def check_bool(name: str, value: object) -> bool:
    """``value`` unless it is not ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r:.60}")
    return value
