#!/usr/bin/env bash
# Installs a wheel made by scripts/build_wheels.sh as a user does, into a fresh virtual
# environment per torch, and runs it there:
#   scripts/check_wheel.sh WHEEL --carried 2.13.0,2.15.0 [--uncarried 2.14.1]
# For each carried torch: `pip install WHEEL` with no compiler on PATH (and no index: the
# environment's torch must satisfy it), then the Python API against native F.threshold (values
# and gradient, bit for bit), torch.compile (values and gradient), and a C++ program built
# with find_package(TorchExt) against the installed package. For the uncarried torch, the wheel
# forced in (--no-deps): `pip check` refuses it, naming the range it carries, and
# `import torch_ext` fails with the ImportError that lists the builds it carries (an exit
# status, never a crash). The Python of the environments is TORCH_EXT_VENV_PYTHON (python3).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { echo "usage: $0 WHEEL --carried V[,V...] [--uncarried V]" >&2; exit 2; }
[ $# -ge 1 ] || usage
wheel="$(realpath "$1")"; shift
carried="" uncarried=""
while [ $# -gt 0 ]; do
  case "$1" in
    --carried) carried="$2"; shift 2 ;;
    --uncarried) uncarried="$2"; shift 2 ;;
    *) usage ;;
  esac
done
[ -n "$carried" ] || usage

work="$(mktemp -d)"
trap 'end_unfinished_stage $?; rm -rf "$work"' EXIT

fresh_venv() {  # <torch version>: prints the python of a new venv with that torch
  local venv="$work/venv-$1"
  "${TORCH_EXT_VENV_PYTHON:-python3}" -m venv "$venv"
  pip_install_from_index "$venv/bin/python" "torch==$1" numpy >&2
  echo "$venv/bin/python"
}

# PATH with the venv's scripts only: no cc, c++, gcc, g++ or nvcc (checked).
no_compiler_env() {  # <venv python> -> runs the rest of the arguments with that PATH
  local path
  path="$(dirname "$1")"; shift
  for compiler in cc c++ gcc g++ clang nvcc; do
    if PATH="$path" command -v "$compiler" >/dev/null; then echo "$compiler on $path" >&2; return 1; fi
  done
  PATH="$path" "$@"
}

PROBE='
import sys, torch, torch.nn.functional as F, torch_ext
assert torch.__version__.split("+")[0] == sys.argv[1], f"installing the wheel changed torch: {torch.__version__}"
theta = 0.5
x = torch.randn(4096, dtype=torch.float64) * 2
x[:4] = torch.tensor([theta, -0.0, float("nan"), float("inf")], dtype=torch.float64)
def values_and_grad(fn, x):
    x = x.clone().requires_grad_()
    y = fn(x)
    (g,) = torch.autograd.grad(y, x, torch.linspace(-1, 1, x.numel(), dtype=x.dtype))
    return y.detach(), g
native = values_and_grad(lambda t: F.threshold(t, theta, 0.0), x)
for name, fn in {"eager": lambda t: torch_ext.thresholded_relu(t, theta),
                 "module": torch_ext.ThresholdedReLU(theta),
                 "torch.compile": torch.compile(lambda t: torch_ext.thresholded_relu(t, theta))}.items():
    for ours, ref in zip(values_and_grad(fn, x), native):
        assert torch.equal(ours.view(torch.int64), ref.view(torch.int64)), name
print(f"torch {torch.__version__}: torch_ext {torch_ext.__version__} (build for torch "
      f"{torch_ext.built_with_torch}, CUDA kernels {torch_ext.built_with_cuda}) from "
      f"{torch_ext._C.__file__}: eager, module and torch.compile equal F.threshold, values and gradient")
'

CONSUMER_CMAKE='cmake_minimum_required(VERSION 3.22)
project(consumer LANGUAGES CXX)
find_package(TorchExt REQUIRED)
add_executable(consumer main.cpp)
target_link_libraries(consumer PRIVATE TorchExt::torch_ext)'
CONSUMER_MAIN='#include <torch_ext/torch_ext.h>
#include <iostream>
int main() {
  auto x = torch::tensor({0.5, 1.0, 1.5}, torch::requires_grad());
  auto y = torch_ext::thresholded_relu(x, 1.0);
  y.sum().backward();
  std::cout << y << x.grad() << std::endl;
  return (y[2].item<double>() == 1.5 && y[1].item<double>() == 0.0 &&
          x.grad()[2].item<double>() == 1.0 && x.grad()[0].item<double>() == 0.0) ? 0 : 1;
}'

check_carried() {  # <torch version>
  local python dir prefix
  python="$(fresh_venv "$1")"
  no_compiler_env "$python" "$python" -m pip install -q --disable-pip-version-check --no-index "$wheel"
  (cd "$work" && "$python" -c "$PROBE" "$1")
  dir="$work/consumer-$1"
  mkdir -p "$dir"
  printf '%s\n' "$CONSUMER_CMAKE" >"$dir/CMakeLists.txt"
  printf '%s\n' "$CONSUMER_MAIN" >"$dir/main.cpp"
  prefix="$(cd "$work" && "$python" -c 'import torch, torch_ext; print(torch.utils.cmake_prefix_path + ";" + torch_ext.cmake_prefix_path)')"
  build_cmake_project "$dir" "$dir/build" "$prefix" >"$dir/build.log" 2>&1 || { cat "$dir/build.log"; return 1; }
  "$dir/build/consumer"
  echo "torch $1: a C++ program built with find_package(TorchExt) ran the operator and its gradient"
  rm -rf "${python%/bin/python}"  # its venv, several GB with a CUDA torch: gone before the next
}

check_uncarried() {  # <torch version>
  local python out status=0
  python="$(fresh_venv "$1")"
  # Forced in (--no-deps: pip would otherwise replace the torch, from any source it has).
  "$python" -m pip install -q --disable-pip-version-check --no-index --no-deps "$wheel"
  out="$("$python" -m pip check 2>&1)" && {
    echo "pip check accepts the wheel beside torch $1, which it carries no build for" >&2; return 1; }
  # pip writes the specifiers sorted: a gap in the carried minors ("!=2.14.*") comes first.
  grep -qiE "torch.ext 0[^ ]* has requirement torch(!=|<|>=)[0-9]" <<<"$out" \
    || { echo "pip check names no torch range: $out" >&2; return 1; }
  echo "torch $1: $(grep -m1 -i "torch.ext" <<<"$out")"
  out="$(cd "$work" && "$python" -c 'import torch_ext' 2>&1)" || status=$?
  if [ "$status" -ne 1 ] || ! grep -q "^ImportError: torch_ext has no build for the running torch $1" <<<"$out"; then
    echo "import torch_ext beside torch $1 gave exit status $status and: $out" >&2; return 1
  fi
  echo "torch $1: $(tail -n1 <<<"$out")"
  rm -rf "${python%/bin/python}"
}

for version in ${carried//,/ }; do
  stage "wheel with torch $version (fresh venv)" check_carried "$version"
done
if [ -n "$uncarried" ]; then
  stage "wheel with torch $uncarried, which it does not carry (fresh venv)" check_uncarried "$uncarried"
fi
