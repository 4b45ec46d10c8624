"""Trains a small MLP with torch_ext.ThresholdedReLU on a synthetic regression and checks that
it learned the function.

The task: 4 inputs x ~ N(0, 1), target y = sum_i sin(2 x_i) + 0.05 * noise; 4096 training
samples, and 4096 held-out ones to test on. A model that ignores x can do no better than
predicting the mean, whose mean squared error (MSE) is the target's variance (about 2.0: each
sin(2 x_i) has variance ~0.5); the noise alone costs 0.0025. The best linear model still leaves
about 85 % of the variance (printed), so the network needs its nonlinearity (ThresholdedReLU) to
do better. Success: held-out MSE below SUCCESS_FRACTION (10 %) of the variance, R^2 > 0.9.

examples/cpp/train_mlp.cpp trains the same model from C++ with the same seed, data and
initialisation; give it this script's --losses-out file to compare (scripts/run_example.sh
does). Runs on the GPU when one is present (and the CUDA kernels are compiled in).
"""

import argparse

import torch

import torch_ext

SAMPLES, FEATURES, HIDDEN, THETA, LEARNING_RATE = 4096, 4, 64, 0.1, 3e-3
SUCCESS_FRACTION = 0.1  # held-out MSE / target variance must end below this


def make_data(device: torch.device) -> tuple[torch.Tensor, ...]:
    """Training inputs and targets, then held-out ones (drawn in this order, as in C++)."""
    data = []
    for _ in range(2):
        x = torch.randn(SAMPLES, FEATURES, device=device)
        y = torch.sin(2 * x).sum(dim=1, keepdim=True) + 0.05 * torch.randn(SAMPLES, 1, device=device)
        data += [x, y]
    return tuple(data)


def linear_baseline(x, y, x_test, y_test) -> float:
    """Held-out MSE of the least-squares linear model (with bias) fitted to the training set."""
    ones = torch.ones(len(x), 1, device=x.device)
    weights = torch.linalg.lstsq(torch.cat([x, ones], 1).cpu(), y.cpu()).solution.to(x.device)
    prediction = torch.cat([x_test, ones], 1) @ weights
    return torch.nn.functional.mse_loss(prediction, y_test).item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--losses-out", help="write 'initial final held_out' losses to this file")
    args = parser.parse_args()

    use_cuda = torch.cuda.is_available() and torch_ext.built_with_cuda
    device = torch.device("cuda" if use_cuda else "cpu")
    torch.manual_seed(0)

    # The model first, then the data: train_mlp.cpp draws from the generator in the same order.
    model = torch.nn.Sequential(
        torch.nn.Linear(FEATURES, HIDDEN),
        torch_ext.ThresholdedReLU(THETA),
        torch.nn.Linear(HIDDEN, HIDDEN),
        torch_ext.ThresholdedReLU(THETA),
        torch.nn.Linear(HIDDEN, 1),
    ).to(device)
    x, y, x_test, y_test = make_data(device)
    variance = y_test.var().item()
    print(f"task: regression, y = sum(sin(2 x)) + noise, {FEATURES} inputs, "
          f"{SAMPLES} training and {SAMPLES} held-out samples")
    print(f"baselines (held-out MSE): predicting the mean {variance:.3f} (the target's "
          f"variance), the best linear model {linear_baseline(x, y, x_test, y_test):.3f}")
    print(f"success: held-out MSE < {SUCCESS_FRACTION * variance:.3f} "
          f"({SUCCESS_FRACTION:.0%} of the variance)")
    print(model)

    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    for step in range(args.steps + 1):
        loss = torch.nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step == 0:
            initial = loss.item()
        if step % 50 == 0:
            print(f"step {step:4d}  training MSE {loss.item():.4f}")
    final = loss.item()
    with torch.no_grad():
        held_out = torch.nn.functional.mse_loss(model(x_test), y_test).item()

    print(f"[python/{device.type}] training MSE {initial:.4f} -> {final:.4f}; "
          f"held-out MSE {held_out:.4f} = {held_out / variance:.1%} of the variance "
          f"(R^2 {1 - held_out / variance:.3f})")
    if args.losses_out:
        with open(args.losses_out, "w") as f:
            f.write(f"{initial!r} {final!r} {held_out!r}\n")
    if not held_out < SUCCESS_FRACTION * variance:
        raise SystemExit(f"FAILED: held-out MSE {held_out:.4f} is not below "
                         f"{SUCCESS_FRACTION:.0%} of the variance ({variance:.4f})")
    print("OK: the model learned the function")


if __name__ == "__main__":
    main()
