"""scripts/merge_wheels.py, on small wheels made here (a build folder with its build info and a
stand-in library each): one wheel out with every build, the torch range it carries in its
metadata, a RECORD that pip accepts; and what it refuses. The real wheels, built and installed,
are test_install.py's."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "merge_wheels.py"

spec = importlib.util.spec_from_file_location("merge_wheels", SCRIPT)
merge_wheels = importlib.util.module_from_spec(spec)
spec.loader.exec_module(merge_wheels)


def make_wheel(folder: Path, torch_version: str, init: str = "VALUE = 1\n",
               python_tag: str = "cp311") -> Path:
    """A wheel as setup.py makes it for one torch: sources, one build folder, metadata."""
    major, minor = torch_version.split(".")[:2]
    tree = folder / f"tree-{torch_version}" / "torch_ext-0.1.0"
    build = tree / "torch_ext" / "_builds" / f"torch{major}_{minor}"
    build.mkdir(parents=True)
    (tree / "torch_ext" / "__init__.py").write_text(init)
    (build / "_build_info.json").write_text(json.dumps(
        {"version": "0.1.0", "torch_version": torch_version, "cuda": ""}))
    (build / "lib").mkdir()
    (build / "lib" / "libtorch_ext_ops.so").write_bytes(f"library for {torch_version}".encode())
    info = tree / "torch_ext-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.4\nName: torch_ext\nVersion: 0.1.0\n"
        f"Requires-Dist: torch=={major}.{minor}.*\nRequires-Dist: onnx; extra == \"onnx\"\n")
    (info / "WHEEL").write_text(
        f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\n"
        f"Tag: {python_tag}-{python_tag}-linux_x86_64\n")
    (info / "RECORD").write_text("")
    out = folder / f"wheels-{torch_version}"
    out.mkdir()
    subprocess.run([sys.executable, "-m", "wheel", "pack", "--dest-dir", str(out), str(tree.parent / tree.name)],
                   check=True, capture_output=True)
    (wheel,) = out.glob("*.whl")
    return wheel


@pytest.mark.parametrize("minors, expected", [
    ([(2, 13)], "torch>=2.13,<2.14"),
    ([(2, 11), (2, 13), (2, 14), (2, 15)], "torch>=2.11,<2.16,!=2.12.*"),
    ([(2, 11), (2, 15)], "torch>=2.11,<2.16,!=2.12.*,!=2.13.*,!=2.14.*"),
])
def test_the_requirement_covers_exactly_the_minor_releases_carried(minors, expected):
    assert merge_wheels.torch_requirement(minors) == expected


def test_merged_wheel_carries_every_build_and_requires_their_torch_releases(tmp_path):
    wheels = [make_wheel(tmp_path, v) for v in ("2.13.0", "2.11.0", "2.15.0")]
    merged = Path(merge_wheels.merge([str(w) for w in wheels], str(tmp_path / "out")))
    assert merged.name == "torch_ext-0.1.0-cp311-cp311-linux_x86_64.whl"
    with zipfile.ZipFile(merged) as whl:
        names = set(whl.namelist())
        for v in ("2_11", "2_13", "2_15"):
            library = f"torch_ext/_builds/torch{v}/lib/libtorch_ext_ops.so"
            assert whl.read(library) == f"library for {v.replace('_', '.')}.0".encode()
        metadata = whl.read("torch_ext-0.1.0.dist-info/METADATA").decode()
        record = whl.read("torch_ext-0.1.0.dist-info/RECORD").decode()
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist")]
    assert requires == ["Requires-Dist: torch>=2.11,<2.16,!=2.12.*,!=2.14.*",
                        'Requires-Dist: onnx; extra == "onnx"']
    # RECORD lists every file of the merged wheel (with its hash), as pip checks at install.
    recorded = {line.split(",")[0] for line in record.splitlines() if line}
    assert recorded == {n for n in names if not n.endswith("/")}


def test_two_builds_for_one_minor_release_are_refused(tmp_path):
    first, second = make_wheel(tmp_path, "2.13.0"), make_wheel(tmp_path, "2.13.1")
    with pytest.raises(SystemExit, match="two builds for torch 2.13"):
        merge_wheels.merge([str(first), str(second)], str(tmp_path / "out"))


def test_wheels_of_different_sources_are_refused(tmp_path):
    first = make_wheel(tmp_path, "2.13.0")
    second = make_wheel(tmp_path, "2.15.0", init="VALUE = 2\n")
    with pytest.raises(SystemExit, match="other files than"):
        merge_wheels.merge([str(first), str(second)], str(tmp_path / "out"))


def test_wheels_for_different_pythons_are_refused(tmp_path):
    first = make_wheel(tmp_path, "2.13.0")
    second = make_wheel(tmp_path, "2.15.0", python_tag="cp312")
    with pytest.raises(SystemExit, match="differ in name, version or Python"):
        merge_wheels.merge([str(first), str(second)], str(tmp_path / "out"))
