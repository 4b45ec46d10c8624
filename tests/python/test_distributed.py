"""DTensor sharding strategies and a DDP training step, on 2 gloo ranks (CPU, localhost)."""

import os
import socket
import subprocess
import sys

import torch.distributed as dist
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                    reason="torch.distributed with gloo is not available")
def test_dtensor_and_ddp_on_two_ranks():
    worker = os.path.join(os.path.dirname(__file__), "distributed_worker.py")
    out = subprocess.run([sys.executable, worker, str(_free_port())], capture_output=True,
                         text=True, timeout=240)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    assert "distributed checks passed" in out.stdout


def test_imports_and_runs_on_a_torch_without_distributed_support():
    """Builds of torch without distributed support cannot import torch.distributed.tensor;
    simulated here by blocking that import."""
    script = (
        "import sys, torch, torch.distributed\n"
        "torch.distributed.is_available = lambda: False\n"
        "sys.modules['torch.distributed.tensor'] = None  # importing it now raises ImportError\n"
        "import torch_ext\n"
        "x = torch.tensor([0.5, 1.5, float('nan')], requires_grad=True)\n"
        "y = torch_ext.ThresholdedReLU(1.0)(x)\n"
        "y.sum().backward()\n"
        "batched = torch.func.vmap(torch_ext.thresholded_relu)(x.detach().view(3, 1))\n"
        "print(y.tolist()[:2], x.grad.tolist()[:2], batched.view(-1).tolist()[:2])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, cwd=os.path.dirname(__file__))
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "[0.0, 1.5] [0.0, 1.0] [0.0, 1.5]"
