"""Registrations deferred until the PyTorch subsystem they extend is imported.

Inductor, DTensor and the ONNX exporter each cost more to import than torch_ext itself
(``torch.distributed.tensor`` alone pulls in sympy and symbolic shapes), and most programs use
none of them. :func:`when_imported` runs a registration at once if its module is already
imported, else right after the module's code has run for the first time, through one finder on
``sys.meta_path`` (before any code can use the subsystem, so nothing sees it unregistered).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
import types
from typing import Callable

Registration = Callable[[types.ModuleType], None]

# Module name -> registrations waiting for its first import.
_pending: dict[str, list[Registration]] = {}
_lock = threading.Lock()


class _RunAfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: for a module with pending registrations it lets the regular path
    finder find the module and wraps that spec's loader to run them after the module's code."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in _pending:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_register(module: types.ModuleType) -> None:
            exec_module(module)
            with _lock:
                registrations = _pending.pop(fullname, [])
                if not _pending and self in sys.meta_path:
                    sys.meta_path.remove(self)  # nothing left to wait for
            for register in registrations:
                register(module)

        spec.loader.exec_module = exec_then_register  # this spec's own loader instance
        return spec


_finder = _RunAfterImport()


def when_imported(module_name: str, register: Registration) -> None:
    """Calls ``register(module)`` now if ``module_name`` is imported, else right after its first
    import (the module's code has run; nothing has used it yet). Exceptions from ``register``
    propagate to the import that triggered it."""
    with _lock:
        module = sys.modules.get(module_name)
        if module is None:
            _pending.setdefault(module_name, []).append(register)
            if _finder not in sys.meta_path:
                sys.meta_path.insert(0, _finder)
            return
    register(module)
