"""Conformance matrix: every route a model takes to the operator gives eager's result, bit for
bit (NaN payloads and signs, signed zeros), for every supported dtype, forward and (floating
point) backward.

One input per dtype holds random values and every special value of the dtype (NaN with
payloads and both signs, a signalling NaN, +/-0, +/-inf, subnormals, max/min, theta rounded to
the dtype and the values one step either side). Eager itself is checked against an
independent float64 reference; every route is then compared with eager. Costly routes build
one program for all dtypes (and, where they can, all call styles) at once: one compilation per
torch.compile setting, one export for torch.export/AOTInductor, one per ONNX exporter.

PyTorch's own operator checks (`torch.library.opcheck`) run on the same inputs. Where a route
cannot match by definition, the test asserts the documented difference (README,
"Routes that differ from eager"): ONNX's ThresholdedRelu maps NaN to 0 (float16/float32
graphs), and onnxruntime has no CPU kernel for the bfloat16 and int16 graphs, which are then
checked in onnx's reference evaluator instead.
"""

from __future__ import annotations

import functools
import io
import math
import os
import tempfile
import warnings

import pytest
import torch
import torch.distributed as dist

import torch_ext
from conftest import ALL_DTYPES, FLOAT_DTYPES, assert_bitwise_equal, random_values, reference

OPS = torch.ops.torch_ext
THETA = 0.3  # rounds up in float32 and bfloat16, down in float16; floor 0 for integers

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning",
                                        "ignore::DeprecationWarning")


# ---- inputs ----

# The signed integer dtype of each floating dtype's size, to write and read exact bit patterns.
BITS_DTYPE = {torch.float16: torch.int16, torch.bfloat16: torch.int16,
              torch.float32: torch.int32, torch.float64: torch.int64}


def _float_specials(dtype: torch.dtype) -> torch.Tensor:
    info = torch.finfo(dtype)
    mantissa = round(-math.log2(info.eps))
    sign = 1 << (info.bits - 1)
    exponent = sign - (1 << mantissa)  # all exponent bits set
    quiet = 1 << (mantissa - 1)
    patterns = [
        exponent | quiet, exponent | quiet | 1, sign | exponent | quiet,  # NaN, payloads, signs
        sign | exponent | quiet | (quiet >> 1), exponent | 1,  # ... and a signalling NaN
        0, sign, exponent, sign | exponent,  # +0, -0, +inf, -inf
        1, quiet, sign | 1,  # subnormals
    ]
    bits_dtype = BITS_DTYPE[dtype]
    signed = [p - (1 << info.bits) if p & sign else p for p in patterns]
    from_bits = torch.tensor(signed, dtype=bits_dtype).view(dtype)
    theta_bits = torch.tensor(THETA, dtype=torch.float64).to(dtype).view(bits_dtype)
    around_theta = (theta_bits + torch.tensor([-1, 0, 1], dtype=bits_dtype)).view(dtype)
    extremes = torch.tensor([info.max, info.min, info.tiny, 1.0, -1.0], dtype=dtype)
    return torch.cat([from_bits, around_theta, extremes])


def _int_specials(dtype: torch.dtype) -> torch.Tensor:
    info = torch.iinfo(dtype)
    floor = math.floor(THETA)
    values = [info.min, info.max, 0, 1, -1, floor - 1, floor, floor + 1]
    return torch.tensor([min(max(v, info.min), info.max) for v in values], dtype=dtype)


def conformance_input(dtype: torch.dtype) -> torch.Tensor:
    """Specials and random values of ``dtype``, shaped (4, n)."""
    specials = _float_specials(dtype) if dtype.is_floating_point else _int_specials(dtype)
    count = 64 + (-len(specials)) % 4
    rand = random_values((count,), dtype, scale=1.0, generator=torch.Generator().manual_seed(0))
    return torch.cat([specials, rand]).view(4, -1)


INPUTS = {dtype: conformance_input(dtype) for dtype in ALL_DTYPES}
# Gradients hold the specials too, meeting other values of x (flipped).
GRADS = {dtype: INPUTS[dtype].flip(0, 1) for dtype in FLOAT_DTYPES}


@functools.cache
def eager_results() -> dict[torch.dtype, torch.Tensor]:
    return {dtype: torch_ext.thresholded_relu(x, THETA) for dtype, x in INPUTS.items()}


@functools.cache
def eager_grads() -> dict[torch.dtype, torch.Tensor]:
    grads = {}
    for dtype in FLOAT_DTYPES:
        x = INPUTS[dtype].clone().requires_grad_()
        (grads[dtype],) = torch.autograd.grad(torch_ext.thresholded_relu(x, THETA), x, GRADS[dtype])
    return grads


