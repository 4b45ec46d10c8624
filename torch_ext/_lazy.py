"""The process-wide record of torch_ext's registrations with PyTorch, each run once per process.

Registering twice fails or warns in PyTorch (a second ``__torch_dispatch__`` rule raises, a
second vmap rule warns that it overrides the first), and a registration made through a
``torch.library.Library`` lasts only as long as that object. Re-running a module's code, as
``importlib.reload`` or IPython's autoreload does, must therefore not register anything again
nor drop the objects that keep registrations alive. Every registration goes through :func:`once`
or :func:`when_imported`, keyed by the registering function's qualified name; this module's
state survives its own reload.

:func:`when_imported` defers a registration until the PyTorch subsystem it extends is imported.
Inductor, DTensor and the ONNX exporter each cost more to import than torch_ext itself
(``torch.distributed.tensor`` alone pulls in sympy and symbolic shapes), and most programs use
none of them. The registration runs at once if its module is already imported, else right after
the module's code has run for the first time, through one finder on ``sys.meta_path`` (before
any code can use the subsystem, so nothing sees it unregistered).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
import types
from typing import Any, Callable

# importlib.reload runs this code again in the same namespace: keep what is there.
# Registration key -> what the registration returned (kept alive: Library objects).
_done: dict[str, Any] = globals().get("_done", {})
# Module name -> registrations (by key) waiting for its first import.
_pending: dict[str, dict[str, Callable[[types.ModuleType], Any]]] = globals().get("_pending", {})
_lock: threading.Lock = globals().get("_lock") or threading.Lock()


def _key(register: Callable[..., Any]) -> str:
    return f"{register.__module__}.{register.__qualname__}"


def _run(key: str, register: Callable[..., Any], *args: Any) -> None:
    """Runs a registration claimed under the lock (its key in _done), outside the lock: it may
    import modules whose own registrations take the lock. A failed one may be tried again."""
    try:
        _done[key] = register(*args)
    except BaseException:
        _done.pop(key, None)
        raise


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
                registrations = _pending.pop(fullname, {})
                _done.update(dict.fromkeys(registrations))  # claimed
                if not _pending and self in sys.meta_path:
                    sys.meta_path.remove(self)  # nothing left to wait for
            for key, register in registrations.items():
                _run(key, register, module)

        spec.loader.exec_module = exec_then_register  # this spec's own loader instance
        return spec


_finder: _RunAfterImport = globals().get("_finder") or _RunAfterImport()


def once(register: Callable[[], Any]) -> Any:
    """Calls ``register()`` unless a function of the same qualified name has run already, and
    keeps what it returned (e.g. a ``torch.library.Library``) alive for the whole process.
    Returns that object."""
    key = _key(register)
    with _lock:
        claimed = key not in _done
        if claimed:
            _done[key] = None
    if claimed:
        _run(key, register)
    return _done[key]


def when_imported(module_name: str, register: Callable[[types.ModuleType], Any]) -> None:
    """Calls ``register(module)`` now if ``module_name`` is imported, else right after its first
    import (the module's code has run; nothing has used it yet); never twice for one qualified
    name. Exceptions from ``register`` propagate to the import that triggered it."""
    key = _key(register)
    with _lock:
        if key in _done or any(key in waiting for waiting in _pending.values()):
            return
        module = sys.modules.get(module_name)
        if module is None:
            _pending.setdefault(module_name, {})[key] = register
            if _finder not in sys.meta_path:
                sys.meta_path.insert(0, _finder)
            return
        _done[key] = None  # claimed
    _run(key, register, module)


def result(register: Callable[..., Any]) -> Any:
    """What ``register`` returned when it ran (None if it has not run yet)."""
    return _done.get(_key(register))
