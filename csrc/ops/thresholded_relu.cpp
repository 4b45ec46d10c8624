// Operator schemas, the dispatcher-calling C++ API, argument checks, and the kernels that
// need no device code: Meta (shapes for fake tensors and torch.compile) and a portable
// fallback, written with ATen ops, for devices without a dedicated kernel.
#include "ops/thresholded_relu.h"

#include "ops/thresholded_relu_rule.h"
#include <torch_ext/thresholded_relu.h>

#include <ATen/Dispatch_v2.h>
#include <ATen/MemoryOverlap.h>
#include <c10/core/InferenceMode.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/le.h>
#include <ATen/ops/masked_fill.h>
#include <ATen/ops/where.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

#include <cmath>
#include <cstring>

namespace torch_ext {
namespace detail {
namespace {

bool is_supported_dtype(at::ScalarType dtype) {
  switch (dtype) {
    case at::kHalf:
    case at::kBFloat16:
    case at::kFloat:
    case at::kDouble:
    case at::kByte:
    case at::kChar:
    case at::kShort:
    case at::kInt:
    case at::kLong:
      return true;
    default:
      return false;
  }
}

void check_dense_strided(const char* op, const char* name, const at::Tensor& t) {
  TORCH_CHECK_VALUE(t.defined(), op, ": ", name, " is an undefined tensor");
  TORCH_CHECK_TYPE(
      t.layout() == at::kStrided,
      op, ": ", name, " must be a dense (strided) tensor, got layout ", t.layout());
}

}  // namespace

void check_theta(const char* op, double theta) {
  TORCH_CHECK_VALUE(
      !std::isnan(theta) && theta >= 0,
      op, ": theta must be a non-negative number (+inf allowed), got theta=", theta);
}

void check_forward_args(const char* op, const at::Tensor& x, double theta) {
  check_theta(op, theta);
  check_dense_strided(op, "x", x);
  TORCH_CHECK_TYPE(
      is_supported_dtype(x.scalar_type()),
      op, ": x has dtype ", x.scalar_type(),
      ", which is not supported; expected float16, bfloat16, float32, float64, "
      "uint8, int8, int16, int32 or int64");
}

void check_inplace_args(const at::Tensor& x, double theta) {
  check_forward_args("thresholded_relu_", x, theta);
  // PyTorch refuses this when it bumps the version counter, after its kernel has written;
  // checked here, the refused tensor is left as it was.
  TORCH_CHECK(
      !x.is_inference() || c10::InferenceMode::is_enabled(),
      "thresholded_relu_: in-place update to an inference tensor outside InferenceMode is not "
      "allowed (x was created under torch.inference_mode()); clone it first");
  // As PyTorch's own in-place ops: writing through overlapping elements (an expanded tensor)
  // would make the result depend on the write order.
  at::assert_no_internal_overlap(x);
}

void check_backward_args(const at::Tensor& grad_output, const at::Tensor& result, double theta) {
  constexpr const char* op = "thresholded_relu_backward";
  check_theta(op, theta);
  check_dense_strided(op, "grad_output", grad_output);
  check_dense_strided(op, "result", result);
  TORCH_CHECK_TYPE(
      at::isFloatingType(result.scalar_type()) && is_supported_dtype(result.scalar_type()),
      op, ": result has dtype ", result.scalar_type(),
      ", which has no gradient; expected float16, bfloat16, float32 or float64");
  TORCH_CHECK_TYPE(
      grad_output.scalar_type() == result.scalar_type(),
      op, ": grad_output has dtype ", grad_output.scalar_type(),
      " but result has dtype ", result.scalar_type());
  TORCH_CHECK(
      grad_output.device() == result.device(),
      op, ": grad_output is on ", grad_output.device(), " but result is on ", result.device());
  TORCH_CHECK_VALUE(
      grad_output.sizes() == result.sizes(),
      op, ": grad_output has shape ", grad_output.sizes(), " but result has shape ",
      result.sizes());
}

c10::Scalar threshold_in_dtype(double theta, at::ScalarType dtype) {
  check_theta("threshold_in_dtype", theta);
  c10::Scalar threshold;
  AT_DISPATCH_V2(
      dtype, "threshold_in_dtype", AT_WRAP([&] {
        const auto t = ThresholdRule<scalar_t>::threshold(theta);
        scalar_t value;
        std::memcpy(&value, &t, sizeof(value));  // storage bits -> value (16-bit floats)
        threshold = c10::Scalar(value);
      }),
      AT_EXPAND(AT_FLOATING_TYPES), AT_EXPAND(AT_INTEGRAL_TYPES), at::kHalf, at::kBFloat16);
  return threshold;
}

}  // namespace detail

// ---- C++ API: every call goes through the dispatcher ----

at::Tensor thresholded_relu(const at::Tensor& x, double theta) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("torch_ext::thresholded_relu", "")
                             .typed<at::Tensor(const at::Tensor&, double)>();
  return op.call(x, theta);
}

