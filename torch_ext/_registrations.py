"""Registrations that give the operators their place in PyTorch 2 subsystems:
``torch.func.vmap`` batching rules and the nested-tensor rule (now), and, when their subsystem
is first imported (``_lazy.when_imported``), Inductor decompositions, DTensor sharding
strategies and the legacy ONNX exporter's symbolic; each once per process (``_lazy``), so
that reloading this module registers nothing twice. (Autograd, Meta and the device kernels
are registered in C++; see csrc/ops/.)"""

from __future__ import annotations

import types

import torch
from torch.nested._internal.nested_tensor import NestedTensor

from . import _inductor, _onnx
from ._lazy import once, when_imported

_ops = torch.ops.torch_ext

# ---- Inductor: fused composites, registered when Inductor is first imported (_inductor.py) ----
_inductor.install()

# ---- vmap: the ops are element-wise, so a batched call is one call on the whole tensor ----
# The rules (and the DTensor strategies below) take theta as `*theta`: the dispatcher leaves
# out an argument equal to its schema default (theta=1.0), and the op fills it in again.


def _thresholded_relu_vmap(info, in_dims, x, *theta):
    return _ops.thresholded_relu(x, *theta), in_dims[0]


def _thresholded_relu_inplace_vmap(info, in_dims, x, *theta):
    _ops.thresholded_relu_(x, *theta)
    return None, None


def _batch_first(t: torch.Tensor, dim: int | None, batch_size: int) -> torch.Tensor:
    if dim is None:
        return t.unsqueeze(0).expand(batch_size, *t.shape)
    return t.movedim(dim, 0)


def _thresholded_relu_backward_vmap(info, in_dims, grad_output, result, *theta):
    grad_dim, result_dim = in_dims[0], in_dims[1]
    if grad_dim is not None and grad_dim == result_dim:
        return _ops.thresholded_relu_backward(grad_output, result, *theta), grad_dim
    grad_output = _batch_first(grad_output, grad_dim, info.batch_size)
    result = _batch_first(result, result_dim, info.batch_size)
    return _ops.thresholded_relu_backward(grad_output, result, *theta), 0


def _register_vmap_rules() -> None:
    torch.library.register_vmap("torch_ext::thresholded_relu", _thresholded_relu_vmap)
    torch.library.register_vmap("torch_ext::thresholded_relu_", _thresholded_relu_inplace_vmap)
    torch.library.register_vmap("torch_ext::thresholded_relu_backward",
                                _thresholded_relu_backward_vmap)


once(_register_vmap_rules)

# ---- Nested tensors (jagged layout): the in-place op on the packed values ----
# The out-of-place ops need nothing: NestedTensor maps any op tagged pointwise onto its values
# and wraps the result. For an op that returns nothing that wrapping fails after the write,
# so the in-place op gets its own rule. (Strided-layout nested tensors have no kernel and are
# refused before anything is written.)


def _thresholded_relu_inplace_nested(cls, func, _types, args, kwargs):
    x, *theta = args
    func(x._values, *theta, **kwargs)


def _register_nested_rules() -> None:
    torch.library.register_torch_dispatch(
        "torch_ext::thresholded_relu_", NestedTensor, _thresholded_relu_inplace_nested)


once(_register_nested_rules)

# ---- DTensor: any sharding passes through unchanged (never Partial: the op is nonlinear) ----
# A Partial input gets no strategy of its own, so DTensor redistributes it to one of these (a
# Replicate, by reducing first), as for torch's own nonlinear pointwise ops.
# Registered when torch.distributed.tensor is first imported: it pulls in sympy and symbolic
# shapes, which would double the cost of `import torch_ext` for programs that never use DTensor.


def _register_dtensor_sharding(_package: types.ModuleType) -> None:
    from torch.distributed.tensor.experimental import register_sharding
    from torch.distributed.tensor.placement_types import Replicate, Shard

    def elementwise_strategies(ndim: int, outputs: int, tensor_args: int, theta: tuple):
        # Outputs and every tensor input share one placement; None for theta when it is given.
        placements = [Replicate()] + [Shard(dim) for dim in range(ndim)]
        return [([p] * outputs, [p] * tensor_args + [None] * len(theta)) for p in placements]

    @register_sharding(_ops.thresholded_relu.default)
    def thresholded_relu_sharding(x, *theta):
        return elementwise_strategies(x.ndim, 1, 1, theta)

    # The in-place op returns () (design §2b): no output placements. register_sharding passes
    # the op's return count and in-place flag on to DTensor's strategy expansion, which then
    # keeps x's own placement (an in-place op cannot redistribute its target), so a Partial x
    # is refused as torch refuses it for its own in-place ops (relu_).
    @register_sharding(_ops.thresholded_relu_.default)
    def thresholded_relu_inplace_sharding(x, *theta):
        return elementwise_strategies(x.ndim, 0, 1, theta)

    @register_sharding(_ops.thresholded_relu_backward.default)
    def thresholded_relu_backward_sharding(grad_output, result, *theta):
        return elementwise_strategies(result.ndim, 1, 2, theta)


# Builds of torch without distributed support (torch.distributed.is_available() False) have no
# DTensor to register with.
if torch.distributed.is_available():
    when_imported("torch.distributed.tensor", _register_dtensor_sharding)

# ---- ONNX: the legacy (dynamo=False) exporter's symbolic, once torch.onnx is imported ----
when_imported("torch.onnx", _onnx.register_legacy_symbolic)