def test_eager_matches_the_float64_reference():
    for dtype, x in INPUTS.items():
        # Integers compare with floor(theta) in their own dtype (float64 cannot hold int64 max).
        expected = (reference(x, THETA) if dtype.is_floating_point
                    else torch.where(x > math.floor(THETA), x, 0))
        assert_bitwise_equal(eager_results()[dtype], expected)
    for dtype in FLOAT_DTYPES:
        x, g = INPUTS[dtype], GRADS[dtype]
        # dy where x > theta or x is NaN, else +0; selected on the bits, which it must keep.
        keep = (x.to(torch.float64) > THETA) | torch.isnan(x)
        bits = g.view(BITS_DTYPE[dtype])
        assert_bitwise_equal(eager_grads()[dtype], torch.where(keep, bits, 0).view(dtype))


# ---- call styles: one tensor in, one out ----

def _on_a_copy(inplace):
    """An in-place call on an intermediate tensor, as a model makes it."""
    def run(x):
        h = x.clone()
        inplace(h)
        return h
    return run


CALLS = {
    "functional": lambda x: torch_ext.thresholded_relu(x, THETA),
    "module": torch_ext.ThresholdedReLU(THETA),
    "inplace": _on_a_copy(lambda h: torch_ext.thresholded_relu_(h, THETA)),
    "inplace module": _on_a_copy(torch_ext.ThresholdedReLU(THETA, inplace=True)),
    "torch.ops": lambda x: OPS.thresholded_relu(x, THETA),
    "torch.ops inplace": _on_a_copy(lambda h: OPS.thresholded_relu_(h, THETA)),
}


class AllCalls(torch.nn.Module):
    """Each (dtype, call style) of ``keys`` on its own input (so that no gradient is a sum over
    call styles): one program to compile or export. Inputs and outputs in the order of keys."""

    def __init__(self, keys):
        super().__init__()
        self.keys = keys

    def forward(self, *xs):
        return [CALLS[call](x) for (_, call), x in zip(self.keys, xs)]


KEYS = [(dtype, call) for dtype in ALL_DTYPES for call in CALLS]


def _split(outputs) -> dict[str, dict[torch.dtype, torch.Tensor]]:
    by_call = {call: {} for call in CALLS}
    for (dtype, call), y in zip(KEYS, outputs):
        by_call[call][dtype] = y
    return by_call


def _inputs(requires_grad: bool, dtypes=ALL_DTYPES) -> list[torch.Tensor]:
    return [INPUTS[dtype].clone().requires_grad_(requires_grad and dtype.is_floating_point)
            for dtype in dtypes]


def _all_inputs(requires_grad: bool) -> list[torch.Tensor]:
    """The inputs of AllCalls."""
    return _inputs(requires_grad, [dtype for dtype, _ in KEYS])


def _grads_of(xs, outputs) -> list[torch.Tensor | None]:
    """One backward through ``outputs``: the gradient of each x (None where not required)."""
    pairs = [(x, y) for x, y in zip(xs, outputs) if x.requires_grad]
    if not pairs:
        return [None] * len(xs)
    grads = iter(torch.autograd.grad([y for _, y in pairs], [x for x, _ in pairs],
                                     [GRADS[x.dtype] for x, _ in pairs]))
    return [next(grads) if x.requires_grad else None for x in xs]


# ---- routes: each gives {dtype: result} for the forward, and {dtype: grad} if differentiable ----

def _eager(fn):
    """Forward and backward of a route that runs ``fn`` tensor by tensor."""
    def run(train: bool):
        xs = _inputs(train)
        ys = [fn(x) for x in xs]
        grads = {x.dtype: g for x, g in zip(xs, _grads_of(xs, ys)) if g is not None} if train else None
        return dict(zip(INPUTS, ys)), grads
    return run


def _vmap(f):
    return lambda x: torch.func.vmap(f)(x)


@functools.cache
def _dtensor_mesh():
    # A 1-rank gloo group in this process (the 2-rank checks: test_distributed.py).
    store = dist.FileStore(tempfile.mktemp(prefix="torch_ext_conformance_"), 1)
    dist.init_process_group("gloo", store=store, rank=0, world_size=1)
    from torch.distributed.device_mesh import init_device_mesh
    return init_device_mesh("cpu", (1,))


def _dtensor(f):
    from torch.distributed.tensor import DTensor, Replicate, Shard

    def run(x):
        mesh = _dtensor_mesh()
        # from_local and redistribute are differentiable: gradients reach the plain x.
        d = DTensor.from_local(x, mesh, [Replicate()]).redistribute(mesh, [Shard(0)])
        y = f(d)
        assert isinstance(y, DTensor) and y.placements == (Shard(0),), y
        return y.full_tensor()
    return run


@pytest.fixture(scope="module", autouse=True)
def _close_process_group():
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


