"""Functional API. Eager calls go straight to the compiled operator through pybind11 (a
fraction of the cost of ``torch.ops``); everything that must see the call as a dispatcher
operator (torch.compile, torch.export, ``__torch_function__`` overrides) takes ``torch.ops``.
"""

from __future__ import annotations

import numbers

import torch
from torch.overrides import has_torch_function_unary

from . import _C

_ops = torch.ops.torch_ext


def _checked_theta(theta: float, caller: str) -> float:
    if type(theta) is float:  # the common case, checked first for speed
        return theta
    if isinstance(theta, bool) or not isinstance(theta, numbers.Real):
        raise TypeError(
            f"{caller}: theta must be a real number (float or int), got theta={theta!r} "
            f"of type {type(theta).__name__}"
        )
    return float(theta)


def _direct_call_allowed(x: torch.Tensor) -> bool:
    """Whether the pybind11 entry point may be used: only for plain eager calls, since it is
    opaque to torch.compile and bypasses ``__torch_function__``."""
    return not torch.compiler.is_compiling() and not has_torch_function_unary(x)


def thresholded_relu(x: torch.Tensor, theta: float = 1.0, inplace: bool = False) -> torch.Tensor:
    """Keras' ThresholdedReLU: ``x`` where ``x > theta``, else 0.

    Args:
        x: input tensor of dtype float16, bfloat16, float32, float64, uint8, int8, int16,
            int32 or int64, on any device. Gradients flow for the floating-point dtypes.
        theta: threshold, a real number >= 0 (``+inf`` allowed). The comparison is exact:
            ``x > theta`` as real numbers, whatever x's dtype.
        inplace: overwrite ``x`` instead of allocating the result.

    Returns:
        A tensor with x's shape, dtype, device and memory layout (``x`` itself if inplace).

    Raises:
        ValueError: theta is negative or NaN.
        TypeError: theta is not a real number, or x has an unsupported dtype (bool, complex).
    """
    if inplace:
        return thresholded_relu_(x, theta)
    theta = _checked_theta(theta, "thresholded_relu")
    if _direct_call_allowed(x):
        return _C.thresholded_relu(x, theta)
    return _ops.thresholded_relu(x, theta)


def thresholded_relu_(x: torch.Tensor, theta: float = 1.0) -> torch.Tensor:
    """In-place :func:`thresholded_relu`: overwrites ``x`` and returns it.

    Refused (as PyTorch refuses its own in-place ops) for a leaf tensor that requires grad
    and for tensors whose elements overlap in memory (e.g. made by ``expand``).
    """
    theta = _checked_theta(theta, "thresholded_relu_")
    if _direct_call_allowed(x):
        return _C.thresholded_relu_(x, theta)
    _ops.thresholded_relu_(x, theta)
    return x
