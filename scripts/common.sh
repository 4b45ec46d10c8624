# Shared set-up for the scripts in scripts/ and .ci/run (source it, don't run it).
#
# Environment:
#   TORCH_VERSION          torch to install into the virtual environment (default 2.13.0)
#   TORCH_EXT_VENV_PYTHON  the Python that makes that virtual environment (default python3), e.g.
#                          a Python 3.12 for torch 2.11.0 as on the GPU machine
#   TORCH_EXT_PYTHON       use this Python (which already has torch) instead of a virtual env
#   TORCH_CUDA_ARCH_LIST, FORCE_CUDA, MAX_JOBS   passed on to the build (see setup.py)
#   TORCH_EXT_STAGE_LOG    if set, a file that `stage` appends "<seconds>\t<name>" lines to
# When ccache is installed, CMake builds go through it (see use_compiler_cache).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TORCH_VERSION="${TORCH_VERSION:-2.13.0}"

log() { printf '\n==> %s\n' "$*"; }

# Runs "$@" as a named stage and reports its time (CI's log and summary read these lines).
stage() {  # <name> <command> [args...]
  TORCH_EXT_STAGE="$1" TORCH_EXT_STAGE_START=$SECONDS
  shift
  log "$TORCH_EXT_STAGE"
  "$@"
  end_stage $?  # non-zero here only where errexit is off (a caller's `if` or `||`)
}
end_stage() {  # <exit status>
  local seconds=$(( SECONDS - TORCH_EXT_STAGE_START )) result=""
  [ "$1" -eq 0 ] || result=" (FAILED, exit $1)"
  printf '<== %s: %d s%s\n' "$TORCH_EXT_STAGE" "$seconds" "$result"
  if [ -n "${TORCH_EXT_STAGE_LOG:-}" ]; then
    printf '%d\t%s%s\n' "$seconds" "$TORCH_EXT_STAGE" "$result" >>"$TORCH_EXT_STAGE_LOG"
  fi
  unset TORCH_EXT_STAGE
  return "$1"
}
# A stage that errexit ends gets its FAILED line too: a script's EXIT trap calls this first.
end_unfinished_stage() {  # <exit status>
  if [ -n "${TORCH_EXT_STAGE:-}" ]; then end_stage "$1" || true; fi
}
trap 'end_unfinished_stage $?' EXIT

# CMake picks up these launchers for every project it configures from here on: setup.py's
# build, the test and sanitizer builds, and the builds the install-route tests make from
# copies of the checkout. The key leaves out the build folder (hash_dir), and paths under
# CCACHE_BASEDIR (if set) count relative to the build folder, so two copies of the checkout
# built against the same torch share entries. `ccache --show-stats` reports hits.
use_compiler_cache() {
  command -v ccache >/dev/null || return 0
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_CUDA_COMPILER_LAUNCHER=ccache
  export CCACHE_NOHASHDIR=1
}
use_compiler_cache

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

# The virtual environment for TORCH_VERSION and the Python of TORCH_EXT_VENV_PYTHON (default
# python3): .venv-torch<version>-py<major.minor>, one per pair, so that the wheels of two
# Pythons (scripts/build_wheels.sh) each keep their own.
venv_dir() {
  printf '%s/.venv-torch%s-py%s\n' "$REPO_ROOT" "$TORCH_VERSION" \
    "$("${TORCH_EXT_VENV_PYTHON:-python3}" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
}

