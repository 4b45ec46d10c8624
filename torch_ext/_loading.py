"""Loads the compiled part of the package (``torch_ext._C`` and, through it, the operator
library) built for the running torch, after checking that the package carries one.

PyTorch promises no C++ ABI between minor releases: a binary built for torch 2.13 may load
into 2.14 and misbehave, or fail with an undefined symbol. So the package holds one build per
torch ``major.minor`` it supports, each in a folder of its own (:func:`build_folder`, e.g.
``_builds/torch2_13``: ``_C``, ``lib/libtorch_ext_ops.so``, on a CUDA build of torch
``lib/libtorch_ext_ops_cuda.so`` with the CUDA kernels, its CMake package, and
``_build_info.json`` naming the torch it was built against). A pip install from source carries
the one build for the torch it was built with; a wheel made by ``scripts/build_wheels.sh``
carries several. The build for the running torch's minor release is loaded (a build for
another patch release of it loads with one warning naming both versions), with its CUDA
kernels where the running torch has CUDA; for a torch with no build, and for any failure to
load one, ``import torch_ext`` raises an ImportError that names the running torch, the builds
carried, and how to build from source.
"""

from __future__ import annotations

import functools
import glob
import json
import os
import warnings
from types import ModuleType

import torch

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_BUILD_FROM_SOURCE = (
    "To build torch_ext against the torch installed here: "
    "pip install --no-build-isolation --no-deps --force-reinstall <torch_ext source or sdist> "
    "(a C++ compiler and CMake are needed; see docs/building.md)"
)


class TorchVersionMismatchWarning(UserWarning):
    """torch_ext was built for another patch release of the running torch's minor release."""


def _base_version(version: str) -> str:
    return version.split("+", 1)[0]  # "2.14.1+cu130" -> "2.14.1"


def build_folder(torch_version: str) -> str:
    """The folder, relative to the package, of the build for ``torch_version``'s minor release:
    ``"2.13.0+cpu"`` -> ``"_builds/torch2_13"`` (setup.py installs each build there)."""
    major, minor = _base_version(torch_version).split(".")[:2]
    return f"_builds/torch{major}_{minor}"


def _describe(info: dict) -> str:
    # The CUDA version is nvcc's, which may differ from the torch build's (2.15.0+cu132).
    kernels = f"CUDA kernels compiled with CUDA {info['cuda']}" if info.get("cuda") else "CPU only"
    return f"torch {info['torch_version']} ({kernels})"


@functools.cache
def carried_builds() -> dict[str, dict]:
    """Build folder -> its ``_build_info.json`` (``version``, ``torch_version``, ``cuda``: the
    CUDA version its kernels were compiled with, or empty), for every build in the package."""
    builds = {}
    for path in sorted(glob.glob(os.path.join(_PACKAGE_DIR, "_builds", "*", "_build_info.json"))):
        with open(path) as f:
            builds[os.path.relpath(os.path.dirname(path), _PACKAGE_DIR)] = json.load(f)
    return builds


def _source_folder_error() -> ImportError | None:
    source_root = os.path.dirname(_PACKAGE_DIR)
    if os.path.exists(os.path.join(source_root, "setup.py")) and os.path.isdir(
        os.path.join(source_root, "csrc")
    ):
        return ImportError(
            f"torch_ext is being imported from its source folder ({_PACKAGE_DIR}), which holds "
            f"no build for torch {torch.__version__}: the current directory (or PYTHONPATH) puts "
            "the checkout in front of the installed package. Run Python from another folder, or "
            f"install the checkout in editable mode: pip install --no-build-isolation -e {source_root}"
        )
    return None


@functools.cache  # read once: load_compiled and torch_ext.__version__ both ask
def build_info() -> dict[str, str]:
    """The ``_build_info.json`` of the build for the running torch.

    Raises:
        ImportError: the package carries no build for the running torch's minor release.
    """
    folder = build_folder(torch.__version__)
    builds = carried_builds()
    if folder in builds:
        return builds[folder]
    source_error = _source_folder_error()
    if source_error is not None:
        raise source_error
    carried = ", ".join(_describe(info) for info in builds.values()) or "none"
    raise ImportError(
        f"torch_ext has no build for the running torch {torch.__version__} (looked for "
        f"{os.path.join(_PACKAGE_DIR, folder)}). This installation carries builds for: {carried}. "
        f"Install a torch of one of those minor releases, or build from source. {_BUILD_FROM_SOURCE}"
    )


def load_compiled(package_path: list[str]) -> ModuleType:
    """Imports and returns ``torch_ext._C`` from the build for the running torch: its folder
    leads the package's ``__path__``, so ``torch_ext._C`` is found (and reloaded) as any
    submodule is.

    Raises:
        ImportError: no build for the running torch's minor release, or its libraries fail
            to load (e.g. an undefined symbol, or a CUDA build under a torch without CUDA).
    """
    info = build_info()
    built, running = info["torch_version"], torch.__version__
    folder = os.path.join(_PACKAGE_DIR, build_folder(running))
    if folder not in package_path:
        package_path.insert(0, folder)  # before the package folder: its _C, if any, is stale
    versions = f"torch_ext's build for {_describe(info)} does not load into torch {running}"
    try:
        from . import _C
        # The CUDA kernels are a library of their own, which needs torch's CUDA libraries: a
        # CPU-only torch of the same release runs the CPU kernels of a CUDA build.
        if info["cuda"] and torch.version.cuda:
            torch.ops.load_library(os.path.join(folder, "lib", "libtorch_ext_ops_cuda.so"))
    except (ImportError, OSError) as e:
        raise ImportError(f"{versions}: {e}. {_BUILD_FROM_SOURCE}") from e
    if _base_version(built) != _base_version(running):
        warnings.warn(f"torch_ext was built for torch {built}; torch {running} is running. Same "
                      f"minor release, so it was loaded. {_BUILD_FROM_SOURCE}",
                      TorchVersionMismatchWarning, stacklevel=3)
    return _C
