// Contiguous CPU loops, compiled once per CPU capability (DEFAULT, AVX2, AVX512) from
// thresholded_relu_loops.cpp with that capability's compiler flags. Each copy lives in its
// own namespace (CPU_CAPABILITY in the .cpp), so the linker cannot merge
// an AVX-512 copy into the path taken on CPUs without AVX-512.
#pragma once

#include "ops/thresholded_relu_rule.h"

#include <cstdint>

#define TORCH_EXT_DECLARE_CPU_LOOPS(capability)                                            \
  namespace capability {                                                                  \
  template <typename scalar_t>                                                            \
  void forward_contiguous(                                                                \
      const detail::storage_t<scalar_t>* x,                                               \
      detail::storage_t<scalar_t>* y,                                                     \
      int64_t n,                                                                          \
      detail::storage_t<scalar_t> threshold);                                             \
  template <typename scalar_t>                                                            \
  void inplace_contiguous(                                                                \
      detail::storage_t<scalar_t>* x,                                                     \
      int64_t n,                                                                          \
      detail::storage_t<scalar_t> threshold);                                             \
  template <typename scalar_t>                                                            \
  void backward_contiguous(                                                               \
      const detail::storage_t<scalar_t>* grad_output,                                     \
      const detail::storage_t<scalar_t>* result,                                          \
      detail::storage_t<scalar_t>* grad_input,                                            \
      int64_t n,                                                                          \
      detail::storage_t<scalar_t> threshold);                                             \
  }

namespace torch_ext::cpu {
TORCH_EXT_DECLARE_CPU_LOOPS(DEFAULT)
#ifdef TORCH_EXT_HAVE_AVX2
TORCH_EXT_DECLARE_CPU_LOOPS(AVX2)
#endif
#ifdef TORCH_EXT_HAVE_AVX512
TORCH_EXT_DECLARE_CPU_LOOPS(AVX512)
#endif
}  // namespace torch_ext::cpu
