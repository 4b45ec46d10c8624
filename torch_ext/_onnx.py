"""ONNX export of the ``thresholded_relu`` operator.

ONNX has the operator as a standard op, ``ThresholdedRelu(X, alpha)`` (``y = x`` where
``x > alpha``, else 0), so an exported model needs no custom domain and runs on any ONNX
runtime. Three routes lead there:

* :class:`torch_ext.ThresholdedReLU` emits the node by itself during
  ``torch.onnx.export(..., dynamo=True)`` (see :func:`thresholded_relu_for_export`).
* Models that call the functional (``torch_ext.thresholded_relu`` or
  ``torch.ops.torch_ext.thresholded_relu``) pass :func:`onnx_translation_table` as
  ``custom_translation_table``.
* The legacy TorchScript-based exporter (``dynamo=False``) uses a symbolic registered with
  ``torch.onnx.register_custom_op_symbolic`` when this module is imported.

Exactness. ONNX stores ``alpha`` as a float32 attribute. The translation does not round
theta to nearest (which can round *up*: float32(0.3) > 0.3, so an input equal to
float32(0.3) would become 0); it writes the largest value of the input's dtype that is
``<= theta``, for which ``x > alpha`` holds exactly when ``x > theta``. That is exact for
float16 and float32 inputs, the dtypes with onnxruntime kernels. Other dtypes (bfloat16,
float64 and the integers) get the equivalent standard-op graph
``Where(LessOrEqual(x, t), 0, x)`` with ``t`` a constant of the input's dtype, which is exact
too (and keeps NaN, unlike ``ThresholdedRelu``).

NaN. ONNX defines ``ThresholdedRelu`` as ``x if x > alpha else 0``, so NaN becomes 0 in the
exported float16/float32 graph, where this library keeps NaN.
"""

from __future__ import annotations

import math
import types
from typing import Any, Callable

import torch

from . import _C, _lazy
from ._functional import _checked_theta

#: The ONNX opset the translations are written for (the exporter may convert to others).
ONNX_OPSET: int = 20

# Input dtypes exported as a ThresholdedRelu node: ONNX's type list for it at opset 20 is
# float16/float32/float64, and onnxruntime's CPU kernels cover float16 and float32 only.
_NATIVE_DTYPES = (torch.float16, torch.float32)

_ONNX_NAME_TO_DTYPE = {
    "FLOAT16": torch.float16,
    "BFLOAT16": torch.bfloat16,
    "FLOAT": torch.float32,
    "DOUBLE": torch.float64,
    "UINT8": torch.uint8,
    "INT8": torch.int8,
    "INT16": torch.int16,
    "INT32": torch.int32,
    "INT64": torch.int64,
}


def onnx_alpha(theta: float, dtype: torch.dtype = torch.float32) -> float:
    """The ``alpha`` attribute written for ``theta`` and an input of ``dtype``.

    It is the largest value of ``dtype`` that is ``<= theta`` (``theta`` itself when the dtype
    holds it), so that ONNX's ``x > alpha`` equals this library's exact ``x > theta`` for every
    ``x`` of that dtype. ``dtype`` must be float16 or float32, whose values are all exact in
    ONNX's float32 attribute.

    Raises:
        ValueError: theta is negative or NaN, or dtype is not float16/float32.
    """
    if dtype not in _NATIVE_DTYPES:
        raise ValueError(f"onnx_alpha: dtype must be float16 or float32, got {dtype}")
    return float(_exact_threshold(theta, dtype))


def _exact_threshold(theta: float, dtype: torch.dtype) -> float | int:
    return _C.threshold_in_dtype(float(theta), dtype)


def thresholded_relu_for_export(x: torch.Tensor, theta: float) -> torch.Tensor:
    """What ``thresholded_relu(x, theta)`` becomes inside ``torch.onnx.export(dynamo=True)``.

    For float16 and float32 inputs a standard ONNX ``ThresholdedRelu`` node (through
    ``torch.onnx.ops.symbolic``) with ``alpha = onnx_alpha(theta, x.dtype)``; for other dtypes
    the exact ``torch.where(x <= t, 0, x)``, which exports as ``LessOrEqual`` and ``Where``.
    Only meaningful while ``torch.onnx.is_in_onnx_export()`` is true.
    """
    theta = _checked_theta(theta, "thresholded_relu")
    if x.dtype in _NATIVE_DTYPES:
        return torch.onnx.ops.symbolic(
            "ThresholdedRelu",
            (x,),
            {"alpha": onnx_alpha(theta, x.dtype)},
            dtype=x.dtype,
            shape=x.shape,
            version=ONNX_OPSET,
        )
    # Both constants as 0-d tensors of x's dtype: a Python scalar would be written to the graph
    # as a float32 constant and widened, rounding a float64 threshold.
    threshold = torch.tensor(_exact_threshold(theta, x.dtype), dtype=x.dtype, device=x.device)
    return torch.where(x <= threshold, torch.zeros((), dtype=x.dtype, device=x.device), x)


def in_dynamo_onnx_export() -> bool:
    """True while ``torch.onnx.export(..., dynamo=True)`` traces the model (the legacy
    TorchScript exporter, which traces with ``torch.jit.trace``, gives False: it translates
    the operator through the registered symbolic instead)."""
    return (
        hasattr(torch.onnx, "ops")
        and torch.onnx.is_in_onnx_export()
        and not torch.jit.is_tracing()
    )


