// Internal declarations shared by the operator's kernels (not installed).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Scalar.h>

namespace torch_ext::detail {

// Argument checks every backend kernel runs, so that torch.ops calls, C++ calls and fake
// tensors all refuse bad input with the same typed error.
void check_theta(const char* op, double theta);
void check_forward_args(const char* op, const at::Tensor& x, double theta);
void check_inplace_args(const at::Tensor& x, double theta);
void check_backward_args(const at::Tensor& grad_output, const at::Tensor& result, double theta);

// The threshold as a value of `dtype` (see thresholded_relu_rule.h): comparing `x <= it` in
// x's dtype answers `x <= theta` exactly. Used by the composite (non-kernel) implementations.
c10::Scalar threshold_in_dtype(double theta, at::ScalarType dtype);

}  // namespace torch_ext::detail
