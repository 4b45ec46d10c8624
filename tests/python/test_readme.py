"""The code blocks of README.md and docs/*.md, run as a user would run them, as written.

Each fenced block is classified by its info string (the words after the opening fence; GitHub
uses the first word to highlight and shows none of them):

- ``python``: run alone, as a script, by a fresh Python (the one running the tests) in an
  empty temporary folder. Blocks that mention ONNX are skipped when onnxscript is missing.
- ``cpp project``, ``cmake project``, ``bash project``: the C++ quick start, built out of tree
  against the installed package: the cpp block is ``main.cpp``, the cmake block
  ``CMakeLists.txt``, and the bash block, run in their folder with ``python`` on PATH being
  the Python running the tests, builds and runs them. At most one of each per file.
- ``<language> skip``: shown, not run: incomplete code (declarations, a piece of a larger
  program, a side-by-side comparison) or code that needs the user's own files.
- ``bash``: shown, not run: commands that install or build (downloads, minutes).
- ``text``: not code (formulas, a directory layout).

A block that fits none of these (no info string, another language, another word) fails
test_every_block_is_classified: classify a new block when adding it.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import re
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCUMENTS = [os.path.join(REPO, "README.md")] + sorted(glob.glob(os.path.join(REPO, "docs", "*.md")))

# language -> the words it may carry ("" = none)
ALLOWED = {
    "python": {"", "skip"},
    "cpp": {"project", "skip"},
    "cmake": {"project", "skip"},
    "bash": {"", "project"},
    "text": {""},
}

FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")


@dataclasses.dataclass
class Block:
    path: str
    line: int  # of the opening fence, 1-based
    language: str
    role: str  # the words after the language ("" when none)
    code: str

    @property
    def where(self) -> str:
        return f"{os.path.relpath(self.path, REPO)}:{self.line}"


def fenced_blocks(path: str) -> list[Block]:
    """The fenced code blocks of a CommonMark file (a fence of 3+ backticks or tildes, closed
    by a fence of the same character at least as long; the opening fence's indentation, as
    inside a list item, is removed from the lines). The documents use no other block syntax,
    so this is enough; it keeps the suite free of a Markdown dependency."""
    blocks, opened = [], None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for number, line in enumerate(lines, 1):
        match = FENCE.match(line)
        if opened is None:
            if match:
                opened = (number, match, [])
            continue
        start, opening, body = opened
        if match and match["fence"][0] == opening["fence"][0] and \
                len(match["fence"]) >= len(opening["fence"]) and not match["info"].strip():
            words = opening["info"].split()
            indent = len(opening["indent"])
            code = "\n".join(l[indent:] if l.startswith(" " * indent) else l.lstrip()
                             for l in body)
            blocks.append(Block(path, start, words[0] if words else "", " ".join(words[1:]),
                                code + "\n"))
            opened = None
        else:
            body.append(line)
    assert opened is None, f"{path}:{opened[0]}: code fence never closed"
    return blocks


BLOCKS = [block for path in DOCUMENTS for block in fenced_blocks(path)]


def test_every_block_is_classified():
    unclassified = [f"{b.where}: ```{b.language} {b.role}".rstrip() for b in BLOCKS
                    if b.role not in ALLOWED.get(b.language, ())]
    assert not unclassified, (
        "code blocks this test cannot classify (see the convention in its docstring):\n"
        + "\n".join(unclassified))
    for path in DOCUMENTS:
        project = [b.language for b in BLOCKS if b.path == path and b.role == "project"]
        assert sorted(project) in ([], ["bash", "cmake", "cpp"]), (path, project)
    readme = [b for b in BLOCKS if b.path == DOCUMENTS[0]]
    assert any(b.language == "python" and not b.role for b in readme), "no Python quick start"
    assert any(b.role == "project" for b in readme), "no C++ quick start"


PYTHON_BLOCKS = [b for b in BLOCKS if b.language == "python" and not b.role]


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=[b.where for b in PYTHON_BLOCKS])
def test_python_block_runs(block, tmp_path):
    if "onnx" in block.code:
        pytest.importorskip("onnxscript")
    script = tmp_path / "snippet.py"
    script.write_text(block.code)
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, f"{block.where}:\n{block.code}\n{out.stdout[-3000:]}{out.stderr[-5000:]}"


PROJECT = {b.language: b for b in BLOCKS if b.path == DOCUMENTS[0] and b.role == "project"}


@pytest.mark.out_of_tree_builds
@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed")
def test_cpp_quick_start_builds_and_runs(tmp_path):
    (tmp_path / "main.cpp").write_text(PROJECT["cpp"].code)
    (tmp_path / "CMakeLists.txt").write_text(PROJECT["cmake"].code)
    # `python` as the README's command means it: the interpreter where torch_ext is installed.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bin_dir / "python").chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    if shutil.which("make") is None and shutil.which("ninja") is not None:
        env["CMAKE_GENERATOR"] = "Ninja"  # CMake's default generator needs make
    out = subprocess.run(["bash", "-euo", "pipefail", "-c", PROJECT["bash"].code], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stdout[-5000:] + out.stderr[-5000:]
    # What the program prints: the Sequential's output shape (it ran, forward included).
    assert "output sizes: [4, 1]" in out.stdout, out.stdout[-3000:]


# ---- links between the documents ----

LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation other than - and _ dropped,
    spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: str) -> set[str]:
    fenced = {n for b in fenced_blocks(path)
              for n in range(b.line, b.line + b.code.count("\n") + 2)}
    with open(path, encoding="utf-8") as f:
        return {github_anchor(line.lstrip("#")) for n, line in enumerate(f.read().split("\n"), 1)
                if line.startswith("#") and n not in fenced}


def test_links_between_documents_resolve():
    broken = []
    for path in DOCUMENTS:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for match in LINK.finditer(text):
            target = match["target"]
            if re.match(r"[a-z]+:", target):
                continue  # an external address
            file_part, _, anchor = target.partition("#")
            resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) \
                if file_part else path
            if not os.path.exists(resolved):
                broken.append(f"{os.path.relpath(path, REPO)}: {target} (no such file)")
            elif anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
                broken.append(f"{os.path.relpath(path, REPO)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)
