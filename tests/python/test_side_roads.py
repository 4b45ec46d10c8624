"""Routes off the main road where a custom activation most easily goes silently wrong:
in-place writes through views of every kind, torch.func transforms under torch.compile,
regional compilation, nested tensors, and refusals that must not depend on the route.

The reference on every graph is PyTorch's own ``F.threshold`` / ``F.threshold_`` (float64
inputs, where its rounding of theta agrees with the exact comparison), bit for bit; where
PyTorch refuses a call, the same error is expected.
"""

import pytest
import torch
import torch.nn.functional as F
from torch._subclasses.fake_tensor import FakeTensorMode

import torch_ext
from conftest import assert_bitwise_equal

OPS = torch.ops.torch_ext
THETA = 0.3
F64 = torch.float64


def _ops_inplace(v, theta):
    OPS.thresholded_relu_(v, theta)
    return v


# Every in-place entry point, each paired below with the native in-place op.
INPLACE_ENTRY_POINTS = {
    "functional": lambda v: torch_ext.thresholded_relu_(v, THETA),
    "functional inplace=True": lambda v: torch_ext.thresholded_relu(v, THETA, inplace=True),
    "module": lambda v: torch_ext.ThresholdedReLU(THETA, inplace=True)(v),
    "torch.ops": lambda v: _ops_inplace(v, THETA),
}
NATIVE_INPLACE = lambda v: F.threshold_(v, THETA, 0.0)  # noqa: E731

# Views of every kind of a (4, 5) tensor: name -> view of `base`.
VIEWS = {
    "slice": lambda b: b[1:3],
    "step slice": lambda b: b[:, ::2],
    "select": lambda b: b[2],
    "t": lambda b: b.t(),
    "view": lambda b: b.view(20),
    "diagonal": lambda b: b.diagonal(),
    "narrow": lambda b: b.narrow(1, 1, 3),
    "unsqueeze": lambda b: b.unsqueeze(0),
    "as_strided": lambda b: b.as_strided((2, 3), (5, 2), 1),
    "view of a view": lambda b: b.t()[1:4].diagonal(),
    "view of a view of a view": lambda b: b[1:].view(15)[3:11].view(2, 4),
}


def _inputs():
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(4, 5, generator=g, dtype=F64) * 2 - 0.5).requires_grad_()
    w_out = torch.rand(4, 5, generator=g, dtype=F64) * 10 + 1
    w_base = torch.rand(4, 5, generator=g, dtype=F64) + 0.5
    return x, w_out, w_base


def _run_inplace_on_view(call, make_view):
    """In place on a view of a non-leaf; gradients through the returned view and the base."""
    x, w_out, w_base = _inputs()
    base = x * 1.0
    out = call(make_view(base))
    loss = (out * w_out.view(-1)[: out.numel()].view(out.shape)).sum() + (base * w_base).sum()
    (grad,) = torch.autograd.grad(loss, x)
    return base.detach(), out.detach(), grad


@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
@pytest.mark.parametrize("call", INPLACE_ENTRY_POINTS.values(), ids=INPLACE_ENTRY_POINTS.keys())
def test_inplace_on_views_matches_native(call, view):
    expected = _run_inplace_on_view(NATIVE_INPLACE, view)
    for actual, wanted in zip(_run_inplace_on_view(call, view), expected):
        assert_bitwise_equal(actual, wanted)


@pytest.mark.parametrize("call", INPLACE_ENTRY_POINTS.values(), ids=INPLACE_ENTRY_POINTS.keys())
def test_inplace_on_view_grad_fn_is_rebased_as_native(call):
    x, _, _ = _inputs()
    ours = call((x * 1.0)[1:])
    native = NATIVE_INPLACE((x * 1.0)[1:])
    assert type(ours.grad_fn).__name__ == type(native.grad_fn).__name__
    assert type(ours._base.grad_fn).__name__ == type(native._base.grad_fn).__name__ == "CopySlices"


def test_linear_view_inplace_activation_trains_as_out_of_place():
    """The usual model pattern: Linear -> .view(...) -> in-place activation -> Linear."""

    def weight_grads(act):
        torch.manual_seed(0)
        first, second = torch.nn.Linear(6, 12, dtype=F64), torch.nn.Linear(12, 3, dtype=F64)
        x = torch.randn(5, 6, dtype=F64)
        h = act(first(x).view(5, 3, 4)).view(5, 12)
        second(h).pow(2).sum().backward()
        return first.weight.grad, first.bias.grad, second.weight.grad

    expected = weight_grads(lambda t: F.threshold_(t, THETA, 0.0))
    for act in (torch_ext.ThresholdedReLU(THETA, inplace=True), torch_ext.ThresholdedReLU(THETA)):
        for actual, wanted in zip(weight_grads(act), expected):
            assert_bitwise_equal(actual, wanted)


