"""Equivalence checks: PyTorch source -> torch2keras -> Keras, same numbers.

`check(source, expr, shapes)` imports `source` with real torch, converts it with
the engine, imports the generated module with real Keras (TensorFlow backend),
randomises every parameter and buffer of the torch model (BatchNorm statistics
included), loads the state_dict with the generated `load_torch_state_dict`, and
compares outputs on seeded random inputs, eagerly and inside `tf.function`, at
|diff| <= 1e-4 + 1e-4*|ref|. It returns the max abs error and fails the test
otherwise. Nothing is mocked and no expected array is written by hand.
"""

from __future__ import annotations

import os
import re
import sys
import types

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402

import torch2keras  # noqa: E402

ATOL = RTOL = 1e-4


def randomize(model: torch.nn.Module, seed: int = 0) -> None:
    """Every float parameter and persistent buffer gets random values (running_var
    > 0). Non-persistent buffers are not in the state_dict, so the converted model
    cannot receive them: they keep the values their constructor gives."""
    rng = np.random.default_rng(seed)
    persistent = set(model.state_dict().keys())
    with torch.no_grad():
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if not t.dtype.is_floating_point or name not in persistent:
                continue
            if name.endswith("running_var"):
                v = rng.uniform(0.5, 1.5, t.shape)
            elif name.endswith("running_mean"):
                v = rng.normal(0, 0.1, t.shape)
            else:
                fan_in = int(np.prod(t.shape[1:])) if t.dim() >= 2 else 1
                v = rng.normal(0, min(0.5, 1 / np.sqrt(max(fan_in, 1))), t.shape)
            t.copy_(torch.from_numpy(np.asarray(v, dtype=np.float32)))


