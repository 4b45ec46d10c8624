"""Install routes a user takes, each from a fresh copy of the source: an sdist built into a
wheel elsewhere, that wheel installed into a second virtual environment (Python API and the C++
package), an editable install that imports and picks up a rebuild, a CUDA build of torch
configured without TORCH_CUDA_ARCH_LIST; and what `import torch_ext` says when the source
folder shadows the package or the binary was built for another torch.

The build routes (marker `install_routes`) each compile the library, a few minutes apiece on
two cores; .ci/run runs them once, against the default torch.
"""

from __future__ import annotations

import email.parser
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path
from typing import NamedTuple

import pytest
import torch
import torch_ext

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(torch_ext.__file__).resolve().parent
BUILD_FOLDER = torch_ext._loading.build_folder(torch.__version__)  # "_builds/torch2_13"
BUILD_DIR = PACKAGE_DIR / BUILD_FOLDER
VERSION = torch_ext.__version__
BUILD_TIMEOUT = 1800

# A probe that a fresh install works from Python: a hand-worked case and the C++ package files.
PYTHON_PROBE = textwrap.dedent("""\
    import json, os, torch, torch_ext
    y = torch_ext.thresholded_relu(torch.tensor([0.5, 1.0, 1.5, float("nan")]), 1.0)
    assert y[:3].tolist() == [0.0, 0.0, 1.5] and y[3].isnan(), y
    config = os.path.join(torch_ext.cmake_prefix_path, "TorchExt", "TorchExtConfig.cmake")
    print(json.dumps({"file": torch_ext.__file__, "config": os.path.isfile(config),
                      "built_with_torch": torch_ext.built_with_torch,
                      "cmake_prefix_path": torch_ext.cmake_prefix_path}))
""")

# A C++ consumer of the installed CMake package: find_package(TorchExt), link, run.
CPP_CONSUMER_CMAKE = textwrap.dedent("""\
    cmake_minimum_required(VERSION 3.22)
    project(consumer LANGUAGES CXX)
    find_package(TorchExt REQUIRED)
    add_executable(consumer main.cpp)
    target_link_libraries(consumer PRIVATE TorchExt::torch_ext)
""")
CPP_CONSUMER_MAIN = textwrap.dedent("""\
    #include <torch_ext/torch_ext.h>
    #include <iostream>
    int main() {
      auto y = torch_ext::thresholded_relu(torch::tensor({0.5, 1.0, 1.5}), 1.0);
      std::cout << y[0].item<double>() << " " << y[1].item<double>() << " "
                << y[2].item<double>() << std::endl;
    }
""")


def run(cmd, **kwargs) -> subprocess.CompletedProcess:
    """Runs cmd; on failure the assertion shows its output."""
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT, **kwargs)
    assert out.returncode == 0, f"{cmd} failed:\n{out.stdout[-6000:]}\n{out.stderr[-6000:]}"
    return out


def env_without(*names: str, **updates: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in names and k != "PYTHONPATH"}
    env.update(updates)
    return env


