// Python bindings (torch_ext._C). The operators themselves live in libtorch_ext_ops, which
// this module links; these are direct entry points that skip torch.ops' Python overhead.
#include <torch_ext/thresholded_relu.h>

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
  const torch_ext::BuildInfo info = torch_ext::build_info();
  m.attr("torch_version") = info.torch_version;
  m.attr("cuda_kernels") = info.cuda_kernels;
}
