// CUDA kernels. Dense tensors (contiguous or any dense permutation, such as channels_last)
// take a flat grid-stride loop with 16-byte loads and stores; other strided views go through
// TensorIterator's gpu_kernel, which handles arbitrary strides and 64-bit sizes. Both apply
// the element-wise rule of thresholded_relu_rule.h, shared with the CPU kernels.
#include "ops/thresholded_relu.h"
#include "ops/thresholded_relu_rule.h"

#include <ATen/TensorIterator.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/native/cuda/Loops.cuh>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

// Not in an anonymous namespace: nvcc's extended __device__ lambdas need an enclosing
// function with external linkage.
namespace torch_ext::cuda {

using detail::storage_t;

constexpr int kBlockSize = 256;
constexpr int kVectorBytes = 16;

template <typename storage, int kWidth>
struct alignas(kVectorBytes) Pack {
  storage value[kWidth];
};

// Storage value <-> the dtype's C++ type, for the TensorIterator path.
template <typename scalar_t>
__host__ __device__ __forceinline__ storage_t<scalar_t> to_storage(scalar_t v) {
  if constexpr (std::is_same_v<scalar_t, c10::Half> || std::is_same_v<scalar_t, c10::BFloat16>) {
    return v.x;
  } else {
    return v;
  }
}
template <typename scalar_t>
__host__ __device__ __forceinline__ scalar_t from_storage(storage_t<scalar_t> v) {
  if constexpr (std::is_same_v<scalar_t, c10::Half> || std::is_same_v<scalar_t, c10::BFloat16>) {
    return scalar_t(v, scalar_t::from_bits());
  } else {
    return v;
  }
}

// out[i] = forward_value(in[i]) (in may equal out: in-place), or, with a gradient,
// out[i] = backward_value(grad[i], in[i]). kWidth elements per 16-byte access.
template <typename scalar_t, int kWidth, bool kBackward>
__global__ void __launch_bounds__(kBlockSize) dense_kernel(
    const storage_t<scalar_t>* in,
    const storage_t<scalar_t>* grad,
    storage_t<scalar_t>* out,
    int64_t n,
    storage_t<scalar_t> threshold) {
  using storage = storage_t<scalar_t>;
  using P = Pack<storage, kWidth>;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t packs = n / kWidth;
  for (int64_t p = first; p < packs; p += stride) {
    P v = reinterpret_cast<const P*>(in)[p];
    if constexpr (kBackward) {
      const P g = reinterpret_cast<const P*>(grad)[p];
#pragma unroll
      for (int k = 0; k < kWidth; ++k) {
        v.value[k] = detail::backward_value<scalar_t>(g.value[k], v.value[k], threshold);
      }
    } else {
#pragma unroll
      for (int k = 0; k < kWidth; ++k) {
        v.value[k] = detail::forward_value<scalar_t>(v.value[k], threshold);
      }
    }
    reinterpret_cast<P*>(out)[p] = v;
  }
  for (int64_t i = packs * kWidth + first; i < n; i += stride) {
    out[i] = kBackward ? detail::backward_value<scalar_t>(grad[i], in[i], threshold)
                       : detail::forward_value<scalar_t>(in[i], threshold);
  }
}

bool is_aligned(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % kVectorBytes == 0;
}

template <typename scalar_t, bool kBackward>
void launch_dense(
    const void* in,
    const void* grad,
    void* out,
    int64_t n,
    storage_t<scalar_t> threshold) {
  if (n == 0) {
    return;
  }
  using storage = storage_t<scalar_t>;
  constexpr int kWidth = kVectorBytes / sizeof(storage);
  const bool vectorize = is_aligned(in) && is_aligned(out) && (!kBackward || is_aligned(grad));
  const int64_t work = vectorize ? (n + kWidth - 1) / kWidth : n;
  // Enough resident blocks to saturate memory; the grid-stride loop covers the rest.
  const int64_t max_blocks =
      static_cast<int64_t>(at::cuda::getCurrentDeviceProperties()->multiProcessorCount) * 32;
  const auto blocks =
      static_cast<unsigned>(std::min<int64_t>((work + kBlockSize - 1) / kBlockSize, max_blocks));
  const auto stream = at::cuda::getCurrentCUDAStream();
  const auto* in_s = static_cast<const storage*>(in);
  const auto* grad_s = static_cast<const storage*>(grad);
  auto* out_s = static_cast<storage*>(out);
  if (vectorize) {
    dense_kernel<scalar_t, kWidth, kBackward>
        <<<blocks, kBlockSize, 0, stream>>>(in_s, grad_s, out_s, n, threshold);
  } else {
    dense_kernel<scalar_t, 1, kBackward>
        <<<blocks, kBlockSize, 0, stream>>>(in_s, grad_s, out_s, n, threshold);
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// Writes thresholded_relu(x) into out, which is x itself or was made by empty_like(x).
void forward_into(const at::Tensor& out, const at::Tensor& x, double theta) {
  const c10::cuda::CUDAGuard device_guard(x.device());
  const bool inplace = out.is_same(x);
  TORCH_EXT_DISPATCH_ALL_TYPES(x.scalar_type(), "thresholded_relu_cuda", [&] {
    const auto threshold = detail::ThresholdRule<scalar_t>::threshold(theta);
    if (x.is_non_overlapping_and_dense() && (inplace || out.strides() == x.strides())) {
      launch_dense<scalar_t, false>(x.const_data_ptr(), nullptr, out.data_ptr(), x.numel(),
                                    threshold);
      return;
    }
    auto iter = at::TensorIteratorConfig()
                    .add_output(out)
                    .add_const_input(x)
                    .set_check_mem_overlap(!inplace)
                    .build();
    at::native::gpu_kernel(iter, [threshold] __host__ __device__(scalar_t v) -> scalar_t {
      return from_storage<scalar_t>(detail::forward_value<scalar_t>(to_storage(v), threshold));
    });
  });
}

void backward_into(
    const at::Tensor& grad_input,
    const at::Tensor& grad_output,
    const at::Tensor& result,
    double theta) {
  const c10::cuda::CUDAGuard device_guard(result.device());
  TORCH_EXT_DISPATCH_FLOATING_TYPES(result.scalar_type(), "thresholded_relu_backward_cuda", [&] {
    const auto threshold = detail::ThresholdRule<scalar_t>::threshold(theta);
    if (result.is_non_overlapping_and_dense() && grad_output.strides() == result.strides()) {
      launch_dense<scalar_t, true>(result.const_data_ptr(), grad_output.const_data_ptr(),
                                   grad_input.data_ptr(), result.numel(), threshold);
      return;
    }
    auto iter = at::TensorIteratorConfig()
                    .add_output(grad_input)
                    .add_const_input(grad_output)
                    .add_const_input(result)
                    .build();
    at::native::gpu_kernel(iter, [threshold] __host__ __device__(scalar_t g, scalar_t y) -> scalar_t {
      return from_storage<scalar_t>(
          detail::backward_value<scalar_t>(to_storage(g), to_storage(y), threshold));
    });
  });
}

TORCH_LIBRARY_IMPL(torch_ext, CUDA, m) {
  m.impl("thresholded_relu", &detail::forward_kernel<forward_into>);
  m.impl("thresholded_relu_", &detail::inplace_kernel<forward_into>);
  m.impl("thresholded_relu_backward", &detail::backward_kernel<backward_into>);
}

}  // namespace torch_ext::cuda
