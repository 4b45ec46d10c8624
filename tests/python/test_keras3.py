"""torch_ext.keras.ThresholdedReLU: a Keras 3 layer on the PyTorch backend.

The references are independent of the operator: float64 math (conftest.reference), the numpy
model of Keras' own formula, and the same model built with Keras 3's
``ReLU(threshold=theta)`` (with theta exact in every dtype used, so that Keras' rounding of
the threshold changes nothing). Keras and h5py are required in CI (``CI`` set) and skipped
elsewhere when missing; Keras runs on its torch backend here and in the subprocesses.
"""

import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

os.environ["KERAS_BACKEND"] = "torch"  # read by Keras' first import; inherited by subprocesses
if os.environ.get("CI"):
    import h5py
    import keras
else:
    h5py = pytest.importorskip("h5py", reason="pip install torch_ext[test]")
    keras = pytest.importorskip("keras", reason="pip install torch_ext[keras]")

import torch_ext.keras
from conftest import assert_bitwise_equal, reference
from test_import import run_fresh

ThresholdedReLU = torch_ext.keras.ThresholdedReLU
THETA = 0.5  # exact in float16, bfloat16 and float32: ReLU(threshold=THETA) rounds nothing
RNG = np.random.default_rng(0)
X = RNG.standard_normal((64, 4)).astype(np.float32)
Y = RNG.standard_normal((64, 1)).astype(np.float32)


def _model(kind, activation, dtype=None):
    def dense(units):
        return keras.layers.Dense(units, dtype=dtype)

    if kind == "sequential":
        return keras.Sequential([keras.Input((4,)), dense(16), activation, dense(1)])
    inputs = keras.Input((4,))
    return keras.Model(inputs, dense(1)(activation(dense(16)(inputs))))


def _ours_and_relu(kind, dtype=None):
    """The same model with this layer and with Keras' ReLU(threshold=THETA), same weights."""
    ours = _model(kind, ThresholdedReLU(THETA, dtype=dtype), dtype)
    relu = _model(kind, keras.layers.ReLU(threshold=THETA, dtype=dtype), dtype)
    relu.set_weights(ours.get_weights())
    return ours, relu


def _train(model, jit_compile):
    """Loss history, evaluation, predictions and final weights of a short fit (compiled: one
    step, since Dynamo recompiles Keras' train step once gradients exist, at seconds a time)."""
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", jit_compile=jit_compile)
    batch_size, epochs = (len(X), 1) if jit_compile else (16, 2)
    history = model.fit(X, Y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0).history["loss"]
    return history, model.evaluate(X, Y, verbose=0), model.predict(X, verbose=0), model.get_weights()


def _assert_same_training(ours, relu, jit_compile=False):
    initial = ours.get_weights()
    (h1, e1, p1, w1), (h2, e2, p2, w2) = _train(ours, jit_compile), _train(relu, jit_compile)
    assert h1 == h2 and e1 == e2 and all(math.isfinite(v) for v in h1), (h1, h2, e1, e2)
    np.testing.assert_array_equal(p1, p2)
    for a, b, before in zip(w1, w2, initial):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, before), "training changed no weight"


# ---- import and global state ----

def test_torch_ext_alone_imports_no_keras_and_keras_changes_no_torch_state():
    out = run_fresh("""
        import sys, torch, torch_ext
        assert not [m for m in sys.modules if m.split(".")[0] in ("keras", "h5py")]
        def state():
            return (torch.get_default_dtype(), str(torch.get_default_device()),
                    torch.is_grad_enabled(), torch.get_num_threads(),
                    torch.are_deterministic_algorithms_enabled(), torch.is_inference_mode_enabled())
        before = state()
        import numpy as np, keras, torch_ext.keras
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4),
                                  torch_ext.keras.ThresholdedReLU(0.5), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        model.fit(np.ones((8, 3)), np.ones((8, 1)), verbose=0)
        assert state() == before, (state(), before)
        print(keras.backend.backend(), keras.saving.get_registered_name(torch_ext.keras.ThresholdedReLU))
    """)
    assert out.split() == ["torch", "torch_ext>ThresholdedReLU"], out


# ---- construction, config, weights, shapes ----

def test_construction_and_keras_arguments():
    assert ThresholdedReLU().theta == 1.0
    layer = ThresholdedReLU(2, name="act", dtype="float64", trainable=False)
    assert type(layer.theta) is float and layer.theta == 2.0
    assert (layer.name, layer.dtype, layer.trainable) == ("act", "float64", False)
    assert ThresholdedReLU(math.inf).theta == math.inf
    assert isinstance(layer, keras.layers.Layer)


@pytest.mark.parametrize("theta", [-1.0, -1e-300, -math.inf, math.nan, None, "0.5", True, [1.0]])
def test_invalid_theta_is_a_value_error_naming_theta_and_value(theta):
    with pytest.raises(ValueError) as error:
        ThresholdedReLU(theta)
    assert "theta" in str(error.value) and str(theta) in str(error.value), str(error.value)


