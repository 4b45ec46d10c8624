"""Install routes a user takes, each from a fresh copy of the source: an sdist built into a
wheel elsewhere, that wheel installed into a second virtual environment (Python API and the C++
package), an editable install that imports and picks up a rebuild, a CUDA build of torch
configured without TORCH_CUDA_ARCH_LIST; and what `import torch_ext` says when the source
folder shadows the package or the binary was built for another torch.

The build routes (marker `install_routes`) each compile the library, a few minutes apiece on
two cores; .ci/run runs them once, against the default torch.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest
import torch
import torch_ext

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(torch_ext.__file__).resolve().parent
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
                    ignore=shutil.ignore_patterns("__pycache__", "_C*", "lib", "include", "share",
                                                  "_build_info.json"))
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
    (package_parent / "torch_ext" / "_build_info.json").write_text(
        json.dumps({"torch_version": version}))


def other_version(minor_step: int, patch_step: int) -> str:
    major, minor, patch = (int(p) for p in torch.__version__.split("+")[0].split(".")[:3])
    return f"{major}.{minor + minor_step}.{patch + patch_step}"


def test_the_recorded_build_version_is_the_running_torch():
    recorded = json.loads((PACKAGE_DIR / "_build_info.json").read_text())["torch_version"]
    assert recorded == torch.__version__.split("+")[0] == torch_ext.built_with_torch


@pytest.mark.parametrize("minor_step", [-1, 1])
def test_a_build_for_another_minor_release_is_refused(installed_copy, minor_step):
    built = other_version(minor_step, 0)
    record_torch_version(installed_copy, built)
    out = import_torch_ext(installed_copy, cwd=installed_copy)
    assert out.returncode != 0
    message = out.stderr.strip().splitlines()[-1]
    assert message.startswith("ImportError: torch_ext was built for torch"), out.stderr
    assert built in message and torch.__version__ in message
    assert "pip install --no-build-isolation" in message


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
    (extension,) = (installed_copy / "torch_ext").glob("_C*.so")
    run(["cc", "-shared", "-fPIC", "-o", str(extension), str(tmp_path / "broken.c")])
    out = import_torch_ext(installed_copy, cwd=installed_copy)
    assert out.returncode != 0
    message = out.stderr.strip().splitlines()[-1]
    assert message.startswith("ImportError: torch_ext was built for torch"), out.stderr
    assert "undefined symbol: torch_ext_probe_missing" in message
    assert "pip install --no-build-isolation" in message


# ---------------------------------------------------------------- build routes


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


@pytest.mark.install_routes
def test_sdist_builds_a_wheel_that_installs_into_a_fresh_venv(tmp_path, fresh_venv):
    src = source_copy(tmp_path / "checkout")
    run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir",
         str(tmp_path / "dist"), str(src)])
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
        tar.extractall(tmp_path / "unpacked")
    for needed in ("CMakeLists.txt", "LICENSE", "cmake/TorchCudaHints.cmake",
                   "csrc/ops/thresholded_relu.cpp", "csrc/ops/cuda/thresholded_relu_kernel.cu"):
        assert needed in names, needed
    (unpacked,) = (tmp_path / "unpacked").iterdir()
    run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
         "--wheel-dir", str(tmp_path / "wheels"), str(unpacked)], cwd=tmp_path)
    (wheel,) = (tmp_path / "wheels").glob("torch_ext-*.whl")

    run([str(fresh_venv), "-m", "pip", "install", "-q", "--no-deps", str(wheel)])
    probe = json.loads(run([str(fresh_venv), "-c", PYTHON_PROBE], cwd=tmp_path).stdout)
    assert probe["file"].startswith(str(fresh_venv.parent.parent)), probe
    assert probe["config"] and probe["built_with_torch"] == torch.__version__.split("+")[0]
    assert build_cpp_consumer(fresh_venv, tmp_path / "consumer") == ["0", "0", "1.5"]
    run([str(fresh_venv), "-m", "pip", "uninstall", "-q", "-y", "torch_ext"])


@pytest.mark.install_routes
def test_editable_install_imports_and_picks_up_a_rebuild(tmp_path, fresh_venv):
    src = source_copy(tmp_path / "checkout")
    install = [str(fresh_venv), "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps",
               "-e", str(src)]
    run(install, cwd=tmp_path)
    try:
        probe = json.loads(run([str(fresh_venv), "-c", PYTHON_PROBE], cwd=tmp_path).stdout)
        assert Path(probe["file"]).resolve() == (src / "torch_ext" / "__init__.py").resolve()
        assert probe["config"], probe
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
                                reason="needs a CUDA build of torch (CI's 2.14.1 and 2.15.0 runs)")


def configure(src: Path, build: Path, prefix: str, *options: str) -> str:
    """CMake configure as a user runs it: no TORCH_CUDA_ARCH_LIST, no GPU."""
    out = run(["cmake", "-S", str(src), "-B", str(build), f"-DCMAKE_PREFIX_PATH={prefix}",
               *options], env=env_without("TORCH_CUDA_ARCH_LIST"))
    return out.stdout + out.stderr


@cuda_torch
def test_cuda_torch_configures_without_an_arch_list(tmp_path):
    log = configure(REPO_ROOT, tmp_path / "build", torch.utils.cmake_prefix_path,
                    "-DTORCH_EXT_BUILD_TESTS=OFF")
    assert "torch_ext: CUDA architectures" in log, log[-3000:]


@cuda_torch
def test_find_package_torch_ext_configures_without_an_arch_list(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "CMakeLists.txt").write_text(CPP_CONSUMER_CMAKE)
    (tmp_path / "src" / "main.cpp").write_text(CPP_CONSUMER_MAIN)
    log = configure(tmp_path / "src", tmp_path / "build",
                    f"{torch.utils.cmake_prefix_path};{torch_ext.cmake_prefix_path}")
    assert "torch_ext: CUDA architectures" in log, log[-3000:]
