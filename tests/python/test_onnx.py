"""ONNX export: the standard ThresholdedRelu node (not a custom domain), and onnxruntime's
results against ours. Needs the test extra (onnx, onnxscript, onnxruntime)."""

import io
import math
import warnings

import numpy as np
import pytest
import torch

onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install torch_ext[test])")
pytest.importorskip("onnxscript", reason="onnxscript is not installed (pip install torch_ext[test])")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install torch_ext[test])")

import torch_ext  # noqa: E402
from torch_ext import _onnx  # noqa: E402

from conftest import assert_bitwise_equal, reference  # noqa: E402

OPSET = 20
HAS_LEGACY_EXPORTER = hasattr(torch.onnx, "register_custom_op_symbolic")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning",
                                        "ignore::DeprecationWarning")


class Functional(torch.nn.Module):
    """A model that calls the functional, not the module."""

    def __init__(self, theta):
        super().__init__()
        self.theta = theta

    def forward(self, x):
        return torch_ext.thresholded_relu(x, self.theta)


class InplaceOnIntermediate(torch.nn.Module):
    """Uses the in-place module for its side effect on an intermediate tensor."""

    def __init__(self, theta):
        super().__init__()
        self.act = torch_ext.ThresholdedReLU(theta, inplace=True)

    def forward(self, x):
        h = x * 2
        self.act(h)  # result ignored on purpose: h itself must change
        return h


def export(model, x, dynamo=True, **kwargs):
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            program = torch.onnx.export(model, (x,), dynamo=True, opset_version=OPSET, **kwargs)
            return program.model_proto
        buf = io.BytesIO()
        torch.onnx.export(model, (x,), buf, dynamo=False, opset_version=OPSET, **kwargs)
        return onnx.load_from_string(buf.getvalue())