def source_copy(dest: Path) -> Path:
    """The tracked files of the checkout (what a fresh clone has), without build outputs."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if (REPO_ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, dest / name)
    return dest


def torch_requirement() -> str:
    return f"torch=={torch.__version__.split('+')[0]}"


# ---------------------------------------------------------------- import checks


def import_torch_ext(package_parent: Path, cwd: Path, code: str = "import torch_ext"):
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          env=env_without(PYTHONPATH=str(package_parent)), timeout=300)


def test_import_from_the_source_folder_says_what_to_do(tmp_path):
    # The shape of a checkout: setup.py, csrc/ and the torch_ext/ sources, nothing built.
    shutil.copytree(REPO_ROOT / "torch_ext", tmp_path / "torch_ext",
                    ignore=shutil.ignore_patterns("__pycache__", "_builds", "share"))
    shutil.copy2(REPO_ROOT / "setup.py", tmp_path / "setup.py")
    (tmp_path / "csrc").mkdir()
    out = import_torch_ext(tmp_path, cwd=tmp_path)
    assert out.returncode != 0
    assert "ImportError: torch_ext is being imported from its source folder" in out.stderr
    assert "pip install --no-build-isolation -e" in out.stderr
    assert "circular import" not in out.stderr


@pytest.fixture
def installed_copy(tmp_path) -> Path:
    """A copy of the installed package, whose recorded torch version a test may change."""
    shutil.copytree(PACKAGE_DIR, tmp_path / "torch_ext",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def record_torch_version(package_parent: Path, version: str) -> None:
    path = package_parent / "torch_ext" / BUILD_FOLDER / "_build_info.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "torch_version": version}))


def other_version(minor_step: int, patch_step: int) -> str:
    major, minor, patch = (int(p) for p in torch.__version__.split("+")[0].split(".")[:3])
    return f"{major}.{minor + minor_step}.{patch + patch_step}"


def test_the_recorded_build_version_is_the_running_torch():
    recorded = json.loads((BUILD_DIR / "_build_info.json").read_text())["torch_version"]
    assert recorded == torch.__version__.split("+")[0] == torch_ext.built_with_torch


def test_version_is_the_installed_distributions_a_public_version():
    installed = importlib.metadata.version("torch_ext")
    assert re.fullmatch(r"\d+\.\d+\.\d+", installed), installed  # no local label: indexes refuse it
    assert VERSION == installed


@pytest.mark.parametrize("minor_step", [-1, 1])
def test_a_torch_without_a_build_is_refused_naming_the_builds_carried(installed_copy, minor_step):
    # The package's one build, moved to the folder of another minor release and recorded so.
    built = other_version(minor_step, 0)
    package = installed_copy / "torch_ext"
    (package / BUILD_FOLDER).rename(package / torch_ext._loading.build_folder(built))
    path = package / torch_ext._loading.build_folder(built) / "_build_info.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "torch_version": built}))
    out = import_torch_ext(installed_copy, cwd=installed_copy)
    assert out.returncode != 0
    message = out.stderr.strip().splitlines()[-1]
    assert message.startswith(
        f"ImportError: torch_ext has no build for the running torch {torch.__version__}"), out.stderr
    cuda = json.loads(path.read_text())["cuda"]  # nvcc's version, not the torch build's
    kernels = f"CUDA kernels compiled with CUDA {cuda}" if cuda else "CPU only"
    assert f"carries builds for: torch {built} ({kernels})" in message
    assert "pip install --no-build-isolation" in message


def test_the_build_for_the_running_torch_is_loaded_among_several(installed_copy):
    # A second build, for torch 2.99, whose files would fail to load if they were tried.
    package = installed_copy / "torch_ext"
    other = package / "_builds" / "torch2_99"
    shutil.copytree(package / BUILD_FOLDER, other)
    for extension in other.glob("_C*.so"):
        extension.write_text("not a library")
    info = other / "_build_info.json"
    info.write_text(json.dumps({**json.loads(info.read_text()), "torch_version": "2.99.0"}))
    code = textwrap.dedent("""\
        import json, torch, torch_ext
        assert torch_ext.thresholded_relu(torch.tensor([2.0, 0.5])).tolist() == [2.0, 0.0]
        print(json.dumps({"C": torch_ext._C.__file__, "carried": sorted(torch_ext._loading.carried_builds())}))
    """)
    out = import_torch_ext(installed_copy, cwd=installed_copy, code=code)
    assert out.returncode == 0, out.stderr
    probe = json.loads(out.stdout)
    assert Path(probe["C"]).parent == package / BUILD_FOLDER, probe
    assert probe["carried"] == sorted([BUILD_FOLDER, "_builds/torch2_99"])


def test_a_build_for_another_patch_release_loads_with_one_warning(installed_copy):
    built = other_version(0, 1)
    record_torch_version(installed_copy, built)
    code = textwrap.dedent("""\
        import warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import torch, torch_ext
        y = torch_ext.thresholded_relu(torch.tensor([2.0, 0.5]))
        assert y.tolist() == [2.0, 0.0], y
        mismatch = [w for w in caught if issubclass(w.category, torch_ext.TorchVersionMismatchWarning)]
        print(len(mismatch)); print(mismatch[0].message if mismatch else "")
    """)
    out = import_torch_ext(installed_copy, cwd=installed_copy, code=code)
    assert out.returncode == 0, out.stderr
    count, message = out.stdout.splitlines()[:2]
    assert count == "1"
    assert built in message and torch.__version__ in message


def test_an_undefined_symbol_becomes_a_clear_import_error(installed_copy, tmp_path):
    if shutil.which("cc") is None:
        pytest.fail("a C compiler (cc) is needed to make a library with an undefined symbol")
    # What a binary built against another torch looks like to the loader.
    (tmp_path / "broken.c").write_text(
        "extern void torch_ext_probe_missing(void);\nvoid probe(void) { torch_ext_probe_missing(); }\n")
    (extension,) = (installed_copy / "torch_ext" / BUILD_FOLDER).glob("_C*.so")
    run(["cc", "-shared", "-fPIC", "-o", str(extension), str(tmp_path / "broken.c")])
    out = import_torch_ext(installed_copy, cwd=installed_copy)
    assert out.returncode != 0
    message = out.stderr.strip().splitlines()[-1]
    assert message.startswith("ImportError: torch_ext's build for torch"), out.stderr
    assert f"does not load into torch {torch.__version__}" in message
    assert "undefined symbol: torch_ext_probe_missing" in message
    assert "pip install --no-build-isolation" in message


# ---------------------------------------------------------------- build routes
# One sdist, one wheel built from it by scripts/build_wheels.sh, one copy of that source tree
# (with its build/ folder) installed into a second venv: two compiles serve every check below.


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> Path:
    """A second virtual environment with the same torch and nothing of torch_ext."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         torch_requirement(), "setuptools", "wheel", "numpy"])
    return venv / "bin" / "python"


