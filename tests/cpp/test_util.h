// Shared helpers of the GoogleTest suite: the independent float64 reference and exact
// comparisons. The reference uses only ATen ops, never torch_ext.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace torch_ext_test {

/// The semantics contract (design §1) in float64: x where x > theta (compared as real numbers,
/// which a float64 comparison is for every dtype here: integers stay below 2**53), NaN kept,
/// else +0. Cast back to x's dtype, which is exact because every kept value came from x.
inline at::Tensor reference(const at::Tensor& x, double theta) {
  const auto x64 = x.to(torch::kFloat64);
  const auto kept = (x64 > theta).logical_or(x64.isnan());
  return torch::where(kept, x64, torch::zeros_like(x64)).to(x.scalar_type());
}

/// Gradient reference: dy where the forward output is > theta or NaN, else 0.
inline at::Tensor reference_grad(const at::Tensor& dy, const at::Tensor& result, double theta) {
  const auto r64 = result.to(torch::kFloat64);
  const auto pass = (r64 > theta).logical_or(r64.isnan());
  return torch::where(pass, dy.to(torch::kFloat64), torch::zeros_like(r64)).to(dy.scalar_type());
}

/// Same shape and dtype, NaN at the same places, and the same bits everywhere else (so +0 and
/// -0 differ); strides may differ. NaN payloads and signs are not part of the contract.
inline ::testing::AssertionResult bitwise_equal(const at::Tensor& actual, const at::Tensor& expected) {
  if (actual.sizes() != expected.sizes() || actual.scalar_type() != expected.scalar_type()) {
    return ::testing::AssertionFailure()
           << "got " << actual.scalar_type() << actual.sizes() << ", expected "
           << expected.scalar_type() << expected.sizes();
  }
  auto a = actual.cpu().contiguous().view({-1});
  auto e = expected.cpu().contiguous().view({-1});
  if (a.is_floating_point()) {
    const auto a_nan = a.isnan(), e_nan = e.isnan();
    if (!torch::equal(a_nan, e_nan)) {
      return ::testing::AssertionFailure() << "NaN at other places: got\n" << actual
                                           << "\nexpected\n" << expected;
    }
    a = a.masked_fill(a_nan, 0);
    e = e.masked_fill(e_nan, 0);
  }
  if (torch::equal(a.view(torch::kUInt8), e.view(torch::kUInt8))) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got\n" << actual << "\nexpected\n" << expected;
}

/// Every dtype the forward supports, and those with a gradient.
inline const std::vector<c10::ScalarType>& all_dtypes() {
  static const std::vector<c10::ScalarType> dtypes = {
      torch::kFloat16, torch::kBFloat16, torch::kFloat32, torch::kFloat64, torch::kUInt8,
      torch::kInt8,    torch::kInt16,    torch::kInt32,   torch::kInt64};
  return dtypes;
}
inline const std::vector<c10::ScalarType>& floating_dtypes() {
  static const std::vector<c10::ScalarType> dtypes = {
      torch::kFloat16, torch::kBFloat16, torch::kFloat32, torch::kFloat64};
  return dtypes;
}

/// Values of `dtype` spread around the thresholds the tests use, including every theta itself
/// (and, for floating dtypes, +-inf, NaN, -0 and subnormals).
inline at::Tensor sample(c10::ScalarType dtype, int64_t n = 4099, uint64_t seed = 0) {
  torch::manual_seed(seed);
  auto x64 = torch::randn({n}, torch::kFloat64) * 40;
  const std::vector<double> fixed = {0.0, 0.5, 1.0, 2.0, 3.0, -1.0, 1.5, 2.5, 100.0, -100.0};
  x64.slice(0, 0, static_cast<int64_t>(fixed.size())).copy_(torch::tensor(fixed, torch::kFloat64));
  if (c10::isIntegralType(dtype, /*includeBool=*/false)) {
    if (dtype == torch::kUInt8) x64 = x64.abs();
    return x64.clamp(-128, 127).round().to(dtype);
  }
  auto x = x64.to(dtype);
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> special = {inf, -inf, nan, -0.0, 1e-40, -1e-40};
  x.slice(0, 10, 10 + static_cast<int64_t>(special.size()))
      .copy_(torch::tensor(special, torch::kFloat64).to(dtype));
  return x;
}

inline std::string dtype_name(c10::ScalarType dtype) { return c10::toString(dtype); }

}  // namespace torch_ext_test
