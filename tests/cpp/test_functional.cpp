// The semantics contract of thresholded_relu, from C++, against float64 references.
#include <torch_ext/torch_ext.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace {

// Reference: x > theta compared in float64 (exact for every dtype but int64 beyond 2**53,
// which the tests below do not use), then cast back.
at::Tensor reference(const at::Tensor& x, double theta) {
  const auto x64 = x.to(torch::kFloat64);
  return torch::where(x64 > theta, x64, torch::zeros_like(x64))
      .where(~x64.isnan(), x64)
      .to(x.scalar_type());
}

void expect_bitwise_equal(const at::Tensor& actual, const at::Tensor& expected) {
  ASSERT_EQ(actual.sizes(), expected.sizes());
  ASSERT_EQ(actual.scalar_type(), expected.scalar_type());
  EXPECT_TRUE(torch::equal(actual.view({-1}).view(torch::kUInt8).flatten(),
                           expected.contiguous().view({-1}).view(torch::kUInt8).flatten()))
      << actual << "\nexpected\n" << expected;
}

class AllDtypes : public ::testing::TestWithParam<c10::ScalarType> {};

TEST_P(AllDtypes, MatchesFloat64Reference) {
  const auto dtype = GetParam();
  const auto x = (torch::randn({7, 129}, torch::kFloat64) * 40).to(dtype);
  for (double theta : {0.0, 0.5, 1.0, 3.0, 1e30}) {
    const auto y = torch_ext::thresholded_relu(x, theta);
    expect_bitwise_equal(y.contiguous(), reference(x, theta));
  }
}

TEST_P(AllDtypes, InPlaceMatchesOutOfPlace) {
  const auto dtype = GetParam();
  auto x = (torch::randn({1000}, torch::kFloat64) * 10).to(dtype);
  const auto expected = torch_ext::thresholded_relu(x, 2.5);
  auto& returned = torch_ext::thresholded_relu_(x, 2.5);
  EXPECT_TRUE(returned.is_same(x));
  expect_bitwise_equal(x, expected);
}

INSTANTIATE_TEST_SUITE_P(
    Dtypes,
    AllDtypes,
    ::testing::Values(torch::kFloat16, torch::kBFloat16, torch::kFloat32, torch::kFloat64,
                      torch::kUInt8, torch::kInt8, torch::kInt16, torch::kInt32, torch::kInt64));

TEST(ThresholdedRelu, ExactThresholdIsNotRounded) {
  // float32(0.99999999) == 1.0f, yet 1.0 > 0.99999999.
  const auto y = torch_ext::thresholded_relu(torch::ones({3}, torch::kFloat32), 0.99999999);
  EXPECT_TRUE(torch::equal(y, torch::ones({3}, torch::kFloat32)));
  const auto i = torch_ext::thresholded_relu(torch::tensor({0, 1, 2}, torch::kInt32), 0.5);
  EXPECT_TRUE(torch::equal(i, torch::tensor({0, 1, 2}, torch::kInt32)));
  const auto at_theta = torch_ext::thresholded_relu(torch::tensor({1.0f}), 1.0);
  EXPECT_EQ(at_theta.item<float>(), 0.0f);
}

TEST(ThresholdedRelu, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const auto y = torch_ext::thresholded_relu(torch::tensor({-inf, inf, nan, -2.0f, -0.0f}), 1.0);
  EXPECT_EQ(y[0].item<float>(), 0.0f);
  EXPECT_FALSE(std::signbit(y[0].item<float>()));
  EXPECT_EQ(y[1].item<float>(), inf);
  EXPECT_TRUE(std::isnan(y[2].item<float>()));
  EXPECT_FALSE(std::signbit(y[3].item<float>()));  // +0.0, not -0.0
  EXPECT_FALSE(std::signbit(y[4].item<float>()));
  const auto all_zero = torch_ext::thresholded_relu(torch::tensor({inf, 1e38f}), inf);
  EXPECT_TRUE(torch::equal(all_zero, torch::zeros({2})));
}

TEST(ThresholdedRelu, KeepsLayout) {
  const auto x = torch::randn({2, 3, 8, 8}).contiguous(torch::MemoryFormat::ChannelsLast);
  const auto y = torch_ext::thresholded_relu(x, 0.2);
  EXPECT_TRUE(y.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::equal(y, reference(x, 0.2)));

  const auto strided = torch::randn({64, 64}).t().slice(0, 0, 64, 3);
  EXPECT_TRUE(torch::equal(torch_ext::thresholded_relu(strided, 0.1), reference(strided, 0.1)));
}

TEST(ThresholdedRelu, EmptyAndScalar) {
  EXPECT_EQ(torch_ext::thresholded_relu(torch::empty({0, 5})).sizes(), at::IntArrayRef({0, 5}));
  EXPECT_EQ(torch_ext::thresholded_relu(torch::tensor(3.0)).item<float>(), 3.0f);
  EXPECT_EQ(torch_ext::thresholded_relu(torch::tensor(0.5)).item<float>(), 0.0f);
}

TEST(ThresholdedRelu, BadInputsRaiseTypedErrors) {
  const auto x = torch::randn({4});
  EXPECT_THROW(torch_ext::thresholded_relu(x, -0.5), c10::ValueError);
  EXPECT_THROW(torch_ext::thresholded_relu(x, std::nan("")), c10::ValueError);
  EXPECT_THROW(torch_ext::thresholded_relu(torch::ones({2}, torch::kBool)), c10::TypeError);
  EXPECT_THROW(torch_ext::thresholded_relu(torch::ones({2}, torch::kComplexFloat)), c10::TypeError);
  auto expanded = torch::ones({1}).expand({4});
  EXPECT_THROW(torch_ext::thresholded_relu_(expanded), c10::Error);
  EXPECT_THROW(
      torch_ext::thresholded_relu_backward(torch::ones({3}), torch::ones({4}), 1.0),
      c10::ValueError);
  EXPECT_THROW(
      torch_ext::thresholded_relu_backward(torch::ones({3}), torch::ones({3}, torch::kDouble), 1.0),
      c10::TypeError);
  try {
    torch_ext::thresholded_relu(x, -2.0);
    FAIL() << "no error";
  } catch (const c10::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("theta=-2"), std::string::npos) << e.what();
  }
}

}  // namespace
