// Internal declarations shared by the operator's kernels (not installed).
#pragma once

#include <ATen/Dispatch_v2.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty_like.h>
#include <c10/core/Scalar.h>

// AT_DISPATCH over the dtypes the operators accept (all of them for the forward, the floating
// ones for the backward), binding scalar_t.
#define TORCH_EXT_DISPATCH_ALL_TYPES(dtype, name, ...)                             \
  AT_DISPATCH_V2(dtype, name, AT_WRAP(__VA_ARGS__), AT_EXPAND(AT_FLOATING_TYPES), \
                 AT_EXPAND(AT_INTEGRAL_TYPES), at::kHalf, at::kBFloat16)
#define TORCH_EXT_DISPATCH_FLOATING_TYPES(dtype, name, ...)                        \
  AT_DISPATCH_V2(dtype, name, AT_WRAP(__VA_ARGS__), AT_EXPAND(AT_FLOATING_TYPES), \
                 at::kHalf, at::kBFloat16)

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

// The operators' kernels for one backend, from its two element-wise writers:
//   forward_into(out, x, theta)       out = thresholded_relu(x); out is x itself (in place)
//                                     or was made by empty_like(x)
//   backward_into(grad_input, grad_output, result, theta)   grad_input made by empty_like(result)
// Each kernel checks its arguments first and allocates outputs the same way on every backend
// (the Meta kernels use no-op writers), so all backends agree on errors and layouts.
using ForwardInto = void (*)(const at::Tensor& out, const at::Tensor& x, double theta);
using BackwardInto = void (*)(
    const at::Tensor& grad_input,
    const at::Tensor& grad_output,
    const at::Tensor& result,
    double theta);

template <ForwardInto forward_into>
at::Tensor forward_kernel(const at::Tensor& x, double theta) {
  check_forward_args("thresholded_relu", x, theta);
  at::Tensor out = at::empty_like(x);
  forward_into(out, x, theta);
  return out;
}

template <ForwardInto forward_into>
void inplace_kernel(const at::Tensor& x, double theta) {
  check_inplace_args(x, theta);
  forward_into(x, x, theta);
}

template <BackwardInto backward_into>
at::Tensor backward_kernel(const at::Tensor& grad_output, const at::Tensor& result, double theta) {
  check_backward_args(grad_output, result, theta);
  at::Tensor grad_input = at::empty_like(result);
  backward_into(grad_input, grad_output, result, theta);
  return grad_input;
}

}  // namespace torch_ext::detail
