"""Builds torch_ext against the torch installed in this environment.

The native code is described once, in CMakeLists.txt; this script drives CMake with torch's
CMake package (``torch.utils.cmake_prefix_path``) and installs the result into the Python
package: the operator library, the Python extension, the C++ headers and the CMake package
config, so that a pip install serves Python and C++ users alike.

Compiler settings live in CMakeLists.txt too: -O3 for every target, OpenMP (-fopenmp through
find_package(OpenMP), without which at::parallel_for runs serially) and per-instruction-set
copies of the CPU loops.

Install with ``pip install --no-build-isolation .`` so that the torch already installed here
is the one built against (an isolated build has no torch and stops with a message saying
so, rather than compiling against a torch that differs from yours). ``pip install
--no-build-isolation -e .`` installs in editable mode: the compiled files land in the source
folder's torch_ext/, and running the same command again rebuilds them. Environment:
  FORCE_CUDA=1            compile the CUDA kernels even if no nvcc is found (fails without one)
  TORCH_EXT_WITH_CUDA=0   never compile the CUDA kernels
  TORCH_CUDA_ARCH_LIST    CUDA architectures, e.g. "9.0" or "8.0;9.0+PTX" (default: the
                          visible GPUs', else the list torch's CMake package builds for;
                          see cmake/TorchCudaHints.cmake)
  MAX_JOBS                parallel compile jobs
"""

import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


def cuda_setting():
    if os.environ.get("FORCE_CUDA") == "1":
        return "ON"
    if os.environ.get("TORCH_EXT_WITH_CUDA") == "0":
        return "OFF"
    return "AUTO"


def installed_torch():
    try:
        import torch
    except ImportError as e:
        raise SystemExit(
            "torch_ext: torch is not importable in the build environment. torch_ext is "
            "compiled against the torch you run it with, so install torch first and build "
            "without isolation: pip install --no-build-isolation . (pip's default isolated "
            "build has no torch; giving it one would compile against a torch other than yours)."
        ) from e
    return torch


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        torch = installed_torch()
        package_dir = os.path.dirname(os.path.abspath(self.get_ext_fullpath(ext.name)))
        # One CMake tree per torch (a cache configured for another torch would be reused), at a
        # fixed place that scripts/common.sh reuses for `cmake --install`.
        build_dir = os.path.join(ROOT, "build", f"python-cmake-torch{torch.__version__}")
        configure = [
            "cmake", "-S", ROOT, "-B", build_dir,
            f"-DCMAKE_PREFIX_PATH={torch.utils.cmake_prefix_path}",
            f"-DPython3_EXECUTABLE={sys.executable}",
            f"-DCMAKE_INSTALL_PREFIX={package_dir}",
            "-DCMAKE_BUILD_TYPE=Release",
            "-DTORCH_EXT_BUILD_PYTHON=ON",
            "-DTORCH_EXT_BUILD_TESTS=OFF",
            f"-DTORCH_EXT_WITH_CUDA={cuda_setting()}",
        ]
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        jobs = os.environ.get("MAX_JOBS", str(os.cpu_count() or 1))
        subprocess.check_call(configure)
        subprocess.check_call(["cmake", "--build", build_dir, "--parallel", jobs])
        subprocess.check_call(["cmake", "--install", build_dir])
        if self.editable_mode:  # the source folder is the installed package: put the build there
            subprocess.check_call(
                ["cmake", "--install", build_dir, "--prefix", os.path.join(ROOT, "torch_ext")])


setup(
    ext_modules=[Extension("torch_ext._C", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
)
