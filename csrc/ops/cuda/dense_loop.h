// The CUDA element-wise loop of the operators, over dense memory. Declared here for the host
// code (thresholded_relu_kernel.cpp); defined in dense_loop.cuh and compiled, per dtype, in
// dense_loop_*.cu, which CMake builds in parallel and which include nothing of ATen.
#pragma once

#include "ops/thresholded_relu_rule.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace torch_ext::cuda {

// launch(): for i < n, out[i] = forward_value(in[i]), or with kBackward
// out[i] = backward_value(grad[i], in[i]) (thresholded_relu_rule.h), on the stream. All
// operands have one dense layout (same sizes and strides: element i sits at the same offset in
// each), and may be the same buffer. Launch errors are the caller's to check.
template <typename scalar_t, bool kBackward>
struct DenseLoop {
  using storage = detail::storage_t<scalar_t>;
  static void launch(
      const void* in,
      const void* grad,
      void* out,
      int64_t n,
      storage threshold,
      int multiprocessors,
      cudaStream_t stream);
};

}  // namespace torch_ext::cuda
