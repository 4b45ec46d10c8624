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
