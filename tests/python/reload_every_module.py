"""pytest plugin (``-p reload_every_module``): before any test is collected, imports every module
of the installed torch_ext and reloads each of them, in name order and then in reverse order,
with warnings as errors (PyTorch warns when a kernel is registered over another). With
``TORCH_EXT_RELOAD_AFTER=subsystems`` Inductor, DTensor and the ONNX exporter are imported first,
so that their deferred registrations have run before the reloads; otherwise they are still
pending then. The tests that follow use every route on the reloaded package."""

import importlib
import os
import pkgutil
import sys
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")  # torch_ext.keras runs on Keras' torch backend


def pytest_configure(config):
    import torch_ext

    for module in pkgutil.iter_modules(torch_ext.__path__, "torch_ext."):
        importlib.import_module(module.name)
    if os.environ.get("TORCH_EXT_RELOAD_AFTER") == "subsystems":
        import torch._inductor.decomposition  # noqa: F401
        import torch.distributed.tensor  # noqa: F401
        import torch.onnx  # noqa: F401
    names = sorted(name for name in sys.modules if name.split(".")[0] == "torch_ext")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for order in (names, names[::-1]):
            for name in order:
                importlib.reload(sys.modules[name])
    print(f"reloaded {len(names)} modules twice: {', '.join(names)}")