@functools.cache
def _compiled(dynamic: bool):
    """Outputs and gradients of AllCalls compiled once per setting, sampled to keep compile
    time down: the default setting compiles for inference (every dtype), dynamic=True for
    training (the floating-point dtypes, forward and backward)."""
    torch._dynamo.reset()  # a fresh compilation per setting, whatever ran before
    keys = [(d, c) for d, c in KEYS if d.is_floating_point or not dynamic]
    model = torch.compile(AllCalls(keys), fullgraph=True, dynamic=dynamic)
    xs = _inputs(dynamic, [dtype for dtype, _ in keys])
    outputs = model(*xs)
    results, grads = {call: {} for call in CALLS}, {call: {} for call in CALLS}
    for (dtype, call), y, g in zip(keys, outputs, _grads_of(xs, outputs)):
        results[call][dtype] = y
        if g is not None:
            grads[call][dtype] = g
    return results, grads


def _compile(call, dynamic):
    def run(train: bool):
        results, grads = _compiled(dynamic)
        return results[call], (grads[call] if train else None)
    return run


@functools.cache
def _exported():
    exported = torch.export.export(AllCalls(KEYS), tuple(_all_inputs(False)))
    return exported.run_decompositions()


def _export(call):
    def run(train: bool):
        with torch.no_grad():
            outputs = _exported().module()(*_all_inputs(False))
        return _split(outputs)[call], None
    return run


@functools.cache
def _aoti_outputs():
    package = torch._inductor.aoti_compile_and_package(
        _exported(), package_path=os.path.join(tempfile.mkdtemp(), "conformance.pt2"))
    runner = torch._inductor.aoti_load_package(package)
    return _split(runner(*_all_inputs(False)))


def _aoti(call):
    return lambda train: (_aoti_outputs()[call], None)


@functools.cache
def _torchscript(kind: str):
    if kind == "trace":
        return torch.jit.trace(CALLS["functional"], INPUTS[torch.float32])
    return torch.jit.script(torch_ext.ThresholdedReLU(THETA, inplace=kind == "script inplace"))


def _lazy(make, *args):
    return lambda x: make(*args)(x)


# ---- ONNX: one export per exporter, split per dtype into graphs that onnxruntime runs ----

ONNX_CALLS = ("module", "inplace module", "functional", "inplace", "torch.ops")
# Documented differences (README, "Routes that differ from eager"):
ONNX_NAN_TO_ZERO = (torch.float16, torch.float32)  # exported as ThresholdedRelu
# onnxruntime's CPU provider cannot run these graphs (no bfloat16 LessOrEqual or bfloat16
# inputs, no int16 Where): they run in onnx's reference evaluator instead.
ORT_HAS_NO_KERNEL = (torch.bfloat16, torch.int16)


