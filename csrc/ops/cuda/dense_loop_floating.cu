// DenseLoop for the floating dtypes: forward and backward.
#include "ops/cuda/dense_loop.cuh"

namespace torch_ext::cuda {
template struct DenseLoop<float, false>;
template struct DenseLoop<float, true>;
template struct DenseLoop<double, false>;
template struct DenseLoop<double, true>;
template struct DenseLoop<c10::Half, false>;
template struct DenseLoop<c10::Half, true>;
template struct DenseLoop<c10::BFloat16, false>;
template struct DenseLoop<c10::BFloat16, true>;
}  // namespace torch_ext::cuda
