"""Reliability: tensors past 2**31 elements, memory (what is saved, what is allocated, no
leaks), many threads at once, determinism, and the bad inputs test_errors.py does not cover
(torch.ops argument types, fake tensors, sparse/quantized through every entry point, in-place
refusals that must leave the data untouched)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import weakref

import pytest
import torch
from torch.profiler import ProfilerActivity, profile

import torch_ext
from conftest import ALL_DTYPES, FLOAT_DTYPES, random_values, reference

OPS = torch.ops.torch_ext
HERE = os.path.dirname(os.path.abspath(__file__))


def _bits(t: torch.Tensor) -> torch.Tensor:
    return t.detach().clone(memory_format=torch.contiguous_format).reshape(-1).view(torch.uint8)


def assert_same_bits(actual: torch.Tensor, expected: torch.Tensor) -> None:
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    assert torch.equal(_bits(actual), _bits(expected)), f"{actual}\nexpected\n{expected}"


def expected_backward(grad: torch.Tensor, x: torch.Tensor, theta: float) -> torch.Tensor:
    x64 = x.detach().double()
    return torch.where((x64 > theta) | torch.isnan(x64), grad, torch.zeros_like(grad))


# =============================================================================================
# Size: more than 2**31 elements


def _mem_available_bytes() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _require_memory(nbytes: int) -> None:
    """Skip (visibly) when the machine cannot hold the tensors; with
    TORCH_EXT_REQUIRE_LARGE_TESTS=1 (CI) a lack of memory is a failure instead."""
    available = _mem_available_bytes()
    if available >= nbytes:
        return
    message = f"needs {nbytes / 2**30:.1f} GiB free, {available / 2**30:.1f} GiB available"
    if os.environ.get("TORCH_EXT_REQUIRE_LARGE_TESTS") == "1":
        pytest.fail(message)
    pytest.skip(message)


LARGE_N = 2**31 + 4099  # past both int32 indexing and 2 GiB of uint8


def _large_marked_input():
    """uint8 tensor of LARGE_N elements, all 50 (below theta) except known positions: the
    first and last 256 elements, 256 around index 2**31, and a random sample, set to 0..255."""
    x = torch.full((LARGE_N,), 50, dtype=torch.uint8)
    gen = torch.Generator().manual_seed(0)
    sample = torch.randint(0, LARGE_N, (4096,), generator=gen)
    positions = torch.cat([torch.arange(256), torch.arange(LARGE_N - 256, LARGE_N),
                           torch.arange(2**31 - 128, 2**31 + 128), sample]).unique()
    values = torch.randint(0, 256, (positions.numel(),), generator=gen).to(torch.uint8)
    values[: 256] = torch.arange(256).to(torch.uint8)  # every value at the front
    x[positions] = values
    return x, positions, values


def _check_large_result(y, positions, values, theta):
    assert y.shape == (LARGE_N,) and y.dtype == torch.uint8
    kept = values.to(torch.int16) > theta
    # the exact set of non-zero positions, over the whole tensor
    assert torch.equal(y.nonzero().flatten(), positions[kept])
    assert torch.equal(y[positions], torch.where(kept, values, torch.zeros_like(values)))
    assert y[-1].item() == (values[-1].item() if values[-1].item() > theta else 0)


def test_more_than_2_pow_31_elements_out_of_place_and_in_place():
    _require_memory(3 * LARGE_N)
    x, positions, values = _large_marked_input()
    theta = 100.5
    y = torch_ext.thresholded_relu(x, theta)
    _check_large_result(y, positions, values, theta)
    assert torch.equal(x[positions], values), "the input changed"
    del y
    torch_ext.thresholded_relu_(x, theta)
    _check_large_result(x, positions, values, theta)


def test_more_than_2_pow_31_elements_strided_path():
    """An expanded input (TensorIterator path, 64-bit offsets) with a 2 GiB output."""
    _require_memory(int(1.5 * LARGE_N))
    row = torch.arange(256, dtype=torch.int16).to(torch.uint8)
    x = row.expand(2**23 + 1, 256)
    assert x.numel() > 2**31
    y = torch_ext.thresholded_relu(x, 200.0)
    assert y.is_contiguous()
    expected_row = torch.where(row > 200, row, torch.zeros_like(row))
    assert torch.equal(y[0], expected_row) and torch.equal(y[-1], expected_row)
    assert torch.equal(y, expected_row.expand_as(y))


# =============================================================================================
# Memory: what autograd keeps, what is allocated, no leaks


def _saved_tensors(fn):
    """Every tensor autograd saves while fn runs (through the saved-tensor hooks, which every
    SavedVariable goes through, C++ nodes included)."""
    saved = []

    def pack(t):
        saved.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return out, saved


def test_forward_saves_exactly_its_output():
    x = torch.randn(1000, requires_grad=True)
    y, saved = _saved_tensors(lambda: torch_ext.thresholded_relu(x, 0.3))
    assert len(saved) == 1
    assert saved[0].data_ptr() == y.data_ptr() and saved[0].shape == y.shape


def test_inplace_saves_exactly_the_overwritten_tensor():
    x = torch.randn(1000, requires_grad=True)
    h = x * 1
    ptr = h.data_ptr()
    out, saved = _saved_tensors(lambda: torch_ext.thresholded_relu_(h, 0.3))
    assert out is h and len(saved) == 1 and saved[0].data_ptr() == ptr


def test_double_backward_saves_only_the_forward_output():
    x = torch.randn(100, dtype=torch.float64, requires_grad=True)
    y = torch_ext.thresholded_relu(x, 0.3)
    g = torch.randn(100, dtype=torch.float64, requires_grad=True)
    dx, saved = _saved_tensors(lambda: torch.autograd.grad(y, x, g, create_graph=True)[0])
    assert len(saved) == 1 and saved[0].data_ptr() == y.data_ptr()


@pytest.mark.parametrize("inplace", [False, True])
def test_graph_has_no_reference_cycle(inplace):
    """With the garbage collector off, dropping the output frees it and its graph at once: a
    cycle through the node (which would hold the output forever from C++) would keep it."""
    x = torch.randn(1000, requires_grad=True)
    gc.collect()
    gc.disable()
    try:
        h = x * 2
        y = torch_ext.thresholded_relu_(h, 0.5) if inplace else torch_ext.thresholded_relu(h, 0.5)
        node = weakref.ref(y.grad_fn) if hasattr(y.grad_fn, "__weakref__") else None
        ref = weakref.ref(y)
        del h, y
        assert ref() is None
        if node is not None:
            assert node() is None
    finally:
        gc.enable()


def test_backward_releases_the_saved_output():
    x = torch.randn(10, requires_grad=True)
    y = torch_ext.thresholded_relu(x * 1, 0.1)
    y.sum().backward()
    # release_variables() ran: a second pass has nothing to read
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


def _allocations(fn):
    """(count, bytes) of every CPU allocation made while fn runs, from the profiler's raw
    memory records (inside operators too); and fn's result."""
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        result = fn()
    records = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    allocs = [e.nbytes() for e in records if e.nbytes() > 0]
    return len(allocs), sum(allocs), result


