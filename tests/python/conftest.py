import os
import tempfile

import pytest
import torch

# Inductor's cache keys ignore a C++ operator's kernels: after a rebuild it could serve a
# stale compiled graph. Give every test session its own cache.
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="torch_ext_inductor_"))

FLOAT_DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
INT_DTYPES = [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64]
ALL_DTYPES = FLOAT_DTYPES + INT_DTYPES

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def reference(x: torch.Tensor, theta: float) -> torch.Tensor:
    """Independent reference: compare in float64, where every tested value of every dtype and
    theta itself are exact, then cast back. NaN stays NaN."""
    x64 = x.detach().to("cpu", torch.float64)
    y64 = torch.where(x64 > theta, x64, torch.zeros_like(x64))
    y64 = torch.where(torch.isnan(x64), x64, y64)
    return y64.to(x.dtype)


def assert_bitwise_equal(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """Equal to the last bit (NaN payloads and the sign of zero included)."""
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    a = actual.detach().cpu().contiguous().view(-1).view(torch.uint8)
    e = expected.detach().cpu().contiguous().view(-1).view(torch.uint8)
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
