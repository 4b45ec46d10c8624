// The LibTorch module torch_ext::nn::ThresholdedReLU.
#include <torch_ext/torch_ext.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

namespace {

using torch_ext::nn::ThresholdedReLU;
using torch_ext::nn::ThresholdedReLUOptions;

TEST(ThresholdedReLUModule, OptionsAndDefaults) {
  ThresholdedReLU act;
  EXPECT_EQ(act->options.theta(), 1.0);
  EXPECT_FALSE(act->options.inplace());
  ThresholdedReLU custom(ThresholdedReLUOptions(0.25).inplace(true));
  EXPECT_EQ(custom->options.theta(), 0.25);
  EXPECT_TRUE(custom->options.inplace());
  EXPECT_EQ(act->parameters().size(), 0u);
  EXPECT_EQ(act->buffers().size(), 0u);
}

TEST(ThresholdedReLUModule, PrettyPrint) {
  std::ostringstream plain, inplace;
  plain << *ThresholdedReLU(0.5);
  inplace << *ThresholdedReLU(ThresholdedReLUOptions(2).inplace(true));
  EXPECT_EQ(plain.str(), "torch_ext::nn::ThresholdedReLU(theta=0.5)");
  EXPECT_EQ(inplace.str(), "torch_ext::nn::ThresholdedReLU(theta=2, inplace=true)");
}

TEST(ThresholdedReLUModule, ForwardAndInplace) {
  const auto x = torch::tensor({-1.0f, 0.5f, 1.0f, 1.5f});
  const auto expected = torch::tensor({0.0f, 0.0f, 0.0f, 1.5f});
  EXPECT_TRUE(torch::equal(ThresholdedReLU()(x), expected));
  auto y = x.clone();
  ThresholdedReLU inplace(ThresholdedReLUOptions().inplace(true));
  auto out = inplace(y);
  EXPECT_TRUE(out.is_same(y));
  EXPECT_TRUE(torch::equal(y, expected));
}

TEST(ThresholdedReLUModule, InSequentialAndClone) {
  torch::nn::Sequential net(torch::nn::Linear(4, 8), ThresholdedReLU(0.1), torch::nn::Linear(8, 1));
  const auto out = net->forward(torch::randn({5, 4}));
  EXPECT_EQ(out.sizes(), at::IntArrayRef({5, 1}));
  auto copy = std::dynamic_pointer_cast<torch_ext::nn::ThresholdedReLUImpl>(
      ThresholdedReLU(0.75)->clone());
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->options.theta(), 0.75);
}

TEST(ThresholdedReLUModule, RejectsBadTheta) {
  EXPECT_THROW(ThresholdedReLU(-1.0), c10::ValueError);
  EXPECT_THROW(ThresholdedReLU(std::nan("")), c10::ValueError);
}

}  // namespace