def _outcome(fn):
    """The first line of the RuntimeError raised, or the result."""
    try:
        return fn()
    except RuntimeError as e:
        return str(e).split("\n")[0]


# Views that PyTorch refuses (or allows) to write in place under autograd.
GUARDED_VIEWS = {
    "view of a leaf": lambda x: x[1:],
    "view of a leaf made under no_grad": lambda x: _no_grad(lambda: x[1:]),
    "view of a non-leaf made under no_grad": lambda x: _no_grad(lambda: (x * 1.0)[1:]),
    "output of unbind (multi-output view)": lambda x: (x * 1.0).unbind(0)[1],
    "output of split (multi-output view)": lambda x: (x * 1.0).split(2)[0],
}


def _no_grad(fn):
    with torch.no_grad():
        return fn()


@pytest.mark.parametrize("view", GUARDED_VIEWS.values(), ids=GUARDED_VIEWS.keys())
@pytest.mark.parametrize("call", INPLACE_ENTRY_POINTS.values(), ids=INPLACE_ENTRY_POINTS.keys())
def test_inplace_on_guarded_views_as_pytorch_does(call, view):
    """The same refusal (and nothing written), or the same result where PyTorch allows it."""
    x, _, _ = _inputs()
    native = _outcome(lambda: NATIVE_INPLACE(view(x)).detach().clone())
    x, _, _ = _inputs()
    target = view(x)
    before = target.detach().clone()
    ours = _outcome(lambda: call(target).detach().clone())
    if isinstance(native, str):
        assert ours == native
        assert_bitwise_equal(target.detach(), before)
    else:
        assert_bitwise_equal(ours, native)


def test_inplace_on_a_view_of_a_view_under_forward_ad_matches_native():
    import torch.autograd.forward_ad as fwAD

    def run(call):
        x, _, _ = _inputs()
        tangent = torch.linspace(-1, 1, 20, dtype=F64).view(4, 5)
        with fwAD.dual_level():
            base = fwAD.make_dual(x.detach() * 1.0, tangent)
            out = call(base.t()[1:4])
            return fwAD.unpack_dual(out).tangent.clone(), fwAD.unpack_dual(base).tangent.clone()

    for actual, wanted in zip(run(INPLACE_ENTRY_POINTS["functional"]), run(NATIVE_INPLACE)):
        assert_bitwise_equal(actual, wanted)


# ---- torch.func transforms under torch.compile ----

OUT_OF_PLACE_ENTRY_POINTS = {
    "functional": lambda t: torch_ext.thresholded_relu(t, THETA),
    "module": torch_ext.ThresholdedReLU(THETA),
    "torch.ops": lambda t: OPS.thresholded_relu(t, THETA),
    "in place on an intermediate": lambda t: torch_ext.thresholded_relu_(t * 1.0, THETA),
}
NATIVE = lambda t: F.threshold(t, THETA, 0.0)  # noqa: E731


def _scalar(act):
    return lambda t: (act(t) * torch.arange(1, t.numel() + 1, dtype=t.dtype).view(t.shape)).sum()


TRANSFORMS = {
    "grad": lambda act: torch.func.grad(_scalar(act)),
    "jacrev": lambda act: torch.func.jacrev(act),
    "jacfwd": lambda act: torch.func.jacfwd(act),
    "jvp": lambda act: lambda t: torch.func.jvp(act, (t,), (torch.ones_like(t),))[1],
    "vmap(grad)": lambda act: torch.func.vmap(torch.func.grad(_scalar(act))),
    "grad(grad)": lambda act: torch.func.grad(lambda t: torch.func.grad(_scalar(act))(t).sum()),
    "hessian": lambda act: torch.func.hessian(_scalar(act)),
    "vjp": lambda act: lambda t: torch.func.vjp(act, t)[1](torch.arange(t.numel(), dtype=t.dtype).view(t.shape))[0],
}


def _transform_input():
    return torch.tensor([[-1.0, 0.2, 0.5, 2.0], [0.31, 0.3, 7.0, -0.0]], dtype=F64)


