"""Two-rank checks of torch_ext under torch.distributed (gloo, CPU, localhost), run by
test_distributed.py in a subprocess so that a hang is bounded by its timeout.

Usage: python distributed_worker.py <port>. Exits non-zero if any check fails on any rank.
"""

import os
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

WORLD_SIZE = 2


def check_dtensor(rank: int) -> None:
    from torch.distributed.tensor import DTensor, Replicate, Shard, distribute_tensor
    from torch.distributed.device_mesh import init_device_mesh

    import torch_ext

    mesh = init_device_mesh("cpu", (WORLD_SIZE,))
    torch.manual_seed(0)  # same dense tensors on both ranks
    dense = torch.randn(4, 6, 8, dtype=torch.float64)
    grad = torch.randn(4, 6, 8, dtype=torch.float64)
    placements = [Shard(dim) for dim in range(dense.ndim)] + [Replicate()]
    # theta=1.0 is the schema default, which the dispatcher leaves out of the arguments.
    for theta in (0.3, 1.0):
        expected = torch.where(dense > theta, dense, torch.zeros_like(dense))
        dense_grad = torch.where(dense > theta, grad, torch.zeros_like(grad))
        for placement in placements:
            x = distribute_tensor(dense, mesh, [placement]).requires_grad_()
            y = torch_ext.thresholded_relu(x, theta)
            assert isinstance(y, DTensor), type(y)
            assert y.placements == (placement,), (placement, y.placements)  # no redistribution
            assert torch.equal(y.full_tensor(), expected), (theta, placement)
            y.backward(distribute_tensor(grad, mesh, [placement]))
            assert x.grad.placements == (placement,), (placement, x.grad.placements)
            assert torch.equal(x.grad.full_tensor(), dense_grad), (theta, placement)
            for inplace in (lambda t: torch_ext.ThresholdedReLU(theta, inplace=True)(t),
                            lambda t: torch.ops.torch_ext.thresholded_relu_(t, theta)):
                target = distribute_tensor(dense, mesh, [placement])
                storage = target.to_local().data_ptr()
                inplace(target)
                assert target.placements == (placement,)
                assert target.to_local().data_ptr() == storage  # written in place
                assert torch.equal(target.full_tensor(), expected), (theta, placement)
        check_partial(mesh, theta, rank)


def check_partial(mesh, theta: float, rank: int) -> None:
    """A Partial(sum) input: as for torch.relu, the op runs on the reduced value (the op is
    nonlinear: thresholding each rank's summand would give a wrong sum); the in-place op, which
    cannot redistribute its target, does what torch.relu_ does (on torch 2.13: refuses)."""
    from torch.distributed.tensor import DTensor, Partial, Replicate

    import torch_ext

    torch.manual_seed(1)
    parts = torch.randn(WORLD_SIZE, 4, 6, dtype=torch.float64)  # rank r holds parts[r]
    total = parts.sum(0)
    expected = torch.where(total > theta, total, torch.zeros_like(total))
    summed_separately = sum(torch.where(p > theta, p, torch.zeros_like(p)) for p in parts)
    assert not torch.equal(expected, summed_separately)  # the inputs tell the two apart

    def partial(t):
        return DTensor.from_local(t.clone(), mesh, [Partial()])

    y = torch_ext.thresholded_relu(partial(parts[rank]), theta)
    # Reduced before the op: DTensor picks the cheaper of an all-reduce to Replicate (what
    # torch.relu gets) and a reduce-scatter to a Shard (what this op gets on 2.13).
    assert not any(p.is_partial() for p in y.placements), y.placements
    assert torch.equal(y.full_tensor(), expected), theta
    result = torch_ext.thresholded_relu(total, theta)
    dx = torch.ops.torch_ext.thresholded_relu_backward(
        partial(parts[rank]), DTensor.from_local(result, mesh, [Replicate()]), theta)
    assert torch.equal(dx.full_tensor(), torch.where(result > theta, total, torch.zeros_like(total)))

    def inplace_outcome(fn):
        target = partial(parts[rank])
        try:
            fn(target)
        except RuntimeError:
            return None
        return target.full_tensor()

    reference = inplace_outcome(torch.relu_)
    ours = inplace_outcome(lambda t: torch_ext.thresholded_relu_(t, theta))
    assert (ours is None) == (reference is None), "refused by one of relu_ and ours only"
    assert ours is None or torch.equal(ours, expected)


def check_ddp(rank: int) -> None:
    import torch_ext

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch_ext.ThresholdedReLU(0.1),
                                torch.nn.Linear(16, 1))
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
    torch.manual_seed(100 + rank)  # different data per rank
    x, target = torch.randn(32, 4), torch.randn(32, 1)
    loss = torch.nn.functional.mse_loss(ddp(x), target)
    opt.zero_grad()
    loss.backward()
    opt.step()
    # After a DDP step the replicas must hold identical parameters.
    for p in model.parameters():
        gathered = [torch.empty_like(p) for _ in range(WORLD_SIZE)]
        dist.all_gather(gathered, p.detach())
        assert torch.equal(gathered[0], gathered[1])
    # ... and the averaged gradient must be the mean of the per-rank gradients.
    torch.manual_seed(0)  # the initial weights again
    local = torch.nn.Sequential(torch.nn.Linear(4, 16), torch_ext.ThresholdedReLU(0.1),
                                torch.nn.Linear(16, 1))
    torch.nn.functional.mse_loss(local(x), target).backward()
    local_grad = local[0].weight.grad.clone()
    dist.all_reduce(local_grad)
    assert torch.allclose(local_grad / WORLD_SIZE, model[0].weight.grad, atol=1e-6)


def run(rank: int, port: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD_SIZE)
    check_dtensor(rank)
    check_ddp(rank)
    dist.barrier()
    dist.destroy_process_group()
    # Leave without interpreter teardown: gloo's background threads have been seen to abort
    # ("terminate called without an active exception") while Python finalizes under load.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    mp.spawn(run, args=(sys.argv[1],), nprocs=WORLD_SIZE, join=True)
    print("distributed checks passed")
