"""PyTorch 2 paths: torch.compile (with fusion), torch.export, opcheck, torch.func, autocast,
TorchScript."""

import io
import warnings

import pytest
import torch
import torch._dynamo.testing
from torch._inductor.utils import run_and_get_code

import torch_ext
from conftest import assert_bitwise_equal, reference

OPS = torch.ops.torch_ext


@pytest.fixture(autouse=True)
def fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _mlp(theta=0.2, inplace=False):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(16, 32), torch_ext.ThresholdedReLU(theta, inplace),
                               torch.nn.Linear(32, 4))


# ---- torch.compile ----

@pytest.mark.parametrize("inplace", [False, True])
def test_compiled_module_one_graph_and_same_forward_backward(inplace):
    model = _mlp(inplace=inplace)
    x = torch.randn(8, 16)
    explanation = torch._dynamo.explain(model)(x)
    assert explanation.graph_count == 1 and explanation.graph_break_count == 0
    compiled = torch.compile(model, fullgraph=True)
    eager_out = model(x)
    eager_out.sum().backward()
    eager_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    out = compiled(x)
    out.sum().backward()
    torch.testing.assert_close(out, eager_out)
    for p, g in zip(model.parameters(), eager_grads):
        torch.testing.assert_close(p.grad, g)


@pytest.mark.parametrize("dynamic", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16, torch.float64])
def test_compiled_functional_is_exact(dtype, dynamic):
    # dynamic=True makes theta a symbolic float, which reaches the kernel as an argument.
    fn = torch.compile(lambda x, theta: torch_ext.thresholded_relu(x, theta), fullgraph=True,
                       dynamic=dynamic)
    x = torch.randn(4097, dtype=torch.float64).mul(3).to(dtype)
    special = torch.tensor([1.0, float("nan"), -float("inf"), float("inf"), -0.0, 65504.0],
                           dtype=dtype)
    # Without dynamic, each theta (and each shape) is a compilation of its own.
    with torch._dynamo.config.patch(recompile_limit=32):
        for t in (x, special):
            # theta rounding up (0.99999999) and down (1.00000001) in every dtype, exact in
            # every dtype (0.5, 0.0), beyond float16's range (65520.0) and float32's (1e300).
            for theta in (0.99999999, 1.00000001, 0.5, 0.0, 65520.0, 1e300, float("inf")):
                # Bit for bit: values, signs of zero and NaN payloads.
                assert_bitwise_equal(fn(t, theta), reference(t, theta))


def test_compiled_integer_input_uses_the_operator():
    fn = torch.compile(lambda x: torch_ext.thresholded_relu(x, 0.5), fullgraph=True)
    x = torch.tensor([0, 1, 2, -3], dtype=torch.int32)
    assert fn(x).tolist() == [0, 1, 2, 0]


@pytest.mark.parametrize("theta", [0.99999999, 1.0, 1.00000001])
def test_compiled_inplace_functional(theta):
    def fn(x):
        h = x * 2
        torch_ext.thresholded_relu_(h, theta)
        return h + 1

    # 2 * 0.5 = 1.0 exactly: kept only when theta rounds up to 1.0 in float32.
    x = torch.cat([torch.randn(100), torch.tensor([0.5, -0.5, 0.25])])
    expected = reference(2 * x, theta) + 1
    torch.testing.assert_close(torch.compile(fn, fullgraph=True)(x), expected, rtol=0, atol=0)


def test_compiled_torch_ops_calls_work_including_inplace():
    def fn(x):
        y = OPS.thresholded_relu(x, 0.5)
        h = x * 2
        OPS.thresholded_relu_(h, 1.0)
        return y + h

    x = torch.randn(64, requires_grad=True)
    out = torch.compile(fn, fullgraph=True)(x)
    torch.testing.assert_close(out, reference(x, 0.5) + reference(2 * x, 1.0), rtol=0, atol=0)
    out.sum().backward()
    assert torch.equal(x.grad, (x.detach() > 0.5).float() + 2 * (2 * x.detach() > 1.0).float())