def build_cpp_consumer(python: Path, where: Path) -> str:
    """Configures, builds and runs a find_package(TorchExt) program against python's install."""
    where.mkdir()
    (where / "CMakeLists.txt").write_text(CPP_CONSUMER_CMAKE)
    (where / "main.cpp").write_text(CPP_CONSUMER_MAIN)
    prefix = run([str(python), "-c", "import torch, torch_ext; print(torch.utils.cmake_prefix_path"
                  " + ';' + torch_ext.cmake_prefix_path)"], cwd=where).stdout.strip()
    run(["cmake", "-S", str(where), "-B", str(where / "build"), "-DCMAKE_BUILD_TYPE=Release",
         f"-DCMAKE_PREFIX_PATH={prefix}"])
    run(["cmake", "--build", str(where / "build")])
    return run([str(where / "build" / "consumer")]).stdout.split()


class WheelBuild(NamedTuple):
    source: Path  # the unpacked sdist the wheel was built from (with its build/ folder)
    wheel: Path
    log: str  # what scripts/build_wheels.sh printed


@pytest.fixture(scope="module")
def wheel_build(tmp_path_factory) -> WheelBuild:
    """An sdist of a fresh copy of the checkout, unpacked elsewhere, and the wheel that its own
    scripts/build_wheels.sh builds for the running torch."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = source_copy(tmp / "checkout")
    run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir",
         str(tmp / "dist"), str(src)])
    (sdist,) = (tmp / "dist").glob("*.tar.gz")
    assert sdist.name == f"torch_ext-{VERSION}.tar.gz"  # an sdist names no torch
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
        tar.extractall(tmp / "unpacked")
    for needed in ("CMakeLists.txt", "LICENSE", "cmake/TorchCudaHints.cmake",
                   "csrc/ops/thresholded_relu.cpp", "csrc/ops/cuda/dense_loop.cuh",
                   "scripts/build_wheels.sh", "scripts/build_tree.py"):
        assert needed in names, needed
    (unpacked,) = (tmp / "unpacked").iterdir()
    out = run(["bash", str(unpacked / "scripts" / "build_wheels.sh"), "--out", str(tmp / "wheels")],
              cwd=tmp, env=env_without("TORCH_VERSION", TORCH_EXT_PYTHON=sys.executable))
    (wheel,) = (tmp / "wheels").glob("torch_ext-*.whl")
    return WheelBuild(unpacked, wheel, out.stdout + out.stderr)


def torch_minor() -> str:
    return ".".join(torch.__version__.split(".")[:2])


def next_minor() -> str:
    major, minor = torch_minor().split(".")
    return f"{major}.{int(minor) + 1}"


@pytest.mark.install_routes
def test_wheel_has_a_public_version_and_a_manylinux_platform(wheel_build):
    name, version, python_tag, abi_tag, platform_tag = wheel_build.wheel.stem.split("-")
    assert name == "torch_ext" and version == VERSION, wheel_build.wheel.name
    assert re.fullmatch(r"manylinux_2_\d+_x86_64(\.manylinux.*)?", platform_tag), platform_tag
    assert python_tag == abi_tag == f"cp{sys.version_info.major}{sys.version_info.minor}"
    with zipfile.ZipFile(wheel_build.wheel) as whl:
        (metadata,) = [n for n in whl.namelist() if n.endswith(".dist-info/METADATA")]
        meta = email.parser.Parser().parsestr(whl.read(metadata).decode())
        requires = [r for r in meta.get_all("Requires-Dist") if "extra ==" not in r]
        assert requires == [f"torch>={torch_minor()},<{next_minor()}"], requires  # what it carries
        assert meta["License-Expression"] == "BSD-3-Clause"
        assert not [n for n in whl.namelist() if ".libs/" in n], "grafted libraries"
    # The build showed CMake's progress and gave no deprecation warning of ours.
    assert "Building CXX object" in wheel_build.log and "[1/" in wheel_build.log
    assert "SetuptoolsDeprecationWarning" not in wheel_build.log
    ours = re.findall(r"CMake Deprecation Warning at (?:CMakeLists\.txt|cmake/).*", wheel_build.log)
    assert not ours, ours


@pytest.mark.install_routes
def test_wheel_libraries_carry_no_path_of_the_build_machine(wheel_build, tmp_path):
    with zipfile.ZipFile(wheel_build.wheel) as whl:
        whl.extractall(tmp_path)
    libraries = sorted(p for p in tmp_path.rglob("*.so*") if p.is_file())
    (info,) = tmp_path.glob("torch_ext/_builds/*/_build_info.json")
    expected = {"libtorch_ext_ops.so"}
    if json.loads(info.read_text())["cuda"]:
        expected.add("libtorch_ext_ops_cuda.so")
    assert {p.name for p in libraries if p.name.startswith("libtorch_ext")} == expected
    runpaths = {}
    for lib in libraries:
        dynamic = run(["readelf", "-d", str(lib)]).stdout
        runpaths[lib.name] = [e for m in re.findall(r"\((?:RUNPATH|RPATH)\).*\[(.*)\]", dynamic)
                              for e in m.split(":")]
        assert all(e.startswith("$ORIGIN") for e in runpaths[lib.name]), (lib, runpaths[lib.name])
    # site-packages/torch_ext/_builds/<build>/lib -> site-packages/torch/lib
    for name in expected:
        assert "$ORIGIN/../../../../torch/lib" in runpaths[name], name


def no_compiler_path(venv_python: Path) -> str:
    """A PATH with the venv's scripts only: no cc, c++, gcc, g++ or nvcc on it."""
    path = str(venv_python.parent)
    for compiler in ("cc", "c++", "gcc", "g++", "clang", "nvcc"):
        assert shutil.which(compiler, path=path) is None, compiler
    return path


