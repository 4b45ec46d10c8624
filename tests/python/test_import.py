"""`import torch_ext` imports no PyTorch subsystem it extends (DTensor, Inductor, the ONNX
exporters, and with them sympy), and each registration is in place once its subsystem is
imported: after torch_ext, and before it. Each check runs in a fresh interpreter, where
sys.modules shows exactly what an import pulled in."""

import os
import subprocess
import sys
import tempfile
import textwrap

import pytest
import torch.distributed as dist
from test_distributed import _free_port

# Prefixes of modules that only a subsystem's first use may import.
SUBSYSTEM_MODULES = ("torch.distributed.tensor", "torch._inductor", "torch.onnx", "sympy")


def run_fresh(script: str, *args: str, timeout: int = 300) -> str:
    """Runs `script` as a file (multiprocessing's spawned ranks re-import it) in a new Python."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "check.py")
        with open(path, "w") as f:
            f.write(textwrap.dedent(script))
        out = subprocess.run([sys.executable, path, *args], capture_output=True, text=True,
                             timeout=timeout, cwd=folder)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    return out.stdout


def test_import_and_eager_use_import_no_subsystem():
    """Only what torch_ext adds to `import torch` counts (torch may import some itself)."""
    out = run_fresh(f"""
        import sys, torch
        def loaded():
            return {{m for m in sys.modules if m.startswith({SUBSYSTEM_MODULES!r})}}
        before = loaded()
        import torch_ext
        print(sorted(loaded() - before))
        # The module asks on every call whether an ONNX export runs: without importing torch.onnx.
        x = torch.randn(4, 3, requires_grad=True)
        torch_ext.ThresholdedReLU(0.5)(x).sum().backward()
        torch_ext.thresholded_relu(x.detach(), 0.5)
        torch.func.vmap(torch_ext.thresholded_relu)(x.detach())
        torch_ext.thresholded_relu_(x.detach() * 1, 0.5)
        torch_ext.ThresholdedReLU(0.5, inplace=True)(x.detach() * 1)
        print(sorted(loaded() - before))
    """)
    assert out.split("\n")[:2] == ["[]", "[]"], out


# ---- each registration, with its subsystem imported after torch_ext and before it ----

ORDERS = {
    "torch_ext first": "import torch\nimport torch_ext\n{subsystem}\n",
    "subsystem first": "import torch\n{subsystem}\nimport torch_ext\n",
}


def in_order(order: str, subsystem: str) -> str:
    return ORDERS[order].format(subsystem=subsystem)


@pytest.mark.parametrize("order", ORDERS)
def test_inductor_and_onnx_registrations(order):
    """End to end, in one interpreter: a graph calling the operator compiles with the operator
    fused (no extern kernel call) and matches eager; the module exports to ONNX and runs in
    onnxruntime; the functional exports with the translation table and, where this torch has
    it, with the legacy exporter (whose symbolic is registered on import of torch.onnx)."""
    pytest.importorskip("onnxscript")
    pytest.importorskip("onnxruntime")
    subsystems = "import torch._inductor.decomposition\nimport torch.onnx"
    out = run_fresh(in_order(order, subsystems) + """
import io, warnings
import numpy, onnx, onnxruntime
from torch._inductor.utils import run_and_get_code
from torch_ext import _onnx

def f(x):
    return torch.ops.torch_ext.thresholded_relu(x * 2, 0.5) + 1
x = torch.randn(64)
y, code = run_and_get_code(torch.compile(f, fullgraph=True), x)
assert "torch_ext.thresholded_relu" not in "".join(code), "called as an extern kernel"
assert torch.equal(y, torch.where(x * 2 > 0.5, x * 2, torch.zeros_like(x)) + 1)

model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch_ext.ThresholdedReLU(0.2)).eval()
x = torch.randn(3, 4)
session = onnxruntime.InferenceSession(
    torch.onnx.export(model, (x,), dynamo=True, opset_version=20).model_proto.SerializeToString())
(y,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
with torch.no_grad():
    assert numpy.allclose(y, model(x).numpy(), atol=1e-6)

class Functional(torch.nn.Module):
    def forward(self, t):
        return torch_ext.thresholded_relu(t, 0.2)
program = torch.onnx.export(Functional(), (x,), dynamo=True, opset_version=20,
                            custom_translation_table=torch_ext.onnx_translation_table())
assert [n.op_type for n in program.model_proto.graph.node] == ["ThresholdedRelu"]

if not hasattr(torch.onnx, "register_custom_op_symbolic"):
    assert not _onnx.legacy_exporter_registered()
    print("no legacy exporter in this torch")
else:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation warning
        torch.onnx.export(Functional(), (x,), buffer, dynamo=False, opset_version=17)
    graph = onnx.load_from_string(buffer.getvalue()).graph
    assert [n.op_type for n in graph.node] == ["ThresholdedRelu"], graph.node
    print("legacy export ok")
""")
    assert out.strip().split("\n")[-1] in ("legacy export ok", "no legacy exporter in this torch"), out


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                    reason="torch.distributed with gloo is not available")
@pytest.mark.parametrize("order", ORDERS)
def test_dtensor_strategies_pass_sharding_through(order):
    """On 2 gloo ranks: a Shard(1) input keeps its placement (no redistribution), forward and
    backward; without the strategies DTensor has no rule for the operator at all."""
    out = run_fresh(in_order(order, "import torch.distributed.tensor") + """
import os, sys
import torch.distributed as dist
import torch.multiprocessing as mp

def run(rank, port):
    from torch.distributed.tensor import Shard, distribute_tensor
    from torch.distributed.device_mesh import init_device_mesh
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    mesh = init_device_mesh("cpu", (2,))
    torch.manual_seed(0)
    dense = torch.randn(4, 6, dtype=torch.float64)
    x = distribute_tensor(dense, mesh, [Shard(1)]).requires_grad_()
    y = torch_ext.thresholded_relu(x, 0.3)
    assert y.placements == (Shard(1),), y.placements
    assert torch.equal(y.full_tensor(), torch.where(dense > 0.3, dense, torch.zeros_like(dense)))
    grad = torch.randn(4, 6, dtype=torch.float64)
    y.backward(distribute_tensor(grad, mesh, [Shard(1)]))
    assert x.grad.placements == (Shard(1),), x.grad.placements
    assert torch.equal(x.grad.full_tensor(), torch.where(dense > 0.3, grad, torch.zeros_like(grad)))
    dist.barrier()
    dist.destroy_process_group()
    sys.stdout.flush()
    os._exit(0)  # gloo's threads may abort during interpreter teardown (see distributed_worker.py)

if __name__ == "__main__":
    mp.spawn(run, args=(sys.argv[1],), nprocs=2, join=True)
    print("dtensor ok")
""", str(_free_port()))
    assert "dtensor ok" in out
