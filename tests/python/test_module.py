"""The ThresholdedReLU module: behaviour, repr, serialization, TorchScript (Keras configs:
test_keras.py)."""

import copy
import io
import math
import pickle

import pytest
import torch

import torch_ext
from torch_ext import ThresholdedReLU


def test_defaults_and_repr():
    m = ThresholdedReLU()
    assert m.theta == 1.0 and m.inplace is False
    assert repr(m) == "ThresholdedReLU(theta=1.0)"
    assert repr(ThresholdedReLU(0.5, inplace=True)) == "ThresholdedReLU(theta=0.5, inplace=True)"
    assert ThresholdedReLU(2).theta == 2.0 and isinstance(ThresholdedReLU(2).theta, float)


def test_forward_matches_functional_and_inplace_returns_input():
    x = torch.randn(4, 5)
    assert torch.equal(ThresholdedReLU(0.3)(x), torch_ext.thresholded_relu(x, 0.3))
    y = x.clone()
    out = ThresholdedReLU(0.3, inplace=True)(y)
    assert out is y
    assert torch.equal(y, torch_ext.thresholded_relu(x, 0.3))


def test_trains_in_a_model():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 16), ThresholdedReLU(0.1), torch.nn.Linear(16, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    x = torch.randn(256, 3)
    target = (x ** 2).sum(1, keepdim=True)
    losses = []
    for _ in range(100):
        loss = torch.nn.functional.mse_loss(model(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_state_dict_is_empty_and_pickle_deepcopy_roundtrip():
    m = ThresholdedReLU(0.75, inplace=True)
    assert m.state_dict() == {}
    for clone in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        assert isinstance(clone, ThresholdedReLU)
        assert (clone.theta, clone.inplace) == (0.75, True)
    buf = io.BytesIO()
    torch.save(torch.nn.Sequential(m), buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    assert loaded[0].theta == 0.75


@pytest.mark.parametrize("bad", [-0.1, math.nan, -math.inf])
def test_bad_theta_value(bad):
    with pytest.raises(ValueError, match="theta"):
        ThresholdedReLU(bad)


@pytest.mark.parametrize("bad", [None, "0.5", torch.tensor(0.5), True, [1.0]])
def test_bad_theta_type(bad):
    with pytest.raises(TypeError, match="theta"):
        ThresholdedReLU(bad)


def test_infinite_theta_is_allowed():
    assert torch.equal(ThresholdedReLU(math.inf)(torch.tensor([1e30, math.inf])), torch.zeros(2))


@pytest.mark.parametrize("inplace", [False, True])
def test_torchscript_script_and_trace(inplace):
    """The scripting branch calls the operator; tracing records it (no Python in the graph)."""
    x = torch.randn(64)
    expected = torch.where(x > 0.3, x, torch.zeros_like(x))
    for convert in (torch.jit.script, lambda m: torch.jit.trace(m, (torch.randn(64),))):
        m = convert(ThresholdedReLU(0.3, inplace=inplace))
        assert "torch_ext::thresholded_relu" in str(m.graph) or "thresholded_relu" in m.code
        y = x.clone()
        out = m(y)
        assert torch.equal(out, expected)
        assert torch.equal(y, expected if inplace else x)