@pytest.mark.install_routes
def test_wheel_installs_without_a_compiler_and_serves_python_and_cpp(wheel_build, fresh_venv,
                                                                    tmp_path):
    no_compiler = env_without(PATH=no_compiler_path(fresh_venv))
    # Resolved against the venv's torch (no index: nothing may be downloaded to satisfy it).
    run([str(fresh_venv), "-m", "pip", "install", "-q", "--no-index", str(wheel_build.wheel)],
        env=no_compiler)
    try:
        probe = json.loads(run([str(fresh_venv), "-c", PYTHON_PROBE], cwd=tmp_path,
                               env=no_compiler).stdout)
        assert probe["file"].startswith(str(fresh_venv.parent.parent)), probe
        assert probe["config"] and probe["built_with_torch"] == torch.__version__.split("+")[0]
        # The consumer's own build needs a compiler; the install above did not.
        assert build_cpp_consumer(fresh_venv, tmp_path / "consumer") == ["0", "0", "1.5"]
    finally:
        run([str(fresh_venv), "-m", "pip", "uninstall", "-q", "-y", "torch_ext"])


def stand_in_wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> None:
    """A metadata-only wheel: enough for pip's resolver (never installed)."""
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as whl:
        whl.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\n" f"Name: {name}\n"
                     f"Version: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires))
        whl.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        whl.writestr(f"{info}/RECORD", "")


