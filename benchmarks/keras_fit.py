"""torch_ext.keras against Keras 3's own ``ReLU(threshold=theta)``, on Keras' torch backend:

    python benchmarks/keras_fit.py [--threads N] [--import-rounds 7] [--rounds 7] [--jit-compile]

(a) Import cost: ``import torch_ext.keras`` against ``import torch_ext, keras`` (the same
    packages without this module), each sample a fresh interpreter (benchmarks/import_time.py's
    ``time_imports_abba``), alternating in ABBA order, after a warm-up pair; medians of wall and CPU
    time, and of the per-round ratios.
(b) One training step (``model.train_on_batch``, the step ``fit`` runs) of
    Input(256) -> Dense(256) -> activation -> Dense(10), batch 256, SGD, MSE: the model with
    ``torch_ext.keras.ThresholdedReLU`` against the same model with ``ReLU(threshold=theta)``,
    interleaved (benchmarks/run.py's ``measure_interleaved``), medians of per-round medians;
    with ``--jit-compile`` also both compiled (``model.compile(jit_compile=True)``).

Prints the figures and ratios; writes benchmarks/out/keras_fit.json. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile

os.environ["KERAS_BACKEND"] = "torch"  # before Keras is imported, here and in the children

import numpy as np
import torch

from import_time import CLOCKS, time_imports_abba  # benchmarks/import_time.py
from run import measure_interleaved  # benchmarks/run.py, the harness

THETA = 0.5
IMPORTS = {"torch_ext.keras": "import torch_ext.keras", "keras": "import torch_ext, keras"}


def import_times(rounds: int) -> dict:
    times, _ = time_imports_abba(sys.executable, IMPORTS, rounds)
    rows = {}
    for clock in CLOCKS:
        ours, keras_only = times["torch_ext.keras", clock], times["keras", clock]
        rows[clock] = {"torch_ext.keras_s": statistics.median(ours),
                       "keras_s": statistics.median(keras_only),
                       "median_ratio": statistics.median(o / k for o, k in zip(ours, keras_only))}
        print(f"import, {clock:4s} median of {rounds}: `{IMPORTS['torch_ext.keras']}` "
              f"{rows[clock]['torch_ext.keras_s']:.3f} s, `{IMPORTS['keras']}` "
              f"{rows[clock]['keras_s']:.3f} s; median of per-round ratios "
              f"{rows[clock]['median_ratio']:.3f}", flush=True)
    return rows


def step_times(rounds: int, min_run_time: float, jit_compile: bool) -> dict:
    import keras
    import torch_ext.keras

    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 256)).astype(np.float32)
    y = rng.standard_normal((256, 10)).astype(np.float32)
    models = {}
    for kind, activation in (("torch_ext", torch_ext.keras.ThresholdedReLU(THETA)),
                             ("ReLU(threshold)", keras.layers.ReLU(threshold=THETA))):
        model = keras.Sequential([keras.Input((256,)), keras.layers.Dense(256), activation,
                                  keras.layers.Dense(10)])
        if models:
            model.set_weights(next(iter(models.values())).get_weights())
        model.compile(optimizer="sgd", loss="mse", jit_compile=jit_compile)
        for _ in range(3):  # build the step (compile it, with jit_compile) and warm up
            model.train_on_batch(x, y)
        models[kind] = model
    times = measure_interleaved({kind: f"models[{kind!r}].train_on_batch(x, y)" for kind in models},
                                {"models": models, "x": x, "y": y}, rounds, min_run_time)
    medians = {kind: statistics.median(t) for kind, t in times.items()}
    ratio = medians["torch_ext"] / medians["ReLU(threshold)"]
    label = "train step, jit_compile" if jit_compile else "train step, eager"
    print(f"{label:24s}: torch_ext {medians['torch_ext'] * 1e3:.3f} ms, ReLU(threshold) "
          f"{medians['ReLU(threshold)'] * 1e3:.3f} ms; ratio {ratio:.3f}", flush=True)
    return {"jit_compile": jit_compile, "torch_ext_ms": medians["torch_ext"] * 1e3,
            "relu_threshold_ms": medians["ReLU(threshold)"] * 1e3, "ratio": ratio}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--import-rounds", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--min-run-time", type=float, default=0.3)
    parser.add_argument("--jit-compile", action="store_true",
                        help="also measure both models compiled (about a minute of compiling)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    # Inductor's cache keys ignore the op library: never time a graph compiled by another build.
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="keras_fit_")

    import keras

    print(f"torch {torch.__version__}, keras {keras.__version__}, Python "
          f"{platform.python_version()}, {platform.machine()} {os.cpu_count()} CPUs, "
          f"{args.threads} threads, load average "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}", flush=True)
    result = {"torch": torch.__version__, "keras": keras.__version__, "threads": args.threads,
              "import": import_times(args.import_rounds),
              "steps": [step_times(args.rounds, args.min_run_time, jit)
                        for jit in ((False, True) if args.jit_compile else (False,))]}
    out_dir = os.path.join(os.path.dirname(__file__), "out")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "keras_fit.json"), "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