def load_module(code: str, name: str) -> types.ModuleType:
    """Runs `code` as module `name`, registered in sys.modules (dataclasses look
    their module up there); a later load under the same name replaces it."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(code, f"<{name}>", "exec"), module.__dict__)
    return module


def convert(source: str, layout: str, io_layout: str = "torch") -> str:
    result = torch2keras.convert(source, filename="model.py", layout=layout, io_layout=io_layout)
    errors = [d.rendered for d in result.diagnostics if d.severity == "error"]
    assert result.ok, "conversion failed:\n" + "\n".join(errors)
    return result.code


def assert_conversion_error(source: str, message: str) -> None:
    """Asserts that converting `source` fails with a diagnostic containing `message`."""
    result = torch2keras.convert(source, filename="model.py")
    assert not result.ok
    assert any(message in d.message for d in result.diagnostics), [d.message for d in result.diagnostics]


def converted_function(code: str, name: str) -> str:
    """The source of the function `name` in the converted `code` (a module-level
    one first), line wrapping undone (flat)."""
    start = code.index(f"\ndef {name}(") + 1 if f"\ndef {name}(" in code else code.index(f"def {name}(")
    return flat(code[start:code.index("\n\n\n", start)])


def same_noise(monkeypatch, noise) -> "keras.Variable":
    """Makes torch.randn and keras.random.normal give the arrays of `noise` in
    turn, one a call, whatever shape they are asked for. The Keras side reads
    them from variables, so that a compiled train_step, traced once, draws the
    next one at each run. Returns the Keras count of draws."""
    import keras

    torch_noise = iter(noise)
    monkeypatch.setattr(torch, "randn", lambda *size, **kwargs: torch.from_numpy(next(torch_noise)))
    bank = keras.Variable(np.stack(noise), trainable=False)
    drawn = keras.Variable(0, dtype="int32", trainable=False)

    def normal(shape, **kwargs):
        value = keras.ops.take(bank, drawn, axis=0)
        drawn.assign_add(1)
        return value

    monkeypatch.setattr(keras.random, "normal", normal)
    return drawn


def flat(code: str) -> str:
    """`code` with line wrapping undone (whitespace runs as one space, none inside
    brackets, no magic trailing commas): for asserting on generated text."""
    text = " ".join(code.split())
    text = re.sub(r"([(\[{]) ", r"\1", text)
    text = re.sub(r",? ([)\]}])", r"\1", text)
    return text


def assert_matches(torch_model, keras_module, keras_model, x) -> None:
    """Loads `torch_model`'s state_dict into `keras_model` (built on `x`) with the
    generated loader of `keras_module` and asserts equal outputs on `x` (1e-4)."""
    keras_model(x)
    keras_module.load_torch_state_dict(keras_model, torch_model.state_dict())
    with torch.no_grad():
        ref = torch_model(torch.from_numpy(x.copy())).numpy()
    got = np.asarray(keras_model(x, training=False))
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() <= 1e-4 + 1e-4 * np.abs(ref).max()


def _flatten(out):
    if out is None:  # an output that is None in PyTorch is None in Keras too (checked by count)
        return []
    if isinstance(out, dict):
        return [y for k in sorted(out) for y in _flatten(out[k])]
    if isinstance(out, (tuple, list)):
        return [y for x in out for y in _flatten(x)]
    return [out]


# PyTorch gets copies of the inputs: a forward that changes its input in place
# (an in-place ReLU on x) would otherwise change the arrays the Keras model gets.
def _compare(mode: str, refs, outs) -> float:
    """Asserts each output matches its PyTorch reference at 1e-4; the max abs error."""
    assert len(outs) == len(refs), f"{mode}: {len(outs)} outputs, PyTorch has {len(refs)}"
    worst = 0.0
    for i, (ref, got) in enumerate(zip(refs, outs)):
        assert got.shape == ref.shape, f"{mode} output {i}: shape {got.shape} != {ref.shape}"
        if ref.dtype == bool:  # a boolean result stays boolean, value for value
            assert got.dtype == bool, f"{mode} output {i}: dtype {got.dtype}, PyTorch's is bool"
            ref, got = ref.astype("int8"), got.astype("int8")
        err = np.abs(got - ref)
        bad = err > ATOL + RTOL * np.abs(ref)
        assert not bad.any(), f"{mode} output {i}: max |diff| {err.max():.3g} at {np.argwhere(bad)[0]}"
        worst = max(worst, float(err.max()))
    return worst


def check(source: str, expr: str, shapes, *, layout: str = "channels_last",
          io_layout: str = "torch", trials: int = 2, compiled: bool = True, seed: int = 0) -> float:
    """Asserts the converted model matches PyTorch; returns the max abs error."""
    torch_ns = load_module(source, "torch_model")
    torch_model = eval(expr, torch_ns.__dict__)
    torch_model.eval()
    randomize(torch_model, seed)
    keras_ns = load_module(convert(source, layout, io_layout), "keras_model")
    keras_model = eval(expr, keras_ns.__dict__)
    rng = np.random.default_rng(seed + 1)
    to_keras = (lambda a: a) if io_layout == "torch" else (
        lambda a: np.moveaxis(a, 1, -1) if a.ndim >= 3 else a)
    from_keras = (lambda a: a) if io_layout == "torch" else (
        lambda a: np.moveaxis(a, -1, 1) if a.ndim >= 3 else a)
    inputs = [rng.normal(size=s).astype("float32") for s in shapes]
    keras_model(*[to_keras(x) for x in inputs])
    keras_ns.load_torch_state_dict(keras_model, torch_model.state_dict())
    fn = tf.function(lambda *xs: keras_model(*xs, training=False))
    worst = 0.0
    for t in range(trials):
        xs = inputs if t == 0 else [rng.normal(size=s).astype("float32") for s in shapes]
        with torch.no_grad():
            refs = [r.numpy() for r in _flatten(torch_model(*[torch.from_numpy(x.copy()) for x in xs]))]
        runs = [("eager", keras_model(*[to_keras(x) for x in xs], training=False))]
        if compiled:
            runs.append(("tf.function", fn(*[to_keras(x) for x in xs])))
        for mode, out in runs:
            worst = max(worst, _compare(mode, refs, [from_keras(np.asarray(o)) for o in _flatten(out)]))
    return worst


def check_calls(source: str, expr: str, calls, *, layout: str = "channels_last",
                compiled: bool = True, seed: int = 0) -> float:
    """Like `check`, for models taking more than float tensors: `calls` is a list of
    (args, kwargs) for the PyTorch model. A numpy array is a tensor in both
    frameworks (a 0-d boolean array: a boolean scalar tensor, `tf.constant` on
    the Keras side); any other value is passed as it is. Keras 3 takes only
    tensors positionally, so a positional Python value is given to the Keras
    model by its parameter name. Each call is run eagerly and, with `compiled`,
    inside `tf.function`; returns the max abs error."""
    import inspect

    torch_ns = load_module(source, "torch_model")
    torch_model = eval(expr, torch_ns.__dict__)
    torch_model.eval()
    randomize(torch_model, seed)
    keras_ns = load_module(convert(source, layout), "keras_model")
    keras_model = eval(expr, keras_ns.__dict__)
    params = list(inspect.signature(keras_model.call).parameters.values())
    names = [p.name for p in params]
    varargs = next((i for i, p in enumerate(params) if p.kind is p.VAR_POSITIONAL), len(params))

    def to_torch(v):
        return torch.from_numpy(v.copy()) if isinstance(v, np.ndarray) else v

    def to_keras(args, kwargs):
        tensors, keywords = [], dict(kwargs)
        for i, v in enumerate(args):
            if isinstance(v, np.ndarray) and len(tensors) == i:
                tensors.append(tf.constant(v))
            else:  # a Python value, or a tensor after one: by name
                assert i < varargs, "Keras takes only tensors positionally: no Python value in *args"
                keywords[names[i]] = v
        # A forward's `mask` is `mask_` in the Keras call (Keras fills `mask` itself).
        keywords = {("mask_" if k == "mask" and "mask" not in names else k):
                    tf.constant(v) if isinstance(v, np.ndarray) else v
                    for k, v in keywords.items()}
        return tensors, keywords

    first_args, first_kwargs = calls[0]
    tensors, keywords = to_keras(first_args, first_kwargs)
    keras_model(*tensors, **keywords)
    keras_ns.load_torch_state_dict(keras_model, torch_model.state_dict())
    fn = tf.function(lambda *xs, **kw: keras_model(*xs, training=False, **kw))
    worst = 0.0
    for args, kwargs in calls:
        with torch.no_grad():
            out = torch_model(*[to_torch(v) for v in args],
                              **{k: to_torch(v) for k, v in kwargs.items()})
        refs = [r.numpy() for r in _flatten(out)]
        tensors, keywords = to_keras(args, kwargs)
        runs = [("eager", keras_model(*tensors, training=False, **keywords))]
        if compiled:
            runs.append(("tf.function", fn(*tensors, **keywords)))
        for mode, out in runs:
            worst = max(worst, _compare(mode, refs, [np.asarray(o) for o in _flatten(out)]))
    return worst


def graph_transposes(source: str, expr: str, shapes, *, layout: str = "channels_last",
                     io_layout: str = "keras") -> int:
    """Transpose operations in the converted model's graph (tf.function, inference),
    nested function graphs included: issue 5's measure of layout conversions.
    `shapes` are PyTorch (NCHW) input shapes; with io_layout="keras" the model
    gets them channels-last."""
    keras_ns = load_module(convert(source, layout, io_layout), "keras_model")
    model = eval(expr, keras_ns.__dict__)
    specs = []
    for s in shapes:
        s = list(s)
        if io_layout == "keras" and len(s) >= 3:
            s = [s[0]] + s[2:] + [s[1]]
        specs.append(tf.TensorSpec(s, tf.float32))
    fn = tf.function(lambda *xs: model(*xs, training=False))
    graph = fn.get_concrete_function(*specs).graph
    count, seen, stack = 0, set(), [graph]
    while stack:
        g = stack.pop()
        count += sum(op.type == "Transpose" for op in g.get_operations())
        for name, f in getattr(g, "_functions", {}).items():
            if name not in seen and hasattr(f, "graph"):
                seen.add(name)
                stack.append(f.graph)
    return count
