// Plain loops over storage values that the compiler vectorizes for the capability this copy
// is built for (see thresholded_relu_loops.h). Nothing here may call into other libraries'
// inline code: it would be compiled with this copy's instruction set and could be shared.
#include "ops/cpu/thresholded_relu_loops.h"

#include <algorithm>
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
  // backward_value's select as an AND with a mask of all ones or all zeros, over blocks that
  // stay in L1: written as `keep ? dy : 0` (or as one loop), GCC reads dy with an AVX-512
  // masked load, measurably slower than a plain load when the loop is memory-bound.
  using bits_t = std::conditional_t<sizeof(storage_t<scalar_t>) == 8, uint64_t,
      std::conditional_t<sizeof(storage_t<scalar_t>) == 4, uint32_t,
      std::conditional_t<sizeof(storage_t<scalar_t>) == 2, uint16_t, uint8_t>>>;
  constexpr int64_t kBlock = 512;
  bits_t mask[kBlock];
  for (int64_t begin = 0; begin < n; begin += kBlock) {
    const int64_t count = std::min(kBlock, n - begin);
    for (int64_t i = 0; i < count; ++i) {
      mask[i] = detail::ThresholdRule<scalar_t>::keep(result[begin + i], threshold) ? bits_t(~bits_t(0))
                                                                                  : bits_t(0);
    }
    for (int64_t i = 0; i < count; ++i) {
      bits_t g;
      std::memcpy(&g, &grad_output[begin + i], sizeof(g));
      g &= mask[i];
      std::memcpy(&grad_input[begin + i], &g, sizeof(g));
    }
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
