"""Functional API.

Three routes to the same result:
- plain eager calls go straight to the compiled operator through pybind11 (a fraction of the
  cost of ``torch.ops``);
- under ``torch.compile`` floating-point inputs take the exact composite below, which Inductor
  fuses with its neighbours and which, unlike the operator's float argument, needs no
  recompilation when theta changes (a direct ``torch.ops`` call fuses too, through the same
  composite: see ``_inductor``);
- everything else that must see a dispatcher operator (``torch.export``, integer inputs under
  compile, ``__torch_function__`` overrides) calls ``torch.ops.torch_ext``.
"""

from __future__ import annotations

import math
import numbers
import sys

import torch
from torch.overrides import has_torch_function_unary

from . import _C

_ops = torch.ops.torch_ext


def _checked_theta(theta: float, caller: str) -> float:
    """theta as a float, or TypeError / ValueError naming it. The C++ operator checks the
    value again for its own callers; checking here as well keeps torch.compile traces free of
    calls it cannot trace."""
    if type(theta) is not float:
        if isinstance(theta, bool) or not isinstance(theta, numbers.Real):
            raise TypeError(
                f"{caller}: theta must be a real number (float or int), got theta={theta!r} "
                f"of type {type(theta).__name__}"
            )
        try:
            theta = float(theta)
        except OverflowError:  # an int beyond float range: as far from 0 as a float can be
            theta = math.inf if theta > 0 else -math.inf
    if not theta >= 0:  # also catches NaN
        raise ValueError(
            f"{caller}: theta must be a non-negative number (+inf allowed), got theta={theta}"
        )
    return theta


def _direct_call_allowed(x: torch.Tensor) -> bool:
    """Whether the pybind11 entry point may be used: only for plain eager calls, since it is
    opaque to torch.compile and bypasses ``__torch_function__``."""
    return not torch.compiler.is_compiling() and not has_torch_function_unary(x)


def _is_in_onnx_export() -> bool:
    """``torch.onnx.is_in_onnx_export()``, without importing ``torch.onnx`` (and with it the
    exporters) when nothing has imported it: no export can be running then."""
    return "torch.onnx" in sys.modules and torch.onnx.is_in_onnx_export()


def _is_exporting() -> bool:
    """Whether torch.export (or the ONNX exporter through it) is tracing. Read from the flag
    that torch.export sets, not through ``torch.compiler.is_exporting()``: torch 2.11's Dynamo
    folds that call to True in every trace, torch.compile's included (2.13 and later read the
    same flag)."""
    return torch.compiler._is_exporting_flag


def _under_functorch_transform() -> bool:
    """Whether a torch.func transform (grad, vmap, jvp, jacrev, ...) is active. Dynamo answers
    ``peek_interpreter_stack()`` with the interpreter at trace time, and ``isinstance`` on it
    is right both eager and traced (``is None`` on it is always False under Dynamo)."""
    return isinstance(
        torch._C._functorch.peek_interpreter_stack(), torch._C._functorch.CInterpreter
    )


def _fusable_under_compile(x: torch.Tensor) -> bool:
    return (
        torch.compiler.is_compiling()
        # exported programs (torch.export, ONNX) keep the torch_ext op
        and not _is_exporting()
        and not _is_in_onnx_export()
        # Under torch.func, Dynamo inlines the composite's autograd.Function and differentiates
        # its forward, whose bit-view select has no derivative: the operator keeps its own
        # autograd there (and Inductor still fuses it, through its decomposition).
        and not _under_functorch_transform()
        and x.dtype.is_floating_point
    )


