"""Merges torch_ext wheels built for several torch releases (one build each, for one Python)
into one wheel that carries every build: ``python scripts/merge_wheels.py --out DIR WHEEL...``.

Each input wheel holds the same Python sources and one build folder
(``torch_ext/_builds/torch<major>_<minor>``, see torch_ext/_loading.py). The merged wheel has
the first wheel's files plus every wheel's build folder, and requires the torch releases it
carries: ``torch>=2.11,<2.16,!=2.12.*,!=2.14.*`` for builds of 2.11, 2.13 and 2.15. Refused:
wheels of other names, versions or Python tags, two builds for one minor release, and
differing Python sources (builds of different checkouts). Unpacking and repacking (with a new
RECORD) is the ``wheel`` package's. Prints the merged wheel's path.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

BUILDS = os.path.join("torch_ext", "_builds")


def unpack(wheel: str, into: str) -> str:
    subprocess.run([sys.executable, "-m", "wheel", "unpack", "--dest", into, wheel],
                   check=True, stdout=subprocess.DEVNULL)
    (folder,) = os.listdir(into)
    return os.path.join(into, folder)


def wheel_tags(wheel: str) -> tuple[str, str, str]:
    """(name, version, python tag) from a wheel's file name."""
    name, version, python_tag = os.path.basename(wheel).split("-")[:3]
    return name, version, python_tag


def files_outside_builds(tree: str) -> set[str]:
    files = set()
    for root, dirs, names in os.walk(tree):
        rel = os.path.relpath(root, tree)
        if rel == BUILDS or rel.endswith(".dist-info"):
            dirs.clear()
            continue
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        files |= {os.path.normpath(os.path.join(rel, n)) for n in names}
    return files


def torch_requirement(minors: list[tuple[int, int]]) -> str:
    """The torch releases that builds for ``minors`` serve, as a requirement."""
    majors = {major for major, _ in minors}
    if len(majors) != 1:
        raise SystemExit(f"merge_wheels: builds for one torch major release only, got {sorted(minors)}")
    (major,) = majors
    low, high = min(m for _, m in minors), max(m for _, m in minors)
    gaps = [f"!={major}.{m}.*" for m in range(low + 1, high) if (major, m) not in minors]
    return ",".join([f"torch>={major}.{low}", f"<{major}.{high + 1}", *gaps])


def merge(wheels: list[str], out: str) -> str:
    tags = {wheel_tags(w) for w in wheels}
    if len(tags) != 1:
        raise SystemExit(f"merge_wheels: the wheels differ in name, version or Python: {sorted(tags)}")
    work = tempfile.mkdtemp()
    try:
        trees = [unpack(w, os.path.join(work, str(i))) for i, w in enumerate(wheels)]
        merged = trees[0]
        sources = files_outside_builds(merged)
        minors: dict[tuple[int, int], str] = {}
        for wheel, tree in zip(wheels, trees):
            if files_outside_builds(tree) != sources or any(
                    not filecmp.cmp(os.path.join(merged, f), os.path.join(tree, f), shallow=False)
                    for f in sources):
                raise SystemExit(f"merge_wheels: {wheel} holds other files than {wheels[0]} "
                                 "outside the build folders (built from another checkout?)")
            for build in os.listdir(os.path.join(tree, BUILDS)):
                with open(os.path.join(tree, BUILDS, build, "_build_info.json")) as f:
                    torch_version = json.load(f)["torch_version"]
                minor = tuple(int(p) for p in torch_version.split(".")[:2])
                if minor in minors:
                    raise SystemExit(f"merge_wheels: two builds for torch {minor[0]}.{minor[1]}: "
                                     f"{minors[minor]} and {wheel}")
                minors[minor] = wheel
                if tree != merged:
                    shutil.copytree(os.path.join(tree, BUILDS, build),
                                    os.path.join(merged, BUILDS, build))
        (info,) = [d for d in os.listdir(merged) if d.endswith(".dist-info")]
        metadata = os.path.join(merged, info, "METADATA")
        with open(metadata) as f:
            text = f.read()
        text, count = re.subn(r"^Requires-Dist: torch[=<>!~ ].*$",
                              f"Requires-Dist: {torch_requirement(sorted(minors))}", text,
                              flags=re.MULTILINE)
        if count != 1:
            raise SystemExit(f"merge_wheels: no single torch requirement in {wheels[0]}'s METADATA")
        with open(metadata, "w") as f:
            f.write(text)
        packed = os.path.join(work, "packed")
        os.mkdir(packed)
        subprocess.run([sys.executable, "-m", "wheel", "pack", "--dest-dir", packed, merged],
                       check=True, stdout=subprocess.DEVNULL)
        (made,) = os.listdir(packed)
        os.makedirs(out, exist_ok=True)
        return shutil.move(os.path.join(packed, made), os.path.join(out, made))
    finally:
        shutil.rmtree(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder for the merged wheel")
    parser.add_argument("wheels", nargs="+")
    args = parser.parse_args()
    print(merge(args.wheels, args.out))


if __name__ == "__main__":
    main()
