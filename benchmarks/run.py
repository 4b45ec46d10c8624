"""Benchmark harness: ``python benchmarks/run.py [--short]`` (against the installed torch_ext).

Measures, in one run and interleaved (every implementation of a case is timed once per round,
round after round, so that machine noise hits them all alike), the forward, in-place and
backward passes of torch_ext against what PyTorch users would otherwise write:

- ``native``: ``F.threshold(x, theta, 0)`` / ``F.threshold_`` / ``aten.threshold_backward``;
- ``where``: the eager composite ``torch.where(x > theta, x, 0)``;
- ``clone`` (``copy`` on CUDA): a plain copy, the memory-bandwidth limit of a pointwise op;
- ``onnxruntime``: ``ThresholdedRelu`` in onnxruntime, the fastest CPU peer (when installed).

Also the per-call cost at 1K elements (Python eager, with and without ``requires_grad``) and
the two allocator conditions of large CPU outputs (glibc's default, where every large output
is fresh pages that fault in, and ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` set so
that freed buffers are reused). Timing is ``torch.utils.benchmark`` (warm-up,
``blocked_autorange``); a figure is the median over rounds of each round's median.

Prints a table as it goes, then the design's performance targets (met / missed), and writes
``results.json``, ``results.md`` (the tables as Markdown) and ``throughput_*.png`` (GB/s vs size, one line per implementation) to
``--out`` (default ``benchmarks/out``). Times are never asserted anywhere: see the summary.
Compiled and AOTInductor models are measured by ``benchmarks/compile_fusion.py``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch.utils.benchmark import Timer

import torch_ext

THETA = 0.5
KB, MB = 1 << 10, 1 << 20

# The allocator setting of design.md §2b: glibc keeps freed large blocks instead of returning
# them to the kernel, so a new output reuses pages that are already mapped. It must be in the
# environment when the process starts, hence the child processes.
NO_PAGE_FAULT_ENV = {"MALLOC_MMAP_THRESHOLD_": "4294967296", "MALLOC_TRIM_THRESHOLD_": "4294967296"}


@dataclass
class Config:
    """What one run measures."""

    sizes: list[int]
    dtypes: list[str]
    threads: list[int]
    rounds: int
    min_run_time: float  # seconds per blocked_autorange
    cuda_sizes: list[int]
    cuda_dtypes: list[str]
    allocator_sizes: list[int]
    overhead_min_run_time: float


def make_config(mode: str) -> Config:
    all_threads = torch.get_num_threads()
    threads = sorted({1, all_threads})
    if mode == "tiny":  # the smoke test: every section, almost no time
        return Config([KB, 64 * KB], ["float32", "bfloat16"], [1], 1, 0.01, [KB, 64 * KB],
                      ["float32"], [64 * KB], 0.01)
    if mode == "short":  # about a minute; the CUDA rows are design.md §4's (256M elements)
        return Config([KB, MB, 16 * MB], ["float32"], threads, 3, 0.05,
                      [MB, 16 * MB, 256 * MB], ["float32", "bfloat16"], [16 * MB], 0.1)
    return Config([KB << (2 * i) for i in range(9)],  # 1K, 4K, ..., 64M
                  ["float32", "bfloat16", "float64"], threads, 5, 0.1,
                  [MB, 16 * MB, 64 * MB, 256 * MB], ["float32", "bfloat16", "float16"],
                  [MB, 4 * MB, 16 * MB, 64 * MB], 0.5)


@dataclass
class Result:
    section: str  # "sweep", "overhead" or "allocator"
    device: str
    op: str  # "forward", "inplace", "backward" or "call"
    impl: str
    dtype: str
    size: int
    threads: int
    allocator: str  # "glibc default", "no page faults" or "n/a"
    median_s: float
    round_medians_s: list[float] = field(default_factory=list)
    gbps: float = 0.0  # bytes the op must move / time
    # median over rounds of (ours / this impl) in the same round: the side-by-side ratio,
    # robust to the load of a shared machine drifting between rounds
    ours_ratio: float = 1.0


# ---------------------------------------------------------------- implementations


def _onnxruntime_forward(dtype: torch.dtype, threads: int) -> Callable | None:
    """ThresholdedRelu in an onnxruntime session, or None (not installed, dtype unsupported)."""
    try:
        import numpy as np
        import onnx
        import onnxruntime as ort
        from onnx import TensorProto, helper
    except ImportError:
        return None
    elem = {torch.float32: TensorProto.FLOAT, torch.float64: TensorProto.DOUBLE}.get(dtype)
    if elem is None:
        return None
    graph = helper.make_graph(
        [helper.make_node("ThresholdedRelu", ["x"], ["y"], alpha=THETA)], "trelu",
        [helper.make_tensor_value_info("x", elem, [None])],
        [helper.make_tensor_value_info("y", elem, [None])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 9
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1  # its pool threads spin after a run: see SETTLE_AFTER
    try:
        session = ort.InferenceSession(model.SerializeToString(), opts,
                                       providers=["CPUExecutionProvider"])
        session.run(None, {"x": np.zeros(4, dtype=torch.empty(0, dtype=dtype).numpy().dtype)})
    except Exception:  # noqa: BLE001 (an onnxruntime without this kernel: skip the peer)
        return None
    return lambda x_np: session.run(None, {"x": x_np})


def _statements(op: str, device: str) -> dict[str, str]:
    """Implementation name -> statement, over the globals made by _case_globals."""
    copy = "copy" if device == "cuda" else "clone"
    if op == "forward":
        return {"ours": "thresholded_relu(x, theta)", "native": "F.threshold(x, theta, 0.0)",
                "where": "torch.where(x > theta, x, 0)", copy: "x.clone()",
                "onnxruntime": "ort(x_np)"}
    if op == "inplace":
        return {"ours": "thresholded_relu_(xi, theta)", "native": "F.threshold_(xi, theta, 0.0)"}
    if op == "backward":
        return {"ours": "thresholded_relu_backward(dy, y, theta)",
                "native": "threshold_backward(dy, y, theta)",
                "where": "torch.where(y > theta, dy, 0)", copy: "dy.clone()"}
    raise ValueError(op)


BYTES_MOVED = {"forward": 2, "inplace": 2, "backward": 3}  # elements read + written, per element


def _case_globals(x: torch.Tensor, threads: int) -> dict:
    y = torch_ext.thresholded_relu(x, THETA)
    g = {
        "torch": torch, "F": F, "theta": THETA, "x": x, "xi": x.clone(), "y": y,
        "dy": torch.randn_like(x), "thresholded_relu": torch_ext.thresholded_relu,
        "thresholded_relu_": torch_ext.thresholded_relu_,
        "thresholded_relu_backward": torch.ops.torch_ext.thresholded_relu_backward,
        "threshold_backward": torch.ops.aten.threshold_backward,
    }
    if x.device.type == "cpu":
        ort = _onnxruntime_forward(x.dtype, threads)
        if ort is not None:
            g["ort"], g["x_np"] = ort, x.numpy()
    return g


# onnxruntime's pool threads spin for a while after each run (its default, which makes it
# fast), taking the cores from whatever is timed next: give them time to go to sleep.
SETTLE_AFTER = {"onnxruntime": 0.05}


def measure_interleaved(stmts: dict[str, str], globals_: dict, rounds: int,
                         min_run_time: float) -> dict[str, list[float]]:
    """Round-robin over the implementations; each round gives each one blocked_autorange median."""
    # Timer runs its statement at num_threads, 1 unless given: keep the caller's setting.
    timers = {name: Timer(stmt, globals=globals_, num_threads=torch.get_num_threads())
              for name, stmt in stmts.items()}
    for timer in timers.values():
        timer.timeit(2)  # warm-up: first-touch of outputs, lazy initialisation, caches
    time.sleep(max(SETTLE_AFTER.values()))
    medians: dict[str, list[float]] = {name: [] for name in stmts}
    for _ in range(rounds):
        for name, timer in timers.items():
            medians[name].append(timer.blocked_autorange(min_run_time=min_run_time).median)
            time.sleep(SETTLE_AFTER.get(name, 0.0))
    return medians


# ---------------------------------------------------------------- sections


class Run:
    """Collects results and prints them as they come."""

    def __init__(self, cfg: Config, mode: str, allocator: str):
        self.cfg = cfg
        self.mode = mode  # passed on to the allocator child processes
        self.allocator = allocator
        self.results: list[Result] = []

    def case(self, section: str, device: str, op: str, dtype: torch.dtype, size: int,
             threads: int, stmts: dict[str, str], globals_: dict, label: str) -> None:
        medians = measure_interleaved(stmts, globals_, self.cfg.rounds, self.cfg.min_run_time)
        itemsize = torch.empty(0, dtype=dtype).element_size()
        moved = BYTES_MOVED[op] * size * itemsize
        rows = self._record(section, device, op, str(dtype).split(".")[-1], size, threads,
                            medians, moved)
        ours = rows["ours"]
        others = "  ".join(f"{r.impl} {r.ours_ratio:5.2f}" for r in rows.values() if r.impl != "ours")
        print(f"{label}  ours {_fmt_time(ours.median_s)} {ours.gbps:6.1f} GB/s  | ours/: {others}",
              flush=True)

    def _record(self, section: str, device: str, op: str, dtype: str, size: int, threads: int,
                medians: dict[str, list[float]], moved: int) -> dict[str, Result]:
        rows = {}
        for impl, m in medians.items():
            med = statistics.median(m)
            ratio = statistics.median(o / t for o, t in zip(medians["ours"], m))
            rows[impl] = Result(section, device, op, impl, dtype, size, threads, self.allocator,
                                med, m, moved / med / 1e9 if moved else 0.0, ratio)
        self.results += rows.values()
        return rows

    def sweep(self, device: str, sizes: list[int], dtypes: list[str], threads_list: list[int],
              ops: list[str]) -> None:
        cases = [(t, d, n) for t in threads_list for d in dtypes for n in sizes]
        for i, (threads, dtype_name, n) in enumerate(cases):
            torch.set_num_threads(threads)
            dtype = getattr(torch, dtype_name)
            x = (torch.randn(n, device=device) * 2).to(dtype)
            g = _case_globals(x, threads)
            for op in ops:
                stmts = {k: s for k, s in _statements(op, device).items()
                         if "ort" not in s or "ort" in g}
                label = (f"[{i + 1:3d}/{len(cases)}] {device:4s} {threads:2d}t {dtype_name:8s} "
                         f"{_fmt_size(n):>5s} {op:8s}")
                self.case("sweep", device, op, dtype, n, threads, stmts, g, label)
            del x, g
            if device == "cuda":
                torch.cuda.empty_cache()

    def overhead(self) -> None:
        """Per-call cost at 1K float32 elements, one thread, from Python eager."""
        torch.set_num_threads(1)
        stmts = {"ours": "thresholded_relu(x, theta)",
                 "ours torch.ops": "torch.ops.torch_ext.thresholded_relu(x, theta)",
                 "ours _C": "_C.thresholded_relu(x, theta)",
                 "native": "F.threshold(x, theta, 0.0)",
                 "torch.threshold": "torch.threshold(x, theta, 0.0)"}
        for requires_grad in (False, True):
            x = torch.randn(KB, requires_grad=requires_grad)
            g = {"torch": torch, "F": F, "theta": THETA, "x": x, "_C": torch_ext._C,
                 "thresholded_relu": torch_ext.thresholded_relu}
            medians = measure_interleaved(stmts, g, max(self.cfg.rounds, 3),
                                           self.cfg.overhead_min_run_time)
            op = "call+grad" if requires_grad else "call"
            rows = self._record("overhead", "cpu", op, "float32", KB, 1, medians, 0)
            print(f"per-call, 1K float32, requires_grad={requires_grad!s:5s}: " +
                  "  ".join(f"{r.impl} {r.median_s * 1e6:.2f} us" for r in rows.values()), flush=True)

    def allocator_conditions(self, out_dir: str) -> None:
        """Large CPU forward/backward under both allocator conditions, each in a child process."""
        for name, env_update in (("glibc default", {}), ("no page faults", NO_PAGE_FAULT_ENV)):
            env = {k: v for k, v in os.environ.items() if k not in NO_PAGE_FAULT_ENV}
            env.update(env_update)
            child_json = os.path.abspath(os.path.join(out_dir, "allocator_child.json"))
            cmd = [sys.executable, os.path.abspath(__file__), "--_allocator-child", name,
                   "--out", out_dir, "--_child-json", child_json, "--_mode", self.mode]
            print(f"allocator: {name} {' '.join(f'{k}={v}' for k, v in env_update.items())}",
                  flush=True)
            subprocess.run(cmd, env=env, check=True)
            with open(child_json) as f:
                self.results += [Result(**r) for r in json.load(f)]
            os.remove(child_json)


# ---------------------------------------------------------------- summary, targets, plot


def _fmt_size(n: int) -> str:
    for unit, scale in (("M", MB), ("K", KB)):
        if n >= scale and n % scale == 0:
            return f"{n // scale}{unit}"
    return str(n)


def _fmt_time(s: float) -> str:
    return f"{s * 1e6:8.1f} us" if s < 1e-3 else f"{s * 1e3:8.2f} ms"


def _find(results: list[Result], **kw) -> Result | None:
    for r in results:
        if all(getattr(r, k) == v for k, v in kw.items()):
            return r
    return None


def targets(results: list[Result]) -> list[dict]:
    """design.md §4, evaluated on this run's own side-by-side medians (largest measured size
    up to 16M float32, all threads)."""
    out = []

    def ratio(what: str, limit: float, better: str, a: Result | None, b: Result | None) -> None:
        if a is None or b is None:
            return
        value = b.ours_ratio  # ours / other, side by side
        if better == "higher":  # "b is at least `limit` x slower than ours"
            value = 1 / value
            met = value >= limit
        else:
            met = value <= limit
        out.append({"target": what, "value": round(value, 3), "limit": limit,
                     "met": bool(met), "size": a.size, "threads": a.threads})

    cpu = [r for r in results if r.device == "cpu" and r.dtype == "float32"]
    sweep = [r for r in cpu if r.section == "sweep"]
    if sweep:
        t = max(r.threads for r in sweep)
        n = max((r.size for r in sweep if r.size <= 16 * MB), default=0)
        sel = dict(section="sweep", size=n, threads=t)
        for op in ("forward", "backward", "inplace"):
            ours = _find(cpu, impl="ours", op=op, **sel)
            ratio(f"CPU {op} ours/native <= 1.05", 1.05, "lower", ours, _find(cpu, impl="native", op=op, **sel))
        ours = _find(cpu, impl="ours", op="forward", **sel)
        ratio("CPU forward ours/clone <= 1.05", 1.05, "lower", ours, _find(cpu, impl="clone", op="forward", **sel))
        ratio("CPU forward where/ours >= 2", 2.0, "higher", ours, _find(cpu, impl="where", op="forward", **sel))
    # Both allocator conditions (design §2b): the clone is the memory limit of regular stores.
    for allocator in ("glibc default", "no page faults"):
        alloc = [r for r in cpu if r.section == "allocator" and r.allocator == allocator]
        n = max((r.size for r in alloc if r.size <= 16 * MB), default=0)
        for op, others in (("forward", ("native", "clone")), ("backward", ("native",))):
            ours = _find(alloc, impl="ours", op=op, size=n)
            for other in others:
                ratio(f"CPU {op}, {allocator}, ours/{other} <= 1.05", 1.05, "lower", ours,
                      _find(alloc, impl=other, op=op, size=n))
    for op in ("call", "call+grad"):
        ours = _find(results, section="overhead", op=op, impl="ours")
        ratio(f"per-call ({op}) ours/F.threshold <= 1.0", 1.0, "lower", ours,
              _find(results, section="overhead", op=op, impl="native"))
        ratio(f"per-call ({op}) ours/torch.threshold <= 1.0 (aim)", 1.0, "lower", ours,
              _find(results, section="overhead", op=op, impl="torch.threshold"))
    cuda = [r for r in results if r.device == "cuda" and r.section == "sweep"]
    for dtype in ("float32", "bfloat16"):
        rows = [r for r in cuda if r.dtype == dtype]
        if not rows:
            continue
        n = max(r.size for r in rows)
        for op in ("forward", "backward"):
            ours = _find(rows, impl="ours", op=op, size=n)
            ratio(f"CUDA {dtype} {op} ours/native <= 1.0", 1.0, "lower", ours,
                  _find(rows, impl="native", op=op, size=n))
            # bandwidth fraction, ours GB/s over copy GB/s, from the side-by-side time ratio
            copy = _find(rows, impl="copy", op=op, size=n)
            if ours is not None and copy is not None:
                frac = BYTES_MOVED[op] / BYTES_MOVED["forward"] / copy.ours_ratio
                out.append({"target": f"CUDA {dtype} {op} bandwidth >= 0.9 x copy",
                            "value": round(frac, 3), "limit": 0.9, "met": frac >= 0.9,
                            "size": n, "threads": 0})
    return out


def markdown(results: list[Result], checked: list[dict]) -> str:
    """The run as Markdown tables (what benchmarks/RESULTS.md quotes): ours' time and GB/s,
    then ours / other, side by side, for each implementation."""
    lines = []
    groups = dict.fromkeys((r.section, r.device, r.threads, r.allocator, r.dtype, r.op)
                           for r in results if r.section != "overhead")
    for section, device, threads, allocator, dtype, op in groups:
        rows = [r for r in results if (r.section, r.device, r.threads, r.allocator, r.dtype, r.op)
                == (section, device, threads, allocator, dtype, op)]
        impls = [i for i in dict.fromkeys(r.impl for r in rows) if i != "ours"]
        title = f"{device}, {threads} thread(s), {dtype}, {op}"
        if section == "allocator":
            title += f", allocator: {allocator}"
        lines += [f"**{title}**", "", "| size | ours | GB/s | " + " | ".join(f"ours/{i}" for i in impls) + " |",
                  "|---:|---:|---:|" + "---:|" * len(impls)]
        for n in sorted({r.size for r in rows}):
            by = {r.impl: r for r in rows if r.size == n}
            lines.append(f"| {_fmt_size(n)} | {_fmt_time(by['ours'].median_s).strip()} | "
                         f"{by['ours'].gbps:.1f} | " +
                         " | ".join(f"{by[i].ours_ratio:.2f}" if i in by else "" for i in impls) + " |")
        lines.append("")
    calls = [r for r in results if r.section == "overhead"]
    if calls:
        impls = list(dict.fromkeys(r.impl for r in calls))
        lines += ["**per call, 1K float32, 1 thread (us)**", "",
                  "| | " + " | ".join(impls) + " |", "|---|" + "---:|" * len(impls)]
        for op in dict.fromkeys(r.op for r in calls):
            by = {r.impl: r for r in calls if r.op == op}
            lines.append(f"| {op} | " + " | ".join(f"{by[i].median_s * 1e6:.2f}" for i in impls) + " |")
        lines.append("")
    lines += ["**design.md §4 targets**", "", "| target | value | met |", "|---|---:|---|"]
    lines += [f"| {t['target']} | {t['value']:.3f} | {'yes' if t['met'] else '**no**'} |" for t in checked]
    return "\n".join(lines) + "\n"


def plot(results: list[Result], out_dir: str) -> list[str]:
    """One PNG per (device, threads): GB/s vs size, a panel per (op, dtype), a line per impl."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot", flush=True)
        return []
    paths = []
    sweep = [r for r in results if r.section == "sweep"]
    for device, threads in sorted({(r.device, r.threads) for r in sweep}):
        rows = [r for r in sweep if r.device == device and r.threads == threads]
        ops = [o for o in ("forward", "inplace", "backward") if any(r.op == o for r in rows)]
        dtypes = sorted({r.dtype for r in rows})
        fig, axes = plt.subplots(len(ops), len(dtypes), squeeze=False,
                                 figsize=(max(6.5, 4.5 * len(dtypes)), 3.2 * len(ops)))
        for i, op in enumerate(ops):
            for j, dtype in enumerate(dtypes):
                ax = axes[i][j]
                sel = [r for r in rows if r.op == op and r.dtype == dtype]
                for impl in dict.fromkeys(r.impl for r in sel):
                    pts = sorted((r.size, r.gbps) for r in sel if r.impl == impl)
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=impl,
                            linewidth=2.5 if impl == "ours" else 1.2)
                ax.set_xscale("log", base=2)
                ax.set_yscale("log")
                ax.set_title(f"{op}, {dtype}", fontsize=10)
                ax.set_xlabel("elements")
                ax.set_ylabel("GB/s moved")
                ax.grid(True, alpha=0.3)
                ax.legend(fontsize=7)
        fig.suptitle(f"thresholded_relu on {device}, {threads} thread(s), torch {torch.__version__}")
        fig.tight_layout()
        path = os.path.join(out_dir, f"throughput_{device}_{threads}t.png")
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths


