# Shared set-up for scripts/run_example.sh and scripts/run_tests.sh (source it, don't run it).
#
# Environment:
#   TORCH_VERSION      torch to install into the virtual environment (default 2.13.0)
#   TORCH_EXT_PYTHON   use this Python (which already has torch) instead of a virtual env
#   TORCH_CUDA_ARCH_LIST, FORCE_CUDA, MAX_JOBS   passed on to the build (see setup.py)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TORCH_VERSION="${TORCH_VERSION:-2.13.0}"

log() { printf '\n==> %s\n' "$*"; }

# System packages the C++ side needs: a compiler, CMake, Ninja, GoogleTest.
ensure_system_packages() {
  local missing=()
  command -v cmake >/dev/null || missing+=(cmake)
  command -v ninja >/dev/null || missing+=(ninja-build)
  command -v g++ >/dev/null || missing+=(g++)
  [ -f /usr/include/gtest/gtest.h ] || missing+=(libgtest-dev)
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing system packages: ${missing[*]} (install them with apt-get as root)" >&2
    exit 1
  fi
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Sets PYTHON: the given interpreter, or a virtual env with the requested torch.
ensure_python() {
  if [ -n "${TORCH_EXT_PYTHON:-}" ]; then
    PYTHON="$TORCH_EXT_PYTHON"
  else
    local venv="$REPO_ROOT/.venv-torch$TORCH_VERSION"
    if [ ! -x "$venv/bin/python" ]; then
      log "creating $venv with torch==$TORCH_VERSION"
      python3 -m venv "$venv"
    fi
    PYTHON="$venv/bin/python"
    if ! "$PYTHON" -c "import torch, sys; sys.exit(not torch.__version__.startswith('$TORCH_VERSION'))" 2>/dev/null; then
      "$PYTHON" -m pip install -q --disable-pip-version-check "torch==$TORCH_VERSION"
    fi
    "$PYTHON" -m pip install -q --disable-pip-version-check setuptools wheel ninja pytest hypothesis numpy \
      onnx onnxscript onnxruntime
  fi
  "$PYTHON" -c "import torch; print('torch', torch.__version__, '| CUDA available:', torch.cuda.is_available())"
}

# Builds and installs the package (library, extension, headers, CMake config) into PYTHON.
install_package() {
  log "building torch_ext against $("$PYTHON" -c 'import torch; print(torch.__version__)')"
  (cd "$REPO_ROOT" && "$PYTHON" -m pip install -q --disable-pip-version-check --no-build-isolation .)
}

# CMAKE_PREFIX_PATH that finds both Torch and the installed TorchExt package.
cmake_prefix_path() {
  (cd /tmp && "$PYTHON" -c "import torch, torch_ext; print(torch.utils.cmake_prefix_path + ';' + torch_ext.cmake_prefix_path)")
}

# Configures and builds an out-of-tree CMake project against the installed package.
build_cmake_project() {  # <source dir> <build dir>
  cmake -S "$1" -B "$2" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$(cmake_prefix_path)" >"$2.configure.log" 2>&1 \
    || { cat "$2.configure.log"; return 1; }
  cmake --build "$2" --parallel "${MAX_JOBS:-$(nproc)}"
}

build_dir_for_this_torch() {  # <name>
  echo "$REPO_ROOT/build/$1-torch$("$PYTHON" -c 'import torch; print(torch.__version__)')"
}
