"""The ``ThresholdedReLU`` module, with Keras-style ``get_config`` / ``from_config``."""

from __future__ import annotations

from typing import Any, Mapping

import torch

from . import _onnx
from ._functional import _checked_theta, _is_in_onnx_export, thresholded_relu

# Keras layer-config keys that have no meaning for a PyTorch module.
_IGNORED_KERAS_KEYS = frozenset(
    {"name", "trainable", "dtype", "batch_input_shape", "batch_shape", "input_shape", "autocast"}
)
_KERAS_CLASS_NAMES = frozenset({"ThresholdedReLU", "ReLU"})


class ThresholdedReLU(torch.nn.Module):
    """Applies ``x`` where ``x > theta``, else 0, element-wise (Keras' ``ThresholdedReLU``).

    Args:
        theta: threshold, a real number >= 0 (``+inf`` allowed). Default 1.0.
        inplace: overwrite the input instead of allocating the output. Default False.

    Raises:
        ValueError: theta is negative or NaN.
        TypeError: theta is not a real number.

    Shape: any; the output has the input's shape, dtype, device and memory layout.

    Export: TorchScript (``torch.jit.script``/``trace``), ``torch.export``, and
    ``torch.onnx.export`` (a standard ONNX ``ThresholdedRelu`` node; see ``torch_ext._onnx``).

    Example::

        >>> act = ThresholdedReLU(theta=0.5)
        >>> act(torch.tensor([0.2, 0.5, 0.7]))
        tensor([0.0000, 0.0000, 0.7000])
        >>> ThresholdedReLU.from_config({"name": "thresholded_re_lu", "theta": 0.5})
        ThresholdedReLU(theta=0.5)
    """

    __constants__ = ["theta", "inplace"]
    theta: float
    inplace: bool

    def __init__(self, theta: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.theta = _checked_theta(theta, "ThresholdedReLU")
        self.inplace = bool(inplace)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Returns ``x`` where ``x > theta``, else 0 (``x`` itself, overwritten, if inplace)."""
        if torch.jit.is_scripting():
            if self.inplace:
                torch.ops.torch_ext.thresholded_relu_(x, self.theta)
                return x
            return torch.ops.torch_ext.thresholded_relu(x, self.theta)
        if _is_in_onnx_export():
            return self._forward_for_onnx(x)
        return thresholded_relu(x, self.theta, self.inplace)

    @torch.jit.unused
    def _forward_for_onnx(self, x: torch.Tensor) -> torch.Tensor:
        # torch.onnx.export: a standard ONNX ThresholdedRelu node (dynamo=True) or the operator,
        # which the legacy exporter translates with the symbolic registered in _onnx. ONNX
        # graphs are functional: the in-place form becomes an out-of-place op and a copy.
        if _onnx.in_dynamo_onnx_export():
            y = _onnx.thresholded_relu_for_export(x, self.theta)
        else:
            y = torch.ops.torch_ext.thresholded_relu(x, self.theta)
        return _onnx.write_back_for_export(x, y) if self.inplace else y

    def extra_repr(self) -> str:
        """``theta=...`` and, when set, ``inplace=True`` (shown by ``repr``)."""
        return f"theta={self.theta}" + (", inplace=True" if self.inplace else "")

    def get_config(self) -> dict[str, Any]:
        """A Keras ``ThresholdedReLU`` layer config for this module: ``{"theta": theta}``.

        tf-keras accepts it in ``ThresholdedReLU.from_config`` (which calls
        ``ThresholdedReLU(**config)``); Keras itself stores theta rounded to float32, this
        config holds the exact value. The module's ``inplace`` flag has no Keras counterpart
        and is not part of the config. Keras 3 has no ``ThresholdedReLU``: there the same
        function is ``ReLU(threshold=theta, negative_slope=0.0, max_value=None)``.
        """
        return {"theta": float(self.theta)}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "ThresholdedReLU":
        """Builds the module from a Keras layer config.

        Accepts a ``ThresholdedReLU`` config (``{"theta": 0.5, "name": ..., ...}``), the
        ``{"class_name": ..., "config": {...}}`` envelope of a saved model, and a Keras 3
        ``ReLU`` config that computes the same function (``threshold`` with
        ``negative_slope=0`` and ``max_value=None``). Keys with no meaning in PyTorch (name,
        trainable, dtype, input shapes) are ignored.

        Raises:
            ValueError: theta is missing, negative or NaN, or the config describes another
                function (an unknown key, another class, a ReLU with a slope or a cap).
            TypeError: the config is not a mapping, or theta is not a real number.
        """
        if not isinstance(config, Mapping):
            raise TypeError(f"from_config: expected a dict, got {type(config).__name__}")
        if "class_name" in config:
            class_name = config["class_name"]
            if class_name not in _KERAS_CLASS_NAMES:
                raise ValueError(
                    f"from_config: expected a ThresholdedReLU or ReLU layer, got class_name={class_name!r}"
                )
            inner = config.get("config")
            if not isinstance(inner, Mapping):
                raise ValueError("from_config: the envelope has no 'config' dict")
            return cls._from_layer_config(dict(inner), is_relu=class_name == "ReLU")
        return cls._from_layer_config(dict(config), is_relu="threshold" in config)

    @classmethod
    def _from_layer_config(cls, config: dict[str, Any], is_relu: bool) -> "ThresholdedReLU":
        theta_key = "threshold" if is_relu else "theta"
        if is_relu:
            slope = config.pop("negative_slope", 0.0)
            cap = config.pop("max_value", None)
            if isinstance(slope, bool) or not isinstance(slope, (int, float)) or slope != 0 or cap is not None:
                raise ValueError(
                    "from_config: a Keras ReLU is a ThresholdedReLU only with negative_slope=0 "
                    f"and max_value=None, got negative_slope={slope!r}, max_value={cap!r}"
                )
        if theta_key not in config:
            raise ValueError(f"from_config: the config has no {theta_key!r}: {config!r}")
        theta = config.pop(theta_key)
        unknown = set(config) - _IGNORED_KERAS_KEYS
        if unknown:
            raise ValueError(f"from_config: unknown keys {sorted(unknown)} in the config")
        if theta is None:
            raise ValueError("from_config: theta must be a non-negative number, got theta=None")
        return cls(theta)