@functools.cache
def _onnx_outputs(dynamo: bool):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from onnx.reference import ReferenceEvaluator

    keys = [(d, c) for d, c in KEYS if c in ONNX_CALLS]
    model = AllCalls(keys).eval()
    xs = tuple(_inputs(False, [d for d, _ in keys]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            proto = torch.onnx.export(model, xs, dynamo=True, opset_version=20,
                                      custom_translation_table=torch_ext.onnx_translation_table()
                                      ).model_proto
        else:
            buf = io.BytesIO()
            torch.onnx.export(model, xs, buf, dynamo=False, opset_version=20)
            proto = onnx.load_from_string(buf.getvalue())
    names_in = [i.name for i in proto.graph.input]
    names_out = [o.name for o in proto.graph.output]
    results = {call: {} for call in ONNX_CALLS}
    for (dtype, call), x, name_in, name_out in zip(keys, xs, names_in, names_out):
        graph = onnx.utils.Extractor(proto).extract_model([name_in], [name_out])
        feed = {name_in: _to_numpy(x)}
        try:
            session = ort.InferenceSession(graph.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
            (y,) = session.run(None, feed)
            in_reference_evaluator = False
        except Exception as e:  # only where documented, and then in onnx's own evaluator
            assert dtype in ORT_HAS_NO_KERNEL, (dtype, e)
            (y,) = ReferenceEvaluator(graph).run(None, feed)
            in_reference_evaluator = True
        results[call][dtype] = (_from_numpy(y, dtype), in_reference_evaluator)
    return results


def _to_numpy(x):
    if x.dtype == torch.bfloat16:  # numpy has no bfloat16: onnx reads ml_dtypes' one
        import ml_dtypes
        return x.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return x.numpy()


def _from_numpy(y, dtype):
    if dtype == torch.bfloat16:
        return torch.from_numpy(y.view("int16")).view(torch.bfloat16)
    return torch.from_numpy(y)


def _canonical_nan(t):
    return torch.where(torch.isnan(t), torch.tensor(math.nan, dtype=t.dtype), t) if t.is_floating_point() else t


def _onnx(call, dynamo):
    def run(train: bool):
        compared = {}
        for dtype, (y, in_reference_evaluator) in _onnx_outputs(dynamo)[call].items():
            expected = eager_results()[dtype]
            if dtype in ONNX_NAN_TO_ZERO:
                # ONNX defines ThresholdedRelu as `x if x > alpha else 0`: NaN becomes +0.
                expected = torch.where(torch.isnan(expected), 0, expected)
            if in_reference_evaluator:
                # onnx's evaluator (not a runtime) computes bfloat16 in float32, which rewrites
                # NaN payloads (its Expand, the legacy exporter's copy_, multiplies by ones):
                # there NaN must stay NaN, payload aside.
                y, expected = (_canonical_nan(t) for t in (y, expected))
            compared[dtype] = (y, expected)
        return compared, None
    return run


ROUTES = {
    **{f"eager {call}": _eager(fn) for call, fn in CALLS.items()},
    "C++ (torch_ext._C)": _eager(functools.partial(torch_ext._C.thresholded_relu, theta=THETA)),
    "C++ inplace (torch_ext._C)": _eager(
        _on_a_copy(functools.partial(torch_ext._C.thresholded_relu_, theta=THETA))),
    "torchscript script": _eager(_lazy(_torchscript, "script")),
    "torchscript script inplace": _eager(_on_a_copy(_lazy(_torchscript, "script inplace"))),
    "torchscript trace": _eager(_lazy(_torchscript, "trace")),
    **{f"compile {call}{' dynamic' if dynamic else ''}": _compile(call, dynamic)
       for dynamic in (False, True) for call in CALLS},
    **{f"export {call}": _export(call) for call in ("functional", "inplace", "torch.ops")},
    **{f"aoti {call}": _aoti(call) for call in ("functional", "inplace module")},
    **{f"onnx dynamo {call}": _onnx(call, True) for call in ONNX_CALLS},
    **({f"onnx legacy {call}": _onnx(call, False) for call in ONNX_CALLS}
       if hasattr(torch.onnx, "register_custom_op_symbolic") else {}),
    "vmap functional": _eager(_vmap(CALLS["functional"])),
    "vmap inplace": _eager(_vmap(CALLS["inplace"])),
    **{f"dtensor {call}": _eager(_dtensor(CALLS[call]))
       for call in ("functional", "module", "inplace", "torch.ops inplace")},
}
# Exported programs, AOTInductor packages and ONNX graphs are inference-only; compile trains with dynamic.
TRAINING_ROUTES = [name for name in ROUTES if not name.startswith(("export", "aoti", "onnx"))
                   and (not name.startswith("compile") or name.endswith("dynamic"))]


@pytest.mark.parametrize("route", ROUTES)
def test_forward_matches_eager_bit_for_bit(route):
    if route.startswith("dtensor") and not (dist.is_available() and dist.is_gloo_available()):
        pytest.skip("torch.distributed with gloo is not available")
    results, _ = ROUTES[route](False)
    assert set(FLOAT_DTYPES) <= set(results), "every route runs every floating dtype"
    for dtype, result in results.items():
        # ONNX routes give (result, eager with the documented difference applied).
        actual, expected = result if isinstance(result, tuple) else (result, eager_results()[dtype])
        assert_bitwise_equal(actual, expected)


@pytest.mark.parametrize("route", TRAINING_ROUTES)
def test_backward_matches_eager_bit_for_bit(route):
    if route.startswith("dtensor") and not (dist.is_available() and dist.is_gloo_available()):
        pytest.skip("torch.distributed with gloo is not available")
    results, grads = ROUTES[route](True)
    for dtype, result in results.items():
        assert_bitwise_equal(result, eager_results()[dtype])
    for dtype in FLOAT_DTYPES:
        assert_bitwise_equal(grads[dtype], eager_grads()[dtype])


# ---- PyTorch's own operator checks (schema, fake tensors, autograd registration, AOT
# dispatch) on the same inputs ----

def _without_nan(t):
    # opcheck compares with assert_close, for which NaN != NaN; the matrix above covers NaN.
    return torch.where(torch.isnan(t), 0, t) if t.is_floating_point() else t


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_opcheck_on_the_conformance_inputs(dtype):
    x = _without_nan(INPUTS[dtype])
    torch.library.opcheck(OPS.thresholded_relu.default, (x, THETA))
    torch.library.opcheck(OPS.thresholded_relu_.default, (x.clone(), THETA))
    if dtype.is_floating_point:
        torch.library.opcheck(OPS.thresholded_relu.default, (x.clone().requires_grad_(), THETA))
        torch.library.opcheck(OPS.thresholded_relu_backward.default,
                              (_without_nan(GRADS[dtype]), OPS.thresholded_relu(x, THETA), THETA))
