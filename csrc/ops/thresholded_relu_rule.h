// The element-wise rule of thresholded_relu, shared by every kernel (CPU and CUDA).
//
// Kernels work on each dtype's *storage* type: the dtype itself for float, double and the
// integers, and the raw 16-bit pattern for float16/bfloat16 (so that the comparison is exact,
// NaN payloads survive, and plain integer loops vectorize). `ThresholdRule<T>` gives
//   - threshold(theta): theta as a storage value t such that, for every value x of T,
//     keep(x, t) holds exactly when x > theta as real numbers, or x is NaN;
//   - keep(x, t): the comparison itself.
// forward:  y  = keep(x, t) ? x  : 0
// backward: dx = keep(y, t) ? dy : 0   (valid on the saved output because theta >= 0)
#pragma once

#include <c10/macros/Macros.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace torch_ext::detail {

// Largest float not above theta (theta >= 0, not NaN). double -> float conversion rounds to
// nearest, so at most one step down is needed.
inline float largest_float_not_above(double theta) {
  float t = static_cast<float>(theta);
  if (static_cast<double>(t) > theta) {
    t = std::nextafter(t, 0.0f);
  }
  return t;
}

template <typename T, typename Enable = void>
struct ThresholdRule;

// float and double: compare in the dtype itself against the largest value <= theta.
template <typename T>
struct ThresholdRule<T, std::enable_if_t<std::is_floating_point_v<T>>> {
  using storage_t = T;
  static storage_t threshold(double theta) {
    if constexpr (std::is_same_v<T, double>) {
      return theta;
    } else {
      return largest_float_not_above(theta);
    }
  }
  // Written as !(x <= t) so that NaN is kept.
  C10_HOST_DEVICE static bool keep(storage_t x, storage_t t) {
    return !(x <= t);
  }
};

// Integers: x > theta  <=>  x > floor(theta), clamped to the dtype's range.
template <typename T>
struct ThresholdRule<T, std::enable_if_t<std::is_integral_v<T>>> {
  using storage_t = T;
  static storage_t threshold(double theta) {
    // theta >= 0. Compare in double before converting so that huge theta cannot overflow.
    const double floored = std::floor(theta);
    if (floored >= static_cast<double>(std::numeric_limits<T>::max())) {
      return std::numeric_limits<T>::max();
    }
    return static_cast<T>(floored);
  }
  C10_HOST_DEVICE static bool keep(storage_t x, storage_t t) {
    return x > t;
  }
};

// float16 and bfloat16 on their bit patterns. For the non-negative threshold t, a value x is
// above t exactly when its bits, read as a signed 16-bit integer, exceed t's bits (negative
// values, -0.0 included, read as negative integers); NaNs of either sign are kept.
template <typename T>
struct ThresholdRule<
    T,
    std::enable_if_t<std::is_same_v<T, c10::Half> || std::is_same_v<T, c10::BFloat16>>> {
  using storage_t = uint16_t;
  static constexpr uint16_t kInfinityBits = std::is_same_v<T, c10::Half> ? 0x7C00 : 0x7F80;

  static storage_t threshold(double theta) {
    // Every 16-bit float is a float, so the largest T <= theta is the largest T <= f.
    const float f = largest_float_not_above(theta);
    const T rounded(f);  // round to nearest, may land one step above f
    uint16_t bits;
    std::memcpy(&bits, &rounded, sizeof(bits));
    if (static_cast<float>(rounded) > f) {
      --bits;  // f >= 0, so the next value down is one bit pattern lower
    }
    return bits;
  }
  C10_HOST_DEVICE static bool keep(storage_t x, storage_t t) {
    return static_cast<int16_t>(x) > static_cast<int16_t>(t) ||
        static_cast<uint16_t>(x & 0x7FFF) > kInfinityBits;
  }
};

template <typename scalar_t>
using storage_t = typename ThresholdRule<scalar_t>::storage_t;

// The two element-wise functions every kernel applies, on storage values of dtype scalar_t.
template <typename scalar_t>
C10_HOST_DEVICE inline storage_t<scalar_t> forward_value(
    storage_t<scalar_t> x,
    storage_t<scalar_t> t) {
  return ThresholdRule<scalar_t>::keep(x, t) ? x : storage_t<scalar_t>(0);
}

template <typename scalar_t>
C10_HOST_DEVICE inline storage_t<scalar_t> backward_value(
    storage_t<scalar_t> grad_output,
    storage_t<scalar_t> result,
    storage_t<scalar_t> t) {
  return ThresholdRule<scalar_t>::keep(result, t) ? grad_output : storage_t<scalar_t>(0);
}

}  // namespace torch_ext::detail
