// Runs a model that uses the torch_ext operator, saved from Python by export_model.py, in a
// C++ program without Python: a TorchScript module (torch::jit::load) or an AOTInductor package
// (torch::inductor::AOTIModelPackageLoader). The program calls no torch_ext function; linking
// TorchExt::torch_ext (which carries -Wl,--no-as-needed) registers the operators.
//
//   run_model <dir with mlp.pt, mlp.pt2, mlp_io.pt>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#include <torch/script.h>
#include <torch/serialize.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <model dir>\n", argv[0]);
    return EXIT_FAILURE;
  }
  const std::string dir = argv[1];
  std::ifstream file(dir + "/mlp_io.pt", std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(file)), {});
  const auto io = torch::pickle_load(bytes).toGenericDict();
  const auto x = io.at("input").toTensor();
  const auto expected = io.at("expected").toTensor();
  torch::NoGradGuard no_grad;

  auto scripted = torch::jit::load(dir + "/mlp.pt");
  const auto y_script = scripted.forward({x}).toTensor();

  torch::inductor::AOTIModelPackageLoader package(dir + "/mlp.pt2");
  const auto y_aoti = package.run({x}).at(0);

  const bool script_ok = torch::equal(y_script, expected);
  const bool aoti_ok = torch::allclose(y_aoti, expected, 1e-5, 1e-6);  // Inductor may reorder math
  std::printf("TorchScript from C++: %s\n", script_ok ? "same output as Python" : "MISMATCH");
  std::printf("AOTInductor from C++: %s\n", aoti_ok ? "same output as Python" : "MISMATCH");
  return script_ok && aoti_ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