def machine() -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "torch": torch.__version__, "torch_ext_built_with_torch": torch_ext.built_with_torch,
        "python": platform.python_version(), "cpu": cpu, "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "onnxruntime": _version_of("onnxruntime"),
        "allocator_env": {k: os.environ[k] for k in NO_PAGE_FAULT_ENV if k in os.environ},
    }


def _version_of(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except ImportError:
        return None


# ---------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python benchmarks/run.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--short", action="store_true",
                   help="CPU float32 at 3 sizes, CUDA float32 and bfloat16 to 256M: about a minute")
    p.add_argument("--tiny", action="store_true", help="seconds; for the smoke test")
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"),
                   help="output folder (default: benchmarks/out)")
    p.add_argument("--no-cuda", action="store_true", help="skip CUDA even when present")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--sections", default="sweep,overhead,allocator",
                   help="comma-separated subset of sweep, overhead, allocator")
    # internal: the allocator child process
    p.add_argument("--_allocator-child", dest="allocator_child", help=argparse.SUPPRESS)
    p.add_argument("--_child-json", dest="child_json", help=argparse.SUPPRESS)
    p.add_argument("--_mode", dest="mode", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    mode = args.mode or ("tiny" if args.tiny else "short" if args.short else "full")
    cfg = make_config(mode)
    os.makedirs(args.out, exist_ok=True)

    if args.allocator_child:  # child: large CPU float32 outputs, all threads, this env
        run = Run(cfg, mode, args.allocator_child)
        threads = max(cfg.threads)
        torch.set_num_threads(threads)
        for n in cfg.allocator_sizes:
            x = torch.randn(n) * 2
            g = _case_globals(x, threads)
            for op in ("forward", "backward"):
                stmts = {k: s for k, s in _statements(op, "cpu").items()
                         if "ort" not in s or "ort" in g}
                run.case("allocator", "cpu", op, torch.float32, n, threads, stmts, g,
                         f"  {_fmt_size(n):>5s} {op:8s} {threads}t")
        with open(args.child_json, "w") as f:
            json.dump([asdict(r) for r in run.results], f)
        return 0

    env_alloc = "no page faults" if all(k in os.environ for k in NO_PAGE_FAULT_ENV) else "glibc default"
    info = machine()
    print(f"torch {info['torch']}, {info['cpu']}, {info['cores']} cores, capability "
          f"{info['cpu_capability']}, threads {cfg.threads}, mode {mode}, allocator {env_alloc}")
    print("ratios are ours time / other time (< 1: ours faster)", flush=True)
    run = Run(cfg, mode, env_alloc)
    sections = set(args.sections.split(","))
    if "overhead" in sections:
        run.overhead()
    if "allocator" in sections:
        run.allocator_conditions(args.out)
    if "sweep" in sections:
        run.sweep("cpu", cfg.sizes, cfg.dtypes, cfg.threads, ["forward", "inplace", "backward"])
        if torch.cuda.is_available() and torch_ext.built_with_cuda and not args.no_cuda:
            run.sweep("cuda", cfg.cuda_sizes, cfg.cuda_dtypes, [torch.get_num_threads()],
                      ["forward", "backward"])

    checked = targets(run.results)
    print("\ndesign.md §4 targets (this run):")
    for t in checked:
        print(f"  {'met   ' if t['met'] else 'MISSED'} {t['target']:58s} {t['value']:.3f}"
              f"  (size {_fmt_size(t['size'])}, threads {t['threads']})")
    plots = [] if args.no_plot else plot(run.results, args.out)
    path = os.path.join(args.out, "results.json")
    with open(path, "w") as f:
        json.dump({"command": " ".join(["python", "benchmarks/run.py"] + (argv or sys.argv[1:])),
                   "date": datetime.datetime.now().isoformat(timespec="seconds"),
                   "mode": mode, "machine": info, "config": asdict(cfg), "targets": checked,
                   "plots": plots, "results": [asdict(r) for r in run.results]}, f, indent=1)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(markdown(run.results, checked))
    print(f"wrote {path}, results.md" + "".join(f", {q}" for q in plots))
    return 0


if __name__ == "__main__":
    sys.exit(main())
