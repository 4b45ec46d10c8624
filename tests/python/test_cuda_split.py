"""The CUDA kernels are a library of their own (libtorch_ext_ops_cuda.so), so that the build
for a CUDA torch also loads under a CPU-only torch of the same release: the operator library
and _C need nothing of torch's CUDA part, and the CUDA library is loaded exactly where the
running torch has CUDA."""

import glob
import os
import re
import subprocess

import pytest
import torch
import torch_ext
from torch_ext import _loading
from test_import import run_fresh

BUILD = os.path.join(os.path.dirname(torch_ext.__file__), _loading.build_folder(torch.__version__))
# What the libraries of a CPU-only torch wheel are (torch/lib of torch's CPU builds): anything
# else of torch's among the NEEDED entries would not load there.
CPU_TORCH_LIBRARIES = {"libtorch.so", "libtorch_cpu.so", "libc10.so", "libtorch_python.so",
                       "libtorch_global_deps.so", "libshm.so", "libgomp.so.1"}
CUDA_LIBRARY = re.compile(r"lib(torch_cuda|c10_cuda|cudart|cuda|nvrtc|cublas|cudnn|nccl)")
built_with_cuda_kernels = bool(_loading.build_info()["cuda"])


def needed(library: str) -> set[str]:
    dynamic = subprocess.run(["readelf", "-d", library], capture_output=True, text=True,
                             check=True).stdout
    return set(re.findall(r"\(NEEDED\).*\[(.*)\]", dynamic))


@pytest.mark.parametrize("name", ["lib/libtorch_ext_ops.so", "_C"])
def test_cpu_libraries_need_no_cuda_library(name):
    (library,) = glob.glob(os.path.join(BUILD, name + "*.so" if name == "_C" else name))
    libraries = needed(library)
    assert not {n for n in libraries if CUDA_LIBRARY.match(n)}, libraries
    ours = {"libtorch_ext_ops.so"}
    torch_ones = {n for n in libraries if n.startswith(("libtorch", "libc10", "libshm"))} - ours
    assert torch_ones <= CPU_TORCH_LIBRARIES, torch_ones


def test_cuda_library_exactly_with_cuda_kernels():
    cuda_library = os.path.join(BUILD, "lib", "libtorch_ext_ops_cuda.so")
    assert os.path.isfile(cuda_library) == built_with_cuda_kernels
    if built_with_cuda_kernels:
        assert {"libtorch_ext_ops.so", "libtorch_cuda.so"} <= needed(cuda_library)
    # Loaded here exactly when this build has CUDA kernels and this torch has CUDA.
    registered = torch._C._dispatch_has_kernel_for_dispatch_key(
        "torch_ext::thresholded_relu", "CUDA")
    expected = built_with_cuda_kernels and torch.version.cuda is not None
    assert registered == expected == torch_ext.built_with_cuda


@pytest.mark.skipif(not built_with_cuda_kernels, reason="a CPU build: nothing to leave out")
def test_cuda_build_under_a_torch_without_cuda_runs_the_cpu_kernels():
    """Where torch has no CUDA (torch.version.cuda is None, as on a CPU-only wheel), the CUDA
    library is not loaded: no CUDA kernel is registered, and the CPU operator, its gradient and
    torch.compile work as with a CPU build."""
    out = run_fresh("""
        import sys, torch
        torch.version.cuda = None
        import torch_ext
        assert not torch_ext.built_with_cuda
        assert not torch._C._dispatch_has_kernel_for_dispatch_key(
            "torch_ext::thresholded_relu", "CUDA")
        loaded = [p for p in torch.ops.loaded_libraries if "torch_ext" in p]
        assert not loaded, loaded
        x = torch.tensor([-1.0, 0.5, 1.0, 1.5, 3.0], dtype=torch.float64, requires_grad=True)
        y = torch_ext.ThresholdedReLU(1.0)(x)
        y.backward(torch.arange(5.0, dtype=torch.float64))
        assert y.tolist() == [0.0, 0.0, 0.0, 1.5, 3.0], y
        assert x.grad.tolist() == [0.0, 0.0, 0.0, 3.0, 4.0], x.grad
        compiled = torch.compile(lambda t: torch_ext.thresholded_relu(t, 1.0), backend="aot_eager")
        assert compiled(x.detach()).tolist() == [0.0, 0.0, 0.0, 1.5, 3.0]
        print("cpu kernels only")
    """)
    assert out.strip().endswith("cpu kernels only"), out
