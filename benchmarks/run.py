"""Runs the benchmark harness (torch_ext.benchmark) of the installed torch_ext from a checkout:
``python benchmarks/run.py [--short]`` writes to benchmarks/out/. (``python -m
torch_ext.benchmark`` from the repository root would import the source folder instead of
the installed package.)"""

import os
import sys

from torch_ext.benchmark import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if "--out" not in args:
        args += ["--out", os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")]
    sys.exit(main(args))
