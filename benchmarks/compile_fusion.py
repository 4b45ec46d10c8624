"""torch.compile: the model with torch_ext.ThresholdedReLU against the same model written with
the native composite ``torch.where(x > theta, x, 0)``, both compiled by Inductor, measured
side by side (interleaved, medians). Target (design §4): within 5 %.

    python benchmarks/compile_fusion.py [--threads N] [--repeats 7]

Two models: Linear -> activation -> Linear (batch 4096, width 1024), and a pointwise chain
(x * 1.5 -> activation -> + 0.25 -> activation, 16M float32), forward only and forward +
backward. Prints a table; writes benchmarks/out/compile_fusion.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics

import torch

import torch_ext
from run import measure_interleaved  # benchmarks/run.py, the harness

THETA = 0.2


class NativeThreshold(torch.nn.Module):
    def forward(self, x):
        return torch.where(x > THETA, x, torch.zeros((), dtype=x.dtype))


def make_activation(kind: str) -> torch.nn.Module:
    return torch_ext.ThresholdedReLU(THETA) if kind == "torch_ext" else NativeThreshold()


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--min-run-time", type=float, default=0.5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    cases = {
        "mlp": (mlp, lambda: torch.randn(4096, 1024)),
        "chain": (Chain, lambda: torch.randn(16 * 2**20)),
    }
    rows = []
    for case, (build, make_input) in cases.items():
        for backward in (False, True):
            x = make_input().requires_grad_(backward)
            calls = {}
            for kind in ("torch_ext", "native"):
                model = torch.compile(build(kind))
                if backward:
                    calls[kind] = lambda m=model: m(x).sum().backward()
                else:
                    calls[kind] = lambda m=model: m(x)
                for _ in range(3):  # compile and warm up
                    with torch.set_grad_enabled(backward):
                        calls[kind]()
            with torch.set_grad_enabled(backward):  # interleaved: both see the same noise
                times = measure_interleaved({kind: f"calls[{kind!r}]()" for kind in calls},
                                             {"calls": calls}, args.repeats, args.min_run_time)
            medians = {kind: statistics.median(t) for kind, t in times.items()}
            row = {"case": case, "backward": backward, "threads": args.threads,
                   "torch_ext_ms": medians["torch_ext"] * 1e3, "native_ms": medians["native"] * 1e3,
                   "ratio": medians["torch_ext"] / medians["native"]}
            rows.append(row)
            print(f"{case:6s} {'fwd+bwd' if backward else 'fwd':8s} torch_ext {row['torch_ext_ms']:8.3f} ms"
                  f"  native composite {row['native_ms']:8.3f} ms  ratio {row['ratio']:.3f}", flush=True)
    out_dir = os.path.join(os.path.dirname(__file__), "out")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "compile_fusion.json"), "w") as f:
        json.dump({"torch": torch.__version__, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
