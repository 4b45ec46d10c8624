"""The portable fallback (CompositeExplicitAutograd, written with ATen ops), which serves
devices without a dedicated kernel. It is reached here by redispatching CPU tensors to a
backend key that has no kernel of its own (PrivateUse1)."""

import pytest
import torch

import torch_ext  # noqa: F401  (loads the operator library)

from conftest import ALL_DTYPES, FLOAT_DTYPES, assert_bitwise_equal, random_values, reference

OPS = torch.ops.torch_ext
NO_KERNEL = torch._C.DispatchKeySet(torch._C.DispatchKey.PrivateUse1)


def test_private_use1_has_no_dedicated_kernel():
    # Guards the premise of this file: PrivateUse1 is served by the fallback.
    for name in ("thresholded_relu", "thresholded_relu_", "thresholded_relu_backward"):
        assert not torch._C._dispatch_has_kernel_for_dispatch_key(
            f"torch_ext::{name}", torch._C.DispatchKey.PrivateUse1)
        assert torch._C._dispatch_has_kernel_for_dispatch_key(
            f"torch_ext::{name}", "CompositeExplicitAutograd")


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("theta", [0.0, 0.5, 0.99999999, 3.0, float("inf")])
def test_fallback_forward_and_inplace_match_reference(dtype, theta):
    x = random_values((517,), dtype)
    if dtype.is_floating_point:
        x[:4] = torch.tensor([float("nan"), float("inf"), -float("inf"), 1.0], dtype=dtype)
    expected = reference(x, theta)
    assert_bitwise_equal(OPS.thresholded_relu.default.redispatch(NO_KERNEL, x, theta), expected)
    y = x.clone()
    OPS.thresholded_relu_.default.redispatch(NO_KERNEL, y, theta)
    assert_bitwise_equal(y, expected)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_fallback_backward_matches_cpu_kernel(dtype):
    x = random_values((300,), dtype)
    result = OPS.thresholded_relu(x, 0.7)
    grad = random_values((300,), dtype)
    assert_bitwise_equal(
        OPS.thresholded_relu_backward.default.redispatch(NO_KERNEL, grad, result, 0.7),
        OPS.thresholded_relu_backward(grad, result, 0.7))


def test_fallback_checks_arguments_like_the_kernels():
    with pytest.raises(ValueError, match="theta=-1"):
        OPS.thresholded_relu.default.redispatch(NO_KERNEL, torch.ones(2), -1.0)
    with pytest.raises(TypeError, match="x has dtype Bool"):
        OPS.thresholded_relu.default.redispatch(NO_KERNEL, torch.ones(2, dtype=torch.bool), 1.0)
    with pytest.raises(RuntimeError, match="more than one element"):
        OPS.thresholded_relu_.default.redispatch(NO_KERNEL, torch.ones(1).expand(3), 1.0)
