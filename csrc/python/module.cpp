// Python bindings (torch_ext._C). The operators themselves live in libtorch_ext_ops, which
// this module links; these are direct entry points that skip torch.ops' Python overhead.
#include <torch_ext/thresholded_relu.h>

#include "ops/thresholded_relu.h"

#include <torch/csrc/utils/pybind.h>

namespace py = pybind11;

PYBIND11_MODULE(_C, m) {
  m.doc() = "Compiled core of torch_ext (see torch_ext.thresholded_relu).";
  const auto release_gil = py::call_guard<py::gil_scoped_release>();

  m.def(
      "thresholded_relu",
      [](const at::Tensor& x, double theta) { return torch_ext::thresholded_relu(x, theta); },
      py::arg("x"), py::arg("theta") = 1.0, release_gil);
  m.def(
      "thresholded_relu_",
      [](at::Tensor& x, double theta) { return torch_ext::thresholded_relu_(x, theta); },
      py::arg("x"), py::arg("theta") = 1.0, release_gil);
  m.def(
      "check_inplace_args",
      [](const at::Tensor& x, double theta) { torch_ext::detail::check_inplace_args(x, theta); },
      py::arg("x"), py::arg("theta"),
      "Refuses what the in-place operator's kernels refuse, in the same order and with the same "
      "errors, for implementations of it written in Python.");
  m.def(
      "threshold_in_dtype",
      [](double theta, at::ScalarType dtype) -> py::object {
        const c10::Scalar t = torch_ext::detail::threshold_in_dtype(theta, dtype);
        if (t.isIntegral(/*includeBool=*/false)) {
          return py::int_(t.toLong());
        }
        return py::float_(t.toDouble());
      },
      py::arg("theta"), py::arg("dtype"),
      "The value of `dtype` to compare x against so that `x <= it` holds exactly when "
      "x <= theta: the largest value <= theta (floor(theta) for integers). Used to write "
      "exact thresholds into exported graphs.");
  m.attr("torch_version") = torch_ext::build_info().torch_version;
  // A function: the CUDA kernels' library is loaded after this module (torch_ext/_loading.py).
  m.def("cuda_kernels", [] { return torch_ext::build_info().cuda_kernels; },
        "Whether the CUDA kernels are registered.");
}
