"""Trains a small regression MLP with torch_ext.ThresholdedReLU on synthetic data.

Runs on the GPU when one is present (and the CUDA kernels are compiled in), else on the CPU.
Prints the loss as it falls and checks that it fell.
"""

import argparse

import torch

import torch_ext


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--theta", type=float, default=0.1)
    args = parser.parse_args()

    use_cuda = torch.cuda.is_available() and torch_ext.built_with_cuda
    device = torch.device("cuda" if use_cuda else "cpu")
    torch.manual_seed(0)

    # y = sum(sin(3 x)) + noise: needs the nonlinearity to fit.
    x = torch.randn(2048, 8, device=device)
    y = torch.sin(3 * x).sum(dim=1, keepdim=True) + 0.05 * torch.randn(2048, 1, device=device)

    model = torch.nn.Sequential(
        torch.nn.Linear(8, 64),
        torch_ext.ThresholdedReLU(args.theta),
        torch.nn.Linear(64, 64),
        torch_ext.ThresholdedReLU(args.theta),
        torch.nn.Linear(64, 1),
    ).to(device)
    print(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

    first = None
    for step in range(args.steps + 1):
        loss = torch.nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        first = loss.item() if first is None else first
        if step % 50 == 0:
            print(f"step {step:4d}  loss {loss.item():.4f}")
    last = loss.item()
    print(f"[python/{device.type}] loss {first:.4f} -> {last:.4f}")
    if not last < 0.5 * first:
        raise SystemExit("training did not reduce the loss")


if __name__ == "__main__":
    main()
