"""Gradients: gradcheck, double backward, in-place under autograd, what is saved."""

import gc
import weakref

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

import torch_ext
from conftest import FLOAT_DTYPES, random_values


def _away_from_theta(shape, theta, device, dtype=torch.float64):
    """Random inputs kept 1e-3 away from theta, where the function is not differentiable."""
    x = torch.randn(shape, dtype=torch.float64) * 2 + theta
    x = torch.where((x - theta).abs() < 1e-3, x + 0.01, x)
    return x.to(device=device, dtype=dtype)


@pytest.mark.parametrize("theta", [0.0, 0.5, 1.0])
def test_gradcheck_and_gradgradcheck(theta, device):
    x = _away_from_theta((4, 9), theta, device).requires_grad_()
    fn = lambda t: torch_ext.thresholded_relu(t, theta)  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_gradcheck_inplace_on_intermediate(device):
    x = _away_from_theta((17,), 0.6, device).requires_grad_()

    def fn(t):
        h = t * 1.0
        return torch_ext.thresholded_relu_(h, 0.6)

    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_gradcheck_backward_op(device):
    y = torch_ext.thresholded_relu(_away_from_theta((11,), 0.4, device), 0.4)
    g = torch.randn(11, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(lambda dy: torch.ops.torch_ext.thresholded_relu_backward(dy, y, 0.4), (g,))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_gradient_is_upstream_where_output_above_theta(dtype, device):
    x = random_values((300,), dtype, device=device).requires_grad_()
    y = torch_ext.thresholded_relu(x, 0.5)
    upstream = random_values((300,), dtype, device=device)
    (grad,) = torch.autograd.grad(y, x, upstream)
    expected = torch.where(x.detach().double() > 0.5, upstream, torch.zeros_like(upstream))
    assert torch.equal(grad, expected)
    # and equals native threshold_backward with the same mask
    native = torch.ops.aten.threshold_backward(upstream, y.detach(), 0.5)
    assert torch.equal(grad, native)


def test_nan_output_passes_gradient():
    x = torch.tensor([float("nan"), 0.0, 2.0], requires_grad=True)
    torch_ext.thresholded_relu(x).backward(torch.tensor([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == [1.0, 0.0, 3.0]


def test_grad_fn_is_the_operator_node():
    x = torch.randn(3, requires_grad=True)
    y = torch_ext.thresholded_relu(x)
    assert y.grad_fn.name() == "ThresholdedReluBackward"
    torch_ext.thresholded_relu(x * 1, 1.0).sum().backward()


def test_inplace_on_view_of_leaf_view_of_non_leaf():
    x = torch.tensor([[0.5, 2.0], [3.0, -1.0]], dtype=torch.float64, requires_grad=True)
    h = x * 2  # [[1, 4], [6, -2]]
    row = h[0]
    torch_ext.thresholded_relu_(row, 1.5)
    assert h.tolist() == [[0.0, 4.0], [6.0, -2.0]]
    h.sum().backward()
    assert x.grad.tolist() == [[0.0, 2.0], [2.0, 2.0]]


def test_inplace_on_leaf_requiring_grad_is_refused():
    x = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        torch_ext.thresholded_relu_(x)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        torch_ext.thresholded_relu_(x[:2])


def test_inplace_on_tensor_saved_by_another_op_raises():
    x = torch.tensor([0.5, 2.0], requires_grad=True)
    h = x * 1
    z = h.sin()  # saves h
    torch_ext.thresholded_relu_(h)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_inplace_bumps_version_counter():
    x = torch.randn(4)
    before = x._version
    torch_ext.thresholded_relu_(x)
    assert x._version == before + 1


def test_forward_keeps_only_its_output_alive():
    x = torch.randn(1000, requires_grad=True)
    h = x * 2
    y = torch_ext.thresholded_relu(h, 0.1)
    ref = weakref.ref(h)
    del h
    gc.collect()
    # mul saves nothing of its output; our node saves y, not h, so h is gone
    assert ref() is None
    y.sum().backward()
    assert x.grad is not None


def test_no_grad_and_inference_mode_build_no_graph():
    x = torch.randn(5, requires_grad=True)
    with torch.no_grad():
        assert torch_ext.thresholded_relu(x).grad_fn is None
    with torch.inference_mode():
        y = torch_ext.thresholded_relu(torch.randn(5))
        assert y.is_inference()


def test_integer_input_has_no_gradient_but_works_under_grad_mode():
    x = torch.arange(5)
    assert torch_ext.thresholded_relu(x, 2.0).tolist() == [0, 0, 0, 3, 4]
