"""Reloading (``importlib.reload``, IPython's autoreload) registers nothing twice and drops no
registration: each module of the package is reloaded and then every route of
test_conformance.py, and the nested-tensor tests, run on it (in a fresh process each), with the
PyTorch subsystems that get deferred registrations imported before or after the reloads. And
the registry that makes it so (``_lazy``) runs each registration once."""

import os
import subprocess
import sys
import types

import pytest

from torch_ext import _lazy

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


@pytest.mark.parametrize("reload_after", ["subsystems", "torch_ext only"])
def test_every_route_works_after_every_module_is_reloaded(reload_after):
    env = dict(os.environ, TORCH_EXT_RELOAD_AFTER=reload_after)
    tests = ["test_conformance.py", "test_side_roads.py::test_inplace_on_jagged_nested_tensor_works_as_relu_does",
             "test_side_roads.py::test_gradients_through_jagged_nested_tensors"]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "reload_every_module",
         "-c", os.path.join(ROOT, "pyproject.toml"), "--rootdir", ROOT, "-p", "no:cacheprovider",
         *tests],
        cwd=HERE, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert "reloaded" in run.stdout and "torch_ext._registrations" in run.stdout
    assert " failed" not in run.stdout and " passed" in run.stdout, run.stdout[-2000:]


def _counting(calls):
    def register(*args):
        calls.append(args)
        return object()
    return register


def test_once_runs_a_registration_once_and_keeps_its_result():
    calls = []
    register = _counting(calls)
    register.__qualname__ = "test_once_keeps"
    kept = _lazy.once(register)
    assert _lazy.once(register) is kept and _lazy.result(register) is kept
    assert calls == [()]


def test_a_registration_waits_for_its_module_and_runs_once():
    name = "torch_ext_test_reload_target"
    module_file = os.path.join(HERE, "__pycache__", f"{name}.py")
    calls = []
    register = _counting(calls)
    register.__qualname__ = "test_waits"
    _lazy.when_imported(name, register)
    _lazy.when_imported(name, register)  # the same registration again: still one
    assert calls == []
    os.makedirs(os.path.dirname(module_file), exist_ok=True)
    with open(module_file, "w") as f:
        f.write("VALUE = 1\n")
    sys.path.insert(0, os.path.dirname(module_file))
    try:
        module = __import__(name)
    finally:
        sys.path.remove(os.path.dirname(module_file))
        os.remove(module_file)
    assert [type(args[0]) for args in calls] == [types.ModuleType] and calls[0][0] is module
    _lazy.when_imported(name, register)  # imported and registered: nothing more
    assert len(calls) == 1


def test_a_failed_registration_can_be_tried_again():
    attempts = []

    def register():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("first attempt fails")
        return "ok"

    register.__qualname__ = "test_failed_then_ok"
    with pytest.raises(RuntimeError, match="first attempt"):
        _lazy.once(register)
    assert _lazy.once(register) == "ok" and len(attempts) == 2
