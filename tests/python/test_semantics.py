"""The semantics contract (design: every dtype, exact threshold, special values, layouts)."""

import math
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

import torch_ext
from conftest import ALL_DTYPES, FLOAT_DTYPES, INT_DTYPES, assert_bitwise_equal, random_values, reference

THETAS = [0.0, 0.3, 1.0, 2.5, 7.0, 1e10, math.inf]


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("theta", THETAS)
def test_every_dtype_matches_float64_reference(dtype, theta, device):
    x = random_values((3, 1000), dtype, device=device)
    if dtype == torch.uint8:
        x = random_values((3, 1000), torch.int16, device=device).abs().clamp(max=255).to(dtype)
    expected = reference(x, theta)
    assert_bitwise_equal(torch_ext.thresholded_relu(x, theta), expected)
    assert_bitwise_equal(torch.ops.torch_ext.thresholded_relu(x, theta), expected)
    inplace = x.clone()
    assert torch_ext.thresholded_relu_(inplace, theta) is inplace
    assert_bitwise_equal(inplace, expected)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_values_one_step_either_side_of_theta(dtype, device):
    for theta in [0.1, 0.3, 1.0, 1 / 3, 100.7, 65504.0]:
        t = torch.tensor(theta, dtype=torch.float64).to(dtype)  # nearest value of dtype
        neighbours = torch.stack([
            torch.nextafter(t, torch.tensor(-math.inf, dtype=dtype)),
            t,
            torch.nextafter(t, torch.tensor(math.inf, dtype=dtype)),
        ]) if dtype in (torch.float32, torch.float64) else _neighbours_16bit(t)
        x = neighbours.to(device)
        assert_bitwise_equal(torch_ext.thresholded_relu(x, theta), reference(x, theta))


def _neighbours_16bit(t):
    bits = t.view(torch.int16)
    return torch.stack([bits - 1, bits, bits + 1]).view(t.dtype)


def test_hand_worked_exact_threshold_cases():
    # float32(0.99999999) rounds to 1.0, but 1.0 > 0.99999999 as real numbers.
    assert torch_ext.thresholded_relu(torch.tensor([1.0]), 0.99999999).item() == 1.0
    # F.threshold rounds theta to float32 and gets this wrong; we must not.
    assert F.threshold(torch.tensor([1.0]), 0.99999999, 0.0).item() == 0.0
    # integers compare against floor(theta): 1 > 0.5
    assert torch.equal(torch_ext.thresholded_relu(torch.tensor([0, 1, 2], dtype=torch.int32), 0.5),
                       torch.tensor([0, 1, 2], dtype=torch.int32))
    # x == theta is not above theta
    assert torch_ext.thresholded_relu(torch.tensor([2.0, 2.5]), 2.0).tolist() == [0.0, 2.5]
    # bfloat16: 1.0078125 is the next value above 1.0; theta between them keeps it
    x = torch.tensor([1.0, 1.0078125], dtype=torch.bfloat16)
    assert torch_ext.thresholded_relu(x, 1.001).tolist() == [0.0, 1.0078125]


def test_int64_beyond_float64_precision():
    big = 2**62 + 1
    x = torch.tensor([big, big - 1, -big], dtype=torch.int64)
    y = torch_ext.thresholded_relu(x, float(2**62))  # floor(theta) = 2**62
    assert y.tolist() == [big, 0, 0]
    assert torch_ext.thresholded_relu(x, 1e300).tolist() == [0, 0, 0]


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_integer_extremes(dtype):
    info = torch.iinfo(dtype)
    x = torch.tensor([info.min, 0, 1, info.max], dtype=dtype)
    assert torch_ext.thresholded_relu(x, 0.0).tolist() == [0, 0, 1, info.max]
    assert torch_ext.thresholded_relu(x, float(info.max)).tolist() == [0, 0, 0, 0]
    below_max = float(info.max) - 0.5
    expected_top = info.max if below_max < info.max else 0  # int64: the float rounds to 2**63
    assert torch_ext.thresholded_relu(x, below_max).tolist() == [0, 0, 0, expected_top]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_nan_inf_and_signed_zero(dtype, device):
    x = torch.tensor([math.nan, -math.nan, math.inf, -math.inf, -0.0, 0.0, -3.0, 5.0],
                     dtype=dtype, device=device)
    y = torch_ext.thresholded_relu(x, 1.0).cpu()
    assert torch.isnan(y[:2]).all()
    assert y[2].item() == math.inf
    assert y[3:7].tolist() == [0.0] * 4
    assert not torch.signbit(y[3:7]).any(), "zeros must be +0.0"
    assert y[7].item() == 5.0
    # NaN payloads and signs survive untouched
    assert_bitwise_equal(y[:2], x[:2].cpu())


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_theta_zero_and_infinity(dtype, device):
    x = torch.tensor([-1.0, 0.0, 1e-30, 1.0, math.inf], dtype=dtype, device=device)
    assert_bitwise_equal(torch_ext.thresholded_relu(x, 0.0), reference(x, 0.0))
    y_inf = torch_ext.thresholded_relu(x, math.inf)
    assert torch.equal(y_inf.cpu(), torch.zeros(5, dtype=dtype))


