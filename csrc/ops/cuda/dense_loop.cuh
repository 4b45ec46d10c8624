// Definition of DenseLoop (dense_loop.h): a grid-stride loop with 16-byte loads and stores
// when every operand is 16-byte aligned, one element at a time otherwise.
#pragma once

#include "ops/cuda/dense_loop.h"

#include <algorithm>

namespace torch_ext::cuda {

constexpr int kBlockSize = 256;
constexpr int kVectorBytes = 16;

template <typename storage, int kWidth>
struct alignas(kVectorBytes) Pack {
  storage value[kWidth];
};

template <typename scalar_t, int kWidth, bool kBackward>
__global__ void __launch_bounds__(kBlockSize) dense_kernel(
    const detail::storage_t<scalar_t>* in,
    const detail::storage_t<scalar_t>* grad,
    detail::storage_t<scalar_t>* out,
    int64_t n,
    detail::storage_t<scalar_t> threshold) {
  using P = Pack<detail::storage_t<scalar_t>, kWidth>;
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

inline bool is_aligned(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % kVectorBytes == 0;
}

template <typename scalar_t, bool kBackward>
void DenseLoop<scalar_t, kBackward>::launch(
    const void* in,
    const void* grad,
    void* out,
    int64_t n,
    storage threshold,
    int multiprocessors,
    cudaStream_t stream) {
  if (n == 0) {
    return;
  }
  constexpr int kWidth = kVectorBytes / sizeof(storage);
  const bool vectorize = is_aligned(in) && is_aligned(out) && (!kBackward || is_aligned(grad));
  const int64_t work = vectorize ? (n + kWidth - 1) / kWidth : n;
  // Enough resident blocks to saturate memory; the grid-stride loop covers the rest.
  const auto blocks = static_cast<unsigned>(std::min<int64_t>(
      (work + kBlockSize - 1) / kBlockSize, static_cast<int64_t>(multiprocessors) * 32));
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
}

}  // namespace torch_ext::cuda
