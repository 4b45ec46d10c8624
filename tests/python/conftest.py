import os
import tempfile

import pytest
import torch
from hypothesis import settings

# Inductor's cache keys ignore a C++ operator's kernels: after a rebuild it could serve a
# stale compiled graph. Give every test session its own cache.
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="torch_ext_inductor_"))

# `pytest --hypothesis-profile quick`: a tenth of the examples of each property test
# (test_properties.draws). CI draws them in full once, on its first torch version, and quickly
# on the others, where the same properties run against each torch's build.
settings.register_profile("quick", max_examples=settings.get_profile("default").max_examples // 10)

FLOAT_DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
INT_DTYPES = [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64]
ALL_DTYPES = FLOAT_DTYPES + INT_DTYPES

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def reference(x: torch.Tensor, theta: float) -> torch.Tensor:
    """Independent reference: compare in float64, where every tested value of every dtype and
    theta itself are exact, then cast back. NaN stays NaN."""
    x_cpu = x.detach().cpu()
    x64 = x_cpu.to(torch.float64)
    y = torch.where(x64 > theta, x64, torch.zeros_like(x64)).to(x.dtype)
    # NaN elements come from x itself: a float64 round trip may change their payload.
    return torch.where(torch.isnan(x_cpu), x_cpu, y)


def assert_bitwise_equal(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """Equal to the last bit (NaN payloads and the sign of zero included)."""
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    # clone, not contiguous(): a "contiguous" tensor may still have an odd stride on a size-1 dim
    a = actual.detach().cpu().clone(memory_format=torch.contiguous_format).view(-1).view(torch.uint8)
    e = expected.detach().cpu().clone(memory_format=torch.contiguous_format).view(-1).view(torch.uint8)
    if not torch.equal(a, e):
        diff = (actual.detach().cpu() != expected.detach().cpu()).nonzero()[:5]
        raise AssertionError(f"tensors differ at {diff.tolist()}:\n{actual}\nexpected\n{expected}")


def random_values(shape, dtype, scale=8.0, device="cpu", generator=None):
    x = torch.randn(shape, dtype=torch.float64, generator=generator) * scale
    if not dtype.is_floating_point:
        info = torch.iinfo(dtype)
        x = x.round().clamp(info.min, info.max)
    return x.to(dtype).to(device)


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param