def test_subnormals_are_kept(device):
    for dtype in FLOAT_DTYPES:
        tiny = torch.tensor([torch.finfo(dtype).smallest_normal / 4], dtype=dtype, device=device)
        assert torch_ext.thresholded_relu(tiny, 0.0).item() == tiny.item() != 0.0


@pytest.mark.parametrize("shape", [(0,), (3, 0, 2), (), (1,), (1, 1, 1)])
def test_empty_and_zero_dim(shape, device):
    x = torch.full(shape, 2.0, device=device)
    y = torch_ext.thresholded_relu(x)
    assert y.shape == x.shape
    assert_bitwise_equal(y, reference(x, 1.0))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.int32])
def test_layouts_are_preserved(dtype, device):
    x = random_values((2, 3, 5, 7), dtype, device=device)
    cl = x.contiguous(memory_format=torch.channels_last)
    y = torch_ext.thresholded_relu(cl, 0.5)
    assert y.is_contiguous(memory_format=torch.channels_last)
    assert y.stride() == cl.stride()
    assert_bitwise_equal(y, reference(cl, 0.5))

    views = [x.transpose(1, 3), x[:, :, ::2, 1::3], x.permute(3, 0, 2, 1)[::2], x[..., 0],
             x.expand(2, 2, 3, 5, 7)]
    for v in views:
        assert_bitwise_equal(torch_ext.thresholded_relu(v, 0.5), reference(v, 0.5))
    for dense_permutation in [x.transpose(1, 3), x.permute(3, 0, 2, 1)]:
        y = torch_ext.thresholded_relu(dense_permutation, 0.5)
        assert y.stride() == dense_permutation.stride()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int64])
def test_inplace_on_strided_views_writes_only_the_view(dtype, device):
    base = random_values((6, 8), dtype, device=device)
    original = base.clone()
    view = base[1::2, ::3]
    expected_view = reference(view, 0.5)
    torch_ext.thresholded_relu_(view, 0.5)
    assert_bitwise_equal(view, expected_view)
    mask = torch.ones_like(base, dtype=torch.bool)
    mask[1::2, ::3] = False
    assert torch.equal(base[mask], original[mask]), "elements outside the view changed"


def test_large_tensor_uses_every_chunk():
    # Larger than the parallel grain and not a multiple of any vector width.
    x = random_values((3 * 2**20 + 7,), torch.float32)
    assert_bitwise_equal(torch_ext.thresholded_relu(x, 0.25), reference(x, 0.25))


@pytest.mark.parametrize("capability", ["DEFAULT", "AVX2", "AVX512"])
def test_each_cpu_capability_path(capability):
    """ATEN_CPU_CAPABILITY selects the loops this process uses; each copy must be correct."""
    if capability != "DEFAULT":
        flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
        needed = {"AVX2": "avx2", "AVX512": "avx512bw"}[capability]
        if needed not in flags:
            pytest.skip(f"this CPU lacks {needed}")
    script = (
        "import torch, torch_ext, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from conftest import ALL_DTYPES, random_values, reference, assert_bitwise_equal\n"
        f"assert torch.backends.cpu.get_cpu_capability() == {capability!r}, torch.backends.cpu.get_cpu_capability()\n"
        "for dtype in ALL_DTYPES:\n"
        "    x = random_values((4099,), dtype)\n"
        "    assert_bitwise_equal(torch_ext.thresholded_relu(x, 0.7), reference(x, 0.7))\n"
        "    if dtype.is_floating_point:\n"
        "        g = random_values((4099,), dtype)\n"
        "        y = torch_ext.thresholded_relu(x, 0.7)\n"
        "        dx = torch.ops.torch_ext.thresholded_relu_backward(g, y, 0.7)\n"
        "        assert_bitwise_equal(dx, torch.where(reference(x, 0.7) != 0, g, torch.zeros_like(g)))\n"
        "print('ok')\n"
    )
    env = dict(os.environ, ATEN_CPU_CAPABILITY=capability.lower())
    out = subprocess.run([sys.executable, "-c", script, os.path.dirname(__file__)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_results_are_deterministic():
    x = random_values((1 << 18,), torch.bfloat16)
    first = torch_ext.thresholded_relu(x, 0.9)
    for _ in range(3):
        assert_bitwise_equal(torch_ext.thresholded_relu(x, 0.9), first)
