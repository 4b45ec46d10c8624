"""Inductor decompositions of the operators, so that compiled graphs and AOTInductor packages
that call ``torch.ops.torch_ext.*`` (directly, or because ``torch.export`` kept the op) fuse
the activation into generated kernels instead of calling the C++ kernel as an extern kernel.

Why a decomposition in Inductor's own table for the forward and backward ops: it is consulted
by every Inductor route (``torch.compile``, AOTInductor from an exported program) and by
nothing else, so eager dispatch keeps the C++ kernels and autograd node, and ``torch.export``
keeps the op.

The in-place op instead gets a ``CompositeImplicitAutograd`` kernel (the functional op, copied
back), which only functionalization uses: every backend key has a C++ kernel, so eager calls
never reach it, and ``torch.export`` still records ``thresholded_relu_``. Without it the op
reaches Inductor as ``auto_functionalized`` and is decomposed only in the post-grad passes,
after the joint-graph constant folding that the composite's 0-d rounding of theta needs
(Inductor's own constant propagation keeps a float constant's value through ``to_dtype``, so a
theta that rounds up in x's dtype would be compared wrongly).

Why registered on import of ``torch._inductor.decomposition``: importing Inductor costs more
than importing torch_ext, and users who never compile should not pay it. The table is built
when that module runs, so an import hook adds the entries right after it, before any
compilation can read them; if Inductor was imported first, they are added at once.
"""

from __future__ import annotations

import types

import torch

from . import _C
from ._functional import (
    _where_at_or_below,
    thresholded_relu_backward_composite,
    thresholded_relu_composite,
)
from ._lazy import once, when_imported

_ops = torch.ops.torch_ext
_TABLE_MODULE = "torch._inductor.decomposition"

# The largest float64 below 2**63, exact in int64: a theta above it is >= 2**63, above every
# integer of every dtype.
_LARGEST_INT64_FLOAT = 2.0**63 - 1024


def _integer_below_or_at_theta(x: torch.Tensor, theta: float) -> torch.Tensor:
    """``x <= theta`` for integer x: ``x <= floor(theta)``, compared in int64 (so that floor(theta)
    never wraps in x's dtype); a theta beyond int64's range is above every value."""
    theta_exact = torch.zeros((), dtype=torch.float64, device=x.device) + theta
    floor = theta_exact.clamp(max=_LARGEST_INT64_FLOAT).to(torch.int64)  # truncation: theta >= 0
    return (x.to(torch.int64) <= floor) | (theta_exact > _LARGEST_INT64_FLOAT)


def _forward(x: torch.Tensor, theta: float = 1.0) -> torch.Tensor:
    # Inductor refuses an op that has a decomposition but keeps a fallback: every dtype decomposes.
    if x.dtype.is_floating_point:
        return thresholded_relu_composite(x, theta)
    return _where_at_or_below(_integer_below_or_at_theta(x, theta), x)


def _inplace_as_functional(x: torch.Tensor, theta: float = 1.0) -> None:
    # Fake tensors decompose a CompositeImplicitAutograd op instead of calling its Meta kernel:
    # the kernels' own checks run first, so that fake and real tensors refuse the same call
    # with the same error (copy_ does not check overlap under fake tensors).
    _C.check_inplace_args(x, theta)
    x.copy_(_ops.thresholded_relu(x, theta))


def _register(table_module: types.ModuleType) -> None:
    """Adds the decompositions to Inductor's table (and to the copy it caches, if made)."""
    entries = {
        _ops.thresholded_relu.default: _forward,
        _ops.thresholded_relu_backward.default: thresholded_relu_backward_composite,
    }
    table_module.decompositions.update(entries)
    # select_decomp_table() returns a cached merge of that table (fast_random_decomps, torch
    # 2.11-2.15): when it was built before us, add the entries there as well.
    cached_merge = getattr(table_module, "fast_random_decomps", None)
    if cached_merge is not None:
        cached_merge().update(entries)


def _register_inplace_as_functional() -> torch.library.Library:
    library = torch.library.Library("torch_ext", "IMPL")
    library.impl("thresholded_relu_", _inplace_as_functional, "CompositeImplicitAutograd")
    return library  # the kernel lasts as long as this object, which once() keeps


def install() -> None:
    """Registers the in-place op's functional form, and the decompositions now if Inductor's
    table exists, else when it is first imported (each once per process)."""
    once(_register_inplace_as_functional)
    when_imported(_TABLE_MODULE, _register)
