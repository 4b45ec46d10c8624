// Gradients through C++ torch::autograd (no Python): first and second order, forward mode,
// in-place under autograd, against finite differences and hand-worked masks.
#include "test_util.h"

#include <torch_ext/torch_ext.h>

#include <torch/csrc/autograd/forward_grad.h>

#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace {

using torch_ext_test::bitwise_equal;

TEST(Autograd, GradientIsUpstreamWhereOutputAboveTheta) {
  const auto x = torch::tensor({-1.0, 0.5, 1.0, 1.5, 3.0}, torch::kDouble).requires_grad_();
  const auto y = torch_ext::thresholded_relu(x, 1.0);
  EXPECT_TRUE(y.requires_grad());
  ASSERT_TRUE(y.grad_fn());
  y.backward(torch::tensor({1.0, 2.0, 3.0, 4.0, 5.0}, torch::kDouble));
  EXPECT_TRUE(bitwise_equal(x.grad(), torch::tensor({0.0, 0.0, 0.0, 4.0, 5.0}, torch::kDouble)));
}

TEST(Autograd, EveryFloatingDtype) {
  for (const auto dtype : torch_ext_test::floating_dtypes()) {
    SCOPED_TRACE(torch_ext_test::dtype_name(dtype));
    const auto x = torch_ext_test::sample(dtype, 513).requires_grad_();
    const auto y = torch_ext::thresholded_relu(x, 0.5);
    const auto dy = torch::randn({513}, torch::kFloat64).to(dtype);
    const auto grads = torch::autograd::grad({y}, {x}, {dy});
    EXPECT_TRUE(bitwise_equal(grads[0], torch_ext_test::reference_grad(dy, y.detach(), 0.5)));
  }
}

TEST(Autograd, MatchesCentralFiniteDifferences) {
  torch::manual_seed(3);
  const double theta = 0.3, eps = 1e-6;
  const auto x = (torch::randn({200}, torch::kDouble) * 3).requires_grad_();
  torch_ext::thresholded_relu(x, theta).sum().backward();
  const auto up = torch_ext::thresholded_relu(x.detach() + eps, theta);
  const auto down = torch_ext::thresholded_relu(x.detach() - eps, theta);
  const auto numeric = (up - down) / (2 * eps);
  const auto smooth = (x.detach() - theta).abs() > 1e-3;  // not differentiable at theta
  ASSERT_GT(smooth.sum().item<int64_t>(), 150);
  EXPECT_TRUE(torch::allclose(x.grad().masked_select(smooth), numeric.masked_select(smooth),
                              /*rtol=*/0, /*atol=*/1e-6));
}