def _below_or_at_theta(x: torch.Tensor, theta: float) -> torch.Tensor:
    """``x <= theta`` as real numbers, compared in x's dtype. ``t``, theta rounded to the
    dtype, is one of the two values of the dtype around theta (whatever the rounding path),
    so with no value of the dtype strictly between t and theta:
    ``x <= theta`` is ``x <= t`` when ``t <= theta`` and ``x < t`` when ``t > theta``.
    The checks on t are 0-d, so Inductor's code folds or hoists them and the per-element work
    stays in x's dtype (comparing every element in float64 cost a compiled pointwise chain
    8 %). NaN compares False (and is kept)."""
    theta_exact = torch.zeros((), dtype=torch.float64, device=x.device) + theta
    t = theta_exact.to(x.dtype)
    return (x < t) | ((x == t) & (t.to(torch.float64) <= theta_exact))


def _select_bits(mask: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    # Inductor computes 16-bit floats in float32 and converts back, which rewrites bfloat16
    # NaN payloads (0x7FC1 -> 0xFFFF); on an integer bit-view (a bitcast to Inductor) the
    # select moves the bits untouched, and +0 bits are +0.0. (The integer dtype of the same
    # size is picked here, not looked up in a module-level table: Dynamo guards on such a
    # lookup, and regional compilation cannot resolve that guard.)
    if not values.dtype.is_floating_point:  # integers: nothing to round
        return torch.where(mask, 0, values)
    size = values.element_size()
    bits_dtype = torch.int16 if size == 2 else torch.int32 if size == 4 else torch.int64
    return torch.where(mask, 0, values.view(bits_dtype)).view(values.dtype)


class _WhereAtOrBelow(torch.autograd.Function):
    """The bit-exact select with its gradient (a bit-view has none): the same select of the
    incoming gradient, itself differentiable (double backward). No forward-mode rule: Dynamo
    refuses an autograd.Function that defines ``jvp``."""

    generate_vmap_rule = True

    @staticmethod
    def forward(mask: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        return _select_bits(mask, values)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (mask,) = ctx.saved_tensors
        return None, _WhereAtOrBelow.apply(mask, grad)


def _where_at_or_below(mask: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """``values`` with +0 where ``mask``, every other element's bits kept (NaN payloads, signed
    zeros): the select of every compiled composite below. Differentiable in ``values``."""
    return _WhereAtOrBelow.apply(mask, values)


def thresholded_relu_composite(x: torch.Tensor, theta: float) -> torch.Tensor:
    """``thresholded_relu`` written with ATen ops that Inductor fuses: exact for every theta."""
    return _where_at_or_below(_below_or_at_theta(x, theta), x)


def thresholded_relu_backward_composite(
    grad_output: torch.Tensor, result: torch.Tensor, theta: float
) -> torch.Tensor:
    """``thresholded_relu_backward`` written the same way: ``grad_output`` where the saved
    result is above theta or NaN (the mask keeps NaN), else 0."""
    return _where_at_or_below(_below_or_at_theta(result, theta), grad_output)


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
    if _fusable_under_compile(x):
        return thresholded_relu_composite(x, theta)
    return _ops.thresholded_relu(x, theta)


def thresholded_relu_(x: torch.Tensor, theta: float = 1.0) -> torch.Tensor:
    """In-place :func:`thresholded_relu`: overwrites ``x`` and returns it.

    Refused (as PyTorch refuses its own in-place ops) for a leaf tensor that requires grad
    and for tensors whose elements overlap in memory (e.g. made by ``expand``).
    """
    theta = _checked_theta(theta, "thresholded_relu_")
    if _is_in_onnx_export():
        # Before the direct call: the legacy exporter's trace would drop a mutating op that
        # returns nothing. ONNX graphs are functional: export the functional form.
        from ._onnx import write_back_for_export

        return write_back_for_export(x, thresholded_relu(x, theta))
    if _direct_call_allowed(x):
        return _C.thresholded_relu_(x, theta)
    if _fusable_under_compile(x):
        # Not masked_fill_: Inductor rounds bfloat16 through float32 there too (see
        # _select_bits); copy_ moves the composite's bits and is differentiable.
        return x.copy_(thresholded_relu_composite(x, theta))
    _ops.thresholded_relu_(x, theta)
    return x
