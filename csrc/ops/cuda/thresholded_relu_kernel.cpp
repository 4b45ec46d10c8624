// CUDA kernels (host side). Operands that share one dense layout (contiguous or any dense
// permutation, such as channels_last) go straight to DenseLoop. Anything else (a slice with a
// step, an expanded tensor, a gradient whose strides differ from the result's) is first copied
// into the dense layout of the output with ATen's copy_: a pass more over memory on those rare
// views, instead of a generic strided kernel compiled for every dtype and CUDA architecture.
#include "ops/cuda/dense_loop.h"
#include "ops/thresholded_relu.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

namespace torch_ext::cuda {
namespace {

template <typename scalar_t, bool kBackward>
void launch(const at::Tensor& in, const at::Tensor* grad, const at::Tensor& out, double theta) {
  DenseLoop<scalar_t, kBackward>::launch(
      in.const_data_ptr(), grad ? grad->const_data_ptr() : nullptr, out.data_ptr(), out.numel(),
      detail::ThresholdRule<scalar_t>::threshold(theta),
      at::cuda::getCurrentDeviceProperties()->multiProcessorCount,
      at::cuda::getCurrentCUDAStream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

bool same_dense_layout(const at::Tensor& a, const at::Tensor& b) {
  return a.is_non_overlapping_and_dense() && a.strides() == b.strides();
}

// Writes thresholded_relu(x) into out, which is x itself or was made by empty_like(x).
void forward_into(const at::Tensor& out, const at::Tensor& x, double theta) {
  const c10::cuda::CUDAGuard device_guard(x.device());
  if (!same_dense_layout(x, out)) {
    // out is dense (empty_like) unless this is in place on a strided view.
    at::Tensor work = out.is_non_overlapping_and_dense()
        ? out
        : at::empty_like(out, at::MemoryFormat::Contiguous);
    work.copy_(x);
    forward_into(work, work, theta);
    if (!work.is_same(out)) {
      out.copy_(work);
    }
    return;
  }
  TORCH_EXT_DISPATCH_ALL_TYPES(x.scalar_type(), "thresholded_relu_cuda", [&] {
    launch<scalar_t, false>(x, nullptr, out, theta);
  });
}

// grad_input was made by empty_like(result): dense, and in result's layout if result is dense.
void backward_into(
    const at::Tensor& grad_input,
    const at::Tensor& grad_output,
    const at::Tensor& result,
    double theta) {
  const c10::cuda::CUDAGuard device_guard(result.device());
  const at::Tensor y = same_dense_layout(result, grad_input)
      ? result
      : at::empty_like(grad_input).copy_(result);
  const at::Tensor dy = same_dense_layout(grad_output, grad_input)
      ? grad_output
      : grad_input.copy_(grad_output);  // then overwritten in place, element by element
  TORCH_EXT_DISPATCH_FLOATING_TYPES(result.scalar_type(), "thresholded_relu_backward_cuda", [&] {
    launch<scalar_t, true>(y, &dy, grad_input, theta);
  });
}

}  // namespace

TORCH_LIBRARY_IMPL(torch_ext, CUDA, m) {
  m.impl("thresholded_relu", &detail::forward_kernel<forward_into>);
  m.impl("thresholded_relu_", &detail::inplace_kernel<forward_into>);
  m.impl("thresholded_relu_backward", &detail::backward_kernel<backward_into>);
}

}  // namespace torch_ext::cuda
