"""The catalog's KERAS_DEFAULTS (keras_defaults.py and any other catalog file) against the real callees: a keyword the generated code
leaves out because it equals the default must equal the callee's actual default
(Keras 3's layers, ops and initializers, and torch2keras's own runtime classes in
emit/runtime/layers.py); otherwise leaving it out would change the value."""

import ast
import importlib.util
import inspect
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402

SOURCE = Path(__file__).resolve().parents[2] / "src" / "torch2keras"


def _defaults():
    """Every catalog file's KERAS_DEFAULTS (the engine reads them all)."""
    defaults = {}
    for path in sorted((SOURCE / "catalog").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id == "KERAS_DEFAULTS"):
                defaults.update(eval(compile(ast.Expression(node.value), path.name, "eval")))  # noqa: S307
    assert "layers.Conv2D" in defaults, "keras_defaults.py has no KERAS_DEFAULTS"
    return defaults


def _runtime():
    spec = importlib.util.spec_from_file_location("t2k_runtime_layers", SOURCE / "emit" / "runtime" / "layers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RUNTIME = _runtime()
DEFAULTS = _defaults()


def _callee(path):
    head, _, rest = path.partition(".")
    if not rest:
        return getattr(RUNTIME, path)
    obj = {"layers": keras.layers, "ops": keras.ops, "keras": keras}[head]
    for part in rest.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("callee", sorted(DEFAULTS))
def test_listed_defaults_are_the_callees_defaults(callee):
    parameters = inspect.signature(_callee(callee)).parameters
    for name, value in DEFAULTS[callee].items():
        assert name in parameters, f"{callee} has no parameter {name!r}"
        default = parameters[name].default
        if name == "data_format" and default is None:
            # keras.json's setting; the generated module documents that it assumes
            # the standard one (pitfall P67).
            default = keras.config.image_data_format()
        if isinstance(default, tuple) and isinstance(value, int) and set(default) == {value}:
            default = value  # Keras reads strides=1 as (1, 1)
        assert default == value, (
            f"{callee}({name}=...) defaults to {default!r}, not {value!r}")