def test_allocation_counter_sees_allocations_inside_operators():
    """The check below is not vacuous: the portable fallback's in-place path allocates a mask."""
    x = torch.randn(4096)
    fallback = torch._C.DispatchKeySet(torch._C.DispatchKey.CompositeExplicitAutograd)
    count, nbytes, _ = _allocations(
        lambda: OPS.thresholded_relu_.default.redispatch(fallback, x, 0.5))
    assert count >= 1 and nbytes >= 4096  # the bool mask at least
    count, nbytes, _ = _allocations(lambda: torch.relu(x))
    assert (count, nbytes) == (1, 4096 * 4)


def _inplace_layouts(dtype):
    base = random_values((8, 6, 5, 4), dtype)
    return {
        "contiguous": base.clone(),
        "strided view": base.clone()[:, ::2, 1:],
        "transposed": base.clone().transpose(0, 3),
        "channels_last": base.contiguous(memory_format=torch.channels_last),
        "large": random_values((1 << 17,), dtype),
    }


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_inplace_allocates_nothing(dtype):
    for name, x in _inplace_layouts(dtype).items():
        expected = reference(x, 0.5)
        ptr = x.data_ptr()
        for call in (lambda: torch_ext.thresholded_relu_(x, 0.5),
                     lambda: OPS.thresholded_relu_(x, 0.5)):
            count, nbytes, _ = _allocations(call)
            assert (count, nbytes) == (0, 0), f"{name}: {count} allocations, {nbytes} bytes"
        assert x.data_ptr() == ptr
        assert_same_bits(x, expected)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_inplace_under_autograd_allocates_nothing(dtype):
    leaf = random_values((1 << 12,), dtype).requires_grad_()
    h = leaf * 1
    count, nbytes, _ = _allocations(lambda: torch_ext.thresholded_relu_(h, 0.5))
    assert (count, nbytes) == (0, 0)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + [torch.int32])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_forward_and_backward_allocate_only_their_result(dtype, requires_grad):
    n = 1 << 14
    x = random_values((n,), dtype)
    if requires_grad and dtype.is_floating_point:
        x.requires_grad_()
    count, nbytes, y = _allocations(lambda: torch_ext.thresholded_relu(x, 0.5))
    assert (count, nbytes) == (1, n * x.element_size())
    if dtype.is_floating_point:
        g = random_values((n,), dtype)
        count, nbytes, dx = _allocations(
            lambda: OPS.thresholded_relu_backward(g, y.detach(), 0.5))
        assert (count, nbytes) == (1, n * x.element_size())
        assert_same_bits(dx, expected_backward(g, x, 0.5))


