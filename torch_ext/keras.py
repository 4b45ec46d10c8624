"""Keras 3 layer ``ThresholdedReLU`` for the PyTorch backend, computed by torch_ext's operator.

``import torch_ext.keras`` imports Keras (``import torch_ext`` does not) and registers the
layer for Keras' model loading: ``.keras`` files that hold it, and tf-keras ``.h5`` files whose
layers are Keras' own ``ThresholdedReLU`` (class name ``"ThresholdedReLU"``, which Keras 3
dropped), load without ``custom_objects``. Install with ``pip install torch_ext[keras]``.
"""

from __future__ import annotations

from typing import Any

import keras

from ._functional import _checked_theta, thresholded_relu

__all__ = ["ThresholdedReLU"]

_NAME = "ThresholdedReLU"


@keras.saving.register_keras_serializable(package="torch_ext", name=_NAME)
class ThresholdedReLU(keras.layers.Layer):
    """Thresholded Rectified Linear Unit: ``f(x) = x`` for ``x > theta``, ``0`` otherwise.

    The rule, ``theta`` and the config are those of the layer documented by Keras 2
    (``keras.layers.ThresholdedReLU``, "Float >= 0. Threshold location of activation."),
    computed by ``torch_ext.thresholded_relu``: the comparison is exact (theta is not rounded
    to float32) and NaN propagates; docs/keras.md lists where the results differ from Keras'.
    Keras 3 computes the same function with ``keras.layers.ReLU(threshold=theta)``.

    Args:
        theta: threshold, a real number >= 0 (``+inf`` allowed). Default 1.0.
        **kwargs: Keras layer arguments (``name``, ``dtype``, ``trainable``, ...).

    Shape: any; the output has the input's shape. No weights.

    Dtypes: float16, bfloat16, float32, float64 (also with a mixed-precision policy, whose
    compute dtype the input is cast to), and integer inputs (forward only).

    Raises:
        ValueError: theta is negative, NaN, ``None`` or not a real number (the message
            names theta and the value).
        RuntimeError: Keras runs on a backend other than ``"torch"`` (``KERAS_BACKEND``).
    """

    def __init__(self, theta: float = 1.0, **kwargs: Any) -> None:
        backend = keras.backend.backend()
        if backend != "torch":
            raise RuntimeError(
                f"torch_ext.keras.ThresholdedReLU needs Keras' PyTorch backend, but Keras runs "
                f"on {backend!r}: set KERAS_BACKEND=torch before importing keras, or use "
                "keras.layers.ReLU(threshold=theta), which computes the same function on every "
                "backend."
            )
        try:
            theta = _checked_theta(theta, _NAME)
        except TypeError as error:  # Keras layers refuse bad arguments with ValueError
            raise ValueError(str(error)) from None
        super().__init__(**kwargs)
        self.theta = theta
        self.supports_masking = True
        self._build_at_init()  # stateless: built at once, as Keras' own ReLU

    def call(self, inputs):
        return thresholded_relu(inputs, self.theta)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "theta": self.theta}


# Keras 3 looks a legacy (.h5) layer up by its bare class name, in the global custom objects
# (registered ones are keyed "package>name") and in keras.layers, which has no ThresholdedReLU.
# A class registered there under that name by someone else is left alone; ours is replaced
# (importlib.reload makes a new class).
_custom_objects = keras.saving.get_custom_objects()
if getattr(_custom_objects.get(_NAME), "__module__", __name__) == __name__:
    _custom_objects[_NAME] = ThresholdedReLU
