"""Loads the compiled part of the package (``torch_ext._C`` and, through it, the operator
library), after checking that it exists and was built for the running torch.

PyTorch promises no C++ ABI between minor releases: a binary built for torch 2.13 may load
into 2.14 and misbehave, or fail with an undefined symbol. So a build for another
``major.minor`` is refused before anything is loaded; a build for another patch release of
the same minor (ABI-compatible in practice) loads with one warning naming both versions, and
any failure to load it becomes an ``ImportError`` that says which torch to rebuild against.
The build records its torch, and the project's version, in ``_build_info.json`` (written by
CMake beside ``_C``).
"""

from __future__ import annotations

import functools
import json
import os
import warnings
from types import ModuleType

import torch

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_REBUILD = (
    "Rebuild torch_ext against the torch installed here: "
    "pip install --no-build-isolation --no-deps --force-reinstall <torch_ext source or sdist>"
)


class TorchVersionMismatchWarning(UserWarning):
    """torch_ext was built for another patch release of the running torch's minor release."""


def _base_version(version: str) -> str:
    return version.split("+", 1)[0]  # "2.14.1+cu130" -> "2.14.1"


def _minor(version: str) -> tuple[str, ...]:
    return tuple(_base_version(version).split(".")[:2])


@functools.cache  # read once: load_compiled and torch_ext.__version__ both ask
def build_info() -> dict[str, str]:
    """``{"version": project version, "torch_version": torch built against}``."""
    path = os.path.join(_PACKAGE_DIR, "_build_info.json")
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        pass
    source_root = os.path.dirname(_PACKAGE_DIR)
    if os.path.exists(os.path.join(source_root, "setup.py")) and os.path.isdir(
        os.path.join(source_root, "csrc")
    ):
        raise ImportError(
            f"torch_ext is being imported from its source folder ({_PACKAGE_DIR}), which holds "
            "no compiled build: the current directory (or PYTHONPATH) puts the checkout in front "
            "of the installed package. Run Python from another folder, or install the checkout "
            f"in editable mode: pip install --no-build-isolation -e {source_root}"
        )
    raise ImportError(f"torch_ext at {_PACKAGE_DIR} is incomplete (no _build_info.json). {_REBUILD}")


def load_compiled() -> ModuleType:
    """Imports and returns ``torch_ext._C``.

    Raises:
        ImportError: the package is an unbuilt source folder, was built for another
            ``major.minor`` of torch, or its libraries fail to load (e.g. an undefined symbol).
    """
    built = build_info()["torch_version"]
    running = torch.__version__
    versions = f"torch_ext was built for torch {built}; torch {running} is running."
    if _minor(built) != _minor(running):
        raise ImportError(f"{versions} {_REBUILD}")
    try:
        from . import _C
    except ImportError as e:
        raise ImportError(f"{versions} Loading its compiled library failed: {e}. {_REBUILD}") from e
    if _base_version(built) != _base_version(running):
        warnings.warn(f"{versions} Same minor release, so it was loaded. {_REBUILD}",
                      TorchVersionMismatchWarning, stacklevel=3)
    return _C
