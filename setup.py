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
so, rather than compiling against a torch that differs from yours). The build goes into a
folder of the package named for that torch's minor release (``torch_ext/_builds/torch2_13``,
see torch_ext/_loading.py), and the package's metadata requires the same ``major.minor``
(``torch==2.13.*``); scripts/build_wheels.sh merges such builds for several torch releases
into one wheel (docs/building.md). An sdist names no torch: it is built against whichever
torch builds it. ``pip install --no-build-isolation -e .`` installs in editable mode: the
compiled files land in the source folder's torch_ext/_builds/, and running the same command
again rebuilds them.

The CMake tree is build/python-cmake-torch<version>-<key>, one per source folder, Python
environment and torch (scripts/build_tree.py); CMake's output shows with ``pip install -v``.
Environment:
  FORCE_CUDA=1            compile the CUDA kernels even if no nvcc is found (fails without one)
  TORCH_EXT_WITH_CUDA=0   never compile the CUDA kernels
  TORCH_CUDA_ARCH_LIST    CUDA architectures, e.g. "9.0" or "8.0;9.0+PTX" (default: the
                          visible GPUs', else the list torch's CMake package builds for;
                          see cmake/TorchCudaHints.cmake)
  MAX_JOBS                parallel compile jobs
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys

import setuptools
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
OLDEST_TORCH = "2.11"

# pyproject.toml's `license = "BSD-3-Clause"` (an SPDX expression) needs setuptools 77; an
# older one would stop with a schema error that does not say so.
if int(setuptools.__version__.split(".")[0]) < 77:
    raise SystemExit(f"torch_ext: setuptools >= 77 is needed to build it (found "
                     f"{setuptools.__version__}): pip install -U 'setuptools>=77'")


def load_build_tree():
    spec = importlib.util.spec_from_file_location(
        "build_tree", os.path.join(ROOT, "scripts", "build_tree.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_tree


def base_version():
    """The project's version, from CMakeLists.txt's project() (its one place)."""
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        return re.search(r"project\(TorchExt VERSION ([0-9.]+)", f.read()).group(1)


def load_build_folder():
    """torch_ext/_loading.py's build_folder: where in the package the build for a torch goes
    (the loader looks there)."""
    spec = importlib.util.spec_from_file_location(
        "torch_ext_loading", os.path.join(ROOT, "torch_ext", "_loading.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_folder


def metadata():
    """version, install_requires and the extension's module path: for the torch in this
    environment, if any (an sdist names none)."""
    try:
        import torch
    except ImportError:  # an isolated build: build_extension stops it with advice
        torch = None
    if torch is None or "sdist" in sys.argv[1:]:
        return base_version(), [f"torch>={OLDEST_TORCH}"], "torch_ext._C"
    major, minor = torch.__version__.split(".")[:2]
    folder = load_build_folder()(torch.__version__)
    return base_version(), [f"torch=={major}.{minor}.*"], f"torch_ext.{folder.replace('/', '.')}._C"


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


def remove_compiled_files(package_dir):
    """Empties the package folder of setuptools' build tree (build/lib.*/torch_ext) of all but
    the Python sources: that folder is shared by every torch this source folder is built for,
    and the package must carry this build only."""
    if not os.path.isdir(package_dir):  # an editable build: nothing copied there yet
        return
    for name in os.listdir(package_dir):
        path = os.path.join(package_dir, name)
        if os.path.isdir(path) and name != "__pycache__":
            shutil.rmtree(path)
        elif os.path.isfile(path) and not name.endswith((".py", ".typed")):
            os.remove(path)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        torch = installed_torch()
        package_dir = os.path.dirname(os.path.abspath(self.get_ext_fullpath("torch_ext._C")))
        # A tree of this environment's own (scripts/common.sh finds it for `cmake --install`).
        build_dir = load_build_tree()(ROOT, "python-cmake")
        configure = [
            "cmake", "-S", ROOT, "-B", build_dir,
            f"-DCMAKE_PREFIX_PATH={torch.utils.cmake_prefix_path}",
            f"-DPython3_EXECUTABLE={sys.executable}",
            f"-DCMAKE_INSTALL_PREFIX={package_dir}",
            "-DCMAKE_BUILD_TYPE=Release",
            "-DTORCH_EXT_BUILD_PYTHON=ON",
            f"-DTORCH_EXT_PYTHON_BUILD_FOLDER={load_build_folder()(torch.__version__)}",
            "-DTORCH_EXT_BUILD_TESTS=OFF",
            f"-DTORCH_EXT_WITH_CUDA={cuda_setting()}",
        ]
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        jobs = os.environ.get("MAX_JOBS", str(os.cpu_count() or 1))
        subprocess.check_call(configure)
        subprocess.check_call(["cmake", "--build", build_dir, "--parallel", jobs])
        remove_compiled_files(package_dir)
        subprocess.check_call(["cmake", "--install", build_dir])
        if self.editable_mode:  # the source folder is the installed package: put the build there
            subprocess.check_call(
                ["cmake", "--install", build_dir, "--prefix", os.path.join(ROOT, "torch_ext")])


version, install_requires, extension = metadata()
setup(
    version=version,
    install_requires=install_requires,
    ext_modules=[Extension(extension, sources=[])],
    cmdclass={"build_ext": CMakeBuild},
)
