"""Makes the models that tests/cpp/test_models.cpp loads from C++ (run by CTest as a fixture).

    python make_models.py torchscript OUT_DIR   ->  OUT_DIR/torchscript_model.pt + torchscript_io.pt
    python make_models.py aoti OUT_DIR          ->  OUT_DIR/aoti_model.pt2 + aoti_io.pt

Both use the same small model built from torch_ext.ThresholdedReLU (an out-of-place and an
in-place activation). The *_io.pt file is a torch.save'd dict that C++ reads with
torch::pickle_load: "input", "expected" (a list: the outputs Python got from the scripted module
or the compiled package), and "thetas" (to recompute a reference in C++).
"""

import os
import re
import sys
import tempfile
import zipfile

import torch
import torch_ext

THETA, THETA_INPLACE = 0.5, 2.5


class Model(torch.nn.Module):
    """Returns (act(2x), act_inplace(4x)); the scalings are exact in floating point."""

    def __init__(self) -> None:
        super().__init__()
        self.act = torch_ext.ThresholdedReLU(THETA)
        self.act_inplace = torch_ext.ThresholdedReLU(THETA_INPLACE, inplace=True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.act(x * 2.0), self.act_inplace(x * 4.0)


def example_input() -> torch.Tensor:
    torch.manual_seed(0)
    x = torch.randn(4, 33) * 2
    special = torch.tensor(
        [float("-inf"), float("inf"), float("nan"), THETA / 2, THETA_INPLACE / 4, 0.0, -0.0, 1e-40]
    )
    x.view(-1)[: special.numel()] = special
    return x


def save_io(path: str, x: torch.Tensor, outputs) -> None:
    torch.save({"input": x, "expected": list(outputs), "thetas": [THETA, THETA_INPLACE]}, path)


def check_eager(outputs, x: torch.Tensor) -> None:
    """Bit-identical to eager (NaN payloads and signs of zero included)."""
    eager = Model()(x.clone())
    for got, want in zip(outputs, eager):
        assert got.dtype == want.dtype == torch.float32
        assert torch.equal(got.view(torch.int32), want.view(torch.int32)), (got, want)


def make_torchscript(out_dir: str) -> None:
    scripted = torch.jit.script(Model())
    graph = str(scripted.inlined_graph)
    assert "torch_ext::thresholded_relu(" in graph and "torch_ext::thresholded_relu_(" in graph, graph
    path = os.path.join(out_dir, "torchscript_model.pt")
    scripted.save(path)
    x = example_input()
    outputs = torch.jit.load(path)(x.clone())
    check_eager(outputs, x)
    save_io(os.path.join(out_dir, "torchscript_io.pt"), x, outputs)
    print(f"wrote {path}")


def make_aoti(out_dir: str) -> None:
    x = example_input()
    exported = torch.export.export(Model(), (x.clone(),))
    path = os.path.join(out_dir, "aoti_model.pt2")
    # Inductor's cache keys ignore a C++ op's schema and kernels: use a fresh cache each run.
    with tempfile.TemporaryDirectory() as cache:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache
        # Precompiling headers costs more than it saves for one tiny model.
        torch._inductor.aoti_compile_and_package(
            exported, package_path=path,
            inductor_configs={"aot_inductor.precompile_headers": False})
    # Inductor lowers the operators (torch_ext/_inductor.py): the package computes the
    # activation in its generated kernels and calls no operator through its proxy executor.
    with zipfile.ZipFile(path) as package:
        sources = "".join(
            package.read(name).decode(errors="replace")
            for name in package.namelist() if name.endswith((".cpp", ".json")))
    assert not re.search(r"torch_ext(\.|::)thresholded_relu", sources), \
        "the AOTInductor package calls a torch_ext operator instead of fusing it"
    outputs = torch._inductor.aoti_load_package(path)(x.clone())
    check_eager(outputs, x)
    save_io(os.path.join(out_dir, "aoti_io.pt"), x, outputs)
    print(f"wrote {path}")


if __name__ == "__main__":
    kind, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    {"torchscript": make_torchscript, "aoti": make_aoti}[kind](out_dir)
