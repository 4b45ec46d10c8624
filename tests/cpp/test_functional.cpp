// The functional API (torch_ext::thresholded_relu, thresholded_relu_, thresholded_relu_backward)
// against hand-worked values and the float64 reference of test_util.h: every dtype, the exact
// threshold rule, special values, layouts, and the library's build facts and registrations.
#include "test_util.h"

#include <torch_ext/torch_ext.h>

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/version.h>

#include <cmath>
#include <limits>

namespace {

using torch_ext_test::bitwise_equal;
using torch_ext_test::reference;

const std::vector<double> kThetas = {0.0, 0.5, 1.0, 2.5, 3.0, 1e30,
                                     std::numeric_limits<double>::infinity()};

TEST(Functional, HandWorkedValues) {
  const auto x = torch::tensor({-2.0f, 0.0f, 0.5f, 1.0f, 1.0000001f, 3.0f});
  EXPECT_TRUE(bitwise_equal(torch_ext::thresholded_relu(x),  // default theta = 1.0
                            torch::tensor({0.0f, 0.0f, 0.0f, 0.0f, 1.0000001f, 3.0f})));
  EXPECT_TRUE(bitwise_equal(torch_ext::thresholded_relu(x, 0.0),
                            torch::tensor({0.0f, 0.0f, 0.5f, 1.0f, 1.0000001f, 3.0f})));
  const auto ints = torch::tensor({-3, 0, 1, 2, 3}, torch::kInt64);
  EXPECT_TRUE(bitwise_equal(torch_ext::thresholded_relu(ints, 2.0),
                            torch::tensor({0, 0, 0, 0, 3}, torch::kInt64)));
}

TEST(Functional, EveryDtypeMatchesFloat64Reference) {
  for (const auto dtype : torch_ext_test::all_dtypes()) {
    const auto x = torch_ext_test::sample(dtype);
    for (const double theta : kThetas) {
      SCOPED_TRACE(torch_ext_test::dtype_name(dtype) + " theta=" + std::to_string(theta));
      const auto y = torch_ext::thresholded_relu(x, theta);
      EXPECT_FALSE(y.is_same(x));
      EXPECT_TRUE(bitwise_equal(y, reference(x, theta)));
    }
  }
}

TEST(Functional, InPlaceEveryDtypeReturnsInputAndMatchesReference) {
  for (const auto dtype : torch_ext_test::all_dtypes()) {
    SCOPED_TRACE(torch_ext_test::dtype_name(dtype));
    auto x = torch_ext_test::sample(dtype, 1000, 1);
    const auto expected = reference(x, 2.5);
    const auto data = x.data_ptr();
    auto& returned = torch_ext::thresholded_relu_(x, 2.5);
    EXPECT_TRUE(returned.is_same(x));
    EXPECT_EQ(x.data_ptr(), data);
    EXPECT_TRUE(bitwise_equal(x, expected));
  }
}

TEST(Functional, ThresholdIsComparedExactlyNotRoundedToDtype) {
  // float32(0.99999999) == 1.0f, yet 1.0 > 0.99999999: the value is kept.
  EXPECT_TRUE(bitwise_equal(torch_ext::thresholded_relu(torch::ones({3}), 0.99999999),
                            torch::ones({3})));
  // float16(1.0004) rounds to 1.0; 1.0 <= 1.0004 must give 0, 1.00097656 (next half) kept.
  const auto h = torch::tensor({1.0, 1.0009765625}, torch::kFloat64).to(torch::kHalf);
  EXPECT_TRUE(bitwise_equal(torch_ext::thresholded_relu(h, 1.0004),
                            torch::tensor({0.0, 1.0009765625}, torch::kFloat64).to(torch::kHalf)));
  // bfloat16: 1.0 and the next value 1.0078125; theta between them.
  const auto b = torch::tensor({1.0, 1.0078125}, torch::kFloat64).to(torch::kBFloat16);
  EXPECT_TRUE(bitwise_equal(torch_ext::thresholded_relu(b, 1.001),
                            torch::tensor({0.0, 1.0078125}, torch::kFloat64).to(torch::kBFloat16)));
  // Integers compare against floor(theta): 1 > 0.5, 2 > 1.9, 1 <= 1.0.
  EXPECT_TRUE(bitwise_equal(torch_ext::thresholded_relu(torch::tensor({0, 1, 2}, torch::kInt32), 0.5),
                            torch::tensor({0, 1, 2}, torch::kInt32)));
  EXPECT_TRUE(bitwise_equal(torch_ext::thresholded_relu(torch::tensor({1, 2}, torch::kInt8), 1.9),
                            torch::tensor({0, 2}, torch::kInt8)));
  EXPECT_TRUE(bitwise_equal(torch_ext::thresholded_relu(torch::tensor({1, 2}, torch::kInt16), 1.0),
                            torch::tensor({0, 2}, torch::kInt16)));
  // theta beyond an integer dtype's range clamps: everything is 0.
  EXPECT_TRUE(bitwise_equal(
      torch_ext::thresholded_relu(torch::tensor({255}, torch::kUInt8), 300.0),
      torch::tensor({0}, torch::kUInt8)));
  EXPECT_TRUE(bitwise_equal(
      torch_ext::thresholded_relu(torch::tensor({INT64_MAX}, torch::kInt64), 1e300),
      torch::tensor({int64_t{0}}, torch::kInt64)));
  // x exactly at theta gives 0.
  EXPECT_EQ(torch_ext::thresholded_relu(torch::tensor({1.0f}), 1.0).item<float>(), 0.0f);
}

TEST(Functional, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const auto y = torch_ext::thresholded_relu(torch::tensor({-inf, inf, nan, -2.0f, -0.0f}), 1.0);
  EXPECT_EQ(y[0].item<float>(), 0.0f);
  EXPECT_FALSE(std::signbit(y[0].item<float>()));  // -inf -> +0 (Keras gives NaN)
  EXPECT_EQ(y[1].item<float>(), inf);
  EXPECT_TRUE(std::isnan(y[2].item<float>()));     // NaN propagates
  EXPECT_FALSE(std::signbit(y[3].item<float>()));  // +0.0, not -0.0
  EXPECT_FALSE(std::signbit(y[4].item<float>()));
  // theta = +inf maps everything (but NaN) to 0; subnormals above theta=0 are kept.
  EXPECT_TRUE(bitwise_equal(torch_ext::thresholded_relu(torch::tensor({inf, 1e38f}), inf),
                            torch::zeros({2})));
  const float tiny = std::numeric_limits<float>::denorm_min();
  EXPECT_EQ(torch_ext::thresholded_relu(torch::tensor({tiny}), 0.0).item<float>(), tiny);
}

TEST(Functional, KeepsChannelsLastLayout) {
  for (const auto dtype : {torch::kFloat32, torch::kBFloat16, torch::kInt32}) {
    SCOPED_TRACE(torch_ext_test::dtype_name(dtype));
    const auto x = torch_ext_test::sample(dtype, 2 * 3 * 8 * 8)
                       .view({2, 3, 8, 8})
                       .contiguous(torch::MemoryFormat::ChannelsLast);
    const auto y = torch_ext::thresholded_relu(x, 0.5);
    EXPECT_TRUE(y.is_contiguous(torch::MemoryFormat::ChannelsLast));
    EXPECT_EQ(y.strides(), x.strides());
    EXPECT_TRUE(bitwise_equal(y, reference(x, 0.5)));
  }
  const auto x3d = torch::randn({2, 3, 4, 5, 6}).contiguous(torch::MemoryFormat::ChannelsLast3d);
  const auto y3d = torch_ext::thresholded_relu(x3d, 0.1);
  EXPECT_TRUE(y3d.is_contiguous(torch::MemoryFormat::ChannelsLast3d));
  EXPECT_TRUE(bitwise_equal(y3d, reference(x3d, 0.1)));
}

TEST(Functional, NonContiguousInputs) {
  const auto base = torch::randn({64, 96}, torch::kFloat64).to(torch::kFloat32) * 3;
  const std::vector<at::Tensor> views = {
      base.t(),                                 // transposed
      base.slice(1, 0, 96, 3),                  // strided columns
      base.t().slice(0, 1, 96, 2).slice(1, 5),  // both, offset storage
      base.unsqueeze(0).expand({3, 64, 96}),    // zero stride (read-only use)
      base.select(1, 7),                        // one column
  };
  for (size_t i = 0; i < views.size(); ++i) {
    SCOPED_TRACE("view " + std::to_string(i));
    const auto y = torch_ext::thresholded_relu(views[i], 0.75);
    EXPECT_TRUE(bitwise_equal(y, reference(views[i], 0.75)));
  }
}

TEST(Functional, InPlaceOnNonContiguousViewWritesThroughToBase) {
  auto base = torch::randn({32, 48});
  const auto expected_base = base.clone();
  auto column_block = expected_base.slice(1, 0, 48, 2);
  column_block.copy_(reference(column_block, 0.3));

  auto view = base.slice(1, 0, 48, 2);
  torch_ext::thresholded_relu_(view, 0.3);
  EXPECT_TRUE(bitwise_equal(base, expected_base));  // odd columns untouched

  auto transposed = base.t();
  const auto expected_t = reference(transposed, 1.2);
  torch_ext::thresholded_relu_(transposed, 1.2);
  EXPECT_TRUE(bitwise_equal(base, expected_t.t()));
}

TEST(Functional, EmptyScalarAndLarge) {
  EXPECT_EQ(torch_ext::thresholded_relu(torch::empty({0, 5})).sizes(), at::IntArrayRef({0, 5}));
  EXPECT_EQ(torch_ext::thresholded_relu(torch::tensor(3.0)).item<double>(), 3.0);
  EXPECT_EQ(torch_ext::thresholded_relu(torch::tensor(0.5)).item<double>(), 0.0);
  EXPECT_EQ(torch_ext::thresholded_relu(torch::tensor(3.0)).dim(), 0);
  // Large enough to take the multi-threaded, vectorized path with a ragged tail.
  const auto big = torch::randn({(1 << 20) + 37});
  EXPECT_TRUE(bitwise_equal(torch_ext::thresholded_relu(big, 0.4), reference(big, 0.4)));
}

TEST(Functional, MetaTensorsGiveShapeDtypeAndStrides) {
  const auto x = torch::empty({2, 3, 4, 5}, torch::TensorOptions().device(torch::kMeta).dtype(torch::kBFloat16))
                     .contiguous(torch::MemoryFormat::ChannelsLast);
  const auto y = torch_ext::thresholded_relu(x, 0.5);
  EXPECT_TRUE(y.is_meta());
  EXPECT_EQ(y.sizes(), x.sizes());
  EXPECT_EQ(y.strides(), x.strides());
  EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  const auto g = torch_ext::thresholded_relu_backward(torch::empty_like(y), y, 0.5);
  EXPECT_TRUE(g.is_meta());
  EXPECT_EQ(g.sizes(), x.sizes());
}

TEST(Functional, BackwardOpEveryFloatingDtype) {
  for (const auto dtype : torch_ext_test::floating_dtypes()) {
    SCOPED_TRACE(torch_ext_test::dtype_name(dtype));
    const auto x = torch_ext_test::sample(dtype);
    const auto result = torch_ext::thresholded_relu(x, 1.0);
    const auto dy = torch::randn(x.sizes(), torch::kFloat64).to(dtype);
    EXPECT_TRUE(bitwise_equal(torch_ext::thresholded_relu_backward(dy, result, 1.0),
                              torch_ext_test::reference_grad(dy, result, 1.0)));
  }
  // Hand-worked: the mask comes from the *output*; NaN passes the gradient.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const auto result = torch::tensor({0.0f, 2.0f, nan, 0.0f});
  const auto dy = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f});
  EXPECT_TRUE(bitwise_equal(torch_ext::thresholded_relu_backward(dy, result, 1.0),
                            torch::tensor({0.0f, 2.0f, 3.0f, 0.0f})));
}