def run_ort(model_proto, x):
    onnx.checker.check_model(model_proto)
    session = ort.InferenceSession(model_proto.SerializeToString(), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    return torch.from_numpy(out)


def threshold_nodes(model_proto):
    return [n for n in model_proto.graph.node if n.op_type == "ThresholdedRelu"]


def alpha_of(node):
    (attr,) = [a for a in node.attribute if a.name == "alpha"]
    return attr.f


def largest_float32_at_most(theta):
    """Independent of the library: the float32 value just at or below theta, by numpy."""
    f = np.float32(theta)
    if float(f) > theta:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def boundary_inputs(theta, dtype=torch.float32):
    """Values on both sides of theta in float32 and float16, plus ordinary ones."""
    a32 = np.float32(largest_float32_at_most(theta)) if math.isfinite(theta) else np.float32(3e38)
    near = [a32, np.nextafter(a32, np.float32(np.inf)), np.nextafter(a32, np.float32(-np.inf)),
            np.float32(np.float16(theta)) if theta < 65504 else np.float32(1.0)]
    values = [float(v) for v in near] + [0.0, -0.0, -1.5, 2.5, 1e-30, -3e38, 3e38, theta * 2 + 1,
                                         float("inf")]
    values = [v for v in values if math.isfinite(v) or v == float("inf")]
    x = torch.tensor(values, dtype=torch.float64).to(dtype)
    return torch.cat([x, (torch.randn(200, dtype=torch.float64) * 3).to(dtype)])


MODULE_ROUTES = {
    "module dynamo": lambda theta: (torch_ext.ThresholdedReLU(theta), {}),
    "module inplace dynamo": lambda theta: (torch_ext.ThresholdedReLU(theta, inplace=True), {}),
    "functional dynamo + table": lambda theta: (
        Functional(theta), {"custom_translation_table": _onnx.onnx_translation_table()}),
}


@pytest.mark.parametrize("route", MODULE_ROUTES.values(), ids=MODULE_ROUTES.keys())
@pytest.mark.parametrize("theta", [1.0, 0.5, 0.0, 0.3, 0.99999999, 7.25, math.inf])
def test_dynamo_export_emits_standard_node_and_matches_onnxruntime(route, theta):
    model, kwargs = route(theta)
    x = boundary_inputs(theta)
    proto = export(model, x.clone(), **kwargs)
    (node,) = threshold_nodes(proto)
    assert node.domain == "", "must be the standard ONNX domain, not a custom one"
    assert {(o.domain, o.version) for o in proto.opset_import} >= {("", OPSET)}
    assert alpha_of(node) == largest_float32_at_most(theta)
    if float(np.float32(theta)) == theta:
        assert alpha_of(node) == theta  # exactly theta whenever float32 holds it
    expected = reference(x, theta)
    assert_bitwise_equal(run_ort(proto, x), expected)
    assert_bitwise_equal(torch_ext.thresholded_relu(x, theta), expected)


def test_alpha_is_rounded_down_not_to_nearest():
    # float32(0.3) is 0.30000001192..., above 0.3: x equal to it must survive, as in eager.
    theta = 0.3
    x = torch.tensor([float(np.float32(0.3))], dtype=torch.float32)
    assert float(x) > theta
    proto = export(torch_ext.ThresholdedReLU(theta), x)
    assert alpha_of(threshold_nodes(proto)[0]) < theta
    assert torch.equal(run_ort(proto, x), x)
    assert torch.equal(torch_ext.ThresholdedReLU(theta)(x), x)


def test_float16_input_exports_node_with_float16_alpha():
    theta = 0.3
    x = boundary_inputs(theta, torch.float16)
    proto = export(torch_ext.ThresholdedReLU(theta), x)
    (node,) = threshold_nodes(proto)
    alpha = alpha_of(node)
    assert alpha == float(np.float16(alpha)) and alpha <= theta  # a float16 value, at most theta
    assert float(np.nextafter(np.float16(alpha), np.float16(np.inf))) > theta
    assert_bitwise_equal(run_ort(proto, x), reference(x, theta))


@pytest.mark.parametrize("make", [
    lambda theta: (torch_ext.ThresholdedReLU(theta), {}),
    lambda theta: (Functional(theta), {"custom_translation_table": _onnx.onnx_translation_table()}),
], ids=["module", "functional + table"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.int32, torch.int64, torch.uint8])
def test_dtypes_without_onnxruntime_kernel_export_exact_standard_ops(make, dtype):
    """float64 and integer inputs: LessOrEqual + Where in the standard domain, exact, NaN kept."""
    theta = 2.5
    model, kwargs = make(theta)
    if dtype.is_floating_point:
        x = torch.cat([boundary_inputs(theta, dtype), torch.tensor([math.nan, 2.5, 2.5000000001],
                                                                    dtype=dtype)])
    else:
        x = torch.arange(-5 if dtype != torch.uint8 else 0, 10).to(dtype)
    proto = export(model, x, **kwargs)
    ops = {n.op_type for n in proto.graph.node}
    assert {"LessOrEqual", "Where"} <= ops and "ThresholdedRelu" not in ops
    assert all(n.domain == "" for n in proto.graph.node)
    assert_bitwise_equal(run_ort(proto, x), reference(x, theta))


def test_nan_becomes_zero_in_onnx_thresholded_relu():
    """ONNX defines ThresholdedRelu as `x if x > alpha else 0`: NaN maps to 0 there, while
    this library keeps NaN. Documented in the README."""
    x = torch.tensor([math.nan, 2.0, -math.nan, 0.5])
    proto = export(torch_ext.ThresholdedReLU(1.0), x)
    out = run_ort(proto, x)
    assert torch.equal(out, torch.tensor([0.0, 2.0, 0.0, 0.0]))
    ours = torch_ext.thresholded_relu(x, 1.0)
    assert torch.isnan(ours[0]) and torch.isnan(ours[2])


def test_model_with_linear_layers_and_dynamic_batch():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch_ext.ThresholdedReLU(0.2),
                                torch.nn.Linear(32, 3))
    x = torch.randn(5, 8)
    batch = torch.export.Dim("batch")
    proto = export(model, x, dynamic_shapes=({0: batch},))
    assert len(threshold_nodes(proto)) == 1
    other = torch.randn(11, 8)
    with torch.no_grad():
        assert torch.allclose(run_ort(proto, other), model(other), atol=1e-5, rtol=1e-5)


