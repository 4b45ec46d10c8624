"""The main example (scripts/run_example.sh): the Python run must learn the regression (it
checks its held-out error against the target's variance and exits non-zero otherwise), and the
C++ program, built out of tree against the installed package, must start from Python's loss,
pass the same check and end close to Python (train_mlp compares the two and exits non-zero on
a mismatch)."""

import os
import shutil
import subprocess
import sys

import pytest
import torch
import torch_ext

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "examples")


def run(command, cwd, timeout=900):
    out = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    return out.stdout


@pytest.mark.out_of_tree_builds
@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")
def test_python_and_cpp_training_examples(tmp_path):
    losses = tmp_path / "python_losses.txt"
    printed = run([sys.executable, os.path.join(EXAMPLES, "python", "train.py"),
                   "--losses-out", str(losses)], cwd=tmp_path)
    assert "OK: the model learned the function" in printed
    initial, final, held_out = map(float, losses.read_text().split())
    assert held_out < initial / 10, (initial, held_out)  # the untrained model scores ~ the variance

    build = tmp_path / "build"
    prefix = f"{torch.utils.cmake_prefix_path};{torch_ext.cmake_prefix_path}"
    run(["cmake", "-S", os.path.join(EXAMPLES, "cpp"), "-B", str(build),
         "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_PREFIX_PATH={prefix}"]
        + (["-G", "Ninja"] if shutil.which("ninja") else []), cwd=tmp_path)
    run(["cmake", "--build", str(build), "--target", "train_mlp"], cwd=tmp_path, timeout=1800)
    printed = run([str(build / "train_mlp"), str(losses)], cwd=tmp_path)
    assert "MSE before training" in printed and "(the same:" in printed, printed
    assert "OK: the model learned the function" in printed, printed
