// Autograd for the three operators, written the way PyTorch's generated VariableType kernels
// are: a graph node per call, the forward run below the autograd key, forward-mode tangents
// set directly. Unlike torch::autograd::Function this works under every torch.func transform
// and with forward-mode AD. It relies on internal autograd headers, kept to this one file.
#include "ops/thresholded_relu.h"

#include <torch_ext/thresholded_relu.h>

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/autograd/VariableTypeUtils.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/library.h>

#include <type_traits>

namespace torch_ext::autograd {
namespace {

using torch::autograd::SavedVariable;
using torch::autograd::variable_list;

// Graph nodes are held by c10::intrusive_ptr in newer PyTorch and by std::shared_ptr (with
// an iterative deleter for long chains) in older releases; this is the one place that knows.
template <typename NodeT>
auto make_node() {
  if constexpr (std::is_base_of_v<c10::intrusive_ptr_target, torch::autograd::Node>) {
    return c10::make_intrusive<NodeT>();
  } else {
    return std::shared_ptr<NodeT>(new NodeT(), [](NodeT* node) { deleteNode(node); });
  }
}

// d thresholded_relu(x) / dx, applied to the incoming gradient, from the saved output.
struct ThresholdedReluBackward : torch::autograd::TraceableFunction {
  SavedVariable result_;
  double theta_ = 1.0;

  std::string name() const override {
    return "ThresholdedReluBackward";
  }
  variable_list apply(variable_list&& grads) override {
    variable_list grad_inputs(1);
    if (grads[0].defined() && should_compute_output(0)) {
      grad_inputs[0] = thresholded_relu_backward(grads[0], result_.unpack(getptr()), theta_);
    }
    return grad_inputs;
  }
  void release_variables() override {
    result_.reset_data();
  }
};

// Gradient of thresholded_relu_backward: linear in grad_output with the same mask; the mask
// (from result) is piecewise constant, so result gets no gradient.
struct ThresholdedReluBackwardBackward : torch::autograd::TraceableFunction {
  SavedVariable result_;
  double theta_ = 1.0;

  std::string name() const override {
    return "ThresholdedReluBackwardBackward";
  }
  variable_list apply(variable_list&& grads) override {
    variable_list grad_inputs(2);
    if (grads[0].defined() && should_compute_output(0)) {
      grad_inputs[0] = thresholded_relu_backward(grads[0], result_.unpack(), theta_);
    }
    return grad_inputs;
  }
  void release_variables() override {
    result_.reset_data();
  }
};

c10::OperatorHandle find_op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
}

at::Tensor forward_autograd(const at::Tensor& x, double theta) {
  static const auto op =
      find_op("torch_ext::thresholded_relu").typed<at::Tensor(const at::Tensor&, double)>();
  const bool requires_grad = torch::autograd::compute_requires_grad(x);
  at::Tensor result;
  {
    at::AutoDispatchBelowADInplaceOrView guard;
    result = op.call(x, theta);
  }
  if (requires_grad) {
    auto node = make_node<ThresholdedReluBackward>();
    node->set_next_edges(torch::autograd::collect_next_edges(x));
    node->theta_ = theta;
    torch::autograd::set_history(result, node);
    node->result_ = SavedVariable(result, /*is_output=*/true);
  }
  if (torch::autograd::isFwGradDefined(x)) {
    result._set_fw_grad(thresholded_relu_backward(x._fw_grad(0), result, theta), 0, false);
  }
  return result;
}

void inplace_autograd(const at::Tensor& x, double theta) {
  static const auto op =
      find_op("torch_ext::thresholded_relu_").typed<void(const at::Tensor&, double)>();
  const bool requires_grad = torch::autograd::compute_requires_grad(x);
  torch::autograd::check_inplace(x, requires_grad);
  // The order of PyTorch's generated in-place kernels: x's edges are collected before the
  // kernel bumps its version. Collected after, a view's grad_fn would be regenerated from
  // its base's old history and rebase_history would leave the mask out of gradients that
  // flow through the returned view.
  decltype(make_node<ThresholdedReluBackward>()) node;
  if (requires_grad) {
    node = make_node<ThresholdedReluBackward>();
    node->set_next_edges(torch::autograd::collect_next_edges(x));
    node->theta_ = theta;
  }
  {
    // Below autograd but above ADInplaceOrView, which bumps x's version counter.
    at::AutoDispatchBelowAutograd guard;
    op.call(x, theta);
  }
  if (node) {
    torch::autograd::rebase_history(x, node);
    node->result_ = SavedVariable(x, /*is_output=*/true, /*is_inplace_on_view=*/x.is_view());
  }
  if (torch::autograd::isFwGradDefined(x)) {
    auto tangent = x._fw_grad(0);
    tangent.copy_(thresholded_relu_backward(tangent, x, theta));
  }
}

void inplace_ad_inplace_or_view(const at::Tensor& x, double theta) {
  static const auto op =
      find_op("torch_ext::thresholded_relu_").typed<void(const at::Tensor&, double)>();
  {
    at::AutoDispatchBelowADInplaceOrView guard;
    op.call(x, theta);
  }
  // Without this, a tensor saved for another backward and then overwritten here would give
  // silently wrong gradients instead of an error.
  torch::autograd::increment_version(x);
}

at::Tensor backward_autograd(
    const at::Tensor& grad_output,
    const at::Tensor& result,
    double theta) {
  static const auto op =
      find_op("torch_ext::thresholded_relu_backward")
          .typed<at::Tensor(const at::Tensor&, const at::Tensor&, double)>();
  const bool requires_grad = torch::autograd::compute_requires_grad(grad_output, result);
  at::Tensor grad_input;
  {
    at::AutoDispatchBelowADInplaceOrView guard;
    grad_input = op.call(grad_output, result, theta);
  }
  if (requires_grad) {
    auto node = make_node<ThresholdedReluBackwardBackward>();
    node->set_next_edges(torch::autograd::collect_next_edges(grad_output, result));
    node->theta_ = theta;
    node->result_ = SavedVariable(result, /*is_output=*/false);
    torch::autograd::set_history(grad_input, node);
  }
  if (torch::autograd::isFwGradDefined(grad_output)) {
    grad_input._set_fw_grad(
        thresholded_relu_backward(grad_output._fw_grad(0), result, theta), 0, false);
  }
  return grad_input;
}

}  // namespace

TORCH_LIBRARY_IMPL(torch_ext, Autograd, m) {
  m.impl("thresholded_relu", &forward_autograd);
  m.impl("thresholded_relu_", &inplace_autograd);
  m.impl("thresholded_relu_backward", &backward_autograd);
}

TORCH_LIBRARY_IMPL(torch_ext, ADInplaceOrView, m) {
  m.impl("thresholded_relu_", &inplace_ad_inplace_or_view);
}

}  // namespace torch_ext::autograd
