"""The CMake package shipped inside the Python package (what torch_ext.cmake_prefix_path points
at): files in place, and find_package(TorchExt) gives a target that points back at them.

The GoogleTest suite (tests/cpp, run by scripts/run_tests.sh) builds against a plain
`cmake --install` of the project, and scripts/run_example.sh builds examples/cpp against this copy.
"""

import os
import shutil
import subprocess
import textwrap

import pytest
import torch
import torch_ext

PACKAGE_DIR = os.path.dirname(os.path.abspath(torch_ext.__file__))


def test_cmake_prefix_path_holds_the_package():
    config_dir = os.path.join(torch_ext.cmake_prefix_path, "TorchExt")
    assert os.path.realpath(torch_ext.cmake_prefix_path) == os.path.join(
        os.path.realpath(PACKAGE_DIR), "share", "cmake")
    for name in ("TorchExtConfig.cmake", "TorchExtConfigVersion.cmake", "TorchExtTargets.cmake"):
        assert os.path.isfile(os.path.join(config_dir, name)), name
    assert os.path.isfile(os.path.join(PACKAGE_DIR, "lib", "libtorch_ext_ops.so"))
    for header in ("torch_ext.h", "thresholded_relu.h", os.path.join("nn", "thresholded_relu.h")):
        assert os.path.isfile(os.path.join(PACKAGE_DIR, "include", "torch_ext", header)), header


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")
def test_find_package_gives_a_target_pointing_into_the_package(tmp_path):
    (tmp_path / "CMakeLists.txt").write_text(textwrap.dedent("""\
        cmake_minimum_required(VERSION 3.22)
        project(probe LANGUAGES CXX)
        find_package(TorchExt REQUIRED)
        get_target_property(location TorchExt::torch_ext IMPORTED_LOCATION_RELEASE)
        get_target_property(includes TorchExt::torch_ext INTERFACE_INCLUDE_DIRECTORIES)
        get_target_property(options TorchExt::torch_ext INTERFACE_LINK_OPTIONS)
        get_target_property(libraries TorchExt::torch_ext INTERFACE_LINK_LIBRARIES)
        file(WRITE "${CMAKE_BINARY_DIR}/probe.txt"
             "version=${TorchExt_VERSION}\\nlocation=${location}\\nincludes=${includes}\\n"
             "options=${options}\\nlibraries=${libraries}\\n")
        """))
    build = tmp_path / "build"
    prefix = f"{torch.utils.cmake_prefix_path};{torch_ext.cmake_prefix_path}"
    result = subprocess.run(
        ["cmake", "-S", str(tmp_path), "-B", str(build), f"-DCMAKE_PREFIX_PATH={prefix}"],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    probe = dict(line.split("=", 1) for line in (build / "probe.txt").read_text().splitlines())
    assert probe["version"] == torch_ext.__version__
    real = os.path.realpath
    assert real(probe["location"]) == real(os.path.join(PACKAGE_DIR, "lib", "libtorch_ext_ops.so"))
    assert {real(d) for d in probe["includes"].split(";")} == {real(os.path.join(PACKAGE_DIR, "include"))}
    # Programs that only load TorchScript/AOTInductor models must keep the op library linked.
    assert "--no-as-needed" in probe["options"]
    assert "torch" in probe["libraries"].split(";")
