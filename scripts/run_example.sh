#!/usr/bin/env bash
# The main job: build torch_ext, then train a small model with ThresholdedReLU in Python and
# in C++ (an out-of-tree CMake program using the installed package), then run a model saved
# from Python in C++. GPU when present.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_system_packages
ensure_python
install_package

log "Python example"
"$PYTHON" "$REPO_ROOT/examples/python/train.py"

log "C++ example (out-of-tree CMake project using find_package(TorchExt))"
build="$(build_dir_for_this_torch example-cpp)"
mkdir -p "$(dirname "$build")"
build_cmake_project "$REPO_ROOT/examples/cpp" "$build"
"$build/train_mlp"

log "A model saved from Python (TorchScript and AOTInductor), run from C++"
(cd /tmp && "$PYTHON" "$REPO_ROOT/examples/cpp/export_model.py" "$build/models")
"$build/run_model" "$build/models"
