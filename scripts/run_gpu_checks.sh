#!/usr/bin/env bash
# Everything that needs a GPU, for a machine that has one and a Python with a CUDA build of
# torch (no network needed):
#   TORCH_EXT_PYTHON=python3 TORCH_CUDA_ARCH_LIST=9.0 bash scripts/run_gpu_checks.sh
# Builds with the CUDA kernels required, runs the CUDA tests (pytest and GoogleTest), the
# CUDA tests again under compute-sanitizer memcheck, and the GPU benchmark. Logs, results and
# the benchmark's JSON/PNG go to ${OUT:-build/gpu-checks}.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
set -o pipefail
: "${TORCH_EXT_PYTHON:?set TORCH_EXT_PYTHON to a Python that has a CUDA build of torch}"
PYTHON="$TORCH_EXT_PYTHON"
out="${OUT:-$REPO_ROOT/build/gpu-checks}"
mkdir -p "$out"
"$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'no GPU'; print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name())" | tee "$out/device.txt"
nvidia-smi >>"$out/device.txt" 2>&1 || true

log "build with CUDA kernels"
(cd "$REPO_ROOT" && FORCE_CUDA=1 "$PYTHON" -m pip install -q --no-build-isolation --no-deps .) \
  2>&1 | tail -20 | tee "$out/build.log"

log "CUDA tests (pytest)"
(cd "$REPO_ROOT/tests/python" && "$PYTHON" -m pytest -q -c "$REPO_ROOT/pyproject.toml" \
  --rootdir "$REPO_ROOT" -rs test_cuda.py test_pt2.py test_semantics.py test_autograd.py) \
  2>&1 | tee "$out/pytest-cuda.log"

log "CUDA tests under compute-sanitizer memcheck"
sanitizer="$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)"
(cd "$REPO_ROOT/tests/python" && "$sanitizer" --tool memcheck --error-exitcode 1 \
  "$PYTHON" -m pytest -q -x -c "$REPO_ROOT/pyproject.toml" --rootdir "$REPO_ROOT" test_cuda.py \
  -k "not 2_to_the_31") 2>&1 | tail -30 | tee "$out/compute-sanitizer.log"

log "GoogleTest (CUDA tests run, not skipped, on a GPU)"
if [ -f /usr/include/gtest/gtest.h ]; then
  "$REPO_ROOT/scripts/run_tests.sh" -k "cuda" 2>&1 | tail -40 | tee "$out/ctest.log"
else
  echo "GoogleTest is not installed here: C++ CUDA tests not run" | tee "$out/ctest.log"
fi

log "GPU benchmark"
"$PYTHON" "$REPO_ROOT/benchmarks/run.py" --sections sweep --out "$out" 2>&1 | tee "$out/benchmark.log"
