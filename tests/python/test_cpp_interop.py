"""The CMake package shipped inside the Python package (what torch_ext.cmake_prefix_path points
at): files in place, and find_package(TorchExt) gives a target that points back at them.

The GoogleTest suite (tests/cpp, run by scripts/run_tests.sh) builds against a plain
`cmake --install` of the project, and scripts/run_example.sh builds examples/cpp against this copy.
"""

import json
import os
import shutil
import subprocess
import textwrap

import pytest
import torch
import torch_ext

PACKAGE_DIR = os.path.dirname(os.path.abspath(torch_ext.__file__))
# The build for this torch (torch_ext/_loading.py): its library, headers and CMake package.
BUILD_FOLDER = torch_ext._loading.build_folder(torch.__version__)
BUILD_DIR = os.path.join(PACKAGE_DIR, BUILD_FOLDER)

PROBE = textwrap.dedent("""\
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
    """)


def configure_probe(tmp_path, cmake_prefix_path: str) -> subprocess.CompletedProcess:
    (tmp_path / "CMakeLists.txt").write_text(PROBE)
    prefix = f"{torch.utils.cmake_prefix_path};{cmake_prefix_path}"
    return subprocess.run(["cmake", "-S", str(tmp_path), "-B", str(tmp_path / "build"),
                           f"-DCMAKE_PREFIX_PATH={prefix}"], capture_output=True, text=True)


def test_cmake_prefix_path_holds_the_package():
    assert os.path.realpath(torch_ext.cmake_prefix_path) == os.path.join(
        os.path.realpath(PACKAGE_DIR), "share", "cmake")
    # The package's config, which picks a build, and the build's own CMake package.
    for name in ("TorchExtConfig.cmake", "TorchExtConfigVersion.cmake"):
        assert os.path.isfile(os.path.join(torch_ext.cmake_prefix_path, "TorchExt", name)), name
    for name in ("TorchExtConfig.cmake", "TorchExtTargets.cmake"):
        assert os.path.isfile(os.path.join(BUILD_DIR, "share", "cmake", "TorchExt", name)), name
    assert os.path.isfile(os.path.join(BUILD_DIR, "lib", "libtorch_ext_ops.so"))
    for header in ("torch_ext.h", "thresholded_relu.h", os.path.join("nn", "thresholded_relu.h")):
        assert os.path.isfile(os.path.join(BUILD_DIR, "include", "torch_ext", header)), header


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")
def test_find_package_gives_a_target_pointing_into_the_package(tmp_path):
    result = configure_probe(tmp_path, torch_ext.cmake_prefix_path)
    assert result.returncode == 0, result.stdout + result.stderr
    build = tmp_path / "build"
    probe = dict(line.split("=", 1) for line in (build / "probe.txt").read_text().splitlines())
    assert probe["version"] == torch_ext.__version__
    real = os.path.realpath
    assert real(probe["location"]) == real(os.path.join(BUILD_DIR, "lib", "libtorch_ext_ops.so"))
    assert {real(d) for d in probe["includes"].split(";")} == {real(os.path.join(BUILD_DIR, "include"))}
    # Programs that only load TorchScript/AOTInductor models must keep the op library linked.
    assert "--no-as-needed" in probe["options"]
    assert "torch" in probe["libraries"].split(";")


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")
def test_find_package_fails_at_configure_naming_both_versions_without_a_build(tmp_path):
    # A copy of the package's CMake side whose one build is for another torch (2.99).
    package = tmp_path / "torch_ext"
    shutil.copytree(os.path.join(PACKAGE_DIR, "share"), package / "share")
    shutil.copytree(BUILD_DIR, package / "_builds" / "torch2_99")
    info = package / "_builds" / "torch2_99" / "_build_info.json"
    info.write_text(json.dumps({**json.loads(info.read_text()), "torch_version": "2.99.0"}))
    (tmp_path / "probe").mkdir()
    result = configure_probe(tmp_path / "probe", str(package / "share" / "cmake"))
    assert result.returncode != 0
    log = " ".join((result.stdout + result.stderr).split())  # CMake wraps long messages
    assert f"found Torch {torch.__version__.split('+')[0]}" in log, log
    assert "carries builds for: torch 2.99.0" in log, log
