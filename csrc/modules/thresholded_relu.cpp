#include <torch_ext/nn/thresholded_relu.h>
#include <torch_ext/thresholded_relu.h>

#include "ops/thresholded_relu.h"

#include <ios>

namespace torch_ext::nn {

ThresholdedReLUImpl::ThresholdedReLUImpl(const ThresholdedReLUOptions& options_)
    : options(options_) {
  reset();
}

at::Tensor ThresholdedReLUImpl::forward(at::Tensor input) {
  if (options.inplace()) {
    return thresholded_relu_(input, options.theta());
  }
  return thresholded_relu(input, options.theta());
}

void ThresholdedReLUImpl::reset() {
  detail::check_theta("ThresholdedReLU", options.theta());
}

void ThresholdedReLUImpl::pretty_print(std::ostream& stream) const {
  stream << "torch_ext::nn::ThresholdedReLU(theta=" << options.theta();
  if (options.inplace()) {
    stream << std::boolalpha << ", inplace=" << options.inplace();
  }
  stream << ")";
}

}  // namespace torch_ext::nn
