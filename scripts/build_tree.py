"""The CMake build tree for one environment: ``build/<name>-torch<version>-<key>`` in the
source folder, where the key digests everything a configured tree depends on (the source
folder, the Python environment and its interpreter, torch's location and version). A second
venv, another Python, another torch or a copied checkout so gets a tree of its own instead of
reusing a CMakeCache.txt made for something else. Used by setup.py and scripts/common.sh.

Command line: ``python scripts/build_tree.py <source folder> <name>`` prints the path.
"""

from __future__ import annotations

import hashlib
import os
import sys


def build_tree(source_root: str, name: str) -> str:
    import torch

    parts = [
        os.path.realpath(source_root),
        os.path.realpath(sys.prefix),
        os.path.realpath(sys.executable),
        sys.implementation.cache_tag,
        os.path.realpath(os.path.dirname(torch.__file__)),
        torch.__version__,
    ]
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]
    return os.path.join(source_root, "build", f"{name}-torch{torch.__version__}-{key}")


if __name__ == "__main__":
    print(build_tree(sys.argv[1], sys.argv[2]))
