"""Property-based tests (hypothesis): random shapes, views, dtypes, values and thresholds,
against independent references.

References:
- floating dtypes: conftest.reference(), which compares in float64 (every float16 / bfloat16 /
  float32 / float64 value and theta itself are exact there);
- integer dtypes: an integer reference, x > floor(theta) computed with Python integers (float64
  cannot hold every int64, so the float64 reference would be wrong beyond 2**53).
"""

from __future__ import annotations

import math
import struct

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from torch.autograd import gradcheck

import torch_ext
from conftest import ALL_DTYPES, FLOAT_DTYPES, reference
from conftest import assert_bitwise_equal as _conftest_assert_bitwise_equal

OPS = torch.ops.torch_ext


def draws(full: int) -> int:
    """`full` examples under hypothesis' default profile; proportionally fewer under a smaller
    one (`pytest --hypothesis-profile quick`, registered in conftest.py)."""
    return max(1, full * settings().max_examples // settings.get_profile("default").max_examples)


PROPERTY_SETTINGS = settings(
    deadline=None,
    max_examples=draws(400),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def assert_bitwise_equal(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """conftest's check, made safe for any strides: its `.contiguous().view(torch.uint8)` fails
    on a tensor that is "contiguous" with a size-1 dim of stride != 1 (e.g. x[::2] of size 1)."""
    def fresh(t):
        return t.detach().cpu().clone(memory_format=torch.contiguous_format).reshape(-1).clone()
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    _conftest_assert_bitwise_equal(fresh(actual), fresh(expected))


# ---------------------------------------------------------------------------------------------
# Values


def _bits_to_value(bits: int, dtype: torch.dtype) -> float:
    """The value of a 16-bit float from its (non-negative, < 0x8000) bit pattern."""
    return torch.tensor([bits], dtype=torch.int16).view(dtype).item()


def _float_specials(dtype: torch.dtype) -> list[float]:
    info = torch.finfo(dtype)
    if dtype in (torch.float16, torch.bfloat16):
        smallest_subnormal = _bits_to_value(0x0001, dtype)
        largest_subnormal = _bits_to_value(0x03FF if dtype == torch.float16 else 0x007F, dtype)
    elif dtype == torch.float32:
        smallest_subnormal = struct.unpack("<f", struct.pack("<I", 1))[0]
        largest_subnormal = struct.unpack("<f", struct.pack("<I", 0x007FFFFF))[0]
    else:
        smallest_subnormal = 5e-324
        largest_subnormal = struct.unpack("<d", struct.pack("<Q", 0x000FFFFFFFFFFFFF))[0]
    values = [0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, math.nan, info.max, -info.max,
              info.tiny, -info.tiny, smallest_subnormal, -smallest_subnormal,
              largest_subnormal, -largest_subnormal, info.eps, 1.0 + info.eps]
    return values


def _dtype_neighbours(v: float, dtype: torch.dtype) -> list[float]:
    """v (a finite value >= 0 of dtype) and the values of dtype one step below and above it."""
    if dtype in (torch.float16, torch.bfloat16):
        bits = torch.tensor([v], dtype=dtype).view(torch.int16).item()
        assert 0 <= bits < 0x7FFF
        down = _bits_to_value(bits - 1, dtype) if bits > 0 else -_bits_to_value(1, dtype)
        return [down, v, _bits_to_value(bits + 1, dtype)]
    t = torch.tensor([v], dtype=dtype)
    up = torch.nextafter(t, torch.tensor([math.inf], dtype=dtype)).item()
    down = torch.nextafter(t, torch.tensor([-math.inf], dtype=dtype)).item()
    return [down, v, up]


@st.composite
def value_pools(draw, dtype: torch.dtype) -> list:
    """1 to 24 values of dtype (as Python numbers): specials, arbitrary floats / integers."""
    if dtype.is_floating_point:
        info = torch.finfo(dtype)
        element = st.one_of(
            st.sampled_from(_float_specials(dtype)),
            st.floats(-4.0, 4.0),
            st.floats(allow_nan=True, allow_infinity=True, width=64),
            st.floats(-info.max, info.max),
        )
        raw = draw(st.lists(element, min_size=1, max_size=24))
        return torch.tensor(raw, dtype=torch.float64).to(dtype).tolist()
    info = torch.iinfo(dtype)
    element = st.one_of(
        st.sampled_from([v for v in (info.min, info.min + 1, -1, 0, 1, 2, info.max - 1, info.max)
                         if info.min <= v <= info.max]),
        st.integers(max(-5, info.min), 5),
        st.integers(info.min, info.max),
        # int64 beyond 2**53, where float64 has gaps
        st.integers(2**53 - 3, 2**53 + 3) if dtype == torch.int64 else st.integers(0, 1),
    )
    return draw(st.lists(element, min_size=1, max_size=24))


@st.composite
def thetas(draw, dtype: torch.dtype, pool: list) -> float:
    """A threshold: 0, +inf, huge, subnormal, arbitrary, or exactly at / one step around / just
    between values of x (in x's dtype and in float64)."""
    non_negative = [abs(float(v)) for v in pool if not math.isnan(float(v))]
    choices = [
        st.just(0.0), st.just(math.inf), st.just(5e-324), st.just(1e300),
        st.floats(0.0, 8.0), st.floats(0.0, math.inf),
    ]
    if non_negative:
        v = draw(st.sampled_from(non_negative))
        near = [v, math.nextafter(v, math.inf), math.nextafter(v, 0.0)]
        if dtype.is_floating_point and math.isfinite(v):
            below, at, above = _dtype_neighbours(v, dtype)
            near += [below, at, above, (at + above) / 2, (below + at) / 2]
        elif not dtype.is_floating_point:
            near += [v + 0.5, v - 0.5, v + 1.0]
        near = [t for t in near if not math.isnan(t) and t >= 0]
        choices.append(st.sampled_from(near))
    return draw(st.one_of(*choices))


shapes = st.lists(st.integers(0, 5), min_size=0, max_size=5).map(tuple)


def _build(pool: list, shape: tuple, dtype: torch.dtype, seed: int) -> torch.Tensor:
    """A tensor of `shape` whose elements are drawn from pool (exactly, whatever the dtype)."""
    gen = torch.Generator().manual_seed(seed)
    index = torch.randint(len(pool), shape, generator=gen)
    if dtype.is_floating_point:
        values = torch.tensor(pool, dtype=torch.float64).to(dtype)
    else:
        values = torch.tensor(pool, dtype=dtype)
    return values[index]


def integer_reference(x: torch.Tensor, theta: float) -> torch.Tensor:
    """x > theta for integer x, decided with exact integer arithmetic: x > floor(theta)."""
    info = torch.iinfo(x.dtype)
    if math.isinf(theta) or math.floor(theta) >= info.max:
        return torch.zeros_like(x)
    floor_theta = math.floor(theta)  # exact: a Python int
    keep = torch.tensor([v > floor_theta for v in x.flatten().tolist()], dtype=torch.bool)
    return torch.where(keep.view(x.shape), x, torch.zeros_like(x))


_SAME_SIZE_INT = {2: torch.int16, 4: torch.int32, 8: torch.int64}


def expected_forward(x: torch.Tensor, theta: float) -> torch.Tensor:
    if not x.dtype.is_floating_point:
        return integer_reference(x, theta)
    # NaN must come back with its exact bits. conftest.reference() round-trips through float64,
    # and PyTorch's vectorized float64 -> bfloat16 conversion (16+ elements) turns the NaN
    # 0x7FC0 into 0xFFFF; so take NaN elements from x itself.
    xc = x.detach().clone(memory_format=torch.contiguous_format)
    ref = reference(xc, theta).clone(memory_format=torch.contiguous_format)
    bits = _SAME_SIZE_INT[x.element_size()]
    return torch.where(torch.isnan(xc), xc.view(bits), ref.view(bits)).view(x.dtype)


# ---------------------------------------------------------------------------------------------
# Views: a list of operations replayed on the tensor and on an index map of its storage


@st.composite
def view_ops(draw, ndim: int, allow_expand: bool) -> list:
    ops = []
    for _ in range(draw(st.integers(0, 3))):
        kinds = ["slice", "transpose", "permute", "select", "unsqueeze"]
        if allow_expand:
            kinds.append("expand")
        kind = draw(st.sampled_from(kinds))
        if kind in ("slice", "select", "transpose", "permute") and ndim == 0:
            kind = "unsqueeze"
        if kind == "slice":
            ops.append(("slice", draw(st.integers(0, ndim - 1)), draw(st.integers(0, 3)),
                        draw(st.integers(1, 3))))
        elif kind == "transpose":
            ops.append(("transpose", draw(st.integers(0, ndim - 1)), draw(st.integers(0, ndim - 1))))
        elif kind == "permute":
            ops.append(("permute", tuple(draw(st.permutations(range(ndim))))))
        elif kind == "select":
            ops.append(("select", draw(st.integers(0, ndim - 1)), draw(st.integers(0, 4))))
            ndim -= 1
        elif kind == "unsqueeze":
            ops.append(("unsqueeze", draw(st.integers(0, ndim))))
            ndim += 1
        else:  # expand a new leading dim of size 1..3 (overlapping memory)
            ops.append(("expand", draw(st.integers(1, 3))))
            ndim += 1
    return ops


def apply_view_ops(t: torch.Tensor, ops: list) -> torch.Tensor:
    """Replays ops (dims taken modulo the current rank, so any op list fits any tensor)."""
    for op in ops:
        kind = op[0]
        if kind in ("slice", "transpose", "permute", "select") and t.dim() == 0:
            continue
        if kind == "slice":
            _, dim, start, step = op
            dim %= t.dim()
            start = min(start, t.shape[dim])
            t = t[(slice(None),) * dim + (slice(start, None, step),)]
        elif kind == "transpose":
            t = t.transpose(op[1] % t.dim(), op[2] % t.dim())
        elif kind == "permute":
            if len(op[1]) == t.dim():
                t = t.permute(op[1])
            else:
                t = t.permute(*reversed(range(t.dim())))
        elif kind == "select":
            dim = op[1] % t.dim()
            if t.shape[dim] > 0:
                t = t.select(dim, op[2] % t.shape[dim])
        elif kind == "unsqueeze":
            t = t.unsqueeze(op[1] % (t.dim() + 1))
        else:  # a new leading dim of size 1..3 over the same memory: overlapping elements
            t = t.unsqueeze(0).expand(op[1], *t.shape)
    return t


@st.composite
def cases(draw, dtypes=ALL_DTYPES, allow_expand=True, shape_strategy=shapes):
    dtype = draw(st.sampled_from(dtypes))
    pool = draw(value_pools(dtype))
    shape = draw(shape_strategy)
    seed = draw(st.integers(0, 2**31 - 1))
    ops = draw(view_ops(len(shape), allow_expand))
    theta = draw(thetas(dtype, pool))
    channels_last = draw(st.booleans()) and len(shape) == 4
    return dtype, pool, shape, seed, ops, theta, channels_last


def _make(case):
    dtype, pool, shape, seed, ops, theta, channels_last = case
    base = _build(pool, shape, dtype, seed)
    if channels_last:
        base = base.contiguous(memory_format=torch.channels_last)
    return base, ops, theta


# ---------------------------------------------------------------------------------------------
# Forward

# Found by hypothesis: bfloat16 NaN in a tensor of 16+ elements (vectorized conversion paths).
BF16_NAN_CASE = (torch.bfloat16, [math.nan], (4, 4), 0, [], 0.0, False)


@PROPERTY_SETTINGS
@example(case=BF16_NAN_CASE)
@given(case=cases())
def test_forward_matches_reference_on_random_views(case):
    base, ops, theta = _make(case)
    x = apply_view_ops(base, ops)
    expected = expected_forward(x, theta)
    for y in (torch_ext.thresholded_relu(x, theta), OPS.thresholded_relu(x, theta)):
        assert_bitwise_equal(y, expected)
        # layout: what empty_like(x) gives (x's strides when x is dense, else contiguous)
        assert y.stride() == torch.empty_like(x).stride()
        assert y.data_ptr() != x.data_ptr() or x.numel() == 0
    assert_bitwise_equal(x, apply_view_ops(base, ops))  # the input is untouched


@PROPERTY_SETTINGS
@given(shape=st.lists(st.integers(2, 4), min_size=2, max_size=5).map(tuple),
       data=st.data(), dtype=st.sampled_from(ALL_DTYPES), step=st.integers(1, 2))
def test_output_layout_follows_a_permuted_or_sliced_input(shape, data, dtype, step):
    order = data.draw(st.permutations(range(len(shape))))
    x = _build(list(range(-3, 4)), shape, dtype, seed=len(shape)).permute(*order)
    x = x[(slice(None, None, step),)]
    y = torch_ext.thresholded_relu(x, 0.5)
    assert_bitwise_equal(y, expected_forward(x, 0.5))
    if step == 1:  # dense: exactly x's strides
        assert y.stride() == x.stride()
    else:  # not dense: what torch.empty_like gives (PyTorch's preserve_format rule)
        assert y.stride() == torch.empty_like(x).stride()


@settings(deadline=None, max_examples=draws(500))
@given(x=st.one_of(st.integers(-2**63, 2**63 - 1), st.integers(2**53 - 4, 2**53 + 4),
                   st.integers(2**62 - 2**12, 2**62 + 2**12), st.integers(2**63 - 2**12, 2**63 - 1)),
       how=st.sampled_from(["at", "up", "down", "plus_half"]))
def test_int64_beyond_float64_precision_against_integer_reference(x, how):
    base = float(abs(x))  # rounded to float64: may be above or below abs(x)
    theta = {"at": base, "up": math.nextafter(base, math.inf), "down": math.nextafter(base, 0.0),
             "plus_half": base + 0.5}[how]
    values = [x, -x if x != -2**63 else 0, abs(x) - 1 if x != -2**63 else 0, 2**63 - 1, 0]
    y = torch_ext.thresholded_relu(torch.tensor(values, dtype=torch.int64), theta)
    assert y.tolist() == [v if v > theta else 0 for v in values], theta  # exact int vs float


@PROPERTY_SETTINGS
@example(case=BF16_NAN_CASE)
@given(case=cases(allow_expand=False))
def test_inplace_writes_exactly_the_view(case):
    base, ops, theta = _make(case)
    original = base.clone()
    view = apply_view_ops(base, ops)
    expected_view = expected_forward(view, theta)
    # Which storage elements the view covers: replay the same ops on an index map.
    index = apply_view_ops(torch.arange(base.numel()).view(base.shape), ops)
    expected_base = original.flatten().clone()
    expected_base[index.flatten()] = expected_view.flatten()

    returned = torch_ext.thresholded_relu_(view, theta)
    assert returned is view
    assert_bitwise_equal(view, expected_view)
    # logical (row-major) order on both sides, whatever base's memory format
    assert_bitwise_equal(base.flatten(), expected_base)

    again = original.clone()
    OPS.thresholded_relu_(apply_view_ops(again, ops), theta)
    assert_bitwise_equal(again, base)


@PROPERTY_SETTINGS
@given(case=cases(dtypes=FLOAT_DTYPES))
def test_out_of_place_equals_in_place_equals_module(case):
    base, ops, theta = _make(case)
    x = apply_view_ops(base, ops)
    y = torch_ext.thresholded_relu(x, theta)
    assert_bitwise_equal(torch_ext.ThresholdedReLU(theta)(x), y)
    if not any(op[0] == "expand" for op in ops):
        z = x.clone()
        torch_ext.ThresholdedReLU(theta, inplace=True)(z)
        assert_bitwise_equal(z, y)


# ---------------------------------------------------------------------------------------------
# Backward


@PROPERTY_SETTINGS
@given(case=cases(dtypes=FLOAT_DTYPES), grad_case=st.integers(0, 2**31 - 1),
       grad_transposed=st.booleans())
def test_backward_matches_mask_of_the_output(case, grad_case, grad_transposed):
    base, ops, theta = _make(case)
    x = apply_view_ops(base, ops)
    dtype = x.dtype
    gen = torch.Generator().manual_seed(grad_case)
    g = (torch.randn(x.shape, generator=gen, dtype=torch.float64) * 3).to(dtype)
    if grad_transposed and g.dim() >= 2:
        g = g.transpose(0, 1).contiguous().transpose(0, 1)  # same values, other strides
    y = torch_ext.thresholded_relu(x, theta)
    # Reference: dx = g where y > theta (or y is NaN), decided in float64; else +0.
    y64 = y.double()
    keep = (y64 > theta) | torch.isnan(y64)
    expected = torch.where(keep, g, torch.zeros_like(g))
    assert_bitwise_equal(OPS.thresholded_relu_backward(g, y, theta), expected)

    # Through autograd, from the leaf
    leaf = x.detach().clone().requires_grad_()
    out = torch_ext.thresholded_relu(leaf, theta)
    (grad,) = torch.autograd.grad(out, leaf, g)
    keep_x = (leaf.detach().double() > theta) | torch.isnan(leaf.detach().double())
    assert_bitwise_equal(grad, torch.where(keep_x, g, torch.zeros_like(g)))


@settings(deadline=None, max_examples=draws(60))
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple),
       theta=st.one_of(st.just(0.0), st.floats(0.0, 3.0)),
       seed=st.integers(0, 2**31 - 1), transpose=st.booleans(), inplace=st.booleans())
def test_gradcheck_random_float64_cases(shape, theta, seed, transpose, inplace):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=gen, dtype=torch.float64) * 2 + theta
    # Keep every element 1e-3 away from theta, where the function is not differentiable.
    x = torch.where((x - theta).abs() < 1e-3, x + 0.01, x)
    if transpose and x.dim() >= 2:
        x = x.transpose(0, -1)
    x.requires_grad_()

    def fn(t):
        if inplace:
            return torch_ext.thresholded_relu_(t * 1.0, theta)
        return torch_ext.thresholded_relu(t, theta)

    assert gradcheck(fn, (x,), check_forward_ad=True, check_backward_ad=True,
                     check_batched_grad=False)


