// torch_ext::thresholded_relu from C++ (no Python in the way) against what a LibTorch user
// would otherwise write. One benchmark family per (pass, implementation); the argument is the
// number of float32 elements. Throughput counters: bytes the op must read + write per second.
//   bench_thresholded_relu --benchmark_filter=16777216 --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true
// Threads: at::set_num_threads from TORCH_EXT_BENCH_THREADS (default: ATen's choice).
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <torch/torch.h>
#include <torch_ext/torch_ext.h>

#include <cstdlib>
#include <functional>

namespace {

constexpr double kTheta = 0.5;

struct Inputs {
  explicit Inputs(int64_t n)
      : x(torch::randn({n}) * 2), dy(torch::randn({n})), y(torch_ext::thresholded_relu(x, kTheta)) {}
  torch::Tensor x, dy, y;
};

using Op = std::function<torch::Tensor(Inputs&)>;

// Runs op on fresh-per-size inputs; `moved` is elements read + written per element.
void run(benchmark::State& state, const Op& op, int moved) {
  torch::NoGradGuard no_grad;
  Inputs in(state.range(0));
  op(in);  // warm-up: lazy initialisation, first touch
  for (auto _ : state) {
    benchmark::DoNotOptimize(op(in));
  }
  state.SetBytesProcessed(state.iterations() * state.range(0) * moved *
                          static_cast<int64_t>(sizeof(float)));
}

void sizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {1 << 10, 1 << 16, 1 << 20, 1 << 24}) {
    b->Arg(n);
  }
  b->Unit(benchmark::kMicrosecond)->UseRealTime();
}

#define TORCH_EXT_BENCH(name, moved, ...)                                          \
  void name(benchmark::State& state) { run(state, [](Inputs& in) { return __VA_ARGS__; }, moved); } \
  BENCHMARK(name)->Apply(sizes)

TORCH_EXT_BENCH(forward_ours, 2, torch_ext::thresholded_relu(in.x, kTheta));
TORCH_EXT_BENCH(forward_native, 2, torch::threshold(in.x, kTheta, 0.0));
TORCH_EXT_BENCH(forward_where, 2, torch::where(in.x > kTheta, in.x, 0.0));
TORCH_EXT_BENCH(forward_clone, 2, in.x.clone());
TORCH_EXT_BENCH(inplace_ours, 2, torch_ext::thresholded_relu_(in.x, kTheta));
TORCH_EXT_BENCH(inplace_native, 2, torch::threshold_(in.x, kTheta, 0.0));
TORCH_EXT_BENCH(backward_ours, 3, torch_ext::thresholded_relu_backward(in.dy, in.y, kTheta));
TORCH_EXT_BENCH(backward_native, 3, at::threshold_backward(in.dy, in.y, kTheta));

// The module's forward: what a LibTorch model pays per activation call.
void module_forward(benchmark::State& state) {
  torch_ext::nn::ThresholdedReLU module(kTheta);
  run(state, [&](Inputs& in) { return module->forward(in.x); }, 2);
}
BENCHMARK(module_forward)->Arg(1 << 10)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  if (const char* threads = std::getenv("TORCH_EXT_BENCH_THREADS")) {
    at::set_num_threads(std::atoi(threads));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  benchmark::AddCustomContext("torch", TORCH_VERSION);
  benchmark::AddCustomContext("aten_threads", std::to_string(at::get_num_threads()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
