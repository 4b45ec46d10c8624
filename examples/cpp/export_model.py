"""Saves a small model that uses torch_ext.ThresholdedReLU in the two forms a C++ program
without Python can run (see run_model.cpp):

    python export_model.py OUT_DIR    ->  OUT_DIR/mlp.pt   (TorchScript: torch::jit::load)
                                          OUT_DIR/mlp.pt2  (AOTInductor: AOTIModelPackageLoader)
                                          OUT_DIR/mlp_io.pt (an input and Python's output)
"""

import os
import sys

import torch
import torch_ext


def main(out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(8, 32), torch_ext.ThresholdedReLU(0.1), torch.nn.Linear(32, 1)).eval()
    x = torch.randn(16, 8)
    with torch.no_grad():
        expected = model(x)

    torch.jit.script(model).save(os.path.join(out_dir, "mlp.pt"))
    exported = torch.export.export(model, (x,))
    torch._inductor.aoti_compile_and_package(
        exported, package_path=os.path.join(out_dir, "mlp.pt2"),
        inductor_configs={"aot_inductor.precompile_headers": False})
    # A plain torch.save'd dict: C++ reads it with torch::pickle_load.
    torch.save({"input": x, "expected": expected}, os.path.join(out_dir, "mlp_io.pt"))
    print(f"saved {out_dir}/mlp.pt, mlp.pt2 and mlp_io.pt")


if __name__ == "__main__":
    main(sys.argv[1])