def _is_legacy_graph_input(x: torch.Tensor) -> bool:
    """True when the legacy exporter traces and ``x`` is an input of the traced graph, which
    that exporter cannot write to (``aten::copy`` is unsupported there; writes to
    intermediate tensors are fine)."""
    if not torch.jit.is_tracing():
        return False
    try:
        return torch._C._get_value_trace(x).node().kind() == "prim::Param"
    except Exception:  # a private API: if it moves, fall back to writing
        return False


def write_back_for_export(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The in-place forms during ONNX export: ``y`` (the functional result) copied into ``x``,
    except into an input of the legacy exporter's graph, which it cannot write (the graph's
    output is then ``y``, which is what ONNX's functional graphs return anyway)."""
    return y if _is_legacy_graph_input(x) else x.copy_(y)


# ---- torch.onnx.export(dynamo=True): custom_translation_table ----


def _translate_thresholded_relu(x: Any, theta: float = 1.0) -> Any:
    """onnxscript translation of ``torch.ops.torch_ext.thresholded_relu.default``."""
    import numpy as np
    import onnx_ir as ir
    from onnxscript import opset20 as op

    theta = _checked_theta(theta, "thresholded_relu")
    dtype = _ONNX_NAME_TO_DTYPE.get(getattr(x.dtype, "name", ""), None)
    if dtype is None:
        raise TypeError(f"thresholded_relu: cannot export an input of ONNX type {x.dtype}")
    if dtype in _NATIVE_DTYPES:
        return op.ThresholdedRelu(x, alpha=onnx_alpha(theta, dtype))
    threshold = _exact_threshold(theta, dtype)
    if dtype.is_floating_point:
        t = np.array(threshold, dtype=np.float64)  # bfloat16 values are exact in float64
        zero = np.array(0.0, dtype=np.float64)
    else:
        t = np.array(threshold, dtype=np.int64)  # already clamped to the dtype's range
        zero = np.array(0, dtype=np.int64)
    t_like = op.CastLike(op.Constant(value=ir.tensor(t)), x)
    zero_like = op.CastLike(op.Constant(value=ir.tensor(zero)), x)
    return op.Where(op.LessOrEqual(x, t_like), zero_like, x)


def onnx_translation_table() -> dict[Callable[..., Any], Callable[..., Any]]:
    """A ``custom_translation_table`` for ``torch.onnx.export(..., dynamo=True)``.

    Needed when the exported model calls the functional ``torch_ext.thresholded_relu`` (or the
    operator ``torch.ops.torch_ext.thresholded_relu``) directly; the
    :class:`~torch_ext.ThresholdedReLU` module exports without it. Merge it with your own
    entries if you have any::

        torch.onnx.export(model, (x,), dynamo=True, opset_version=20,
                          custom_translation_table=torch_ext.onnx_translation_table())

    Requires the ``onnxscript`` package (``pip install torch_ext[onnx]``).
    """
    try:
        import onnx_ir  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "torch_ext.onnx_translation_table needs onnxscript (pip install onnx onnxscript)"
        ) from e
    return {torch.ops.torch_ext.thresholded_relu.default: _translate_thresholded_relu}


# ---- legacy TorchScript-based exporter (dynamo=False) ----

#: Lowest opset for which the legacy symbolic is registered (``LessOrEqual`` needs 12).
LEGACY_MIN_OPSET: int = 12

_JIT_TYPE_TO_DTYPE = {
    "Half": torch.float16,
    "BFloat16": torch.bfloat16,
    "Float": torch.float32,
    "Double": torch.float64,
    "Byte": torch.uint8,
    "Char": torch.int8,
    "Short": torch.int16,
    "Int": torch.int32,
    "Long": torch.int64,
}


def _legacy_symbolic(g: Any, x: Any, theta: Any) -> Any:
    from torch.onnx import symbolic_helper

    theta_value = symbolic_helper._maybe_get_const(theta, "f")
    if not isinstance(theta_value, (float, int)):
        return symbolic_helper._unimplemented(
            "torch_ext::thresholded_relu", "theta must be a constant", theta
        )
    theta_value = float(theta_value)
    if math.isnan(theta_value) or theta_value < 0:
        raise ValueError(
            f"thresholded_relu: theta must be a non-negative number (+inf allowed), got theta={theta_value}"
        )
    scalar_type = x.type().scalarType() if x.isCompleteTensor() else None
    dtype = _JIT_TYPE_TO_DTYPE.get(scalar_type, torch.float32)
    if dtype in _NATIVE_DTYPES:
        return g.op("ThresholdedRelu", x, alpha_f=onnx_alpha(theta_value, dtype))
    threshold = _exact_threshold(theta_value, dtype)
    t = g.op("Constant", value_t=torch.tensor(threshold, dtype=dtype))
    zero = g.op("Constant", value_t=torch.tensor(0, dtype=dtype))
    return g.op("Where", g.op("LessOrEqual", x, t), zero, x)


def register_legacy_symbolic(onnx_module: types.ModuleType) -> bool:
    """Registers the legacy exporter's symbolic with ``onnx_module`` (``torch.onnx``), if that
    torch still has the legacy exporter. Returns whether it did."""
    register = getattr(onnx_module, "register_custom_op_symbolic", None)
    if register is None:  # the legacy exporter is gone from this torch
        return False
    register("torch_ext::thresholded_relu", _legacy_symbolic, LEGACY_MIN_OPSET)
    return True


def legacy_exporter_registered() -> bool:
    """Whether the legacy (``dynamo=False``) exporter exists in this torch and knows the
    operator. The symbolic is registered when ``torch.onnx`` is first imported (see
    ``_registrations``): importing it loads the exporters, which a program that never exports
    should not pay for."""
    return bool(_lazy.result(register_legacy_symbolic))