TEST(Functional, BuildInfo) {
  const auto info = torch_ext::build_info();
  // The library was compiled against the same LibTorch as this program.
  EXPECT_EQ(info.torch_version, std::string(TORCH_VERSION));
  // The CUDA kernels are registered exactly when the build system linked their library
  // (TorchExt_CUDA: the build has them and the Torch found has CUDA).
  EXPECT_EQ(info.cuda_kernels, TORCH_EXT_CUDA_LINKED != 0);
  const auto op = c10::Dispatcher::singleton().findSchemaOrThrow("torch_ext::thresholded_relu", "");
  EXPECT_EQ(op.hasKernelForDispatchKey(c10::DispatchKey::CUDA), TORCH_EXT_CUDA_LINKED != 0);
  if (torch::cuda::is_available()) {
    EXPECT_TRUE(info.cuda_kernels) << "a GPU is present but the CUDA kernels are not compiled in";
  }
}

TEST(Functional, OperatorsAreRegisteredWithTheDispatcher) {
  auto& dispatcher = c10::Dispatcher::singleton();
  const auto fwd = dispatcher.findSchemaOrThrow("torch_ext::thresholded_relu", "");
  const auto inplace = dispatcher.findSchemaOrThrow("torch_ext::thresholded_relu_", "");
  const auto bwd = dispatcher.findSchemaOrThrow("torch_ext::thresholded_relu_backward", "");
  EXPECT_EQ(c10::toString(fwd.schema()),
            "torch_ext::thresholded_relu(Tensor x, float theta=1.) -> Tensor");
  EXPECT_EQ(c10::toString(inplace.schema()),
            "torch_ext::thresholded_relu_(Tensor(a!) x, float theta=1.) -> ()");
  EXPECT_TRUE(fwd.hasTag(at::Tag::pointwise));
  for (const auto& op : {fwd, inplace, bwd}) {
    SCOPED_TRACE(op.schema().name());
    EXPECT_TRUE(op.hasKernelForDispatchKey(c10::DispatchKey::CPU));
    EXPECT_TRUE(op.hasKernelForDispatchKey(c10::DispatchKey::Meta));
    EXPECT_TRUE(op.hasKernelForDispatchKey(c10::DispatchKey::AutogradCPU) ||
                op.hasKernelForDispatchKey(c10::DispatchKey::Autograd));
  }
}

}  // namespace
