// Functional C++ API of the thresholded_relu operator (the Keras ThresholdedReLU activation).
//
//   y = x  where x > theta,  else 0        (theta >= 0, default 1.0; NaN propagates)
//
// Every function goes through the PyTorch dispatcher, so calls are differentiable with
// torch::autograd, traced by TorchScript and run on whichever device x lives on.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace torch_ext {

/// Returns x where x > theta and 0 elsewhere, in a new tensor with x's dtype, device and
/// memory layout. Throws c10::ValueError for a negative or NaN theta and c10::TypeError for a
/// bool or complex x.
at::Tensor thresholded_relu(const at::Tensor& x, double theta = 1.0);

/// In-place variant: overwrites x and returns it.
at::Tensor& thresholded_relu_(at::Tensor& x, double theta = 1.0);

/// Gradient of thresholded_relu with respect to its input, computed from the forward's
/// *output* `result`: grad_output where result > theta (or is NaN), else 0.
at::Tensor thresholded_relu_backward(
    const at::Tensor& grad_output,
    const at::Tensor& result,
    double theta);

/// Facts about the build of this library.
struct BuildInfo {
  std::string torch_version;  ///< version of the LibTorch headers it was compiled against
  bool cuda_kernels;          ///< whether the CUDA kernels are registered (their library,
                              ///< libtorch_ext_ops_cuda, is loaded)
};
BuildInfo build_info();

}  // namespace torch_ext
