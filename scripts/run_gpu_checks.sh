#!/usr/bin/env bash
# Everything that needs a GPU, for a machine with one and a Python with a CUDA build of torch,
# pytest, hypothesis, numpy, setuptools, cmake, ninja and pybind11 (no network needed):
#   bash scripts/run_gpu_checks.sh
# Steps, each on its own (a failing step is reported and the next one still runs; each has a
# time limit, all of them one budget, TORCH_EXT_GPU_CHECKS_SECONDS, default 540 s):
#   build         pip install of this checkout into that Python, the CUDA kernels required
#   gpu           is there a GPU? If not, the script stops here (after the build: a dry run)
#   benchmark     benchmarks/run.py --short, the sweep: design.md §4's CUDA rows (forward and
#                 backward, float32 and bfloat16, up to 256M elements, against F.threshold /
#                 threshold_backward and a device-to-device copy)
#   pytest        every CUDA test of the Python suite (test_cuda.py and every test run on the
#                 cuda device), large-tensor tests included
#   memcheck      test_cuda.py (its sizes up to 10001 elements) under compute-sanitizer memcheck
#   googletest    the C++ suite built against the installed package, its CUDA tests required
#                 to run (not skip); GoogleTest itself is built from GTEST_SOURCE_DIR (default
#                 /usr/src/googletest) when CMake cannot find an installed one, else skipped
# The benchmark's targets (met / missed) and a summary of every step's status and time end the
# output; the exit status is non-zero if any step failed. Logs and results (at most 8 files) go to ${OUT:-build/gpu-checks}.
#
# Environment: TORCH_EXT_PYTHON (default python3); TORCH_CUDA_ARCH_LIST (default: the visible
# GPU's, else 9.0, the H200 these checks are made for); MAX_JOBS (default: all cores).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
PYTHON="${TORCH_EXT_PYTHON:-python3}"
out="${OUT:-$REPO_ROOT/build/gpu-checks}"
mkdir -p "$out"
summary="$out/summary.txt"
export MAX_JOBS="${MAX_JOBS:-$(nproc)}"
export TORCH_EXT_REQUIRE_LARGE_TESTS=1  # fail, not skip, the >2**31-element tests
export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-$("$PYTHON" -c 'import torch
print("%d.%d" % torch.cuda.get_device_capability() if torch.cuda.is_available() else "9.0")')}"
export PYTHONUNBUFFERED=1

statuses=()
# All steps share one budget (default 540 s, inside a 10-minute command): a step's limit is cut
# to what is left, and a step with under 30 s left is not started.
budget_end=$(( SECONDS + ${TORCH_EXT_GPU_CHECKS_SECONDS:-540} ))
# Runs one step (a function below) with a time limit, its output to the terminal and to <log>
# in $out; records
# "ok", "FAILED (exit N)" or "TIMED OUT after N s" and never stops the script.
step() {  # <name> <seconds> <log file name> <command> [args...]
  local name="$1" limit="$2" log="$out/$3" start=$SECONDS status left=$(( budget_end - SECONDS ))
  shift 3
  if [ "$left" -lt 30 ]; then
    statuses+=("$(printf '%-11s %-26s' "$name" 'NOT RUN (out of time)')")
    return
  fi
  [ "$limit" -le "$left" ] || limit="$left"
  printf '\n==> %s (limit %d s)\n' "$name" "$limit"
  set +e
  # A step is a function of this script, run by a fresh copy of it (timeout runs programs).
  timeout --kill-after=10 "$limit" bash "${BASH_SOURCE[0]}" --step "$@" 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
  set -e
  case "$status" in
    0) status="ok" ;;
    3) status="SKIPPED" ;;
    124|137) status="TIMED OUT after $limit s" ;;
    *) status="FAILED (exit $status)" ;;
  esac
  statuses+=("$(printf '%-11s %-26s %4d s' "$name" "$status" $(( SECONDS - start )))")
  printf '<== %s: %s\n' "$name" "$status"
}

finish() {
  {
    if [ -f "$out/results.md" ]; then sed -n '/design.md §4 targets/,$p' "$out/results.md"; fi
    printf '\n==> GPU checks (see %s)\n' "$out"
    printf '%s\n' "${statuses[@]}"
  } | tee -a "$summary"
  for s in "${statuses[@]}"; do
    case "$s" in *" ok "*|*" SKIPPED "*) ;; *) exit 1 ;; esac
  done
  exit 0
}