def test_other_backend_is_refused_with_the_way_out(monkeypatch):
    # Every other Keras backend needs jax or TensorFlow (numpy's too), which are not installed
    # here; the layer asks keras.backend.backend(), as a process on another backend answers.
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(RuntimeError, match=r"'jax'.*KERAS_BACKEND=torch.*ReLU\(threshold=theta\)"):
        ThresholdedReLU(THETA)


def test_config_round_trips():
    layer = ThresholdedReLU(0.3, name="act", dtype="bfloat16", trainable=False)
    config = layer.get_config()
    assert config["theta"] == 0.3 and config["name"] == "act" and config["trainable"] is False
    for restored in (ThresholdedReLU.from_config(json.loads(json.dumps(config))),
                     keras.layers.deserialize(keras.layers.serialize(layer))):
        assert type(restored) is ThresholdedReLU and restored.get_config() == config
    assert keras.layers.serialize(layer)["registered_name"] == "torch_ext>ThresholdedReLU"


def test_no_weights_and_shape_kept():
    layer = ThresholdedReLU(THETA)
    assert layer.built and layer.count_params() == 0 and layer.get_weights() == [] and layer.weights == []
    assert layer.compute_output_shape((None, 3, 5)) == (None, 3, 5)
    assert tuple(layer(keras.Input((3, 5))).shape) == (None, 3, 5)


# ---- values ----

SPECIAL = [0.0, -0.0, THETA, 0.3, 0.30000001192092896, 1.0, -1.0, math.inf, -math.inf, math.nan, 1e-40]


@pytest.mark.parametrize("policy, dtype", [
    ("float32", torch.float32), ("float64", torch.float64), ("float16", torch.float16),
    ("bfloat16", torch.bfloat16), ("mixed_bfloat16", torch.bfloat16), ("mixed_float16", torch.float16),
    ("float32", torch.int32)])
@pytest.mark.parametrize("theta", [0.0, 0.3, THETA])
def test_outputs_match_float64_math(policy, dtype, theta):
    """Float inputs are cast to the policy's compute dtype (integers are left alone)."""
    x = torch.cat([torch.randn(200, dtype=torch.float64) * 2, torch.tensor(SPECIAL, dtype=torch.float64)])
    x = x.to(torch.float32) if dtype.is_floating_point else x[x.isfinite()].round().to(dtype)
    expected = reference(x.to(dtype), theta)
    assert_bitwise_equal(ThresholdedReLU(theta, dtype=policy)(x).cpu(), expected)


# ---- models: fit, evaluate, predict, gradients ----

@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_training_equals_relu_threshold_model(kind):
    _assert_same_training(*_ours_and_relu(kind))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_training_under_mixed_precision_equals_relu_threshold_model(policy):
    ours, relu = _ours_and_relu("functional", dtype=policy)
    assert ours.layers[2].compute_dtype == policy.split("_")[1]
    _assert_same_training(ours, relu)


def test_training_with_jit_compile_equals_relu_threshold_model():
    """model.compile(jit_compile=True) runs the steps under torch.compile (where Keras' own
    train step breaks the graph): the layer's composite and ReLU's where() give the same bits.
    The model's forward pass, layer included, is traced as one graph (Dynamo alone: Inductor
    would add seconds and nothing to that check)."""
    ours, relu = _ours_and_relu("functional")
    x = torch.from_numpy(X)
    with torch.no_grad():
        assert_bitwise_equal(torch.compile(ours, fullgraph=True, backend="eager")(x), ours(x))
    _assert_same_training(ours, relu, jit_compile=True)


def test_gradients_equal_those_of_relu_threshold_model():
    ours, relu = _ours_and_relu("sequential")
    upstream = torch.from_numpy(RNG.standard_normal((64, 1)).astype(np.float32))
    grads = []
    for model in (ours, relu):
        x = torch.from_numpy(X).requires_grad_()
        out = model(x)
        out.backward(upstream.to(out.device))
        grads.append([x.grad] + [w.value.grad for w in model.trainable_weights])
    assert all(g is not None and g.abs().sum() > 0 for g in grads[0])
    for a, b in zip(*grads):
        assert_bitwise_equal(a, b)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_layer_gradient_equals_native_threshold_on_a_view(dtype):
    """The layer alone on a non-contiguous view, against F.threshold on the same graph."""
    base = (torch.randn(6, 40, dtype=torch.float64) * 2).to(dtype)
    base[0, :4] = torch.tensor([THETA, -0.0, math.nan, math.inf], dtype=dtype)
    upstream = torch.linspace(-1, 1, base.numel(), dtype=dtype).reshape(40, 6)
    results = []
    for fn in (ThresholdedReLU(THETA, dtype=str(dtype).split(".")[1]),
               lambda t: torch.nn.functional.threshold(t, THETA, 0.0)):
        leaf = base.clone().requires_grad_()
        view = (leaf * 1).t()  # a non-leaf, non-contiguous view
        out = fn(view)
        (grad,) = torch.autograd.grad(out, leaf, upstream)
        results.append((out.detach(), grad))
    for ours, native in zip(*results):
        assert_bitwise_equal(ours, native)
    assert results[0][1].abs().sum() > 0


