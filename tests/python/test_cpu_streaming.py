"""The CPU kernels write outputs larger than the last-level cache, when their pages are already
mapped, with streaming stores through a small buffer, and regular stores for each chunk's
unaligned head and its tail. TORCH_EXT_CPU_STREAM_MIN_BYTES=0 lowers the size limit to
nothing and glibc's MALLOC_* settings make freed memory stay mapped, so that the second call
of each pair below streams; checked for each CPU capability, dtype, and chunk alignment (two
threads split the range at odd offsets)."""

import os
import subprocess
import sys

import pytest

SCRIPT = """
import sys, torch, torch_ext
sys.path.insert(0, sys.argv[1])
from conftest import ALL_DTYPES, random_values, reference, assert_bitwise_equal
torch.set_num_threads(2)
if torch.backends.cpu.get_cpu_capability() != sys.argv[2]:
    sys.exit(print("unsupported"))  # ATen falls back to what this CPU has
for n in (1, 15, 4096 + 3, 100_003, 300_007):
    for dtype in ALL_DTYPES:
        x = random_values((n,), dtype)
        for _ in range(2):  # the first call may get fresh pages, the second reuses them
            y = torch_ext.thresholded_relu(x, 0.7)
            assert_bitwise_equal(y, reference(x, 0.7))
            assert_bitwise_equal(torch_ext.thresholded_relu(x[1:], 0.7), reference(x[1:], 0.7))
            if dtype.is_floating_point:
                g = random_values((n,), dtype)
                dx = torch.ops.torch_ext.thresholded_relu_backward(g, y, 0.7)
                assert_bitwise_equal(dx, torch.where(reference(x, 0.7) != 0, g, torch.zeros_like(g)))
print("ok")
"""


@pytest.mark.parametrize("capability", ["DEFAULT", "AVX2", "AVX512"])
def test_streaming_stores_each_capability(capability):
    env = dict(os.environ, ATEN_CPU_CAPABILITY=capability.lower(), TORCH_EXT_CPU_STREAM_MIN_BYTES="0",
               MALLOC_MMAP_THRESHOLD_="4294967296", MALLOC_TRIM_THRESHOLD_="4294967296")
    out = subprocess.run([sys.executable, "-c", SCRIPT, os.path.dirname(__file__), capability],
                         env=env, capture_output=True, text=True, timeout=300)
    if out.stdout.strip() == "unsupported":
        pytest.skip(f"this CPU lacks {capability}")
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
