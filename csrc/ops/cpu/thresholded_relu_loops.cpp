// Plain loops over storage values that the compiler vectorizes for the capability this copy
// is built for (see thresholded_relu_loops.h). Nothing here may call into other libraries'
// inline code: it would be compiled with this copy's instruction set and could be shared.
#include "ops/cpu/thresholded_relu_loops.h"

#include <cstdint>
#include <cstring>
#include <type_traits>

#ifndef CPU_CAPABILITY
#error "compile this file with -DCPU_CAPABILITY=<DEFAULT|AVX2|AVX512>"
#endif

namespace torch_ext::cpu {
namespace CPU_CAPABILITY {

using detail::storage_t;

template <typename scalar_t>
void forward_contiguous(
    const storage_t<scalar_t>* __restrict x,
    storage_t<scalar_t>* __restrict y,
    int64_t n,
    storage_t<scalar_t> threshold) {
  for (int64_t i = 0; i < n; ++i) {
    y[i] = detail::forward_value<scalar_t>(x[i], threshold);
  }
}

template <typename scalar_t>
void inplace_contiguous(storage_t<scalar_t>* __restrict x, int64_t n, storage_t<scalar_t> threshold) {
  for (int64_t i = 0; i < n; ++i) {
    x[i] = detail::forward_value<scalar_t>(x[i], threshold);
  }
}

template <typename scalar_t>
void backward_contiguous(
    const storage_t<scalar_t>* __restrict grad_output,
    const storage_t<scalar_t>* __restrict result,
    storage_t<scalar_t>* __restrict grad_input,
    int64_t n,
    storage_t<scalar_t> threshold) {
  // backward_value's select as an AND with a mask of all ones or all zeros, in one pass
  // (AVX2: compare, and-not, store). A two-pass version that kept each 512-element block's
  // mask on the stack measured 1.17 x native threshold_backward (16M float32, 1 thread, no
  // page faults, AVX2); this one 0.95-0.99 x there and 0.93-1.01 x at 2 threads in both
  // allocator conditions (benchmarks/RESULTS.md). GCC turns this loop into a zero-masking
  // load of dy for AVX-512, which an earlier measurement found slower: re-measure there.
  using bits_t = std::conditional_t<sizeof(storage_t<scalar_t>) == 8, uint64_t,
      std::conditional_t<sizeof(storage_t<scalar_t>) == 4, uint32_t,
      std::conditional_t<sizeof(storage_t<scalar_t>) == 2, uint16_t, uint8_t>>>;
  for (int64_t i = 0; i < n; ++i) {
    const bits_t mask =
        bits_t(0) - static_cast<bits_t>(detail::ThresholdRule<scalar_t>::keep(result[i], threshold));
    bits_t g;
    std::memcpy(&g, &grad_output[i], sizeof(g));
    g &= mask;
    std::memcpy(&grad_input[i], &g, sizeof(g));
  }
}

#define TORCH_EXT_INSTANTIATE(scalar_t)                                                      \
  template void forward_contiguous<scalar_t>(                                               \
      const storage_t<scalar_t>*, storage_t<scalar_t>*, int64_t, storage_t<scalar_t>);       \
  template void inplace_contiguous<scalar_t>(storage_t<scalar_t>*, int64_t, storage_t<scalar_t>); \
  template void backward_contiguous<scalar_t>(                                              \
      const storage_t<scalar_t>*, const storage_t<scalar_t>*, storage_t<scalar_t>*, int64_t,   \
      storage_t<scalar_t>);

TORCH_EXT_INSTANTIATE(float)
TORCH_EXT_INSTANTIATE(double)
TORCH_EXT_INSTANTIATE(c10::Half)
TORCH_EXT_INSTANTIATE(c10::BFloat16)
TORCH_EXT_INSTANTIATE(uint8_t)
TORCH_EXT_INSTANTIATE(int8_t)
TORCH_EXT_INSTANTIATE(int16_t)
TORCH_EXT_INSTANTIATE(int32_t)
TORCH_EXT_INSTANTIATE(int64_t)
#undef TORCH_EXT_INSTANTIATE

}  // namespace CPU_CAPABILITY
}  // namespace torch_ext::cpu