at::Tensor& thresholded_relu_(at::Tensor& x, double theta) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("torch_ext::thresholded_relu_", "")
                             .typed<void(const at::Tensor&, double)>();
  op.call(x, theta);
  return x;
}

at::Tensor thresholded_relu_backward(
    const at::Tensor& grad_output,
    const at::Tensor& result,
    double theta) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("torch_ext::thresholded_relu_backward", "")
                             .typed<at::Tensor(const at::Tensor&, const at::Tensor&, double)>();
  return op.call(grad_output, result, theta);
}

BuildInfo build_info() {
  // The CUDA kernels register themselves when libtorch_ext_ops_cuda is loaded (see
  // CMakeLists.txt): ask the dispatcher rather than this library's build flags.
  static const auto op =
      c10::Dispatcher::singleton().findSchemaOrThrow("torch_ext::thresholded_relu", "");
  return BuildInfo{TORCH_EXT_TORCH_VERSION, op.hasKernelForDispatchKey(c10::DispatchKey::CUDA)};
}

namespace {

// ---- Meta: output metadata only, from the same checks and allocation as the real kernels ----

void forward_meta(const at::Tensor&, const at::Tensor&, double) {}
void backward_meta(const at::Tensor&, const at::Tensor&, const at::Tensor&, double) {}

// ---- Portable fallback for devices without a dedicated kernel ----

at::Tensor forward_fallback(const at::Tensor& x, double theta) {
  detail::check_forward_args("thresholded_relu", x, theta);
  const auto threshold = detail::threshold_in_dtype(theta, x.scalar_type());
  return at::where(x.le(threshold), 0, x);
}

void inplace_fallback(const at::Tensor& x, double theta) {
  detail::check_inplace_args(x, theta);
  const auto threshold = detail::threshold_in_dtype(theta, x.scalar_type());
  x.masked_fill_(x.le(threshold), 0);
}

at::Tensor backward_fallback(
    const at::Tensor& grad_output,
    const at::Tensor& result,
    double theta) {
  detail::check_backward_args(grad_output, result, theta);
  const auto threshold = detail::threshold_in_dtype(theta, result.scalar_type());
  return at::where(result.le(threshold), 0, grad_output);
}

}  // namespace

TORCH_LIBRARY(torch_ext, m) {
  const std::vector<at::Tag> pointwise{at::Tag::pointwise};
  m.def("thresholded_relu(Tensor x, float theta=1.0) -> Tensor", pointwise);
  // Returns nothing: torch.compile refuses custom ops that return an alias of a mutated input.
  m.def("thresholded_relu_(Tensor(a!) x, float theta=1.0) -> ()", pointwise);
  m.def(
      "thresholded_relu_backward(Tensor grad_output, Tensor result, float theta) -> Tensor",
      pointwise);
}

TORCH_LIBRARY_IMPL(torch_ext, Meta, m) {
  m.impl("thresholded_relu", &detail::forward_kernel<forward_meta>);
  m.impl("thresholded_relu_", &detail::inplace_kernel<forward_meta>);
  m.impl("thresholded_relu_backward", &detail::backward_kernel<backward_meta>);
}

TORCH_LIBRARY_IMPL(torch_ext, CompositeExplicitAutograd, m) {
  m.impl("thresholded_relu", &forward_fallback);
  m.impl("thresholded_relu_", &inplace_fallback);
  m.impl("thresholded_relu_backward", &backward_fallback);
}

}  // namespace torch_ext