def test_repeated_calls_do_not_accumulate_memory():
    """Everything allocated by 200 forward/backward/in-place rounds is freed again."""
    x = torch.randn(4096, requires_grad=True)
    module = torch_ext.ThresholdedReLU(0.2)

    def rounds():
        for i in range(200):
            y = module(x * 1) if i % 2 else torch_ext.thresholded_relu(x * 1, 0.2)
            torch_ext.thresholded_relu_(y.detach().clone(), 0.1)
            (g,) = torch.autograd.grad(y.sum(), x)
            del y, g

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        rounds()
        gc.collect()
    records = [e.nbytes() for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    assert sum(1 for b in records if b > 0) >= 600  # it did measure the rounds
    assert sum(records) == 0, f"{sum(records)} bytes not freed"


# =============================================================================================
# Concurrency and determinism


def _workload(seed: int):
    """One thread's work: (a function running it, its independent expected results)."""
    gen = torch.Generator().manual_seed(seed)
    dtype = ALL_DTYPES[seed % len(ALL_DTYPES)]
    n = [37, 4099, 70_000][seed % 3]  # below and above the parallel grain
    x = random_values((n,), dtype, generator=gen)
    theta = [0.0, 0.5, 2.0, 7.5][seed % 4]
    expected = reference(x, theta)
    g = random_values((n,), dtype, generator=gen) if dtype.is_floating_point else None
    expected_grad = expected_backward(g, x, theta) if g is not None else None
    module = torch_ext.ThresholdedReLU(theta)

    def run():
        outs = {
            "functional": torch_ext.thresholded_relu(x, theta),
            "torch.ops": OPS.thresholded_relu(x, theta),
            "module": module(x),
        }
        z = x.clone()
        torch_ext.thresholded_relu_(z, theta)
        outs["inplace"] = z
        if g is not None:
            leaf = x.clone().requires_grad_()
            (outs["autograd"],) = torch.autograd.grad(torch_ext.thresholded_relu(leaf, theta), leaf, g)
            outs["backward op"] = OPS.thresholded_relu_backward(g, outs["functional"], theta)
        return outs

    return run, expected, expected_grad


def _run_threads(target, n_threads):
    barrier = threading.Barrier(n_threads)
    errors = []

    def wrapped(i):
        try:
            barrier.wait()
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append((i, e))

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise AssertionError(f"{len(errors)} threads failed, first: {errors[0]!r}") from errors[0][1]


def test_many_threads_calling_op_module_inplace_and_backward():
    n_threads, rounds = 16, 8
    work = [_workload(seed) for seed in range(n_threads)]

    def target(i):
        run, expected, expected_grad = work[i]
        for _ in range(rounds):
            outs = run()
            for name in ("functional", "torch.ops", "module", "inplace"):
                assert_same_bits(outs[name], expected)
            if expected_grad is not None:
                assert_same_bits(outs["autograd"], expected_grad)
                assert_same_bits(outs["backward op"], expected_grad)

    _run_threads(target, n_threads)


def test_threads_sharing_one_input_one_module_and_one_graph():
    x = random_values((50_000,), torch.float32).requires_grad_()
    module = torch_ext.ThresholdedReLU(0.7)
    y = module(x * 1)  # one graph, backward from every thread at once
    expected = reference(x, 0.7)
    grads = [random_values((50_000,), torch.float32, generator=torch.Generator().manual_seed(i))
             for i in range(12)]

    def target(i):
        for _ in range(5):
            assert_same_bits(module(x.detach()), expected)
            (dx,) = torch.autograd.grad(y, x, grads[i], retain_graph=True)
            assert_same_bits(dx, expected_backward(grads[i], x, 0.7))

    _run_threads(target, len(grads))


def _python(script: str, env_extra=None) -> str:
    env = dict(os.environ, **(env_extra or {}))
    out = subprocess.run([sys.executable, "-c", script, HERE], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]
    return out.stdout.strip()


def test_first_calls_race_in_a_fresh_process():
    """16 threads make the process's very first calls at once (one-time initialisation of the
    operator handles and per-dtype loops must be thread-safe)."""
    script = (
        "import sys, threading, torch, torch_ext\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from conftest import ALL_DTYPES, random_values, reference\n"
        "inputs = [random_values((5000,), ALL_DTYPES[i % len(ALL_DTYPES)]) for i in range(16)]\n"
        "expected = [reference(x, 0.5) for x in inputs]\n"
        "barrier, bad = threading.Barrier(16), []\n"
        "def work(i):\n"
        "    barrier.wait()\n"
        "    x = inputs[i]\n"
        "    y = torch_ext.thresholded_relu(x, 0.5) if i % 2 else torch.ops.torch_ext.thresholded_relu(x, 0.5)\n"
        "    if not torch.equal(y, expected[i]) and not (y.isnan() == expected[i].isnan()).all():\n"
        "        bad.append(i)\n"
        "ts = [threading.Thread(target=work, args=(i,)) for i in range(16)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n"
        "print('bad', bad)\n"
    )
    assert _python(script) == "bad []"


_DIGEST_SCRIPT = (
    "import hashlib, sys, torch, torch_ext\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "from conftest import ALL_DTYPES, random_values\n"
    "h = hashlib.sha256()\n"
    "for i, dtype in enumerate(ALL_DTYPES):\n"
    "    gen = torch.Generator().manual_seed(i)\n"
    "    x = random_values((3, 70_001), dtype, generator=gen)\n"
    "    for v in (x, x.t()):\n"
    "        y = torch_ext.thresholded_relu(v, 0.5)\n"
    "        h.update(y.contiguous().view(torch.uint8).numpy().tobytes())\n"
    "        if dtype.is_floating_point:\n"
    "            g = random_values(v.shape, dtype, generator=gen)\n"
    "            dx = torch.ops.torch_ext.thresholded_relu_backward(g, y, 0.5)\n"
    "            h.update(dx.contiguous().view(torch.uint8).numpy().tobytes())\n"
    "print(torch.get_num_threads(), h.hexdigest())\n"
)


def test_results_identical_across_processes_and_thread_counts():
    one = _python(_DIGEST_SCRIPT, {"OMP_NUM_THREADS": "1"}).split()
    two = _python(_DIGEST_SCRIPT, {"OMP_NUM_THREADS": "2"}).split()
    again = _python(_DIGEST_SCRIPT, {"OMP_NUM_THREADS": "2"}).split()
    assert one[0] == "1" and two[0] == "2"
    assert one[1] == two[1] == again[1]


def test_runs_under_deterministic_algorithms_mode():
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        x = random_values((1000,), torch.float32).requires_grad_()
        y = torch_ext.thresholded_relu(x, 0.5)
        (dx,) = torch.autograd.grad(y.sum(), x)
        assert_same_bits(y, reference(x, 0.5))
        assert_same_bits(dx, expected_backward(torch.ones(1000), x, 0.5))
    finally:
        torch.use_deterministic_algorithms(previous)


# =============================================================================================
# Bad and unusual inputs not covered by test_errors.py


@pytest.mark.parametrize("theta", [None, "1.0", torch.tensor([1.0, 2.0]), [1.0]])
@pytest.mark.parametrize("op", ["thresholded_relu", "thresholded_relu_"])
def test_torch_ops_refuses_non_number_theta_naming_it(theta, op):
    x = torch.randn(3)
    before = x.clone()
    with pytest.raises(RuntimeError, match="argument 'theta'"):
        getattr(OPS, op)(x, theta)
    assert torch.equal(x, before)


def test_torch_ops_takes_a_zero_dim_tensor_theta_as_its_value():
    """PyTorch's own convention for float arguments of torch.ops: a 0-dim tensor is read as a
    number. It must then behave exactly as that number, checks included."""
    x = random_values((500,), torch.float32)
    assert torch.equal(OPS.thresholded_relu(x, torch.tensor(0.5)), reference(x, 0.5))
    z = x.clone()
    OPS.thresholded_relu_(z, torch.tensor(0.5, dtype=torch.float64))
    assert torch.equal(z, reference(x, 0.5))
    with pytest.raises(ValueError, match="theta=-0.5"):
        OPS.thresholded_relu(x, torch.tensor(-0.5))


@pytest.mark.parametrize("x", [None, [1.0, 2.0], 3.0], ids=["None", "list", "float"])
def test_non_tensor_x_is_refused(x):
    with pytest.raises(TypeError):
        torch_ext.thresholded_relu(x, 1.0)
    with pytest.raises(TypeError):
        torch_ext.thresholded_relu_(x, 1.0)
    with pytest.raises(TypeError):
        torch_ext.ThresholdedReLU()(x)
    if x is not None:
        with pytest.raises(RuntimeError, match="argument 'x'"):
            OPS.thresholded_relu(x, 1.0)


def test_torch_ops_none_tensor_is_an_undefined_tensor_error_naming_it():
    """torch.ops passes None for a Tensor argument as an undefined tensor: every operator
    must refuse it cleanly (not crash), naming the argument."""
    y = torch.ones(3)
    with pytest.raises(ValueError, match="thresholded_relu: x is an undefined tensor"):
        OPS.thresholded_relu(None, 1.0)
    with pytest.raises(ValueError, match="thresholded_relu_: x is an undefined tensor"):
        OPS.thresholded_relu_(None, 1.0)
    with pytest.raises(ValueError, match="grad_output is an undefined tensor"):
        OPS.thresholded_relu_backward(None, y, 1.0)
    with pytest.raises(ValueError, match="result is an undefined tensor"):
        OPS.thresholded_relu_backward(y.requires_grad_(), None, 1.0)


def test_huge_integer_theta():
    x = torch.tensor([1.0, 1e38])
    assert torch.equal(torch_ext.thresholded_relu(x, 10**400), torch.zeros(2))
    with pytest.raises(ValueError, match="theta"):
        torch_ext.thresholded_relu(x, -10**400)


INPLACE_ENTRY_POINTS = {
    "functional": lambda x: torch_ext.thresholded_relu_(x, 5.0),
    "functional inplace=True": lambda x: torch_ext.thresholded_relu(x, 5.0, inplace=True),
    "torch.ops": lambda x: OPS.thresholded_relu_(x, 5.0),
    "module": lambda x: torch_ext.ThresholdedReLU(5.0, inplace=True)(x),
}


@pytest.mark.parametrize("call", INPLACE_ENTRY_POINTS.values(), ids=INPLACE_ENTRY_POINTS.keys())
def test_inplace_refusals_leave_the_data_untouched(call):
    leaf = torch.ones(4, requires_grad=True)
    for target in (leaf, leaf[1:]):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            call(target)
    assert leaf.detach().tolist() == [1.0] * 4 and leaf._version == 0

    base = torch.ones(2)
    expanded = base.unsqueeze(1).expand(2, 3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        call(expanded)
    assert base.tolist() == [1.0, 1.0] and base._version == 0


@pytest.mark.parametrize("size, stride", [((3, 3), (1, 1)), ((3, 3), (0, 1)), ((4,), (0,)),
                                          ((2, 3), (3, 1)), ((3, 2), (1, 3)), ((2, 2), (2, 0))])
def test_inplace_on_overlapping_memory_as_pytorch_does(size, stride):
    """Refused exactly where torch.relu_ refuses the same tensor; where both accept (overlap
    too hard to prove), both run without error."""
    def attempt(fn):
        t = torch.arange(12, dtype=torch.float32).as_strided(size, stride)
        try:
            fn(t)
            return "accepted"
        except RuntimeError as e:
            assert "more than one element of the written-to tensor" in str(e)
            return "refused"

    assert attempt(lambda t: torch_ext.thresholded_relu_(t, 0.5)) == attempt(torch.relu_)


def test_backward_with_broadcastable_but_unequal_shapes_is_refused():
    y = torch.ones(2, 3)
    for g in (torch.ones(1, 3), torch.ones(3), torch.ones(2, 1)):
        with pytest.raises(ValueError, match=r"grad_output has shape .* but result has shape"):
            OPS.thresholded_relu_backward(g, y, 0.5)


def test_backward_accepts_expanded_and_strided_gradients():
    """sum().backward() hands the node an expanded (stride 0) gradient; views must work too."""
    x = random_values((6, 7), torch.float32).requires_grad_()
    y = torch_ext.thresholded_relu(x, 0.5)
    y.sum().backward()
    assert_same_bits(x.grad, expected_backward(torch.ones(6, 7), x, 0.5))
    g = random_values((7, 12), torch.float32).t()[::2]
    assert_same_bits(OPS.thresholded_relu_backward(g, y.detach(), 0.5),
                     expected_backward(g, x, 0.5))
    g0 = torch.tensor(3.0).expand(6, 7)
    assert_same_bits(OPS.thresholded_relu_backward(g0, y.detach(), 0.5),
                     expected_backward(g0, x, 0.5))


SPARSE_AND_QUANTIZED = {
    "sparse_coo": lambda: torch.eye(3).to_sparse(),
    "sparse_csr": lambda: torch.eye(3).to_sparse_csr(),
    "quint8": lambda: torch.quantize_per_tensor(torch.randn(3, 3), 0.1, 10, torch.quint8),
}


@pytest.mark.filterwarnings("ignore:.*quantized tensor creation.*:UserWarning")
@pytest.mark.parametrize("make", SPARSE_AND_QUANTIZED.values(), ids=SPARSE_AND_QUANTIZED.keys())
def test_sparse_and_quantized_refused_by_every_entry_point(make):
    pattern = r"must be a dense \(strided\) tensor|has dtype QUInt8"
    for call in (lambda t: torch_ext.thresholded_relu(t, 0.5),
                 lambda t: OPS.thresholded_relu(t, 0.5),
                 lambda t: torch_ext.thresholded_relu_(t, 0.5),
                 lambda t: OPS.thresholded_relu_(t, 0.5),
                 lambda t: torch_ext.ThresholdedReLU(0.5)(t),
                 lambda t: OPS.thresholded_relu_backward(t, torch.ones(3, 3), 0.5),
                 lambda t: OPS.thresholded_relu_backward(torch.ones(3, 3), t, 0.5)):
        with pytest.raises(TypeError, match=pattern):
            call(make())


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_fake_tensors_give_metadata_and_the_same_errors(dtype):
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        x = torch.empty(2, 3, 4, 5, dtype=dtype).contiguous(memory_format=torch.channels_last)
        for y in (torch_ext.thresholded_relu(x, 0.5), OPS.thresholded_relu(x, 0.5),
                  torch_ext.ThresholdedReLU(0.5)(x)):
            assert (y.shape, y.dtype, y.stride()) == (x.shape, x.dtype, x.stride())
            assert y.device.type == "cpu"
        assert torch_ext.thresholded_relu_(x, 0.5) is x
        if dtype.is_floating_point:
            dx = OPS.thresholded_relu_backward(x, x, 0.5)
            assert (dx.shape, dx.dtype, dx.stride()) == (x.shape, x.dtype, x.stride())
            with pytest.raises(TypeError, match="grad_output has dtype"):
                OPS.thresholded_relu_backward(x.to(torch.int32 if dtype != torch.int32 else torch.int64), x, 0.5)
        with pytest.raises(ValueError, match="theta=-0.5"):
            OPS.thresholded_relu(x, -0.5)
        with pytest.raises(RuntimeError, match="more than one element"):
            OPS.thresholded_relu_(torch.empty(1, dtype=dtype).expand(3), 0.5)
        with pytest.raises(TypeError, match="Bool"):
            OPS.thresholded_relu(torch.empty(3, dtype=torch.bool), 0.5)
