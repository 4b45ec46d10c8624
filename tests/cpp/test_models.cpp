// Models made in Python (tests/cpp/make_models.py), loaded and run from C++: a TorchScript
// module (torch::jit::load) and an AOTInductor package (AOTIModelPackageLoader).
//
// This program calls no torch_ext function: the operators it needs come from linking
// TorchExt::torch_ext, whose registrations must survive the link (-Wl,--no-as-needed).
// CTest runs the generator first and passes its output folder in TORCH_EXT_TEST_MODELS_DIR.
#include <ATen/core/dispatch/Dispatcher.h>
#include <gtest/gtest.h>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/script.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

namespace {

std::string model_path(const std::string& name) {
  const char* dir = std::getenv("TORCH_EXT_TEST_MODELS_DIR");
  if (dir == nullptr) {
    ADD_FAILURE() << "TORCH_EXT_TEST_MODELS_DIR is not set: run these tests with CTest, which "
                     "makes the models first (tests/cpp/make_models.py)";
    return {};
  }
  const auto path = std::filesystem::path(dir) / name;
  EXPECT_TRUE(std::filesystem::exists(path)) << path << " is missing";
  return path.string();
}

// What Python saved next to a model: input, expected outputs and the thetas used.
struct SavedIO {
  at::Tensor input;
  std::vector<at::Tensor> expected;
  std::vector<double> thetas;
};

SavedIO load_io(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const auto dict = torch::pickle_load(bytes).toGenericDict();
  SavedIO io;
  io.input = dict.at("input").toTensor();
  for (const auto& t : dict.at("expected").toListRef()) io.expected.push_back(t.toTensor());
  for (const auto& t : dict.at("thetas").toListRef()) io.thetas.push_back(t.toDouble());
  return io;
}

// The model computes (act(2x, theta0), act_inplace(4x, theta1)); recompute it in float64.
std::vector<at::Tensor> reference(const at::Tensor& x, const std::vector<double>& thetas) {
  std::vector<at::Tensor> out;
  const double scales[] = {2.0, 4.0};
  for (size_t i = 0; i < 2; ++i) {
    const auto h = x.to(torch::kFloat64) * scales[i];
    const auto kept = (h > thetas.at(i)).logical_or(h.isnan());
    out.push_back(torch::where(kept, h, torch::zeros_like(h)).to(x.scalar_type()));
  }
  return out;
}

// Same shape, dtype, NaN positions, and bits elsewhere.
::testing::AssertionResult identical(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() &&
      torch::equal(a.isnan(), b.isnan()) &&
      torch::equal(a.masked_fill(a.isnan(), 0).contiguous().view({-1}).view(torch::kUInt8),
                   b.masked_fill(b.isnan(), 0).contiguous().view({-1}).view(torch::kUInt8))) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << a << "\nis not bitwise equal to\n" << b;
}

void expect_outputs(const std::vector<at::Tensor>& got, const SavedIO& io) {
  ASSERT_EQ(got.size(), io.expected.size());
  ASSERT_EQ(got.size(), 2u);
  const auto ref = reference(io.input, io.thetas);
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE("output " + std::to_string(i));
    EXPECT_TRUE(identical(got[i], io.expected[i]));  // same as Python's run
    EXPECT_TRUE(identical(got[i], ref[i]));          // and right
  }
}

TEST(Models, OperatorsRegisteredWithoutCallingTheLibrary) {
  for (const char* name : {"torch_ext::thresholded_relu", "torch_ext::thresholded_relu_",
                           "torch_ext::thresholded_relu_backward"}) {
    EXPECT_TRUE(c10::Dispatcher::singleton().findSchema({name, ""}).has_value())
        << name << " is not registered: was libtorch_ext_ops dropped by --as-needed?";
  }
}

TEST(Models, TorchScriptFromPython) {
  const auto path = model_path("torchscript_model.pt");
  ASSERT_FALSE(HasFailure());
  const auto io = load_io(model_path("torchscript_io.pt"));
  auto module = torch::jit::load(path);
  module.eval();

  // The scripted graph calls both operators.
  auto graph = module.get_method("forward").graph()->copy();
  torch::jit::Inline(*graph);
  std::set<std::string> kinds;
  for (const auto* node : graph->nodes()) kinds.insert(node->kind().toQualString());
  EXPECT_TRUE(kinds.count("torch_ext::thresholded_relu")) << *graph;
  EXPECT_TRUE(kinds.count("torch_ext::thresholded_relu_")) << *graph;

  const auto x = io.input.clone();
  const auto outputs = module.forward({x}).toTuple()->elements();
  std::vector<at::Tensor> got;
  for (const auto& v : outputs) got.push_back(v.toTensor());
  expect_outputs(got, io);
  EXPECT_TRUE(identical(x, io.input));  // the in-place activation wrote to 4x, not to x
}

TEST(Models, TorchScriptGradientsFromCpp) {
  auto module = torch::jit::load(model_path("torchscript_model.pt"));
  const auto x = torch::tensor({0.1, 0.3, 0.7, 1.0}, torch::kFloat32).requires_grad_();
  const auto outputs = module.forward({x}).toTuple()->elements();
  // d/dx [sum act(2x, 0.5)] = 2 where 2x > 0.5
  outputs[0].toTensor().sum().backward();
  EXPECT_TRUE(identical(x.grad(), torch::tensor({0.0f, 2.0f, 2.0f, 2.0f})));
}

TEST(Models, AOTInductorPackageFromPython) {
  const auto path = model_path("aoti_model.pt2");
  ASSERT_FALSE(HasFailure());
  const auto io = load_io(model_path("aoti_io.pt"));
  torch::inductor::AOTIModelPackageLoader loader(path);
  const auto x = io.input.clone();
  expect_outputs(loader.run({x}), io);
  EXPECT_TRUE(identical(x, io.input));
  // A second run on other data (same shape) gives the reference too.
  const auto other = torch::randn(io.input.sizes()) * 3;
  const auto got = loader.run({other});
  const auto ref = reference(other, io.thetas);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(identical(got[0], ref[0]));
  EXPECT_TRUE(identical(got[1], ref[1]));
}

}  // namespace