# ---- saving and loading ----

def test_keras_file_loads_in_a_fresh_process_without_custom_objects(tmp_path):
    model = _model("functional", ThresholdedReLU(0.3))
    model.save(tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", X)
    out = run_fresh(f"""
        import numpy as np, keras
        try:
            keras.models.load_model({str(tmp_path / "m.keras")!r})
            raise AssertionError("loaded before torch_ext.keras was imported")
        except TypeError as error:
            assert "ThresholdedReLU" in str(error), error
        import torch_ext.keras
        model = keras.models.load_model({str(tmp_path / "m.keras")!r})
        layer = model.layers[2]
        assert type(layer) is torch_ext.keras.ThresholdedReLU and layer.theta == 0.3, layer
        np.save({str(tmp_path / "y.npy")!r}, model.predict(np.load({str(tmp_path / "x.npy")!r}), verbose=0))
        print("loaded")
    """)
    assert out.strip() == "loaded", out
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), model.predict(X, verbose=0))


TF_KERAS_THETA = 0.30000001192092896  # tf-keras stores float32(0.3)


def _write_tf_keras_h5(path, kernels, biases):
    """The file tf-keras 2.21 writes for ``model.save("m.h5")`` of
    Sequential([Input((4,)), Dense(16), ThresholdedReLU(theta=0.3), Dense(1)]): its legacy
    model_config JSON (no "module" keys) and weights laid out as its hdf5_format does."""
    def dense(name, units):
        return {"class_name": "Dense", "config": {
            "name": name, "trainable": True, "dtype": "float32", "units": units,
            "activation": "linear", "use_bias": True,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None}}

    layers = [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32",
                                                "sparse": False, "ragged": False, "name": "input_1"}},
        dense("dense", 16),
        {"class_name": "ThresholdedReLU", "config": {"name": "thresholded_re_lu", "trainable": True,
                                                     "dtype": "float32", "theta": TF_KERAS_THETA}},
        dense("dense_1", 1)]
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}
    weights = {"dense": [kernels[0], biases[0]], "thresholded_re_lu": [], "dense_1": [kernels[1], biases[1]]}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"], f.attrs["backend"] = "2.21.0", "tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [name.encode("utf8") for name in weights]
        group.attrs["backend"], group.attrs["keras_version"] = b"tensorflow", b"2.21.0"
        for name in sorted(weights):
            layer_group = group.create_group(name)
            names = [f"{name}/{w}:0" for w in ("kernel", "bias")][:len(weights[name])]
            layer_group.attrs["weight_names"] = [n.encode("utf8") for n in names]
            for n, value in zip(names, weights[name]):
                layer_group.create_dataset(n, data=value)
        group.create_group("top_level_model_weights").attrs["weight_names"] = np.array([], "S1")


def test_tf_keras_h5_with_thresholded_relu_loads(tmp_path, monkeypatch):
    kernels = [RNG.standard_normal((4, 16)).astype(np.float32), RNG.standard_normal((16, 1)).astype(np.float32)]
    biases = [RNG.standard_normal(16).astype(np.float32), RNG.standard_normal(1).astype(np.float32)]
    path = tmp_path / "m.h5"
    _write_tf_keras_h5(path, kernels, biases)
    hidden = X @ kernels[0] + biases[0]
    with np.errstate(invalid="ignore"):
        seed_layer = hidden * (hidden > np.float32(TF_KERAS_THETA)).astype(np.float32)  # tf-keras' call()

    def check(model):
        assert [type(layer).__name__ for layer in model.layers] == ["Dense", "ThresholdedReLU", "Dense"]
        layer = model.layers[1]
        assert type(layer) is ThresholdedReLU and layer.theta == TF_KERAS_THETA
        assert (layer.name, layer.dtype, layer.trainable) == ("thresholded_re_lu", "float32", True)
        # the same values as tf-keras (== equates its -0.0 for negative inputs with our +0.0)
        np.testing.assert_array_equal(layer(torch.from_numpy(hidden)).cpu().numpy(), seed_layer)
        np.testing.assert_allclose(model.predict(X, verbose=0), seed_layer @ kernels[1] + biases[1],
                                   rtol=1e-5, atol=1e-5)

    # Without the bare-name entry that the import adds, Keras 3 knows no "ThresholdedReLU"...
    monkeypatch.delitem(keras.saving.get_custom_objects(), "ThresholdedReLU")
    with pytest.raises(ValueError, match="Unknown layer: 'ThresholdedReLU'"):
        keras.models.load_model(path, compile=False)
    check(keras.models.load_model(path, compile=False, custom_objects={"ThresholdedReLU": ThresholdedReLU}))
    monkeypatch.undo()
    # ... and with it no custom_objects are needed.
    check(keras.models.load_model(path, compile=False))
