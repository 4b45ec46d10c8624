"""torch.compile and AOTInductor: models with torch_ext's activation against the same models
written with the native composite ``torch.where(x > theta, x, 0)``, both compiled by Inductor,
measured side by side (interleaved, medians). Target (design §4): within 5 % (ratio <= 1.05),
whichever route calls the op.

    python benchmarks/compile_fusion.py [--threads N] [--repeats 7]

Two models: Linear -> activation -> Linear (batch 4096, width 1024), and a pointwise chain
(x * 1.5 -> activation -> + 0.25 -> activation, 16M float32). Three routes for each:
``torch.compile`` of the model with ``torch_ext.ThresholdedReLU`` (forward, and forward +
backward), ``torch.compile`` of the model calling ``torch.ops.torch_ext.thresholded_relu``
directly (same), and an AOTInductor package (``torch.export`` ->
``torch._inductor.aoti_compile_and_package`` -> ``aoti_load_package``; forward) against the
native composite's package. Prints a table with each row's target status; writes
benchmarks/out/compile_fusion.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile

import torch

import torch_ext
from run import measure_interleaved  # benchmarks/run.py, the harness

THETA = 0.2
TARGET = 1.05  # design §4: within 5 % of the native composite


class NativeThreshold(torch.nn.Module):
    def forward(self, x):
        return torch.where(x > THETA, x, torch.zeros((), dtype=x.dtype))


class DirectOp(torch.nn.Module):
    """Calls the operator as ``torch.ops.torch_ext`` (what exported and scripted code calls)."""

    def forward(self, x):
        return torch.ops.torch_ext.thresholded_relu(x, THETA)


def make_activation(kind: str) -> torch.nn.Module:
    return {"torch_ext": lambda: torch_ext.ThresholdedReLU(THETA), "torch.ops": DirectOp,
            "native": NativeThreshold}[kind]()


def mlp(kind: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(1024, 1024), make_activation(kind),
                               torch.nn.Linear(1024, 1024))


class Chain(torch.nn.Module):
    def __init__(self, kind: str):
        super().__init__()
        self.a, self.b = make_activation(kind), make_activation(kind)

    def forward(self, x):
        return self.b(self.a(x * 1.5) + 0.25)


def aoti_package(model: torch.nn.Module, x: torch.Tensor, directory: str):
    """``model`` exported, compiled into an AOTInductor package and loaded back."""
    path = os.path.join(directory, f"{id(model)}.pt2")
    exported = torch.export.export(model, (x,))
    torch._inductor.aoti_compile_and_package(exported, package_path=path)
    return torch._inductor.aoti_load_package(path)


def measure(case, route, build, make_input, ours, backward, packages, args) -> dict:
    """One row: our model against the native composite's, same route, interleaved."""
    x = make_input().requires_grad_(backward)
    calls = {}
    for kind in (ours, "native"):
        with torch.set_grad_enabled(backward):
            if route == "aoti":
                model = aoti_package(build(kind), x, packages)
            else:
                model = torch.compile(build(kind))
            if backward:
                calls[kind] = lambda m=model: m(x).sum().backward()
            else:
                calls[kind] = lambda m=model: m(x)
            for _ in range(3):  # compile and warm up
                calls[kind]()
    with torch.set_grad_enabled(backward):  # interleaved: both see the same noise
        times = measure_interleaved({kind: f"calls[{kind!r}]()" for kind in calls},
                                    {"calls": calls}, args.repeats, args.min_run_time)
    medians = {kind: statistics.median(t) for kind, t in times.items()}
    ratio = medians[ours] / medians["native"]
    row = {"case": case, "route": route, "backward": backward, "threads": args.threads,
           "torch_ext_ms": medians[ours] * 1e3, "native_ms": medians["native"] * 1e3,
           "ratio": ratio, "target": TARGET, "met": ratio <= TARGET}
    print(f"{case:6s} {route:18s} {'fwd+bwd' if backward else 'fwd':8s} "
          f"torch_ext {row['torch_ext_ms']:8.3f} ms  native composite {row['native_ms']:8.3f} ms  "
          f"ratio {ratio:.3f}  {'met' if row['met'] else 'MISSED'} (<= {TARGET})", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--min-run-time", type=float, default=0.5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    # Inductor's cache keys ignore the op library: never time a graph compiled by another build.
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="compile_fusion_")

    cases = {
        "mlp": (mlp, lambda: torch.randn(4096, 1024)),
        "chain": (Chain, lambda: torch.randn(16 * 2**20)),
    }
    # route: (kind of our model, whether backward is measured too)
    routes = {"compile module": ("torch_ext", True), "compile torch.ops": ("torch.ops", True),
              "aoti": ("torch_ext", False)}
    rows = []
    with tempfile.TemporaryDirectory() as packages:
        for case, (build, make_input) in cases.items():
            for route, (ours, with_backward) in routes.items():
                for backward in (False, True) if with_backward else (False,):
                    rows.append(measure(case, route, build, make_input, ours, backward,
                                        packages, args))
    print(f"targets met: {sum(r['met'] for r in rows)} of {len(rows)}")
    out_dir = os.path.join(os.path.dirname(__file__), "out")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "compile_fusion.json"), "w") as f:
        json.dump({"torch": torch.__version__, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
