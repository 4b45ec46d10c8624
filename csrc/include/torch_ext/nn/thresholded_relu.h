// LibTorch module torch_ext::nn::ThresholdedReLU, shaped like LibTorch's own activations
// (compare torch::nn::Threshold): an Options struct, an Impl, and a TORCH_MODULE holder.
#pragma once

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include <ostream>

namespace torch_ext::nn {

/// Options for ThresholdedReLU.
///
///   ThresholdedReLU act(ThresholdedReLUOptions().theta(0.5).inplace(true));
struct ThresholdedReLUOptions {
  /* implicit */ ThresholdedReLUOptions(double theta = 1.0) : theta_(theta) {}

  /// Values at or below theta become 0. Must be >= 0 and not NaN (+inf is allowed).
  TORCH_ARG(double, theta);

  /// Overwrite the input instead of allocating the output. Default: false.
  TORCH_ARG(bool, inplace) = false;
};

/// Applies thresholded_relu element-wise: x where x > theta, else 0.
class ThresholdedReLUImpl : public torch::nn::Cloneable<ThresholdedReLUImpl> {
 public:
  explicit ThresholdedReLUImpl(const ThresholdedReLUOptions& options_ = {});

  at::Tensor forward(at::Tensor input);

  /// Validates the options (the module has no parameters or buffers).
  void reset() override;

  /// Prints `torch_ext::nn::ThresholdedReLU(theta=0.5, inplace=true)`.
  void pretty_print(std::ostream& stream) const override;

  /// The options with which this module was constructed.
  ThresholdedReLUOptions options;
};

TORCH_MODULE(ThresholdedReLU);

}  // namespace torch_ext::nn
