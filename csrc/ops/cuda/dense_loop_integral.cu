// DenseLoop for the integer dtypes: forward only (they have no gradient).
#include "ops/cuda/dense_loop.cuh"

namespace torch_ext::cuda {
template struct DenseLoop<uint8_t, false>;
template struct DenseLoop<int8_t, false>;
template struct DenseLoop<int16_t, false>;
template struct DenseLoop<int32_t, false>;
template struct DenseLoop<int64_t, false>;
}  // namespace torch_ext::cuda
