#!/usr/bin/env bash
# The whole test suite: build and install torch_ext, run pytest, then install the CMake package
# with `cmake --install`, build the GoogleTest suite against it and run it with CTest (which also
# makes TorchScript and AOTInductor models in Python and loads them from C++). Arguments go to
# pytest (e.g. -m "not install_routes"). Each stage prints its time.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_system_packages
stage "torch $TORCH_VERSION: Python environment" ensure_python
label="torch $("$PYTHON" -c 'import torch; print(torch.__version__)')"
stage "$label: build and install" install_package

run_pytest() {
  # From tests/python, so that the source folder torch_ext/ cannot shadow the installed package.
  (cd "$REPO_ROOT/tests/python" && "$PYTHON" -m pytest -q -c "$REPO_ROOT/pyproject.toml" \
    --rootdir "$REPO_ROOT" . "$@")
}
stage "$label: pytest" run_pytest "$@"

# The pip-installed copy of the CMake package is what scripts/run_example.sh builds against
# (and tests/python/test_cpp_interop.py checks); here the same package installed by CMake alone.
prefix="$(build_dir_for_this_torch cmake-install)"
build="$(build_dir_for_this_torch tests-cpp)"
build_googletest_suite() {
  mkdir -p "$(dirname "$prefix")"
  cmake_install_package "$prefix"
  local torch_prefix
  torch_prefix="$("$PYTHON" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
  # Python3_EXECUTABLE: CTest fixtures run tests/cpp/make_models.py with it (TorchScript and
  # AOTInductor models that the C++ tests load).
  build_cmake_project "$REPO_ROOT/tests/cpp" "$build" "$torch_prefix;$prefix" \
    -DPython3_EXECUTABLE="$PYTHON" -DTORCH_EXT_TEST_MODELS=ON
}
stage "$label: GoogleTest build, against a plain \`cmake --install\` of the project" build_googletest_suite
stage "$label: ctest" ctest --test-dir "$build" --output-on-failure --no-tests=error --parallel "$(nproc)"
