"""CUDA kernels: bit-identical to the CPU kernels for every dtype and layout, gradients,
streams, devices. Without a GPU every test here reports itself as skipped."""

import pytest
import torch
from torch.autograd import gradcheck

import torch_ext
from conftest import ALL_DTYPES, FLOAT_DTYPES, assert_bitwise_equal, random_values

pytestmark = [
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine"),
    pytest.mark.skipif(not torch_ext.built_with_cuda, reason="CUDA kernels not compiled in"),
]

THETAS = [0.0, 0.3, 0.99999999, 1.0, 7.5, float("inf")]


def _with_specials(x):
    if not x.dtype.is_floating_point:
        return x
    specials = torch.tensor([float("nan"), -float("nan"), float("inf"), -float("inf"), -0.0, 0.0,
                             1.0, torch.finfo(x.dtype).tiny / 2], dtype=x.dtype)
    return torch.cat([x.flatten(), specials])


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("theta", THETAS)
@pytest.mark.parametrize("n", [1, 7, 4099, 1 << 20])  # below, at and far above one vector
def test_forward_bit_identical_to_cpu(dtype, theta, n):
    x = _with_specials(random_values((n,), dtype))
    expected = torch_ext.thresholded_relu(x, theta)
    assert_bitwise_equal(torch_ext.thresholded_relu(x.cuda(), theta), expected)
    inplace = x.cuda()
    torch_ext.thresholded_relu_(inplace, theta)
    assert_bitwise_equal(inplace, expected)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_backward_bit_identical_to_cpu(dtype):
    x = _with_specials(random_values((10001,), dtype))
    y = torch_ext.thresholded_relu(x, 0.5)
    g = random_values(y.shape, dtype)
    expected = torch.ops.torch_ext.thresholded_relu_backward(g, y, 0.5)
    assert_bitwise_equal(torch.ops.torch_ext.thresholded_relu_backward(g.cuda(), y.cuda(), 0.5),
                         expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.int8])
def test_layouts_and_misaligned_views(dtype):
    x = random_values((4, 6, 10, 12), dtype)
    views = [
        lambda t: t.contiguous(memory_format=torch.channels_last),
        lambda t: t.transpose(1, 3),
        lambda t: t[:, :, ::3, 1::2],
        lambda t: t.flatten()[1:],   # storage offset: not 16-byte aligned
        lambda t: t.expand(2, *t.shape),
    ]
    for make in views:
        cpu_view, gpu_view = make(x), make(x.cuda())
        out = torch_ext.thresholded_relu(gpu_view, 0.4)
        assert_bitwise_equal(out, torch_ext.thresholded_relu(cpu_view, 0.4))
        if cpu_view.is_contiguous(memory_format=torch.channels_last) and cpu_view.dim() == 4:
            assert out.is_contiguous(memory_format=torch.channels_last)


def test_inplace_on_strided_view_writes_only_the_view():
    base = torch.randn(64, 64, device="cuda")
    original = base.clone()
    view = base[::2, 1::3]
    torch_ext.thresholded_relu_(view, 0.2)
    expected = original.clone()
    expected[::2, 1::3] = torch_ext.thresholded_relu(original[::2, 1::3].cpu(), 0.2).cuda()
    assert torch.equal(base, expected)


def test_gradcheck_and_gradgradcheck_on_cuda():
    x = torch.randn(40, dtype=torch.float64, device="cuda")
    x = torch.where((x - 0.3).abs() < 1e-3, x + 0.01, x).requires_grad_()
    fn = lambda t: torch_ext.thresholded_relu(t, 0.3)  # noqa: E731
    assert gradcheck(fn, (x,))
    from torch.autograd import gradgradcheck
    assert gradgradcheck(fn, (x,))


def test_runs_on_the_current_non_default_stream():
    x = torch.randn(1 << 22, device="cuda")
    stream = torch.cuda.Stream()
    torch.cuda.synchronize()
    with torch.cuda.stream(stream):
        y = torch_ext.thresholded_relu(x, 0.5)
        torch_ext.thresholded_relu_(x, 0.5)
    stream.synchronize()
    assert torch.equal(y, x)
    assert torch.equal(y.cpu(), torch_ext.thresholded_relu(x.cpu(), 0.5))


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs a second CUDA device")
def test_second_device():
    x = torch.randn(1000, device="cuda:1")
    y = torch_ext.thresholded_relu(x, 0.1)
    assert y.device == x.device
    assert torch.equal(y.cpu(), torch_ext.thresholded_relu(x.cpu(), 0.1))


def test_backward_device_mismatch_is_refused():
    with pytest.raises(RuntimeError, match="grad_output is on"):
        torch.ops.torch_ext.thresholded_relu_backward(torch.ones(3), torch.ones(3, device="cuda"), 1.0)


def test_more_than_2_to_the_31_elements():
    free, _ = torch.cuda.mem_get_info()
    n = 2**31 + 17
    if free < 3 * n:
        pytest.skip("not enough GPU memory for a >2**31-element uint8 tensor pair")
    x = torch.full((n,), 5, dtype=torch.uint8, device="cuda")
    x[-1] = 1
    y = torch_ext.thresholded_relu(x, 2.0)
    assert y[0].item() == 5 and y[-2].item() == 5 and y[-1].item() == 0
    del y
    torch_ext.thresholded_relu_(x[::2], 2.0)  # strided in place: a dense copy and back
    # n - 1 is even, so the last element is in the view (1 -> 0); odd indices are untouched.
    assert x[-1].item() == 0 and x[0].item() == 5 and x[-2].item() == 5
