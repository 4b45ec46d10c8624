"""Import cost of torch_ext against torch itself: ``python benchmarks/import_time.py [--rounds N]``.

Each sample is a fresh interpreter (started in an empty temporary folder, so that a checkout
cannot shadow the installed package) that times one statement with ``time.perf_counter``:
``import torch`` or ``import torch_ext`` (which imports torch first). The two kinds alternate,
in ABBA order from round to round, so that machine noise and file-cache warmth hit both alike.
The first pair is a warm-up and is dropped. The operating system's file cache is not emptied:
"cold" here means a new process, as a user's script gets, not a cold disk.

Prints, for wall time and for the interpreter's CPU time (steadier on a shared machine), the
medians of both, the ratio of the medians and the median of the per-round ratios (the
design's target: ``import torch_ext`` <= 1.10 x ``import torch``), and which of the
subsystems torch_ext leaves alone (DTensor, Inductor, the ONNX exporters, sympy) an
``import torch_ext`` loaded. Nothing is asserted: tests/python/test_import.py checks the modules.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

STATEMENTS = {"torch": "import torch", "torch_ext": "import torch_ext"}
CLOCKS = ("wall", "cpu")

# Packages that torch_ext registers with only when they are first imported.
SUBSYSTEMS = ("torch.distributed.tensor", "torch._inductor", "torch.onnx", "sympy")

_TIMER = """\
import time
start, start_cpu = time.perf_counter(), time.process_time()
{statement}
elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
import json, sys
loaded = [p for p in {subsystems!r} if any(m == p or m.startswith(p + ".") for m in sys.modules)]
print(json.dumps([elapsed, elapsed_cpu, loaded]))
"""


def time_import(python: str, statement: str, folder: str) -> tuple[float, float, list[str]]:
    """Wall and CPU seconds the statement took in a new interpreter, and the SUBSYSTEMS it
    loaded."""
    script = _TIMER.format(statement=statement, subsystems=SUBSYSTEMS)
    out = subprocess.run([python, "-c", script], cwd=folder, capture_output=True, text=True,
                         check=True)
    wall, cpu, loaded = json.loads(out.stdout)
    return wall, cpu, loaded


def time_imports_abba(python: str, statements: dict[str, str], rounds: int, on_round=None
                      ) -> tuple[dict[tuple[str, str], list[float]], dict[str, set[str]]]:
    """Each statement timed once per round, each in a new interpreter started in an empty
    folder, in ABBA order from round to round, after a warm-up round that is dropped.

    Returns (kind, clock) -> seconds per round, for clock "wall" (what a user waits) and "cpu"
    (the interpreter's CPU time: less disturbed by other work on a shared machine), and
    kind -> the SUBSYSTEMS its statement loaded. ``on_round(index, {kind: (wall, cpu,
    loaded)})`` is called after each measured round, in the order the round ran them."""
    times = {(kind, clock): [] for kind in statements for clock in CLOCKS}
    loaded = {kind: set() for kind in statements}
    with tempfile.TemporaryDirectory() as folder:
        for round_index in range(rounds + 1):
            order = list(statements) if round_index % 2 == 0 else list(reversed(statements))
            sample = {kind: time_import(python, statements[kind], folder) for kind in order}
            for kind, (*_, modules) in sample.items():
                loaded[kind].update(modules)
            if round_index == 0:
                continue  # warm-up
            for kind, (wall, cpu, _) in sample.items():
                times[kind, "wall"].append(wall)
                times[kind, "cpu"].append(cpu)
            if on_round:
                on_round(round_index, sample)
    return times, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=11, help="measured rounds (default 11)")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter with torch and torch_ext installed (default: this one)")
    args = parser.parse_args()

    versions = subprocess.run(
        [args.python, "-c", "import sys, torch, torch_ext; "
         "print(torch.__version__, torch_ext.__version__, sys.version.split()[0])"],
        cwd=tempfile.gettempdir(), capture_output=True, text=True, check=True).stdout.split()
    print(f"torch {versions[0]}, torch_ext {versions[1]}, Python {versions[2]}, "
          f"{platform.machine()} {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}")

    def show(round_index, sample):
        print(f"round {round_index:2d}: " + ", ".join(
            f"import {kind} {wall:.3f} s wall / {cpu:.3f} s CPU"
            for kind, (wall, cpu, _) in sample.items()))

    times, loaded = time_imports_abba(args.python, STATEMENTS, args.rounds, show)

    print()
    for clock in CLOCKS:
        torch_times, ext_times = times["torch", clock], times["torch_ext", clock]
        torch_median, ext_median = statistics.median(torch_times), statistics.median(ext_times)
        ratios = [e / t for e, t in zip(ext_times, torch_times)]
        print(f"{clock:4s} median of {args.rounds}: import torch {torch_median:.3f} s, import "
              f"torch_ext {ext_median:.3f} s (+{ext_median - torch_median:.3f} s); ratio of "
              f"medians {ext_median / torch_median:.3f}, median of per-round ratios "
              f"{statistics.median(ratios):.3f} (target <= 1.10)")
    print("subsystems loaded by import torch_ext:", ", ".join(sorted(loaded["torch_ext"])) or "none")


if __name__ == "__main__":
    main()