@pytest.mark.install_routes
def test_pip_refuses_the_wheel_with_a_torch_it_carries_no_build_for(wheel_build, tmp_path):
    """A --find-links folder with our wheel (built for this torch only) and stand-ins for this
    torch and the next minor release: pip pairs the wheel with this torch, and refuses it with
    the other, naming the range it carries."""
    links = tmp_path / "links"
    links.mkdir()
    shutil.copy2(wheel_build.wheel, links)
    major, minor = (int(p) for p in torch_minor().split("."))
    ours, other = f"{major}.{minor}.0", f"{major}.{minor + 1}.0"
    stand_in_wheel(links, "torch", ours)
    stand_in_wheel(links, "torch", other)

    def resolve(*requirements: str) -> tuple[subprocess.CompletedProcess, dict]:
        report = tmp_path / "report.json"
        report.unlink(missing_ok=True)
        out = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
             "--no-index", "--find-links", str(links), "--report", str(report), *requirements],
            capture_output=True, text=True, timeout=300, env=env_without())
        picked = {}
        if out.returncode == 0:
            picked = {i["metadata"]["name"]: i["metadata"]["version"]
                      for i in json.loads(report.read_text())["install"]}
        return out, picked

    out, picked = resolve("torch_ext", f"torch=={ours}")
    assert picked == {"torch": ours, "torch_ext": VERSION}, out.stderr
    out, picked = resolve("torch_ext", f"torch=={other}")
    assert out.returncode != 0
    said = out.stdout + out.stderr
    assert f"<{next_minor()}" in said and f">={torch_minor()}" in said, said


def cmake_cache(tree: Path) -> dict:
    entries = {}
    for line in (tree / "CMakeCache.txt").read_text().splitlines():
        m = re.match(r"([A-Za-z_0-9]+):[A-Z]+=(.*)", line)
        if m:
            entries[m.group(1)] = m.group(2)
    return entries


@pytest.mark.install_routes
def test_copied_checkout_installs_into_a_second_venv_with_a_tree_of_its_own(wheel_build,
                                                                            fresh_venv, tmp_path):
    """The source tree the wheel was built from, copied with its build/ folder (whose CMake
    tree was configured for another path and another venv with the same torch), installs into
    the second venv, editable; a C++ change then rebuilds in place."""
    trees_before = {t: (t / "CMakeCache.txt").read_bytes()
                    for t in (wheel_build.source / "build").glob("*/") if (t / "CMakeCache.txt").exists()}
    assert trees_before, "the wheel build left no CMake tree to copy"
    src = tmp_path / "moved"
    shutil.copytree(wheel_build.source, src, symlinks=True)
    install = [str(fresh_venv), "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps",
               "-e", str(src)]
    run(install, cwd=tmp_path)
    try:
        probe = json.loads(run([str(fresh_venv), "-c", PYTHON_PROBE], cwd=tmp_path).stdout)
        assert Path(probe["file"]).resolve() == (src / "torch_ext" / "__init__.py").resolve()
        assert probe["config"], probe
        # The copied trees are left as they were; the install configured one of its own, for
        # this folder and the second venv's torch.
        for tree, cache in trees_before.items():
            assert (src / "build" / tree.name / "CMakeCache.txt").read_bytes() == cache
        new = [t for t in (src / "build").glob("*/") if t.name not in {p.name for p in trees_before}
               and (t / "CMakeCache.txt").exists()]
        assert len(new) == 1, new
        cache = cmake_cache(new[0])
        assert Path(cache["CMAKE_HOME_DIRECTORY"]).resolve() == src.resolve()
        venv_prefix = fresh_venv.parent.parent.resolve()
        assert Path(cache["Torch_DIR"]).resolve().is_relative_to(venv_prefix), cache["Torch_DIR"]
        assert Path(cache["Python3_EXECUTABLE"]).parent.parent.resolve() == venv_prefix
        # A change to the C++ sources, then the same command again: the rebuild is what loads.
        module = src / "csrc" / "python" / "module.cpp"
        module.write_text(module.read_text().replace(
            'm.doc() = "Compiled core', 'm.doc() = "Rebuilt compiled core'))
        run(install, cwd=tmp_path)
        doc = run([str(fresh_venv), "-c", "import torch_ext; print(torch_ext._C.__doc__)"],
                  cwd=tmp_path).stdout
        assert doc.startswith("Rebuilt compiled core"), doc
    finally:
        run([str(fresh_venv), "-m", "pip", "uninstall", "-q", "-y", "torch_ext"])


