#!/usr/bin/env bash
# The main job: build torch_ext, then
#   1. Python: train a small MLP with ThresholdedReLU on a synthetic regression
#      (y = sum(sin(2 x)) + noise, 4 inputs); it must explain > 90 % of the held-out variance;
#   2. C++: train the same model with LibTorch (an out-of-tree CMake project using the installed
#      package); same start as Python (same seed, initialisation and data), the same success
#      test, and a save/load round trip;
#   3. run a model saved from Python (TorchScript and AOTInductor) in C++, outputs compared.
# Each step prints what it checks and stops the script if the check fails. GPU when present.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ensure_system_packages
ensure_python
install_package

build="$(build_dir_for_this_torch example-cpp)"
mkdir -p "$build"

log "1/3 Python: a small MLP with ThresholdedReLU learns a synthetic regression"
"$PYTHON" "$REPO_ROOT/examples/python/train.py" --losses-out "$build/python_losses.txt"

log "2/3 C++: the same model trained with LibTorch (out-of-tree CMake project, find_package(TorchExt))"
build_cmake_project "$REPO_ROOT/examples/cpp" "$build"
"$build/train_mlp" "$build/python_losses.txt"

log "3/3 A model saved from Python (TorchScript and AOTInductor), run from C++"
(cd /tmp && "$PYTHON" "$REPO_ROOT/examples/cpp/export_model.py" "$build/models")
"$build/run_model" "$build/models"

log "example passed: Python and C++ both learned the function, and C++ ran Python's saved models"
