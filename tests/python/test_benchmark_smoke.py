"""The benchmark harness runs end to end and writes the entries its readers rely on. Nothing
here looks at a time: speed is measured by `python benchmarks/run.py`, never asserted."""

import importlib.util
import json
import pathlib
import subprocess
import sys

HARNESS = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


def test_benchmark_tiny_run_writes_every_section(tmp_path):
    out = subprocess.run([sys.executable, str(HARNESS), "--tiny", "--no-cuda",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["machine"]["torch"]
    results = data["results"]
    seen = {(r["section"], r["op"], r["impl"]) for r in results}
    for op, impls in {"forward": ["ours", "native", "where", "clone"],
                      "inplace": ["ours", "native"],
                      "backward": ["ours", "native", "where", "clone"]}.items():
        for impl in impls:
            assert ("sweep", op, impl) in seen, (op, impl)
    for impl in ["ours", "ours torch.ops", "native", "torch.threshold"]:
        assert ("overhead", "call", impl) in seen and ("overhead", "call+grad", impl) in seen
    assert {r["allocator"] for r in results if r["section"] == "allocator"} == {
        "glibc default", "no page faults"}
    assert {r["dtype"] for r in results if r["section"] == "sweep"} == {"float32", "bfloat16"}
    assert all(r["median_s"] > 0 for r in results)
    if importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("onnx"):
        assert ("sweep", "forward", "onnxruntime") in seen
    if importlib.util.find_spec("matplotlib"):
        assert data["plots"] and all((tmp_path / p.split("/")[-1]).exists() for p in data["plots"])
    names = {t["target"] for t in data["targets"]}
    for allocator in ("glibc default", "no page faults"):
        assert f"CPU backward, {allocator}, ours/native <= 1.05" in names
        assert f"CPU forward, {allocator}, ours/clone <= 1.05" in names
    assert "CPU forward ours/native <= 1.05" in names