def test_isolated_build_stops_with_advice(tmp_path):
    """pip's default isolated build has no torch: it must stop, saying what to do, and
    install nothing (never a binary built against another torch)."""
    src = source_copy(tmp_path / "checkout")
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir",
                          str(tmp_path / "wheels"), str(src)], capture_output=True, text=True,
                         timeout=BUILD_TIMEOUT, cwd=tmp_path, env=env_without())
    assert out.returncode != 0
    assert "pip install --no-build-isolation" in out.stdout + out.stderr
    assert not list(tmp_path.glob("wheels/*.whl"))


# ---------------------------------------------------------------- CUDA builds of torch


cuda_torch = pytest.mark.skipif(torch.version.cuda is None,
                                reason="needs a CUDA build of torch (CI's 2.11.0 and 2.15.0 runs)")


def configure(src: Path, build: Path, prefix: str, *options: str) -> str:
    """CMake configure as a user runs it: no TORCH_CUDA_ARCH_LIST, no GPU."""
    out = run(["cmake", "-S", str(src), "-B", str(build), f"-DCMAKE_PREFIX_PATH={prefix}",
               *options], env=env_without("TORCH_CUDA_ARCH_LIST"))
    return out.stdout + out.stderr


@cuda_torch
def test_cuda_torch_configures_without_an_arch_list(tmp_path):
    log = configure(REPO_ROOT, tmp_path / "build", torch.utils.cmake_prefix_path,
                    "-DTORCH_EXT_BUILD_TESTS=OFF")
    assert "torch_ext: CUDA kernels ON" in log, log[-3000:]
    assert "torch_ext: CUDA architectures" in log, log[-3000:]


@cuda_torch
def test_find_package_torch_ext_configures_without_an_arch_list(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "CMakeLists.txt").write_text(CPP_CONSUMER_CMAKE)
    (tmp_path / "src" / "main.cpp").write_text(CPP_CONSUMER_MAIN)
    log = configure(tmp_path / "src", tmp_path / "build",
                    f"{torch.utils.cmake_prefix_path};{torch_ext.cmake_prefix_path}")
    # torch's CMake package turned the hints' architecture list into nvcc flags.
    assert re.search(r"Added CUDA NVCC flags for: .*arch=compute_", log), log[-3000:]


@pytest.mark.skipif(torch.version.cuda is not None, reason="a CPU build of torch")
def test_cpu_torch_configure_says_nothing_of_cuda_architectures(tmp_path):
    log = configure(REPO_ROOT, tmp_path / "build", torch.utils.cmake_prefix_path,
                    "-DTORCH_EXT_BUILD_TESTS=OFF")
    assert "torch_ext: CUDA kernels OFF" in log, log[-3000:]
    assert "CUDA architectures" not in log, log[-3000:]


# ---------------------------------------------------------------- CUDA hints on laid-out trees

HINTS_PROBE = textwrap.dedent("""\
    cmake_minimum_required(VERSION 3.22)
    project(hints_probe LANGUAGES NONE)
    include("{hints}")
    foreach(name CUDA_nvrtc_LIBRARY TORCH_EXT_PIP_CUDA_INCLUDE_DIRS TORCH_EXT_PIP_CUDART_VERSION
                 TORCH_CUDA_ARCH_LIST)
      message(STATUS "probe ${{name}}=${{${{name}}}}")
    endforeach()
""")

