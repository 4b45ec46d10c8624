#!/usr/bin/env bash
# The GoogleTest suite under AddressSanitizer (with LeakSanitizer) and UndefinedBehaviorSanitizer.
#
# Configures the top-level CMake project with -DTORCH_EXT_SANITIZE=ON -DTORCH_EXT_BUILD_TESTS=ON
# against the torch of PYTHON (see common.sh: TORCH_EXT_PYTHON or a virtual env with
# TORCH_VERSION), builds libtorch_ext_ops and the tests instrumented, and runs them with CTest.
# Any sanitizer report fails the run: ASan and LSan exit non-zero, UBSan is built with
# -fno-sanitize-recover and runs with halt_on_error. Only the CPU kernels are built here
# (TORCH_EXT_WITH_CUDA=OFF): nvcc does not take -fsanitize; the CUDA kernels are checked with
# compute-sanitizer on a GPU machine instead. The TorchScript/AOTInductor model tests
# (TORCH_EXT_TEST_MODELS) are left out: they load uninstrumented model code made by Python.
#
# No report is suppressed (none was needed with torch 2.13.0: libtorch's and libgomp's
# process-lifetime allocations stay reachable, so LeakSanitizer does not count them).
#
# Environment: MAX_JOBS (parallel build jobs), plus everything common.sh reads.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_system_packages
ensure_python

torch_prefix="$(cd /tmp && "$PYTHON" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
build="$(build_dir_for_this_torch sanitize)"
mkdir -p "$(dirname "$build")"

log "configuring the sanitizer build in $build"
cmake -S "$REPO_ROOT" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$torch_prefix" \
  -DTORCH_EXT_SANITIZE=ON \
  -DTORCH_EXT_BUILD_TESTS=ON \
  -DTORCH_EXT_BUILD_PYTHON=OFF \
  -DTORCH_EXT_WITH_CUDA=OFF \
  -DTORCH_EXT_TEST_MODELS=OFF >"$build.configure.log" 2>&1 \
  || { cat "$build.configure.log"; exit 1; }
grep -q '^TORCH_EXT_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" \
  || { echo "TORCH_EXT_SANITIZE is not ON in $build" >&2; exit 1; }

stage "sanitizers: instrumented build" cmake --build "$build" --parallel "${MAX_JOBS:-$(nproc)}"

# The test program and library must really be instrumented, or a clean run would prove
# nothing. (Read the listings into variables first: `cmd | grep -q` under pipefail fails at
# random when grep exits early and cmd gets SIGPIPE.)
for binary in "$build/tests/cpp/torch_ext_tests" "$build/libtorch_ext_ops.so"; do
  deps="$(ldd "$binary")"
  symbols="$(nm -D "$binary" 2>/dev/null || true)"
  for runtime in asan ubsan; do
    if ! grep -q "lib$runtime" <<<"$deps" && ! grep -q "__${runtime}_" <<<"$symbols"; then
      echo "$binary is not built with lib$runtime" >&2
      exit 1
    fi
  done
done

# Every report is fatal. detect_leaks: LeakSanitizer at exit; exitcode makes a leak fail too.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86:\
detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:\
detect_invalid_pointer_pairs=0:strict_string_checks=1:print_summary=1:symbolize=1"
export LSAN_OPTIONS="exitcode=87:report_objects=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=0:exitcode=88:print_stacktrace=1:report_error_type=1"
# Both OpenMP-parallel and serial paths of the kernels run: 2 threads give real concurrency.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"

# Canaries: with these options a leak, a heap overflow and undefined behaviour must each fail
# a program built with the same flags; a clean run below would otherwise prove nothing.
cxx="$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")"
canary_dir="$build/canaries"
mkdir -p "$canary_dir"
cat >"$canary_dir/canary.cpp" <<'CPP'
#include <cstdlib>
#include <cstring>
#include <climits>
int main(int argc, char** argv) {
  volatile int big = INT_MAX;
  if (std::strcmp(argv[1], "leak") == 0) { void* volatile p = std::malloc(64); p = nullptr; (void)p; }
  if (std::strcmp(argv[1], "overflow") == 0) { char* a = new char[16]; std::memset(a, 1, 16 + argc); int r = a[0]; delete[] a; return r; }
  if (std::strcmp(argv[1], "ub") == 0) { return big + argc; }
  return 0;
}
CPP
"$cxx" -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  "$canary_dir/canary.cpp" -o "$canary_dir/canary"
"$canary_dir/canary" none || { echo "sanitizer canary: a clean run failed" >&2; exit 1; }
for fault_and_report in "leak:ERROR: LeakSanitizer" "overflow:heap-buffer-overflow" \
                        "ub:runtime error: signed integer overflow"; do
  fault="${fault_and_report%%:*}" report="${fault_and_report#*:}"
  if "$canary_dir/canary" "$fault" >"$canary_dir/$fault.log" 2>&1 \
     || ! grep -q "$report" "$canary_dir/$fault.log"; then
    echo "sanitizer canary: '$fault' did not fail with '$report'; see $canary_dir/$fault.log" >&2
    exit 1
  fi
done

stage "sanitizers: ctest under ASan + LSan + UBSan" \
  ctest --test-dir "$build" --output-on-failure --no-tests=error --parallel "$(nproc)"

# A report that a test swallowed (e.g. in a child process) would still be printed: look.
if grep -rlE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
     "$build/Testing/Temporary/" 2>/dev/null; then
  echo "sanitizer report found in the CTest logs" >&2
  exit 1
fi
log "sanitizers: clean"