def test_ten_thetas_do_not_recompile():
    # Through Inductor: its passes may specialise a float that Dynamo left symbolic.
    counter = torch._dynamo.testing.CompileCounterWithBackend("inductor")
    fn = torch.compile(lambda x, theta: torch_ext.thresholded_relu(x, theta) + 1,
                       backend=counter, fullgraph=True)
    x = torch.randn(32)
    for i in range(10):
        theta = 0.1 * i
        torch.testing.assert_close(fn(x, theta), reference(x, theta) + 1)
    assert counter.frame_count <= 2  # a float argument may be specialised once, then dynamic


def test_dynamic_shapes_do_not_recompile():
    counter = torch._dynamo.testing.CompileCounter()
    model = _mlp()
    fn = torch.compile(model, backend=counter, dynamic=True, fullgraph=True)
    for batch in (3, 5, 9, 17):
        x = torch.randn(batch, 16)
        torch.testing.assert_close(fn(x), model(x))
    assert counter.frame_count == 1


def test_inductor_fuses_the_activation():
    """Under Inductor the activation is part of generated code, not an extern call."""
    model = _mlp()
    x = torch.randn(8, 16)
    with torch.no_grad():
        out, (code, *_) = run_and_get_code(torch.compile(model), x)
    torch.testing.assert_close(out, model(x))
    assert "torch_ext" not in code
    assert "where" in code or "0.0" in code  # the composite is in a generated kernel


# ---- opcheck ----

@pytest.mark.parametrize("requires_grad", [False, True])
def test_opcheck_all_ops(requires_grad):
    x = torch.randn(5, 7, dtype=torch.float64, requires_grad=requires_grad)
    torch.library.opcheck(OPS.thresholded_relu.default, (x, 0.3))
    torch.library.opcheck(OPS.thresholded_relu.default, (x.detach().to(torch.bfloat16), 0.3))
    torch.library.opcheck(OPS.thresholded_relu.default, (torch.arange(-5, 5), 1.5))
    torch.library.opcheck(OPS.thresholded_relu_.default, (torch.randn(5, 7), 0.3))
    y = torch_ext.thresholded_relu(x.detach(), 0.3)
    g = torch.randn(5, 7, dtype=torch.float64, requires_grad=requires_grad)
    torch.library.opcheck(OPS.thresholded_relu_backward.default, (g, y, 0.3))


# ---- torch.export ----

def test_export_keeps_the_op_and_round_trips():
    model = _mlp().eval()
    x = torch.randn(4, 16)
    exported = torch.export.export(model, (x,))
    targets = {str(n.target) for n in exported.graph.nodes if n.op == "call_function"}
    assert "torch_ext.thresholded_relu.default" in targets
    buf = io.BytesIO()
    torch.export.save(exported, buf)
    buf.seek(0)
    loaded = torch.export.load(buf)
    torch.testing.assert_close(loaded.module()(x), model(x))


# ---- torch.func ----

def _fn(x):
    return torch_ext.thresholded_relu(x, 0.25)


def _x(n=6):
    x = torch.randn(n, dtype=torch.float64) * 2
    return torch.where((x - 0.25).abs() < 1e-3, x + 0.1, x)


def _mask(x):
    return (x > 0.25).to(x.dtype)