@pytest.mark.parametrize("transform", TRANSFORMS.values(), ids=TRANSFORMS.keys())
@pytest.mark.parametrize("act", OUT_OF_PLACE_ENTRY_POINTS.values(), ids=OUT_OF_PLACE_ENTRY_POINTS.keys())
def test_func_transforms_under_compile_match_native(act, transform):
    torch._dynamo.reset()
    x = _transform_input()
    expected = transform(NATIVE)(x)
    assert_bitwise_equal(transform(act)(x), expected)  # eager
    compiled = torch.compile(transform(act), backend="aot_eager", fullgraph=True)
    assert_bitwise_equal(compiled(x), expected)


@pytest.mark.parametrize("transform", ["grad", "vmap(grad)", "jacrev"])
@pytest.mark.parametrize("act", ["functional", "module"])
def test_func_transforms_under_inductor_match_native(act, transform):
    torch._dynamo.reset()
    x = _transform_input()
    expected = TRANSFORMS[transform](NATIVE)(x)
    compiled = torch.compile(TRANSFORMS[transform](OUT_OF_PLACE_ENTRY_POINTS[act]), fullgraph=True)
    assert_bitwise_equal(compiled(x), expected)


# ---- regional compilation (torch.compiler.nested_compile_region) ----

REGIONAL_ENTRY_POINTS = {
    **OUT_OF_PLACE_ENTRY_POINTS,
    "module inplace=True": lambda t: torch_ext.ThresholdedReLU(THETA, inplace=True)(t * 1.0),
}


# torch 2.11's Dynamo fails inside a region on the compiled composite (an autograd.Function
# whose forward views the values' bits as integers: "KeyError: example_value"); 2.13 and later
# trace it. Only the operator itself (torch.ops) takes no composite there.
_OLD_DYNAMO = tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2]) < (2, 13)
_REGION_XFAIL = pytest.mark.xfail(
    _OLD_DYNAMO, strict=True, raises=torch._dynamo.exc.InternalTorchDynamoError,
    reason="torch 2.11 Dynamo: dtype view inside an autograd.Function in a nested_compile_region")


@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
@pytest.mark.parametrize("act", [
    pytest.param(act, id=name, marks=[] if name == "torch.ops" else [_REGION_XFAIL])
    for name, act in REGIONAL_ENTRY_POINTS.items()])
def test_regional_compilation_matches_eager(act, dtype, backend):
    torch._dynamo.reset()

    @torch.compiler.nested_compile_region
    def block(t):
        return act(t) * 2

    def model(t):
        return block(block(t) - 0.5)  # the region is reused

    x = torch.linspace(-2, 3, 40, dtype=dtype).requires_grad_()
    y = torch.compile(model, backend=backend, fullgraph=True)(x)
    (g,) = torch.autograd.grad(y.sum(), x)
    x_eager = x.detach().clone().requires_grad_()
    y_eager = model(x_eager)
    (g_eager,) = torch.autograd.grad(y_eager.sum(), x_eager)
    assert_bitwise_equal(y, y_eager)
    assert_bitwise_equal(g, g_eager)


# ---- nested tensors ----

def _jagged(requires_grad=False):
    g = torch.Generator().manual_seed(1)
    parts = [torch.randn(n, dtype=F64, generator=g).requires_grad_(requires_grad) for n in (3, 5, 1)]
    return parts, torch.nested.as_nested_tensor(parts, layout=torch.jagged)


@pytest.mark.parametrize("call", INPLACE_ENTRY_POINTS.values(), ids=INPLACE_ENTRY_POINTS.keys())
def test_inplace_on_jagged_nested_tensor_works_as_relu_does(call):
    _, nt = _jagged()
    expected = F.threshold(nt.values(), THETA, 0.0)
    out = call(nt)
    assert out is nt
    assert_bitwise_equal(nt.values(), expected)


@pytest.mark.parametrize("call", {**INPLACE_ENTRY_POINTS, **OUT_OF_PLACE_ENTRY_POINTS}.values(),
                         ids={**INPLACE_ENTRY_POINTS, **OUT_OF_PLACE_ENTRY_POINTS}.keys())
