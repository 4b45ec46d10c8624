"""Keras parity: layer configs in and out, and the results against Keras' formula.

TensorFlow/Keras are not installed here. The configs are written out by hand in the shapes
tf-keras 2.21 and Keras 3 save, and Keras' computation is modelled with numpy as Keras
defines it: ``x * cast(x > float32(theta), float32)``. The measured differences (README,
"Differences from Keras") are asserted one by one.
"""

import json
import math

import numpy as np
import pytest
import torch

import torch_ext
from torch_ext import ThresholdedReLU

# ---- configs as Keras writes them ----

# tf-keras 2.21: ThresholdedReLU(theta=0.3).get_config() (theta stored as float32).
TF_KERAS_LAYER = {"name": "thresholded_re_lu", "trainable": True, "dtype": "float32",
                  "theta": 0.30000001192092896}
# tf-keras model.to_json(): a layer inside a functional model.
TF_KERAS_ENVELOPE = {"class_name": "ThresholdedReLU", "config": TF_KERAS_LAYER,
                     "name": "thresholded_re_lu", "inbound_nodes": [[["dense", 0, 0, {}]]]}
# Keras 3: ReLU(threshold=0.5).get_config(), serialized inside a model.
KERAS3_DTYPE = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                "registered_name": None}
KERAS3_RELU = {"name": "re_lu", "trainable": True, "dtype": KERAS3_DTYPE, "max_value": None,
               "negative_slope": 0.0, "threshold": 0.5}
KERAS3_ENVELOPE = {"module": "keras.layers", "class_name": "ReLU", "config": KERAS3_RELU,
                   "registered_name": None, "build_config": {"input_shape": [None, 4]}}


def keras_thresholded_relu(x: np.ndarray, theta: float) -> np.ndarray:
    """Keras' definition (tf-keras ThresholdedReLU, Keras 3 ReLU with a threshold), float32."""
    x = x.astype(np.float32)
    with np.errstate(invalid="ignore"):
        return x * (x > np.float32(theta)).astype(np.float32)


# ---- from_config ----

@pytest.mark.parametrize("config, theta", [
    (TF_KERAS_LAYER, 0.30000001192092896),
    (TF_KERAS_ENVELOPE, 0.30000001192092896),
    (KERAS3_RELU, 0.5),
    (KERAS3_ENVELOPE, 0.5),
    ({"theta": 1}, 1.0),
    ({"theta": 0.0}, 0.0),
    ({"theta": math.inf}, math.inf),
    ({"class_name": "ReLU", "config": {"threshold": 0, "negative_slope": 0, "max_value": None}}, 0.0),
    ({"theta": 2.0, "batch_input_shape": [None, 3], "autocast": False}, 2.0),
], ids=["tf-keras layer", "tf-keras envelope", "keras3 ReLU", "keras3 envelope", "int theta",
        "zero", "inf", "ReLU zero threshold", "shape keys"])
def test_keras_configs_are_accepted(config, theta):
    before = json.dumps(config, sort_keys=True)
    m = ThresholdedReLU.from_config(config)
    assert isinstance(m, ThresholdedReLU) and m.inplace is False
    assert m.theta == theta and type(m.theta) is float
    assert json.dumps(config, sort_keys=True) == before, "from_config must not modify its input"


@pytest.mark.parametrize("config", [
    {"name": "t"},                                                    # missing theta
    {"theta": -1.0},                                                  # negative
    {"theta": -1e-300},
    {"theta": -math.inf},
    {"theta": math.nan},                                              # Keras accepts it; we refuse
    {"theta": None},                                                  # as Keras
    {"theta": 0.5, "alpha": 2.0},                                     # unknown key
    {"class_name": "LeakyReLU", "config": {"alpha": 0.3}},            # another layer
    {"class_name": "ThresholdedReLU"},                                # envelope without config
    {"class_name": "ReLU", "config": {"threshold": 0.5, "negative_slope": 0.1, "max_value": None}},
    {"class_name": "ReLU", "config": {"threshold": 0.5, "negative_slope": 0.0, "max_value": 6.0}},
    {"class_name": "ReLU", "config": {"threshold": 0.5, "negative_slope": None, "max_value": None}},
    {"class_name": "ReLU", "config": {"negative_slope": 0.0, "max_value": None}},  # no threshold
    {"class_name": "ReLU", "config": {"threshold": -0.5, "negative_slope": 0.0, "max_value": None}},
    {"threshold": math.nan, "negative_slope": 0.0, "max_value": None},
])
def test_invalid_keras_configs_are_refused(config):
    with pytest.raises(ValueError):
        ThresholdedReLU.from_config(config)


