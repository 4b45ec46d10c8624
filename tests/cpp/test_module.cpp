// The LibTorch module torch_ext::nn::ThresholdedReLU: options, printing, clone, Sequential,
// serialization.
#include "test_util.h"

#include <torch_ext/torch_ext.h>

#include <sstream>

namespace {

using torch_ext::nn::ThresholdedReLU;
using torch_ext::nn::ThresholdedReLUImpl;
using torch_ext::nn::ThresholdedReLUOptions;
using torch_ext_test::bitwise_equal;
using torch_ext_test::reference;

std::string printed(const torch::nn::Module& module) {
  std::ostringstream stream;
  stream << module;
  return stream.str();
}

TEST(Module, OptionsAndDefaults) {
  const ThresholdedReLUOptions defaults;
  EXPECT_EQ(defaults.theta(), 1.0);
  EXPECT_FALSE(defaults.inplace());
  ThresholdedReLU act;
  EXPECT_EQ(act->options.theta(), 1.0);
  EXPECT_FALSE(act->options.inplace());
  // Implicit conversion from a double, as torch::nn modules allow.
  ThresholdedReLU from_double(0.25);
  EXPECT_EQ(from_double->options.theta(), 0.25);
  ThresholdedReLU custom(ThresholdedReLUOptions().theta(2.5).inplace(true));
  EXPECT_EQ(custom->options.theta(), 2.5);
  EXPECT_TRUE(custom->options.inplace());
  EXPECT_TRUE(act->parameters().empty());
  EXPECT_TRUE(act->buffers().empty());
  EXPECT_EQ(act->name(), "torch_ext::nn::ThresholdedReLUImpl");
}

TEST(Module, PrettyPrint) {
  EXPECT_EQ(printed(*ThresholdedReLU()), "torch_ext::nn::ThresholdedReLU(theta=1)");
  EXPECT_EQ(printed(*ThresholdedReLU(0.5)), "torch_ext::nn::ThresholdedReLU(theta=0.5)");
  EXPECT_EQ(printed(*ThresholdedReLU(ThresholdedReLUOptions(2).inplace(true))),
            "torch_ext::nn::ThresholdedReLU(theta=2, inplace=true)");
  torch::nn::Sequential net(torch::nn::Linear(2, 3), ThresholdedReLU(0.1));
  EXPECT_EQ(printed(*net),
            "torch::nn::Sequential(\n"
            "  (0): torch::nn::Linear(in_features=2, out_features=3, bias=true)\n"
            "  (1): torch_ext::nn::ThresholdedReLU(theta=0.1)\n"
            ")");
}

TEST(Module, ForwardMatchesReference) {
  const auto x = torch::tensor({-1.0f, 0.5f, 1.0f, 1.5f});
  EXPECT_TRUE(bitwise_equal(ThresholdedReLU()(x), torch::tensor({0.0f, 0.0f, 0.0f, 1.5f})));
  const auto r = torch::randn({5, 7}, torch::kFloat64);
  const auto y = ThresholdedReLU(0.3)(r);
  EXPECT_TRUE(bitwise_equal(y, reference(r, 0.3)));
  EXPECT_FALSE(y.is_same(r));
}

TEST(Module, InplaceOverwritesAndReturnsInput) {
  auto x = torch::randn({6, 6});
  const auto expected = reference(x, 0.2);
  ThresholdedReLU act(ThresholdedReLUOptions(0.2).inplace(true));
  const auto out = act(x);
  EXPECT_TRUE(out.is_same(x));
  EXPECT_TRUE(bitwise_equal(x, expected));
}

TEST(Module, CloneIsADeepIndependentCopy) {
  ThresholdedReLU original(ThresholdedReLUOptions(0.75).inplace(true));
  auto copy = std::dynamic_pointer_cast<ThresholdedReLUImpl>(original->clone());
  ASSERT_TRUE(copy);
  EXPECT_NE(copy.get(), original.get());
  EXPECT_EQ(copy->options.theta(), 0.75);
  EXPECT_TRUE(copy->options.inplace());
  copy->options.theta(3.0);
  EXPECT_EQ(original->options.theta(), 0.75);
  // A cloned Sequential holds a cloned activation that still works.
  torch::nn::Sequential net(torch::nn::Linear(3, 4), ThresholdedReLU(0.5));
  auto net_copy = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(net->clone());
  ASSERT_TRUE(net_copy);
  const auto x = torch::randn({2, 3});
  EXPECT_TRUE(torch::equal(net->forward(x), net_copy->forward(x)));
  EXPECT_NE(net_copy->ptr(1).get(), net->ptr(1).get());
  EXPECT_EQ(net_copy->at<ThresholdedReLUImpl>(1).options.theta(), 0.5);
}

TEST(Module, InSequentialWithNamedChildren) {
  torch::manual_seed(0);
  torch::nn::Sequential net(torch::nn::Linear(4, 8), ThresholdedReLU(0.1), torch::nn::Linear(8, 2));
  const auto x = torch::randn({5, 4});
  const auto out = net->forward(x);
  EXPECT_EQ(out.sizes(), at::IntArrayRef({5, 2}));
  // The same computation spelled out, with the float64 reference as the activation.
  auto& l0 = net->at<torch::nn::LinearImpl>(0);
  auto& l2 = net->at<torch::nn::LinearImpl>(2);
  const auto hidden = reference(l0.forward(x), 0.1);
  EXPECT_TRUE(torch::equal(out, l2.forward(hidden)));
  EXPECT_EQ(net->named_children()[1].key(), "1");
  EXPECT_TRUE(net->named_children()[1].value()->as<ThresholdedReLU>() != nullptr);
  // A type-erased AnyModule works too.
  torch::nn::AnyModule any(ThresholdedReLU(0.1));
  EXPECT_TRUE(torch::equal(any.forward(x), reference(x, 0.1)));
}

TEST(Module, SerializationRoundTripOfSequential) {
  torch::manual_seed(0);
  auto make = [] {
    return torch::nn::Sequential(torch::nn::Linear(4, 16), ThresholdedReLU(0.2),
                                 torch::nn::Linear(16, 3));
  };
  auto net = make();
  std::stringstream archive;
  torch::save(net, archive);
  auto reloaded = make();  // freshly initialised weights, overwritten by load
  const auto x = torch::randn({8, 4});
  ASSERT_FALSE(torch::equal(net->forward(x), reloaded->forward(x)));
  torch::load(reloaded, archive);
  EXPECT_TRUE(torch::equal(net->forward(x), reloaded->forward(x)));
  // The activation on its own (no parameters) round-trips too.
  ThresholdedReLU act(0.5);
  std::stringstream act_archive;
  torch::save(act, act_archive);
  ThresholdedReLU act_reloaded(0.5);
  EXPECT_NO_THROW(torch::load(act_reloaded, act_archive));
}

TEST(Module, TrainEvalAndToDoNotChangeTheFunction) {
  ThresholdedReLU act(0.5);
  const auto x = torch::randn({10}, torch::kFloat64);
  act->eval();
  EXPECT_TRUE(bitwise_equal(act(x), reference(x, 0.5)));
  act->train();
  act->to(torch::kFloat64);
  EXPECT_TRUE(bitwise_equal(act(x), reference(x, 0.5)));
}

}  // namespace