def test_gradients_through_jagged_nested_tensors(call):
    """dL/dpart = weight where part > theta, else 0 (NestedTensor has no native threshold_)."""
    parts, nt = _jagged(requires_grad=True)
    out = call(nt * 1.0)
    weights = torch.arange(1, out.values().numel() + 1, dtype=F64)
    grads = torch.autograd.grad((out.values() * weights).sum(), parts)
    for part, grad, w in zip(parts, grads, weights.split([p.numel() for p in parts])):
        assert_bitwise_equal(grad, torch.where(part.detach() > THETA, w, torch.zeros_like(w)))


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors is in prototype stage")
@pytest.mark.parametrize("call", INPLACE_ENTRY_POINTS.values(), ids=INPLACE_ENTRY_POINTS.keys())
def test_strided_nested_tensor_is_refused_before_writing(call):
    nt = torch.nested.nested_tensor([torch.randn(3), torch.randn(5)])
    before = [t.clone() for t in nt.unbind()]
    with pytest.raises(NotImplementedError, match="NestedTensor"):
        call(nt)
    for t, b in zip(nt.unbind(), before):
        assert_bitwise_equal(t, b)


# ---- refusals: the same error whatever the route, the kind of tensor, or the order ----

def _fake(make):
    mode = FakeTensorMode()
    with mode:
        return make()


TENSOR_KINDS = {
    "cpu": lambda make: make("cpu"),
    "meta": lambda make: make("meta"),
    "fake": lambda make: _fake(lambda: make("cpu")),
}

# (description, tensor maker, theta): calls with one or more bad arguments.
BAD_CALLS = {
    "negative theta": (lambda d: torch.ones(3, device=d), -1.0),
    "NaN theta": (lambda d: torch.ones(3, device=d), float("nan")),
    "bool x": (lambda d: torch.ones(3, dtype=torch.bool, device=d), 0.5),
    "complex x": (lambda d: torch.ones(3, dtype=torch.complex64, device=d), 0.5),
    "bool x and negative theta": (lambda d: torch.ones(3, dtype=torch.bool, device=d), -1.0),
    "overlapping x": (lambda d: torch.ones(1, device=d).expand(3), 0.5),
    "overlapping x and negative theta": (lambda d: torch.ones(1, device=d).expand(3), -1.0),
    "overlapping bool x": (lambda d: torch.ones(1, dtype=torch.bool, device=d).expand(3), 0.5),
}

ALL_ENTRY_POINTS = {
    "functional": lambda x, t: torch_ext.thresholded_relu(x, t),
    "functional_": lambda x, t: torch_ext.thresholded_relu_(x, t),
    "module": lambda x, t: torch_ext.ThresholdedReLU(t)(x),
    "module inplace=True": lambda x, t: torch_ext.ThresholdedReLU(t, inplace=True)(x),
    "torch.ops": lambda x, t: OPS.thresholded_relu(x, t),
    "torch.ops in place": lambda x, t: OPS.thresholded_relu_(x, t),
}


def _exception(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type and message are what is compared
        return type(e), str(e)
    return None, ""


def _expected_exception(bad: str, entry: str):
    """Independent of the route: theta first, then the dtype, then (in place) overlap."""
    if "theta" in bad:
        return ValueError
    if "bool" in bad or "complex" in bad:
        return TypeError
    if "overlapping" in bad and ("_" in entry or "place" in entry):
        return RuntimeError
    return None  # out of place, an overlapping input is fine


@pytest.mark.parametrize("bad", BAD_CALLS.keys())
@pytest.mark.parametrize("entry", ALL_ENTRY_POINTS.keys())
def test_refusals_are_the_same_for_real_meta_and_fake_tensors(entry, bad):
    make, theta = BAD_CALLS[bad]
    outcomes = {}
    for kind, build in TENSOR_KINDS.items():
        x = build(make)
        outcomes[kind] = _exception(lambda: ALL_ENTRY_POINTS[entry](x, theta))
    for kind, (error_type, message) in outcomes.items():
        assert error_type is _expected_exception(bad, entry), (kind, message)
    assert len({message for _, message in outcomes.values()}) == 1, outcomes


@pytest.mark.parametrize("call", INPLACE_ENTRY_POINTS.values(), ids=INPLACE_ENTRY_POINTS.keys())
def test_inplace_on_inference_tensor_outside_inference_mode_is_refused_before_writing(call):
    with torch.inference_mode():
        x = torch.tensor([0.1, 2.0, -1.0])
    with pytest.raises(RuntimeError, match="inference tensor outside InferenceMode"):
        call(x)
    assert x.tolist() == pytest.approx([0.1, 2.0, -1.0])
    with torch.inference_mode():  # inside inference_mode it is allowed, as in PyTorch
        call(x)
    assert x.tolist() == [0.0, 2.0, 0.0]
