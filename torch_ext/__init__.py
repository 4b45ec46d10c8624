"""torch_ext: Keras' ``ThresholdedReLU`` activation as a native PyTorch operator.

``y = x`` where ``x > theta``, else ``0`` (``theta >= 0``, default ``1.0``; NaN propagates).

Python API: :func:`thresholded_relu`, :func:`thresholded_relu_`, :class:`ThresholdedReLU`.
The operators are also reachable as ``torch.ops.torch_ext.thresholded_relu`` (and
``thresholded_relu_``, ``thresholded_relu_backward``), which is how TorchScript,
``torch.export`` and C++ programs see them.
"""

import os as _os

import torch as _torch  # loads libtorch before the operator library

from ._loading import TorchVersionMismatchWarning, build_info as _build_info
from ._loading import load_compiled as _load_compiled

_C = _load_compiled(__path__)
from ._functional import thresholded_relu, thresholded_relu_
from ._module import ThresholdedReLU
from ._onnx import onnx_translation_table
from . import _registrations  # noqa: F401  (torch.compile, vmap and distributed glue)

#: The project's version (CMakeLists.txt's ``project()``), without the wheel's torch label.
__version__: str = _build_info()["version"]

#: Directory to add to ``CMAKE_PREFIX_PATH`` so that a C++ project's
#: ``find_package(TorchExt)`` finds the library and headers shipped in this package.
cmake_prefix_path: str = _os.path.join(_os.path.dirname(__file__), "share", "cmake")

#: Version of torch the compiled code was built against.
built_with_torch: str = _C.torch_version

#: Whether the CUDA kernels are loaded: the build has them (a CUDA build of torch) and the
#: running torch has CUDA.
built_with_cuda: bool = _C.cuda_kernels()

__all__ = [
    "ThresholdedReLU",
    "onnx_translation_table",
    "thresholded_relu",
    "thresholded_relu_",
    "cmake_prefix_path",
    "built_with_torch",
    "built_with_cuda",
    "TorchVersionMismatchWarning",
]