# Sets PYTHON: the given interpreter, or a virtual env with the requested torch, the build's
# requirements (pyproject.toml's build-system.requires: a venv of Python 3.11 comes with an
# older setuptools, which only some torch releases' dependencies upgrade) and the tests'.
ensure_python() {
  if [ -n "${TORCH_EXT_PYTHON:-}" ]; then
    PYTHON="$TORCH_EXT_PYTHON"
  else
    local venv want maker="${TORCH_EXT_VENV_PYTHON:-python3}" packages=('setuptools>=77' wheel build ninja pytest hypothesis numpy onnx onnxscript onnxruntime 'keras==3.15.*' h5py)
    venv="$(venv_dir)"
    want="$("$maker" -c 'import sys; print(sys.version.split()[0])')"
    if [ ! -x "$venv/bin/python" ] || [ "$("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])')" != "$want" ]; then
      log "creating $venv (Python $want) with torch==$TORCH_VERSION"
      "$maker" -m venv --clear "$venv"
    fi
    PYTHON="$venv/bin/python"
    if ! "$PYTHON" -c "import torch, sys; sys.exit(not torch.__version__.startswith('$TORCH_VERSION'))" 2>/dev/null; then
      packages=("torch==$TORCH_VERSION" "${packages[@]}")
    fi
    pip_install_from_index "$PYTHON" "${packages[@]}"
  fi
  "$PYTHON" -c "import torch; print('torch', torch.__version__, '| CUDA available:', torch.cuda.is_available())"
}

# pip install <packages> from the registries into <python>'s environment. A CUDA build of torch
# is several GB from PyPI, downloaded anew by each venv (pip's cache here keeps none of it), so
# a dropped download gets two more tries.
pip_install_from_index() {  # <python> <pip install arguments...>
  local try
  for try in 1 2 3; do
    "$1" -m pip install -q --disable-pip-version-check "${@:2}" && return 0
    echo "pip install ${*:2}: failed (try $try of 3)" >&2
    [ "$try" -eq 3 ] || sleep 20
  done
  return 1
}

# Builds and installs the package (library, extension, headers, CMake config) into PYTHON.
install_package() {
  log "building torch_ext against $("$PYTHON" -c 'import torch; print(torch.__version__)')"
  # -v: pip shows the build's own output (CMake's configure and compile progress) only so.
  (cd "$REPO_ROOT" && "$PYTHON" -m pip install -v --disable-pip-version-check --no-build-isolation .)
}

# CMAKE_PREFIX_PATH that finds both Torch and the installed TorchExt package.
cmake_prefix_path() {
  (cd /tmp && "$PYTHON" -c "import torch, torch_ext; print(torch.utils.cmake_prefix_path + ';' + torch_ext.cmake_prefix_path)")
}

# Configures and builds an out-of-tree CMake project.
#   build_cmake_project <source dir> <build dir> [<CMAKE_PREFIX_PATH>] [cmake -D options...]
# The prefix path defaults to the one of the pip-installed package (cmake_prefix_path).
build_cmake_project() {
  local src="$1" dir="$2" prefix="${3:-$(cmake_prefix_path)}"
  shift $(( $# < 3 ? $# : 3 ))
  cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" "$@" >"$dir.configure.log" 2>&1 \
    || { cat "$dir.configure.log"; return 1; }
  cmake --build "$dir" --parallel "${MAX_JOBS:-$(nproc)}"
}

# Installs the top-level CMake project with `cmake --install` into <prefix>, built as a C++-only
# user builds it (no Python module), in a tree of its own: the Python package's library carries
# only RUNPATHs relative to site-packages (a wheel goes to other machines), which find torch's
# libraries from no other prefix.
cmake_install_package() {  # <prefix>
  local prefix="$1" build
  build="$(build_dir_for_this_torch cmake-project)"
  rm -rf "$prefix"
  mkdir -p "$(dirname "$build")"
  build_cmake_project "$REPO_ROOT" "$build" \
    "$("$PYTHON" -c 'import torch; print(torch.utils.cmake_prefix_path)')" \
    -DTORCH_EXT_BUILD_TESTS=OFF -DTORCH_EXT_BUILD_PYTHON=OFF
  cmake --install "$build" --prefix "$prefix" --component cpp >/dev/null
}

# build/<name>-torch<version>-<key>: a CMake tree of this checkout, PYTHON's environment and
# its torch only (scripts/build_tree.py, which setup.py uses too).
build_dir_for_this_torch() {  # <name>
  "$PYTHON" "$REPO_ROOT/scripts/build_tree.py" "$REPO_ROOT" "$1"
}