TEST(Autograd, DoubleBackward) {
  const auto x = torch::tensor({0.5, 2.0, 3.0}, torch::kDouble).requires_grad_();
  const auto y = torch_ext::thresholded_relu(x, 1.0);
  const auto v = torch::tensor({1.0, 2.0, 3.0}, torch::kDouble).requires_grad_();
  const auto g = torch::autograd::grad({y}, {x}, {v}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  EXPECT_TRUE(bitwise_equal(g.detach(), torch::tensor({0.0, 2.0, 3.0}, torch::kDouble)));
  ASSERT_TRUE(g.requires_grad());
  // g = mask * v is linear in v: d(sum(w * g))/dv = w * mask; and has no gradient wrt x.
  const auto w = torch::tensor({5.0, 6.0, 7.0}, torch::kDouble);
  const auto second = torch::autograd::grad({(g * w).sum()}, {v, x}, {}, true, false,
                                            /*allow_unused=*/true);
  EXPECT_TRUE(bitwise_equal(second[0], torch::tensor({0.0, 6.0, 7.0}, torch::kDouble)));
  EXPECT_TRUE(!second[1].defined() || torch::equal(second[1], torch::zeros_like(x)));
}

TEST(Autograd, BackwardOpIsDifferentiableInGradOutput) {
  const auto result = torch::tensor({0.0, 2.0, 0.0, 5.0}, torch::kDouble);
  const auto dy = torch::randn({4}, torch::kDouble).requires_grad_();
  const auto dx = torch_ext::thresholded_relu_backward(dy, result, 1.0);
  ASSERT_TRUE(dx.requires_grad());
  dx.sum().backward();
  EXPECT_TRUE(bitwise_equal(dy.grad(), torch::tensor({0.0, 1.0, 0.0, 1.0}, torch::kDouble)));
}

TEST(Autograd, ForwardModeJvpMatchesFiniteDifferences) {
  const auto level = torch::autograd::ForwardADLevel::get_next_idx();
  struct Exit {
    uint64_t level;
    ~Exit() { torch::autograd::ForwardADLevel::release_idx(level); }
  } exit_level{level};
  const auto x = torch::tensor({-1.0, 0.5, 1.5, 3.0}, torch::kDouble);
  const auto tangent = torch::tensor({1.0, 2.0, 3.0, 4.0}, torch::kDouble);
  const auto dual = at::_make_dual(x, tangent, static_cast<int64_t>(level));
  const auto y = torch_ext::thresholded_relu(dual, 1.0);
  const auto [primal, jvp] = at::_unpack_dual(y, static_cast<int64_t>(level));
  ASSERT_TRUE(jvp.defined()) << "no forward gradient: jvp would silently be zero";
  EXPECT_TRUE(bitwise_equal(primal, torch::tensor({0.0, 0.0, 1.5, 3.0}, torch::kDouble)));
  const double eps = 1e-6;
  const auto numeric = (torch_ext::thresholded_relu(x + eps * tangent, 1.0) -
                        torch_ext::thresholded_relu(x - eps * tangent, 1.0)) / (2 * eps);
  EXPECT_TRUE(torch::allclose(jvp, numeric, 0, 1e-6)) << jvp << numeric;
  EXPECT_TRUE(bitwise_equal(jvp, torch::tensor({0.0, 0.0, 3.0, 4.0}, torch::kDouble)));
}

TEST(Autograd, InPlaceOnNonLeaf) {
  const auto x = torch::tensor({0.5, 2.0, 3.0}, torch::kDouble).requires_grad_();
  auto h = x * 2;  // 1, 4, 6
  const auto version = h._version();
  torch_ext::thresholded_relu_(h, 2.0);
  EXPECT_GT(h._version(), version);  // the version counter moved
  EXPECT_TRUE(bitwise_equal(h.detach(), torch::tensor({0.0, 4.0, 6.0}, torch::kDouble)));
  h.sum().backward();
  EXPECT_TRUE(bitwise_equal(x.grad(), torch::tensor({0.0, 2.0, 2.0}, torch::kDouble)));
}

TEST(Autograd, InPlaceOnViewOfNonLeafRebasesHistory) {
  const auto x = torch::tensor({0.5, 2.0, 3.0, 0.1}, torch::kDouble).requires_grad_();
  auto h = x * 1;
  auto view = h.slice(0, 1, 3);  // 2, 3
  torch_ext::thresholded_relu_(view, 2.5);
  EXPECT_TRUE(bitwise_equal(h.detach(), torch::tensor({0.5, 0.0, 3.0, 0.1}, torch::kDouble)));
  (h * torch::tensor({1.0, 10.0, 100.0, 1000.0}, torch::kDouble)).sum().backward();
  EXPECT_TRUE(bitwise_equal(x.grad(), torch::tensor({1.0, 0.0, 100.0, 1000.0}, torch::kDouble)));
}

// Gradients that flow through the tensor the in-place call returns (a view), for views of
// several kinds, against PyTorch's own in-place threshold_ on the same graph.
TEST(Autograd, InPlaceOnViewsMatchesNativeThroughTheReturnedView) {
  const std::vector<std::pair<std::string, std::function<at::Tensor(const at::Tensor&)>>> views{
      {"slice", [](const at::Tensor& b) { return b.slice(1, 1, 4); }},
      {"transpose", [](const at::Tensor& b) { return b.t(); }},
      {"diagonal", [](const at::Tensor& b) { return b.diagonal(); }},
      {"view of a view", [](const at::Tensor& b) { return b.view({20}).slice(0, 3, 11); }},
  };
  for (const auto& [name, make_view] : views) {
    SCOPED_TRACE(name);
    const auto run = [&](const std::function<at::Tensor(at::Tensor&)>& op) {
      const auto x = torch::linspace(-0.5, 1.5, 20, torch::kDouble).view({4, 5}).requires_grad_();
      auto base = x * 1;
      auto view = make_view(base);
      const auto out = op(view);
      const auto weights = torch::arange(1, out.numel() + 1, torch::kDouble).view(out.sizes());
      const auto loss = (out * weights).sum() + (base * 0.5).sum();
      return torch::autograd::grad({loss}, {x})[0];
    };
    const auto ours = run([](at::Tensor& v) -> at::Tensor { return torch_ext::thresholded_relu_(v, 0.3); });
    const auto native = run([](at::Tensor& v) -> at::Tensor { return at::threshold_(v, 0.3, 0.0); });
    EXPECT_TRUE(bitwise_equal(ours, native));
  }
}

TEST(Autograd, InPlaceOnSavedTensorIsDetected) {
  const auto x = torch::tensor({0.5, 2.0}, torch::kDouble).requires_grad_();
  auto h = x * 1;
  auto z = h.sin();  // sin saves h
  torch_ext::thresholded_relu_(h, 1.0);
  EXPECT_THROW(z.sum().backward(), c10::Error);
}

TEST(Autograd, InPlaceOnLeafUnderNoGradIsAllowed) {
  auto leaf = torch::tensor({0.5, 2.0}, torch::kDouble).requires_grad_();
  {
    torch::NoGradGuard no_grad;
    torch_ext::thresholded_relu_(leaf, 1.0);
  }
  EXPECT_TRUE(bitwise_equal(leaf.detach(), torch::tensor({0.0, 2.0}, torch::kDouble)));
  EXPECT_TRUE(leaf.requires_grad());
  EXPECT_FALSE(leaf.grad_fn());
}

TEST(Autograd, NoGraphUnderNoGrad) {
  const auto x = torch::randn({4}).requires_grad_();
  torch::NoGradGuard no_grad;
  const auto y = torch_ext::thresholded_relu(x, 0.0);
  EXPECT_FALSE(y.requires_grad());
}

TEST(Autograd, ModulesInSequentialTrainLinearWeights) {
  torch::manual_seed(1);
  torch::nn::Sequential net(torch::nn::Linear(3, 5),
                            torch_ext::nn::ThresholdedReLU(torch_ext::nn::ThresholdedReLUOptions(0.2).inplace(true)),
                            torch::nn::Linear(5, 1));
  const auto x = torch::randn({7, 3});
  net->forward(x).sum().backward();
  // Hand-derived gradient of the first weight: d/dW0 = (mask * w2)^T x, mask = (W0 x + b0 > 0.2).
  auto& l0 = net->at<torch::nn::LinearImpl>(0);
  auto& l2 = net->at<torch::nn::LinearImpl>(2);
  const auto pre = torch::linear(x, l0.weight, l0.bias).detach();
  const auto mask = (pre > 0.2).to(torch::kFloat32);
  const auto expected = (mask * l2.weight.detach()).t().mm(x);
  EXPECT_TRUE(torch::allclose(l0.weight.grad(), expected, 1e-5, 1e-6));
}

}  // namespace
