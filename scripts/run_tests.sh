#!/usr/bin/env bash
# The whole test suite: build and install torch_ext, run pytest, then install the CMake package
# with `cmake --install`, build the GoogleTest suite against it and run it with CTest (which also
# makes TorchScript and AOTInductor models in Python and loads them from C++).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_system_packages
ensure_python
install_package

log "pytest"
# Run from tests/python so that the source folder torch_ext/ cannot shadow the installed package.
(cd "$REPO_ROOT/tests/python" && "$PYTHON" -m pytest -q -c "$REPO_ROOT/pyproject.toml" \
  --rootdir "$REPO_ROOT" . "$@")

log "GoogleTest (CTest), against a plain \`cmake --install\` of the project"
# The pip-installed copy of the CMake package is what scripts/run_example.sh builds against
# (and tests/python/test_cpp_interop.py checks); here the same package installed by CMake alone.
prefix="$(build_dir_for_this_torch cmake-install)"
mkdir -p "$(dirname "$prefix")"
cmake_install_package "$prefix"
torch_prefix="$("$PYTHON" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
build="$(build_dir_for_this_torch tests-cpp)"
# Python3_EXECUTABLE: CTest fixtures run tests/cpp/make_models.py with it (TorchScript and
# AOTInductor models that the C++ tests load).
build_cmake_project "$REPO_ROOT/tests/cpp" "$build" "$torch_prefix;$prefix" \
  -DPython3_EXECUTABLE="$PYTHON"
(cd "$build" && ctest --output-on-failure --parallel "$(nproc)")