# The pip layouts of torch's CUDA wheels (files the hints look for; contents as far as read).
CUDA_LAYOUTS = {
    "cuda13": {  # torch +cu130: one nvidia-*-cu13 tree
        "nvidia/cu13/lib/libnvrtc.so.13": "",
        "nvidia/cu13/lib/libnvrtc-builtins.so.13.0": "",
        "nvidia/cu13/include/cuda_runtime_api.h": "#define CUDART_VERSION 13000\n",
        "nvidia/cu13/include/cusparse.h": "",
        "nvidia/cudnn/include/cudnn.h": "",
    },
    "cuda12": {  # torch +cu126/+cu128/+cu129: one tree per library
        "nvidia/cuda_nvrtc/lib/libnvrtc.so.12": "",
        "nvidia/cuda_nvrtc/lib/libnvrtc-builtins.so.12.8": "",
        "nvidia/cuda_nvrtc/include/nvrtc.h": "",
        "nvidia/cuda_runtime/include/cuda_runtime_api.h": "#define CUDART_VERSION 12080\n",
        "nvidia/cuda_runtime/lib/libcudart.so.12": "",
        "nvidia/cusparse/include/cusparse.h": "",
        "nvidia/cublas/include/cublas_v2.h": "",
        "nvidia/cudnn/include/cudnn.h": "",
    },
}


def probe_hints(tmp_path: Path, files: dict, cuda_torch_build: bool) -> dict:
    """Lays out a fake site-packages (torch's CMake package plus `files`), configures a project
    that includes cmake/TorchCudaHints.cmake against it, and returns the hints' variables."""
    site = tmp_path / "site-packages"
    torch_cmake = site / "torch" / "share" / "cmake" / "Torch"
    torch_cmake.mkdir(parents=True)
    (torch_cmake / "TorchConfig.cmake").write_text("")
    (site / "torch" / "lib").mkdir()
    if cuda_torch_build:
        (site / "torch" / "lib" / "libtorch_cuda.so").write_text("")
    for name, text in files.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text)
    (site / "nvidia" / "__init__.py").parent.mkdir(parents=True, exist_ok=True)
    (site / "nvidia" / "__init__.py").write_text("")
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "CMakeLists.txt").write_text(
        HINTS_PROBE.format(hints=(REPO_ROOT / "cmake" / "TorchCudaHints.cmake").as_posix()))
    log = configure(tmp_path / "probe", tmp_path / "build", str(site / "torch" / "share" / "cmake"))
    values = dict(re.findall(r"-- probe (\w+)=(.*)", log))
    values["site"] = site
    return values


@pytest.mark.parametrize("layout", sorted(CUDA_LAYOUTS))
def test_cuda_hints_find_the_pip_layout(tmp_path, layout):
    hints = probe_hints(tmp_path, CUDA_LAYOUTS[layout], cuda_torch_build=True)
    site = hints["site"]
    expected = {
        "cuda13": ("nvidia/cu13/lib/libnvrtc.so.13", {"nvidia/cu13/include"}, "13000"),
        "cuda12": ("nvidia/cuda_nvrtc/lib/libnvrtc.so.12",
                   {"nvidia/cuda_nvrtc/include", "nvidia/cuda_runtime/include",
                    "nvidia/cusparse/include", "nvidia/cublas/include"}, "12080"),
    }[layout]
    nvrtc, include_dirs, cudart = expected
    assert hints["CUDA_nvrtc_LIBRARY"] == (site / nvrtc).as_posix()
    found = set(hints["TORCH_EXT_PIP_CUDA_INCLUDE_DIRS"].split(";"))
    assert {(site / d).as_posix() for d in include_dirs} <= found, found
    assert hints["TORCH_EXT_PIP_CUDART_VERSION"] == cudart
    if shutil.which("nvidia-smi") is None:
        assert hints["TORCH_CUDA_ARCH_LIST"] == "7.5;8.0;8.6;9.0;10.0;12.0+PTX"


def test_cuda_hints_choose_no_architectures_for_a_cpu_torch(tmp_path):
    hints = probe_hints(tmp_path, {}, cuda_torch_build=False)
    assert hints["TORCH_CUDA_ARCH_LIST"] == "" and hints["CUDA_nvrtc_LIBRARY"] == ""
