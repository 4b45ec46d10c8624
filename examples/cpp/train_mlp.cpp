// Trains a small MLP with torch_ext::nn::ThresholdedReLU on synthetic data, saves it with
// torch::save, loads it back and checks the reloaded model gives the same outputs.
#include <torch/torch.h>
#include <torch_ext/torch_ext.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

int main() {
  torch::manual_seed(0);
  const bool use_cuda = torch::cuda::is_available() && torch_ext::build_info().cuda_kernels;
  const torch::Device device = use_cuda ? torch::kCUDA : torch::kCPU;

  auto make_model = [] {
    return torch::nn::Sequential(
        torch::nn::Linear(8, 64), torch_ext::nn::ThresholdedReLU(0.1),
        torch::nn::Linear(64, 64), torch_ext::nn::ThresholdedReLU(0.1),
        torch::nn::Linear(64, 1));
  };
  auto model = make_model();
  model->to(device);
  std::cout << model << "\n";

  const auto x = torch::randn({2048, 8}, device);
  const auto y = torch::sin(3 * x).sum(1, /*keepdim=*/true) + 0.05 * torch::randn({2048, 1}, device);
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(3e-3));

  double first = 0, last = 0;
  for (int step = 0; step <= 300; ++step) {
    auto loss = torch::mse_loss(model->forward(x), y);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    last = loss.item<double>();
    if (step == 0) first = last;
    if (step % 50 == 0) std::printf("step %4d  loss %.4f\n", step, last);
  }
  std::printf("[c++/%s] loss %.4f -> %.4f\n", use_cuda ? "cuda" : "cpu", first, last);

  const auto path = (std::filesystem::temp_directory_path() / "torch_ext_mlp.pt").string();
  torch::save(model, path);
  auto reloaded = make_model();
  torch::load(reloaded, path);
  reloaded->to(device);
  torch::NoGradGuard no_grad;
  const bool same = torch::equal(model->forward(x), reloaded->forward(x));
  std::printf("save/load round trip: %s\n", same ? "identical outputs" : "MISMATCH");
  return (last < 0.5 * first && same) ? EXIT_SUCCESS : EXIT_FAILURE;
}
