"""Inductor lowers the operators: compiled graphs and AOTInductor packages that call
``torch.ops.torch_ext.*`` fuse the activation into generated code (torch_ext/_inductor.py),
exactly, while eager and ``torch.export`` keep the C++ operator."""

import os
import re
import subprocess
import sys
import zipfile

import pytest
import torch
from torch._inductor.utils import run_and_get_code

import torch_ext
from conftest import FLOAT_DTYPES, INT_DTYPES, assert_bitwise_equal, reference

OPS = torch.ops.torch_ext
# theta rounding down and up in every dtype, exact (0.5), and above float16's range.
THETAS = (0.99999999, 1.00000001, 0.5, 65520.0)


@pytest.fixture(autouse=True)
def fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _values(dtype):
    """Random values, values at each theta, specials, and NaNs with payloads and signs."""
    torch.manual_seed(0)
    special = torch.tensor([1.0, 0.5, 65504.0, -float("inf"), float("inf"), -0.0, 0.0, 1e-40],
                           dtype=torch.float64)
    x = torch.cat([torch.randn(1000, dtype=torch.float64) * 3, special]).to(dtype)
    # a positive NaN with a payload, and the negative quiet NaN (as signed integers)
    bits = {torch.float16: [0x7E01, -0x200], torch.bfloat16: [0x7FC1, -0x40],
            torch.float32: [0x7FC00001, -0x400000], torch.float64: [0x7FF8000000000001, -2**51]}
    int_type = {2: torch.int16, 4: torch.int32, 8: torch.int64}[dtype.itemsize]
    nans = torch.tensor(bits[dtype], dtype=int_type).view(dtype)
    return torch.cat([x, nans])


def _calls_the_op(code: str) -> bool:
    """Whether generated code calls a torch_ext operator (Python wrapper: torch.ops.torch_ext.*;
    AOTInductor: "torch_ext::*" for its proxy executor). Paths may contain "torch_ext"."""
    return re.search(r"torch_ext(\.|::)thresholded_relu", code) is not None


def _run_in_fresh_process(script: str) -> None:
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr


def test_registered_when_inductor_was_imported_first():
    # The table merge that select_decomp_table caches may exist already: it must be updated.
    _run_in_fresh_process(
        "import torch\n"
        "from torch._inductor.decomposition import select_decomp_table\n"
        "select_decomp_table()\n"
        "import torch_ext\n"
        "ops = torch.ops.torch_ext\n"
        "for op in (ops.thresholded_relu, ops.thresholded_relu_backward):\n"
        "    assert op.default in select_decomp_table(), op\n"
    )


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_compiled_direct_calls_fuse_and_match_eager_bits(dtype):
    def fn(x, theta):
        h = x * 1
        OPS.thresholded_relu_(h, theta)
        return OPS.thresholded_relu(x, theta) + 0, h

    compiled = torch.compile(fn, fullgraph=True)
    x = _values(dtype)
    with torch._dynamo.config.patch(recompile_limit=len(THETAS)):
        for theta in THETAS:
            (out, out_inplace), (code, *_) = run_and_get_code(compiled, x, theta)
            assert not _calls_the_op(code), code
            expected = reference(x, theta)
            if dtype == torch.bfloat16:
                # The neighbours (`x * 1`, `+ 0`) compute in float32, which canonicalises
                # bfloat16 NaN payloads, as eager's do: there NaN must stay NaN, payload aside
                # (test_conformance checks the op's own payloads on every route).
                nan = torch.isnan(expected)
                assert torch.equal(torch.isnan(out), nan) and torch.equal(torch.isnan(out_inplace), nan)
                out, out_inplace = (t.masked_fill(nan, 0) for t in (out, out_inplace))
                expected = expected.masked_fill(nan, 0)
            assert_bitwise_equal(out, expected)
            assert_bitwise_equal(out_inplace, expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_compiled_backward_fuses_and_matches_eager_bits(dtype):
    def fn(x):
        return OPS.thresholded_relu(x * 2, 0.99999999) * 3

    x = _values(dtype).requires_grad_()
    grad = torch.randn(x.shape, dtype=torch.float64).to(dtype)
    grad[-2:] = float("nan")  # NaN gradients pass where the result is kept
    fn(x).backward(grad)
    eager_grad = x.grad
    x.grad = None

    def forward_backward():
        torch.compile(fn, fullgraph=True)(x).backward(grad)

    _, codes = run_and_get_code(forward_backward)
    assert len(codes) == 2 and not any(_calls_the_op(c) for c in codes), codes
    assert_bitwise_equal(x.grad, eager_grad)
    # and right: d/dx 3 * act(2x) = 6 where 2x > theta (or NaN), against float64 math
    h = x.detach().to(torch.float64) * 2
    kept = (h > 0.99999999) | h.isnan()
    assert_bitwise_equal(x.grad, torch.where(kept, grad.to(torch.float64) * 6, 0).to(dtype))


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_compiled_integer_inputs_fuse_exactly(dtype):
    info = torch.iinfo(dtype)
    values = [info.min, info.min + 1, -3, 0, 1, 2, 3, 126, 127, 128, 255, 2**31 - 1, 2**53 + 1,
              info.max - 1, info.max]
    x = torch.tensor([v for v in values if info.min <= v <= info.max], dtype=torch.int64)
    x = x.to(dtype)
    compiled = torch.compile(lambda t, theta: OPS.thresholded_relu(t, theta) + 0, dynamic=False)
    # theta between integers, at one, at and beyond each dtype's maximum (2**63 - 1024 is the
    # largest float64 below int64's range), and infinite
    thetas = [0.5, 2.0, 2.5, 127.0, 255.5, 2.0**31, 2.0**53, 2.0**63 - 1024, 2.0**63, 1e300,
              float("inf")]
    with torch._dynamo.config.patch(recompile_limit=len(thetas)):
        for theta in thetas:
            out, (code,) = run_and_get_code(compiled, x, theta)
            assert not _calls_the_op(code), code
            # exact reference: Python integers against theta as a real number
            expected = [v if v > theta else 0 for v in x.tolist()]
            assert out.dtype == dtype and out.tolist() == expected, theta


class _Chain(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.act = torch_ext.ThresholdedReLU(0.99999999)

    def forward(self, x):
        return self.act(x * 2) + 0.25


def test_export_keeps_the_op_and_aoti_package_fuses_it(tmp_path):
    model = _Chain()
    x = _values(torch.float32)
    with torch.no_grad():
        exported = torch.export.export(model, (x,))
        targets = {str(n.target) for n in exported.graph.nodes if n.op == "call_function"}
        assert "torch_ext.thresholded_relu.default" in targets
        path = torch._inductor.aoti_compile_and_package(
            exported, package_path=os.fspath(tmp_path / "model.pt2"),
            inductor_configs={"aot_inductor.precompile_headers": False})
        with zipfile.ZipFile(path) as package:
            sources = [package.read(n).decode(errors="replace") for n in package.namelist()
                       if n.endswith((".cpp", ".json"))]
        assert sources and not any(_calls_the_op(s) for s in sources)
        assert_bitwise_equal(torch._inductor.aoti_load_package(path)(x), model(x))
