// Plain loops over storage values that the compiler vectorizes for the capability this copy
// is built for (see thresholded_relu_loops.h). Nothing here may call into other libraries'
// inline code: it would be compiled with this copy's instruction set and could be shared.
#include "ops/cpu/thresholded_relu_loops.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#ifndef CPU_CAPABILITY
#error "compile this file with -DCPU_CAPABILITY=<DEFAULT|AVX2|AVX512>"
#endif

namespace torch_ext::cpu {
namespace CPU_CAPABILITY {

using detail::storage_t;

// The rule over a block, into any destination; inlined into the loops below, where the
// compiler vectorizes it for this copy's instruction set.
template <typename scalar_t>
inline void forward_block(
    const storage_t<scalar_t>* __restrict x,
    storage_t<scalar_t>* __restrict y,
    int64_t n,
    storage_t<scalar_t> threshold) {
  for (int64_t i = 0; i < n; ++i) {
    y[i] = detail::forward_value<scalar_t>(x[i], threshold);
  }
}

template <typename scalar_t>
inline void backward_block(
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

// Streaming (non-temporal) stores, for outputs larger than the last-level cache: a regular
// store first reads the output line into the cache (read-for-ownership) and evicts input
// that is still to be read, a third of the memory traffic for nothing. The rule fills a
// small buffer that stays in L1; the buffer goes out with streaming stores.
#if defined(__AVX512F__) || defined(__AVX__) || defined(__SSE2__)
constexpr bool kHaveStreamingStores = true;
#else
constexpr bool kHaveStreamingStores = false;
#endif
constexpr int64_t kStreamAlign = 64;         // a cache line; the widest streaming store
// The buffer. 1 KiB measured best in raw loops over 16M floats on a 2-core AVX-512 EPYC:
// 0.80 x regular stores at 2 threads (0.84-0.85 for 512 B, 2 KiB and 4 KiB) and 0.85 at one
// (1.0 for 4 KiB). At this size GCC keeps the block in registers and streams from them.
constexpr int64_t kStreamBlockBytes = 1024;

// dst aligned to kStreamAlign; bytes a multiple of it.
inline void stream_out(char* dst, const char* src, int64_t bytes) {
  for (int64_t i = 0; i < bytes; i += kStreamAlign) {
#if defined(__AVX512F__)
    _mm512_stream_si512(reinterpret_cast<__m512i*>(dst + i),
                        _mm512_load_si512(reinterpret_cast<const void*>(src + i)));
#elif defined(__AVX__)
    for (int64_t k = 0; k < kStreamAlign; k += 32) {
      _mm256_stream_si256(reinterpret_cast<__m256i*>(dst + i + k),
                          _mm256_load_si256(reinterpret_cast<const __m256i*>(src + i + k)));
    }
#elif defined(__SSE2__)
    for (int64_t k = 0; k < kStreamAlign; k += 16) {
      _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i + k),
                       _mm_load_si128(reinterpret_cast<const __m128i*>(src + i + k)));
    }
#else
    (void)dst, (void)src;
#endif
  }
}

// Writes y[0, n) as block(begin, count, destination) computes it. Streaming: regular stores
// up to the first aligned line and for the tail, the L1 buffer and streaming stores between.
template <typename storage, typename Block>
inline void write_output(storage* y, int64_t n, bool streaming, Block block) {
  if (!kHaveStreamingStores || !streaming) {
    block(0, n, y);
    return;
  }
  const auto misalignment = reinterpret_cast<uintptr_t>(y) % kStreamAlign;
  if (misalignment % sizeof(storage) != 0) {  // never aligns: regular stores
    block(0, n, y);
    return;
  }
  const int64_t head = std::min<int64_t>(
      n, misalignment == 0 ? 0 : (kStreamAlign - misalignment) / sizeof(storage));
  block(0, head, y);
  constexpr int64_t kBlock = kStreamBlockBytes / sizeof(storage);
  alignas(kStreamAlign) storage buffer[kBlock];
  int64_t i = head;
  for (; i + kBlock <= n; i += kBlock) {
    block(i, kBlock, buffer);
    stream_out(reinterpret_cast<char*>(y + i), reinterpret_cast<const char*>(buffer),
               kStreamBlockBytes);
  }
  block(i, n - i, y + i);
#if defined(__SSE2__)
  _mm_sfence();  // streaming stores are weakly ordered: make them visible before returning
#endif
}

template <typename scalar_t>
void forward_contiguous(
    const storage_t<scalar_t>* x,
    storage_t<scalar_t>* y,
    int64_t n,
    storage_t<scalar_t> threshold,
    bool streaming) {
  write_output(y, n, streaming, [&](int64_t begin, int64_t count, storage_t<scalar_t>* out) {
    forward_block<scalar_t>(x + begin, out, count, threshold);
  });
}

template <typename scalar_t>
void inplace_contiguous(storage_t<scalar_t>* __restrict x, int64_t n, storage_t<scalar_t> threshold) {
  for (int64_t i = 0; i < n; ++i) {
    x[i] = detail::forward_value<scalar_t>(x[i], threshold);
  }
}

template <typename scalar_t>
void backward_contiguous(
    const storage_t<scalar_t>* grad_output,
    const storage_t<scalar_t>* result,
    storage_t<scalar_t>* grad_input,
    int64_t n,
    storage_t<scalar_t> threshold,
    bool streaming) {
  write_output(grad_input, n, streaming, [&](int64_t begin, int64_t count, storage_t<scalar_t>* out) {
    backward_block<scalar_t>(grad_output + begin, result + begin, out, count, threshold);
  });
}

#define TORCH_EXT_INSTANTIATE(scalar_t)                                                      \
  template void forward_contiguous<scalar_t>(                                               \
      const storage_t<scalar_t>*, storage_t<scalar_t>*, int64_t, storage_t<scalar_t>, bool); \
  template void inplace_contiguous<scalar_t>(storage_t<scalar_t>*, int64_t, storage_t<scalar_t>); \
  template void backward_contiguous<scalar_t>(                                              \
      const storage_t<scalar_t>*, const storage_t<scalar_t>*, storage_t<scalar_t>*, int64_t,   \
      storage_t<scalar_t>, bool);

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
