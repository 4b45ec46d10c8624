#!/usr/bin/env bash
# The whole test suite: build and install torch_ext, run pytest, then build the GoogleTest
# suite against the installed package and run it with CTest.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_system_packages
ensure_python
install_package

log "pytest"
# Run from tests/python so that the source folder torch_ext/ cannot shadow the installed package.
(cd "$REPO_ROOT/tests/python" && "$PYTHON" -m pytest -q -c "$REPO_ROOT/pyproject.toml" \
  --rootdir "$REPO_ROOT" . "$@")

log "GoogleTest (CTest)"
build="$(build_dir_for_this_torch tests-cpp)"
mkdir -p "$(dirname "$build")"
build_cmake_project "$REPO_ROOT/tests/cpp" "$build"
(cd "$build" && ctest --output-on-failure --parallel "$(nproc)")