@pytest.mark.parametrize("config", [[("theta", 0.5)], "theta=0.5", None])
def test_non_mapping_config_is_type_error(config):
    with pytest.raises(TypeError):
        ThresholdedReLU.from_config(config)


def test_error_messages_name_theta_and_value():
    with pytest.raises(ValueError, match=r"theta.*-2"):
        ThresholdedReLU.from_config({"theta": -2.0})
    with pytest.raises(ValueError, match=r"theta.*nan"):
        ThresholdedReLU.from_config({"theta": math.nan})
    with pytest.raises(ValueError, match="'theta'"):
        ThresholdedReLU.from_config({"name": "x"})


# ---- get_config ----

@pytest.mark.parametrize("theta", [0.3, 1.0, 0.0, 1e-7, 0.30000001192092896, math.inf])
def test_get_config_is_what_keras_accepts(theta):
    config = ThresholdedReLU(theta, inplace=True).get_config()
    # tf-keras ThresholdedReLU.from_config(config) is ThresholdedReLU(**config): only known
    # keyword arguments, a float theta that is not None and not negative.
    assert set(config) == {"theta"}
    assert type(config["theta"]) is float and config["theta"] == theta and config["theta"] >= 0
    # Survives JSON (model.to_json / keras' config serialization), and comes back the same.
    restored = json.loads(json.dumps(config))
    assert restored == config
    assert ThresholdedReLU.from_config(restored).theta == theta


# ---- results against Keras' formula ----

def _finite_inputs():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(10_000).astype(np.float32) * 4
    return np.concatenate([x, np.float32([0.0, 0.3, 0.5, 1.0, 3e38, -3e38, np.inf])])


@pytest.mark.parametrize("theta", [0.0, 0.5, 1.0, 2.75])
def test_same_values_as_keras_where_theta_is_float32(theta):
    x = _finite_inputs()
    ours = torch_ext.thresholded_relu(torch.from_numpy(x), theta).numpy()
    keras = keras_thresholded_relu(x, theta)
    np.testing.assert_array_equal(ours, keras)  # == treats -0.0 and +0.0 alike; see below


def test_keras3_relu_config_computes_the_same_function():
    x = _finite_inputs()
    m = ThresholdedReLU.from_config(KERAS3_ENVELOPE)
    np.testing.assert_array_equal(m(torch.from_numpy(x)).numpy(), keras_thresholded_relu(x, 0.5))


def test_difference_minus_inf():
    x = np.float32([-np.inf])
    assert np.isnan(keras_thresholded_relu(x, 1.0)[0])  # -inf * 0
    assert torch_ext.thresholded_relu(torch.from_numpy(x), 1.0).item() == 0.0


def test_difference_theta_not_a_float32():
    x = np.float32([1.0])
    assert keras_thresholded_relu(x, 0.99999999)[0] == 0.0  # Keras compares with float32(theta) = 1.0
    assert torch_ext.thresholded_relu(torch.from_numpy(x), 0.99999999).item() == 1.0


def test_difference_sign_of_zero_for_negative_x():
    x = np.float32([-2.0])
    assert math.copysign(1.0, keras_thresholded_relu(x, 1.0)[0]) == -1.0  # -2 * 0 = -0.0
    assert math.copysign(1.0, torch_ext.thresholded_relu(torch.from_numpy(x), 1.0).item()) == 1.0


def test_difference_subnormals_kept():
    # TensorFlow's CPU kernels flush subnormals to zero; this library keeps them.
    tiny = torch.tensor([1e-40], dtype=torch.float32)
    assert tiny.item() != 0.0 and abs(tiny.item()) < torch.finfo(torch.float32).tiny
    assert torch.equal(torch_ext.thresholded_relu(tiny, 0.0), tiny)


def test_difference_integer_inputs_supported():
    x = torch.tensor([0, 1, 2, 3], dtype=torch.int32)
    assert torch.equal(torch_ext.thresholded_relu(x, 1.5), torch.tensor([0, 0, 2, 3], dtype=torch.int32))


def test_nan_propagates():
    x = torch.tensor([math.nan, 2.0])
    y = ThresholdedReLU(1.0)(x)
    assert math.isnan(y[0].item()) and y[1].item() == 2.0
