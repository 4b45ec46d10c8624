"""Registrations that give the operators their place in PyTorch 2 subsystems:
``torch.func.vmap`` batching rules and DTensor sharding strategies. (Autograd, Meta and the
device kernels are registered in C++; see csrc/ops/.)"""

from __future__ import annotations

import torch
from torch.distributed.tensor.experimental import register_sharding
from torch.distributed.tensor.placement_types import Replicate, Shard

_ops = torch.ops.torch_ext

# ---- vmap: the ops are element-wise, so a batched call is one call on the whole tensor ----


@torch.library.register_vmap("torch_ext::thresholded_relu")
def _thresholded_relu_vmap(info, in_dims, x, theta):
    return _ops.thresholded_relu(x, theta), in_dims[0]


@torch.library.register_vmap("torch_ext::thresholded_relu_")
def _thresholded_relu_inplace_vmap(info, in_dims, x, theta):
    _ops.thresholded_relu_(x, theta)
    return None, None


def _batch_first(t: torch.Tensor, dim: int | None, batch_size: int) -> torch.Tensor:
    if dim is None:
        return t.unsqueeze(0).expand(batch_size, *t.shape)
    return t.movedim(dim, 0)


@torch.library.register_vmap("torch_ext::thresholded_relu_backward")
def _thresholded_relu_backward_vmap(info, in_dims, grad_output, result, theta):
    grad_dim, result_dim = in_dims[0], in_dims[1]
    if grad_dim is not None and grad_dim == result_dim:
        return _ops.thresholded_relu_backward(grad_output, result, theta), grad_dim
    grad_output = _batch_first(grad_output, grad_dim, info.batch_size)
    result = _batch_first(result, result_dim, info.batch_size)
    return _ops.thresholded_relu_backward(grad_output, result, theta), 0


# ---- DTensor: any sharding passes through unchanged (never Partial: the op is nonlinear) ----


def _elementwise_strategies(ndim: int, tensor_args: int):
    strategies = [([Replicate()], [Replicate()] * tensor_args + [None])]
    for dim in range(ndim):
        strategies.append(([Shard(dim)], [Shard(dim)] * tensor_args + [None]))
    return strategies


@register_sharding(_ops.thresholded_relu.default)
def _thresholded_relu_sharding(x, theta):
    return _elementwise_strategies(x.ndim, tensor_args=1)


@register_sharding(_ops.thresholded_relu_backward.default)
def _thresholded_relu_backward_sharding(grad_output, result, theta):
    return _elementwise_strategies(result.ndim, tensor_args=2)