def test_vmap_has_batching_rules():
    x = torch.randn(3, 5, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the slow-fallback warning would fail the test
        out = torch.func.vmap(_fn)(x)
        out_dim1 = torch.func.vmap(_fn, in_dims=1)(x)
        grads = torch.func.vmap(torch.func.grad(lambda t: _fn(t).sum()))(x)
    assert_bitwise_equal(out, reference(x, 0.25))
    assert_bitwise_equal(out_dim1, reference(x.movedim(1, 0), 0.25))
    assert torch.equal(grads, (x > 0.25).float())


def test_vmap_of_backward_with_unbatched_result():
    y = torch_ext.thresholded_relu(torch.randn(5), 0.25)
    g = torch.randn(4, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = torch.func.vmap(lambda gi: OPS.thresholded_relu_backward(gi, y, 0.25))(g)
    assert torch.equal(out, torch.where(y > 0.25, g, torch.zeros_like(g)))


def test_vmap_with_the_default_theta():
    # The dispatcher leaves out an argument equal to its schema default (theta=1.0): the
    # batching rules must work without it.
    x = torch.randn(4, 6)
    expected = reference(x, 1.0)
    y = torch_ext.thresholded_relu(torch.randn(6), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_bitwise_equal(torch.func.vmap(torch_ext.ThresholdedReLU())(x), expected)
        assert_bitwise_equal(torch.func.vmap(lambda t: OPS.thresholded_relu(t))(x), expected)
        inplace = torch.func.vmap(torch_ext.ThresholdedReLU(inplace=True))(x.clone())
        grads = torch.func.vmap(torch.func.grad(lambda t: torch_ext.thresholded_relu(t).sum()))(x)
        unbatched_result = torch.func.vmap(lambda g: OPS.thresholded_relu_backward(g, y, 1.0))(x)
    assert_bitwise_equal(inplace, expected)
    assert torch.equal(grads, (x > 1.0).float())
    assert torch.equal(unbatched_result, torch.where(y > 1.0, x, torch.zeros_like(x)))


def test_grad_jacrev_vjp():
    x = _x()
    assert torch.equal(torch.func.grad(lambda t: _fn(t).sum())(x), _mask(x))
    assert torch.equal(torch.func.jacrev(_fn)(x), torch.diag(_mask(x)))
    out, vjp_fn = torch.func.vjp(_fn, x)
    v = torch.randn_like(x)
    assert torch.equal(vjp_fn(v)[0], v * _mask(x))


def test_forward_mode_jvp_jacfwd_match_finite_differences():
    x = _x()
    v = torch.randn_like(x)
    _, tangent = torch.func.jvp(_fn, (x,), (v,))
    eps = 1e-6
    finite = (_fn(x + eps * v) - _fn(x - eps * v)) / (2 * eps)
    torch.testing.assert_close(tangent, finite)
    assert tangent.abs().sum() > 0, "a silently-zero tangent would also be wrong"
    assert torch.equal(torch.func.jacfwd(_fn)(x), torch.diag(_mask(x)))
    with torch.autograd.forward_ad.dual_level():
        dual = torch.autograd.forward_ad.make_dual(x, v)
        out_tangent = torch.autograd.forward_ad.unpack_dual(_fn(dual)).tangent
    torch.testing.assert_close(out_tangent, finite)


def test_forward_mode_inplace():
    x, v = _x(), torch.randn(6, dtype=torch.float64)
    with torch.autograd.forward_ad.dual_level():
        dual = torch.autograd.forward_ad.make_dual(x.clone(), v.clone())
        h = dual * 1
        torch_ext.thresholded_relu_(h, 0.25)
        tangent = torch.autograd.forward_ad.unpack_dual(h).tangent
    assert torch.equal(tangent, v * _mask(x))


def test_hessian_is_zero():
    x = _x()
    hess = torch.func.hessian(lambda t: _fn(t).pow(2).sum() / 2)(x)
    assert torch.equal(hess, torch.diag(_mask(x)))


# ---- autocast ----

def test_autocast_cpu_bfloat16_keeps_input_dtype():
    model = _mlp()
    x = torch.randn(4, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        hidden = model[0](x)
        assert hidden.dtype == torch.bfloat16
        out = model[1](hidden)
        direct = torch_ext.thresholded_relu(x, 0.2)
    assert out.dtype == torch.bfloat16 and direct.dtype == torch.float32
    assert_bitwise_equal(out, reference(hidden, 0.2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_autocast_cuda_float16():
    x = torch.randn(4, 16, device="cuda")
    lin = torch.nn.Linear(16, 16).cuda()
    with torch.autocast("cuda", dtype=torch.float16):
        h = lin(x)
        out = torch_ext.thresholded_relu(h, 0.1)
    assert out.dtype == torch.float16
    assert_bitwise_equal(out, reference(h, 0.1))


# ---- TorchScript ----

@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("inplace", [False, True])
def test_torchscript_module(inplace):
    model = _mlp(theta=0.1, inplace=inplace).eval()
    scripted = torch.jit.script(model)
    x = torch.randn(3, 16)
    torch.testing.assert_close(scripted(x), model(x))
    buf = io.BytesIO()
    torch.jit.save(scripted, buf)
    buf.seek(0)
    torch.testing.assert_close(torch.jit.load(buf)(x), model(x))