# ---------------------------------------------------------------------------------------------
# The threshold rule itself, one value at a time, on the dtype grid


@settings(deadline=None, max_examples=draws(500))
@given(dtype=st.sampled_from(FLOAT_DTYPES), data=st.data())
def test_single_value_at_and_around_theta(dtype, data):
    """For x a value of dtype and theta anywhere near it, the answer is x > theta as reals."""
    pool = data.draw(value_pools(dtype))
    theta = data.draw(thetas(dtype, pool))
    x = torch.tensor(pool, dtype=torch.float64).to(dtype)
    y = torch_ext.thresholded_relu(x, theta)
    for xi, yi in zip(x.tolist(), y.tolist()):
        if math.isnan(xi):
            assert math.isnan(yi)
        elif xi > theta:  # Python floats: exact comparison of two doubles
            assert yi == xi
        else:
            assert yi == 0.0 and math.copysign(1.0, yi) == 1.0, (xi, theta, yi)


@settings(deadline=None, max_examples=draws(500))
@given(dtype=st.sampled_from([d for d in ALL_DTYPES if not d.is_floating_point]), data=st.data())
def test_single_integer_value_at_and_around_theta(dtype, data):
    pool = data.draw(value_pools(dtype))
    theta = data.draw(thetas(dtype, pool))
    y = torch_ext.thresholded_relu(torch.tensor(pool, dtype=dtype), theta)
    for xi, yi in zip(pool, y.tolist()):
        # exact: a Python int against a float compares as real numbers
        assert yi == (xi if xi > theta else 0), (xi, theta, yi)
