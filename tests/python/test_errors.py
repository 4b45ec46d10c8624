"""Bad input: a clear, typed error naming the argument and the value; never a crash."""

import math

import pytest
import torch

import torch_ext

OPS = torch.ops.torch_ext
ENTRY_POINTS = {
    "functional": lambda x, theta: torch_ext.thresholded_relu(x, theta),
    "inplace": lambda x, theta: torch_ext.thresholded_relu_(x, theta),
    "torch.ops": lambda x, theta: OPS.thresholded_relu(x, theta),
    "torch.ops inplace": lambda x, theta: OPS.thresholded_relu_(x, theta),
}


@pytest.mark.parametrize("call", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
@pytest.mark.parametrize("theta", [-1.0, -1e-300, math.nan, -math.inf])
def test_bad_theta_value_is_value_error_naming_it(call, theta):
    with pytest.raises(ValueError, match=r"theta must be a non-negative number.*theta="):
        call(torch.randn(3), theta)


@pytest.mark.parametrize("theta", [None, "1.0", torch.tensor(1.0), True, 1j])
def test_bad_theta_type_is_type_error(theta):
    with pytest.raises(TypeError, match="theta"):
        torch_ext.thresholded_relu(torch.randn(3), theta)
    with pytest.raises(TypeError, match="theta"):
        torch_ext.thresholded_relu_(torch.randn(3), theta)


@pytest.mark.parametrize("call", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
@pytest.mark.parametrize("dtype, name", [(torch.bool, "Bool"), (torch.complex64, "ComplexFloat"),
                                         (torch.complex128, "ComplexDouble"), (torch.uint16, "UInt16")])
def test_unsupported_dtype_is_type_error_naming_it(call, dtype, name):
    with pytest.raises(TypeError, match=f"x has dtype {name}, which is not supported"):
        call(torch.zeros(3, dtype=dtype), 1.0)


def test_inplace_on_overlapping_memory_is_refused():
    x = torch.ones(1).expand(4)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        torch_ext.thresholded_relu_(x)
    assert x.tolist() == [1.0] * 4


def test_backward_argument_mismatches():
    g, y = torch.ones(3), torch.ones(3)
    with pytest.raises(ValueError, match="grad_output has shape"):
        OPS.thresholded_relu_backward(torch.ones(4), y, 1.0)
    with pytest.raises(TypeError, match="grad_output has dtype"):
        OPS.thresholded_relu_backward(g.double(), y, 1.0)
    with pytest.raises(TypeError, match="result has dtype Int"):
        OPS.thresholded_relu_backward(g.int(), y.int(), 1.0)
    with pytest.raises(ValueError, match="theta"):
        OPS.thresholded_relu_backward(g, y, -1.0)
    with pytest.raises(RuntimeError, match="is on meta but result is on cpu"):
        OPS.thresholded_relu_backward(g.to("meta"), y, 1.0)


def test_sparse_and_quantized_inputs_are_refused():
    sparse = torch.eye(3).to_sparse()
    with pytest.raises(TypeError, match="dense"):
        torch_ext.thresholded_relu(sparse)
    q = torch.quantize_per_tensor(torch.randn(3), 0.1, 0, torch.qint8)
    with pytest.raises(TypeError, match="QInt8"):
        torch_ext.thresholded_relu(q)


def test_meta_tensors_give_shapes_and_the_same_errors():
    x = torch.empty(2, 3, 4, 5, device="meta").contiguous(memory_format=torch.channels_last)
    y = torch_ext.thresholded_relu(x, 0.5)
    assert y.device.type == "meta" and y.shape == x.shape and y.stride() == x.stride()
    with pytest.raises(ValueError, match="theta"):
        torch_ext.thresholded_relu(x, -1.0)
    with pytest.raises(TypeError, match="Bool"):
        torch_ext.thresholded_relu(torch.empty(2, device="meta", dtype=torch.bool))
