// CUDA: the same contract on the GPU. Without a GPU (or without the CUDA kernels) every test
// reports itself as skipped, with the reason; CTest shows it as skipped, never as passed.
#include "test_util.h"

#include <torch_ext/torch_ext.h>

namespace {

using torch_ext_test::bitwise_equal;
using torch_ext_test::reference;

class Cuda : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device available";
    if (!torch_ext::build_info().cuda_kernels)
      FAIL() << "a GPU is present but torch_ext was built without its CUDA kernels";
  }
  const torch::Device cuda{torch::kCUDA};
};

TEST_F(Cuda, EveryDtypeMatchesReference) {
  for (const auto dtype : torch_ext_test::all_dtypes()) {
    SCOPED_TRACE(torch_ext_test::dtype_name(dtype));
    const auto x = torch_ext_test::sample(dtype, 100003);
    for (const double theta : {0.0, 0.5, 2.5, 1e30}) {
      const auto y = torch_ext::thresholded_relu(x.to(cuda), theta);
      EXPECT_TRUE(y.is_cuda());
      EXPECT_TRUE(bitwise_equal(y, reference(x, theta)));
    }
    auto xc = x.to(cuda);
    torch_ext::thresholded_relu_(xc, 2.5);
    EXPECT_TRUE(bitwise_equal(xc, reference(x, 2.5)));
  }
}

TEST_F(Cuda, ExactThresholdAndLayouts) {
  EXPECT_TRUE(bitwise_equal(torch_ext::thresholded_relu(torch::ones({3}, cuda), 0.99999999),
                            torch::ones({3})));
  const auto x = torch::randn({2, 3, 8, 8}).contiguous(torch::MemoryFormat::ChannelsLast);
  const auto y = torch_ext::thresholded_relu(x.to(cuda), 0.2);
  EXPECT_TRUE(y.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(bitwise_equal(y, reference(x, 0.2)));
  const auto strided = torch::randn({64, 64}).t().slice(0, 0, 64, 3);
  EXPECT_TRUE(bitwise_equal(torch_ext::thresholded_relu(strided.to(cuda).t().t(), 0.1),
                            reference(strided, 0.1)));
}

TEST_F(Cuda, GradientsAndDoubleBackward) {
  for (const auto dtype : torch_ext_test::floating_dtypes()) {
    SCOPED_TRACE(torch_ext_test::dtype_name(dtype));
    const auto x = torch_ext_test::sample(dtype, 4097).to(cuda).requires_grad_();
    const auto y = torch_ext::thresholded_relu(x, 0.5);
    const auto dy = torch::randn({4097}, torch::TensorOptions().dtype(dtype).device(cuda));
    const auto g = torch::autograd::grad({y}, {x}, {dy}, true, true)[0];
    EXPECT_TRUE(bitwise_equal(g, torch_ext_test::reference_grad(dy.cpu(), y.detach().cpu(), 0.5)));
  }
}

TEST_F(Cuda, DeviceMismatchIsRefused) {
  const auto g = torch::ones({3}, cuda);
  EXPECT_THROW(torch_ext::thresholded_relu_backward(g, torch::ones({3}), 1.0), c10::Error);
}

TEST_F(Cuda, ModuleMovedToGpu) {
  torch::nn::Sequential net(torch::nn::Linear(4, 8), torch_ext::nn::ThresholdedReLU(0.1));
  net->to(cuda);
  const auto x = torch::randn({5, 4}, cuda);
  const auto out = net->forward(x);
  EXPECT_TRUE(out.is_cuda());
  const auto pre = net->at<torch::nn::LinearImpl>(0).forward(x);
  EXPECT_TRUE(bitwise_equal(out, reference(pre.cpu(), 0.1)));
}

}  // namespace
