// Gradients through torch::autograd, computed in C++ without Python.
#include <torch_ext/torch_ext.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

TEST(ThresholdedReluAutograd, GradientMatchesMask) {
  const auto x = torch::tensor({-1.0, 0.5, 1.0, 1.5, 3.0}, torch::kDouble).requires_grad_();
  const auto y = torch_ext::thresholded_relu(x, 1.0);
  const auto upstream = torch::tensor({1.0, 2.0, 3.0, 4.0, 5.0}, torch::kDouble);
  y.backward(upstream);
  EXPECT_TRUE(torch::equal(x.grad(), torch::tensor({0.0, 0.0, 0.0, 4.0, 5.0}, torch::kDouble)));
}

TEST(ThresholdedReluAutograd, DoubleBackward) {
  const auto x = torch::tensor({0.5, 2.0}, torch::kDouble).requires_grad_();
  const auto y = torch_ext::thresholded_relu(x, 1.0);
  const auto v = torch::ones({2}, torch::kDouble).requires_grad_();
  auto grads = torch::autograd::grad({y}, {x}, {v}, /*retain_graph=*/true, /*create_graph=*/true);
  EXPECT_TRUE(grads[0].requires_grad());
  auto second = torch::autograd::grad({grads[0].sum()}, {v});
  EXPECT_TRUE(torch::equal(second[0], torch::tensor({0.0, 1.0}, torch::kDouble)));
}

TEST(ThresholdedReluAutograd, InPlaceOnNonLeaf) {
  const auto x = torch::tensor({0.5, 2.0, 3.0}, torch::kDouble).requires_grad_();
  auto h = x * 2;  // 1, 4, 6
  torch_ext::thresholded_relu_(h, 2.0);
  h.sum().backward();
  EXPECT_TRUE(torch::equal(x.grad(), torch::tensor({0.0, 2.0, 2.0}, torch::kDouble)));
}

TEST(ThresholdedReluAutograd, InPlaceOnLeafRequiringGradIsRefused) {
  auto x = torch::ones({3}).requires_grad_();
  EXPECT_THROW(torch_ext::thresholded_relu_(x), c10::Error);
}

TEST(ThresholdedReluAutograd, InPlaceOnSavedTensorIsDetected) {
  const auto x = torch::tensor({0.5, 2.0}, torch::kDouble).requires_grad_();
  auto h = x * 1;
  auto z = h.sin();  // sin saves h
  torch_ext::thresholded_relu_(h, 1.0);
  EXPECT_THROW(z.sum().backward(), c10::Error);
}

TEST(ThresholdedReluAutograd, GradcheckStyleFiniteDifferences) {
  const auto x = (torch::randn({50}, torch::kDouble) * 3).requires_grad_();
  const auto y = torch_ext::thresholded_relu(x, 0.3);
  y.sum().backward();
  const double eps = 1e-6;
  for (int64_t i = 0; i < 50; ++i) {
    const double xi = x[i].item<double>();
    if (std::abs(xi - 0.3) < 1e-3) continue;  // not differentiable at theta
    const auto up = torch_ext::thresholded_relu(torch::tensor(xi + eps, torch::kDouble), 0.3);
    const auto down = torch_ext::thresholded_relu(torch::tensor(xi - eps, torch::kDouble), 0.3);
    const double numeric = (up.item<double>() - down.item<double>()) / (2 * eps);
    EXPECT_NEAR(x.grad()[i].item<double>(), numeric, 1e-6);
  }
}

}  // namespace