build() {
  (cd "$REPO_ROOT" && FORCE_CUDA=1 "$PYTHON" -m pip install -v --no-build-isolation --no-deps .)
  (cd "$out" && "$PYTHON" -c "import torch_ext; assert torch_ext.built_with_cuda, 'no CUDA kernels'
print('torch_ext', torch_ext.__file__, 'built with CUDA kernels')")
}

tests_python="$REPO_ROOT/tests/python"
pytest_cuda() {
  # -k cuda: test_cuda.py, and every test of the suite parametrized on the cuda device.
  cd "$tests_python" && "$PYTHON" -m pytest -q -c "$REPO_ROOT/pyproject.toml" --rootdir "$REPO_ROOT" \
    -rs --durations=10 -p no:cacheprovider -m "not install_routes" -k cuda .
}

memcheck() {
  local sanitizer
  sanitizer="$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)"
  cd "$tests_python" && "$sanitizer" --tool memcheck --error-exitcode 1 \
    "$PYTHON" -m pytest -q -c "$REPO_ROOT/pyproject.toml" --rootdir "$REPO_ROOT" \
    -p no:cacheprovider test_cuda.py -k "not 2_to_the_31 and not 1048576"  # sizes to 10001
}

googletest() {
  local build="$REPO_ROOT/build/gpu-checks-googletest" prefix gtest_source
  prefix="$(cd "$out" && "$PYTHON" -c "import torch, torch_ext
print(torch.utils.cmake_prefix_path + ';' + torch_ext.cmake_prefix_path)")"
  mkdir -p "$build"
  # Does find_package(GTest) succeed here?
  mkdir -p "$build/gtest-probe"
  printf 'cmake_minimum_required(VERSION 3.22)\nproject(probe CXX)\nfind_package(GTest REQUIRED)\n' \
    >"$build/gtest-probe/CMakeLists.txt"
  if ! cmake -S "$build/gtest-probe" -B "$build/gtest-probe/build" >/dev/null 2>&1; then
    gtest_source="${GTEST_SOURCE_DIR:-/usr/src/googletest}"
    if [ ! -f "$gtest_source/CMakeLists.txt" ]; then
      echo "SKIPPED: no GoogleTest here (none installed, no sources at $gtest_source;"
      echo "set GTEST_SOURCE_DIR to a googletest source tree): the C++ CUDA tests did not run"
      return 3
    fi
    echo "building GoogleTest from $gtest_source"
    build_cmake_project "$gtest_source" "$build/gtest" "$prefix" -DBUILD_GMOCK=OFF -DINSTALL_GTEST=ON \
      -DCMAKE_INSTALL_PREFIX="$build/gtest-install" >/dev/null
    cmake --install "$build/gtest" >/dev/null
    prefix="$prefix;$build/gtest-install"
  fi
  # The model tests (TorchScript/AOTInductor from Python, CPU models) run in CI; here the C++
  # API suite, whose Cuda.* tests skip without a GPU: none may skip here.
  build_cmake_project "$REPO_ROOT/tests/cpp" "$build/tests" "$prefix" -DTORCH_EXT_TEST_MODELS=OFF
  local log="$build/ctest.log"
  ctest --test-dir "$build/tests" --output-on-failure --no-tests=error --parallel "$(nproc)" | tee "$log"
  if grep -E '[0-9]+ - Cuda\..*\(Skipped\)' "$log"; then
    echo "C++ CUDA tests were skipped on a machine with a GPU"
    return 1
  fi
  grep -qE 'Cuda\.[A-Za-z]+ .*Passed' "$log" || { echo "no C++ CUDA test ran"; return 1; }
}

benchmark() {
  "$PYTHON" "$REPO_ROOT/benchmarks/run.py" --short --sections sweep --no-plot --out "$out"
}

if [ "${1:-}" = "--step" ]; then
  "$2"
  exit
fi

"$PYTHON" -c "import sys, torch; print('Python', sys.version.split()[0], '| torch', torch.__version__,
'| CUDA', torch.version.cuda, '| GPU:', torch.cuda.get_device_name() if torch.cuda.is_available() else None)" \
  | tee "$summary"
{ echo "TORCH_CUDA_ARCH_LIST=$TORCH_CUDA_ARCH_LIST, $(nproc) cores"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || true
  fi; } \
  | tee -a "$summary"

step build 240 build.log build
if ! "$PYTHON" -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
  statuses+=("$(printf '%-11s %-26s' gpu 'NONE: no CUDA device')")
  echo "no GPU here (torch.cuda.is_available() is False): the GPU checks stop after the build"
  finish
fi
statuses+=("$(printf '%-11s %-26s' gpu ok)")
step benchmark 150 benchmark.log benchmark
step pytest 150 pytest.log pytest_cuda
step memcheck 90 compute-sanitizer.log memcheck
step googletest 150 googletest.log googletest
finish