def test_inplace_module_on_an_intermediate_keeps_its_effect():
    x = torch.randn(64)
    proto = export(InplaceOnIntermediate(0.4), x)
    assert len(threshold_nodes(proto)) == 1
    assert_bitwise_equal(run_ort(proto, x), reference(x * 2, 0.4))


class InplaceFunctionalOnIntermediate(torch.nn.Module):
    """Calls the in-place functional on an intermediate tensor."""

    def forward(self, x):
        h = x * 2
        torch_ext.thresholded_relu_(h, 0.4)
        return h + 1


def test_inplace_functional_exports_with_the_table():
    x = torch.randn(64)
    proto = export(InplaceFunctionalOnIntermediate(), x,
                   custom_translation_table=_onnx.onnx_translation_table())
    assert len(threshold_nodes(proto)) == 1
    assert_bitwise_equal(run_ort(proto, x), reference(x * 2, 0.4) + 1)


def test_eager_forward_unchanged_outside_export():
    assert not torch.onnx.is_in_onnx_export()
    x = boundary_inputs(0.3)
    assert_bitwise_equal(torch_ext.ThresholdedReLU(0.3)(x), reference(x, 0.3))


def test_translation_table_is_public_and_keyed_by_the_operator():
    assert torch_ext.onnx_translation_table is _onnx.onnx_translation_table
    table = torch_ext.onnx_translation_table()
    assert list(table) == [torch.ops.torch_ext.thresholded_relu.default]


@pytest.mark.parametrize("theta", [-1.0, math.nan])
def test_onnx_alpha_refuses_bad_theta(theta):
    with pytest.raises(ValueError, match="theta"):
        _onnx.onnx_alpha(theta)


# ---- legacy TorchScript-based exporter ----

@pytest.mark.skipif(HAS_LEGACY_EXPORTER, reason="this torch still has the legacy exporter")
def test_legacy_exporter_absent():
    assert not _onnx.legacy_exporter_registered()


LEGACY_ROUTES = {
    "module": lambda theta: torch_ext.ThresholdedReLU(theta),
    "module inplace": lambda theta: torch_ext.ThresholdedReLU(theta, inplace=True),
    "functional": Functional,
    "inplace on intermediate": InplaceOnIntermediate,
}


@pytest.mark.skipif(not HAS_LEGACY_EXPORTER, reason="torch.onnx has no legacy exporter in this torch")
@pytest.mark.parametrize("route", LEGACY_ROUTES.values(), ids=LEGACY_ROUTES.keys())
@pytest.mark.parametrize("theta", [0.5, 0.3, 0.99999999])
def test_legacy_exporter_emits_standard_node(route, theta):
    assert _onnx.legacy_exporter_registered()
    model = route(theta)
    x = boundary_inputs(theta)
    proto = export(model, x.clone(), dynamo=False)
    (node,) = threshold_nodes(proto)
    assert node.domain == ""
    assert alpha_of(node) == largest_float32_at_most(theta)
    scale = 2 if isinstance(model, InplaceOnIntermediate) else 1
    assert_bitwise_equal(run_ort(proto, x), reference(x * scale, theta))


@pytest.mark.skipif(not HAS_LEGACY_EXPORTER, reason="torch.onnx has no legacy exporter in this torch")
@pytest.mark.parametrize("dtype", [torch.float64, torch.int32])
def test_legacy_exporter_other_dtypes_exact(dtype):
    x = torch.arange(-3, 7).to(dtype)
    proto = export(Functional(2.5), x, dynamo=False)
    assert "ThresholdedRelu" not in {n.op_type for n in proto.graph.node}
    assert_bitwise_equal(run_ort(proto, x), reference(x, 2.5))
