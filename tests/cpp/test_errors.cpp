// Every bad input raises a typed c10::Error subclass with a message naming the problem:
// c10::ValueError for theta and shapes, c10::TypeError for dtypes and layouts.
#include "test_util.h"

#include <torch_ext/torch_ext.h>

#include <cmath>
#include <functional>
#include <limits>

namespace {

// Runs f, expects exception E, and checks that what() contains every fragment.
template <typename E>
void expect_error(const std::function<void()>& f, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    const std::string message = e.what_without_backtrace();
    for (const auto& fragment : fragments) {
      EXPECT_NE(message.find(fragment), std::string::npos)
          << "'" << fragment << "' not in: " << message;
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

TEST(Errors, BadThetaIsValueErrorNamingTheValue) {
  const auto x = torch::randn({4});
  expect_error<c10::ValueError>([&] { torch_ext::thresholded_relu(x, -0.5); },
                                {"thresholded_relu", "theta=-0.5"});
  expect_error<c10::ValueError>([&] { torch_ext::thresholded_relu(x, kNaN); }, {"theta=nan"});
  expect_error<c10::ValueError>([&] { torch_ext::thresholded_relu(x, -kInf); }, {"theta=-inf"});
  auto y = x.clone();
  expect_error<c10::ValueError>([&] { torch_ext::thresholded_relu_(y, -1.0); },
                                {"thresholded_relu_", "theta=-1"});
  EXPECT_TRUE(torch::equal(y, x));  // untouched
  expect_error<c10::ValueError>(
      [&] { torch_ext::thresholded_relu_backward(x, x, kNaN); },
      {"thresholded_relu_backward", "theta=nan"});
  // +inf and 0 are valid.
  EXPECT_NO_THROW(torch_ext::thresholded_relu(x, kInf));
  EXPECT_NO_THROW(torch_ext::thresholded_relu(x, 0.0));
  EXPECT_NO_THROW(torch_ext::thresholded_relu(x, -0.0));
}

TEST(Errors, UnsupportedDtypeIsTypeErrorNamingTheDtype) {
  const std::vector<std::pair<c10::ScalarType, std::string>> refused = {
      {torch::kBool, "Bool"}, {torch::kComplexFloat, "ComplexFloat"},
      {torch::kComplexDouble, "ComplexDouble"}};
  for (const auto& [dtype, name] : refused) {
    SCOPED_TRACE(name);
    auto x = torch::ones({2}, dtype);
    expect_error<c10::TypeError>([&] { torch_ext::thresholded_relu(x); }, {"dtype", name});
    expect_error<c10::TypeError>([&] { torch_ext::thresholded_relu_(x); }, {"dtype", name});
  }
}

TEST(Errors, BackwardArgumentMismatches) {
  const auto g = torch::ones({3});
  expect_error<c10::ValueError>(
      [&] { torch_ext::thresholded_relu_backward(g, torch::ones({4}), 1.0); }, {"shape"});
  expect_error<c10::TypeError>(
      [&] { torch_ext::thresholded_relu_backward(g, torch::ones({3}, torch::kDouble), 1.0); },
      {"Float", "Double"});
  // Integer outputs have no gradient.
  expect_error<c10::TypeError>(
      [&] {
        torch_ext::thresholded_relu_backward(torch::ones({3}, torch::kInt32),
                                             torch::ones({3}, torch::kInt32), 1.0);
      },
      {"Int"});
}

TEST(Errors, UndefinedAndNonStridedTensors) {
  expect_error<c10::ValueError>([] { torch_ext::thresholded_relu(at::Tensor()); }, {"undefined"});
  const auto sparse = torch::eye(3).to_sparse();
  expect_error<c10::TypeError>([&] { torch_ext::thresholded_relu(sparse); }, {"layout"});
}

TEST(Errors, InPlaceOnOverlappingMemoryIsRefused) {
  auto expanded = torch::ones({1}).expand({4});
  EXPECT_THROW(torch_ext::thresholded_relu_(expanded), c10::Error);
}

TEST(Errors, InPlaceOnLeafRequiringGradIsRefused) {
  auto leaf = torch::ones({3}).requires_grad_();
  EXPECT_THROW(torch_ext::thresholded_relu_(leaf), c10::Error);
}

TEST(Errors, ModuleRejectsBadTheta) {
  using torch_ext::nn::ThresholdedReLU;
  using torch_ext::nn::ThresholdedReLUOptions;
  expect_error<c10::ValueError>([] { ThresholdedReLU(-1.0); }, {"ThresholdedReLU", "theta=-1"});
  expect_error<c10::ValueError>([] { ThresholdedReLU(ThresholdedReLUOptions(kNaN).inplace(true)); },
                                {"theta=nan"});
  // Options edited after construction are checked again by reset().
  ThresholdedReLU act(0.5);
  act->options.theta(-3.0);
  expect_error<c10::ValueError>([&] { act->reset(); }, {"theta=-3"});
}

}  // namespace
