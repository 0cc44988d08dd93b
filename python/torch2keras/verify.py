"""``torch2keras verify``: checks a conversion numerically against PyTorch.

:func:`verify` imports the input file with torch, builds the model from an
expression, converts the file, builds the same expression in the generated Keras
module, copies the (randomised) PyTorch weights into it with the generated
``load_torch_state_dict``, and compares the outputs of both models on seeded random
inputs. It needs torch and keras installed (the converter itself needs neither).

TODO: per-submodule comparison (DESIGN.md 2.1: a tree of the submodules' max errors,
worst first); only the model outputs are compared for now.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch2keras


class VerifyUsageError(Exception):
    """The verification could not start: the input cannot be imported, ``EXPR``
    fails in it or is not a torch module, or an argument is invalid (exit 2)."""


@dataclass
class OutputComparison:
    """One output of the model, compared over all trials.

    ``max_abs`` is the largest |keras - torch|; ``max_rel`` the largest
    |keras - torch| / |torch| over the elements where |torch| > atol (0 if none).
    ``ok``: every element of every trial satisfies |diff| <= atol + rtol * |torch|
    (NaN matches NaN), and the shapes are equal.
    """

    name: str  # "output", "output[0]", "output['logits']"
    mode: str  # "eager" or "compiled" (inside tf.function)
    shape: Tuple[int, ...]  # the torch output's shape (PyTorch layout)
    max_abs: float = 0.0
    max_rel: float = 0.0
    ok: bool = True
    note: str = ""


@dataclass
class VerifyReport:
    """The result of :func:`verify`; ``format()`` gives the printable report."""

    path: str
    model_expr: str
    layout: str
    io_layout: str
    atol: float
    rtol: float
    trials: int
    diagnostics: List[torch2keras.Diagnostic] = field(default_factory=list)
    outputs: List[OutputComparison] = field(default_factory=list)
    error: Optional[str] = None  # conversion failed, or the generated code failed
    # With verify(..., return_models=True): the compared models (weights loaded).
    torch_model: Any = field(default=None, repr=False)
    keras_model: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and bool(self.outputs)
            and all(o.ok for o in self.outputs)
        )

    def format(self) -> str:
        lines = [
            f"verify {self.path}: {self.model_expr} (layout {self.layout}, io-layout "
            f"{self.io_layout}, {self.trials} trial{'s' if self.trials != 1 else ''}, "
            f"atol {self.atol:g}, rtol {self.rtol:g})"
        ]
        if self.outputs:
            rows = [("output", "mode", "shape", "max abs err", "max rel err", "")]
            for o in self.outputs:
                rows.append(
                    (
                        o.name,
                        o.mode,
                        str(tuple(o.shape)),
                        f"{o.max_abs:.3g}",
                        f"{o.max_rel:.3g}",
                        ("OK" if o.ok else "FAIL")
                        + (f"  ({o.note})" if o.note else ""),
                    )
                )
            widths = [max(len(r[i]) for r in rows) for i in range(5)]
            for r in rows:
                cells = [
                    r[i].ljust(widths[i]) if i < 3 else r[i].rjust(widths[i])
                    for i in range(5)
                ]
                lines.append(("  " + "  ".join(cells) + "  " + r[5]).rstrip())
        if self.error:
            lines.append(f"error: {self.error}")
        lines.append("OK" if self.ok else "FAIL")
        return "\n".join(lines) + "\n"


@contextlib.contextmanager
def _on_sys_path(directory: Path):
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(directory))


def _package_name(path: Path):
    """The dotted module name of ``path`` when it sits inside a package (folders
    with ``__init__.py``), and the folder to put on sys.path; else None."""
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").exists():
        parts.insert(0, folder.name)
        folder = folder.parent
    return (".".join(parts), folder) if len(parts) > 1 else None


def _import_input(path: Path):
    """Imports the PyTorch input: through its package when it is in one (so its
    relative imports work, e.g. torchvision/models/resnet.py), else as a file."""
    package = _package_name(path)
    if package is None:
        return _import_file(path, path.stem)
    name, root = package
    with _on_sys_path(root):
        return importlib.import_module(name)


def _import_file(path: Path, name: str):
    """Imports ``path`` as module ``name`` with its folder on sys.path."""
    if not name.isidentifier() or name in sys.modules:
        name = f"_t2k_verify_{abs(hash(str(path))):x}_{name if name.isidentifier() else 'm'}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    with _on_sys_path(path.parent):
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
    return module


def randomise_torch_module(module, seed: int) -> None:
    """Gives every floating-point parameter and buffer of ``module`` seeded random
    values: ``running_var`` uniform(0.5, 1.5), ``running_mean`` normal * 0.1,
    other tensors of rank >= 2 (weights) normal * min(0.5, 1/sqrt(fan_in)) so that
    activations stay of order 1 through deep models, other tensors normal * 0.5.
    Integer buffers (``num_batches_tracked``) are left alone, and so are
    non-persistent buffers: they are not in the state_dict, so a converted model
    cannot receive them and keeps what its constructor computes."""
    import numpy as np
    import torch

    rng = np.random.default_rng(seed)
    persistent = set(module.state_dict().keys())
    with torch.no_grad():
        named = list(module.named_parameters()) + list(module.named_buffers())
        for name, tensor in named:
            if not tensor.is_floating_point() or name not in persistent:
                continue
            shape = tuple(tensor.shape)
            if name.endswith("running_var"):
                value = rng.uniform(0.5, 1.5, shape)
            elif name.endswith("running_mean"):
                value = rng.normal(0.0, 0.1, shape)
            elif len(shape) >= 2:
                fan_in = max(1, math.prod(shape[1:]))
                value = rng.normal(0.0, min(0.5, 1.0 / math.sqrt(fan_in)), shape)
            else:
                value = rng.normal(0.0, 0.5, shape)
            tensor.copy_(torch.from_numpy(value).to(tensor.dtype))


def _flatten(value: Any, name: str, out: Dict[str, Any]) -> None:
    """Flattens a tensor / tuple / list / dict of tensors into ``out`` by path."""
    if value is None:
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _flatten(item, f"{name}[{i}]", out)
    elif isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{name}[{key!r}]", out)
    else:
        out[name] = value


def _to_numpy(value: Any):
    import numpy as np

    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    import keras

    with contextlib.suppress(Exception):
        return np.asarray(keras.ops.convert_to_numpy(value))
    return np.asarray(value)


def _channels_last(x):
    import numpy as np

    return np.ascontiguousarray(np.moveaxis(x, 1, -1)) if 3 <= x.ndim <= 5 else x


def _channels_first(x):
    import numpy as np

    return np.moveaxis(x, -1, 1) if 3 <= x.ndim <= 5 else x


def _compare(row: OutputComparison, ref, got, atol: float, rtol: float) -> None:
    import numpy as np

    if tuple(ref.shape) != tuple(got.shape):
        row.ok = False
        row.max_abs = row.max_rel = math.inf
        row.note = f"Keras shape {tuple(got.shape)}"
        return
    ref = ref.astype(np.float64)
    got = got.astype(np.float64)
    # NaN where PyTorch has NaN, and the same infinity, are equal (0 / 0 in both).
    same = (got == ref) | (np.isnan(ref) & np.isnan(got))
    diff = np.where(same, 0.0, np.abs(got - ref))
    bad = ~(same | (np.isfinite(diff) & (diff <= atol + rtol * np.abs(ref))))
    if diff.size:
        row.max_abs = max(
            row.max_abs, float(np.nanmax(np.where(np.isnan(diff), np.inf, diff)))
        )
        big = np.abs(ref) > atol
        if big.any():
            row.max_rel = max(row.max_rel, float(np.max(diff[big] / np.abs(ref[big]))))
    if bad.any():
        row.ok = False


def _input_dtypes(dtypes, count: int):
    """One dtype per input: a single dtype applies to every input."""
    if isinstance(dtypes, str):
        return [dtypes] * count
    dtypes = list(dtypes)
    if len(dtypes) == 1:
        return dtypes * count
    if len(dtypes) != count:
        raise VerifyUsageError(
            f"{len(dtypes)} input dtypes for {count} input shapes: give one dtype, or one per input"
        )
    return dtypes


def _random_inputs(shapes, dtypes, rng, int_high: int = 10):
    import numpy as np

    inputs = []
    for shape, dtype in zip(shapes, _input_dtypes(dtypes, len(shapes))):
        if np.issubdtype(np.dtype(dtype), np.integer):
            inputs.append(rng.integers(0, int_high, size=shape).astype(dtype))
        elif np.dtype(dtype) == np.bool_:
            inputs.append(rng.integers(0, 2, size=shape).astype(bool))
        else:
            inputs.append(rng.normal(size=shape).astype(dtype))
    return inputs


def verify(
    path,
    model_expr: str,
    input_shapes: Sequence[Sequence[int]],
    *,
    layout: str = "channels_last",
    io_layout: str = "torch",
    atol: float = 1e-4,
    rtol: float = 1e-4,
    seed: int = 0,
    trials: int = 3,
    input_dtype="float32",
    compiled: bool = False,
    int_high: int = 10,
    return_models: bool = False,
) -> VerifyReport:
    """Converts ``path`` and compares the Keras model with the PyTorch one.

    ``model_expr`` (e.g. ``"ResNet(Bottleneck, [3, 4, 6, 3])"``) is evaluated in
    the namespace of the imported input and of the generated module.
    ``input_shapes``: one PyTorch-layout shape per positional input (NCHW for
    images); ``input_dtype`` is one dtype for every input or one per input;
    inputs are normal random numbers (integers in [0, ``int_high``) for integer
    dtypes, random booleans for bool) seeded from ``seed``, one set per trial. With ``io_layout="keras"``,
    inputs and outputs of rank 3 to 5 are moved to/from channels_last at the
    boundary; outputs are always reported in PyTorch layout. The PyTorch model's
    parameters and buffers are randomised first (see
    :func:`randomise_torch_module`), the Keras model is built by one call and
    loaded with the generated ``load_torch_state_dict``; both then run in
    inference mode (``.eval()`` / ``training=False``). ``compiled=True`` also
    runs the Keras call inside ``tf.function(jit_compile=False)`` (TensorFlow
    backend only). ``return_models=True`` keeps both models in the report
    (``torch_model``, ``keras_model``), e.g. to time them.

    Returns a :class:`VerifyReport`. Conversion errors, exceptions in the
    generated code or in loading the weights are reported in ``error`` (with the
    diagnostics), not raised. Raises :class:`VerifyUsageError` when the input
    cannot be imported, ``model_expr`` fails in it or is not a ``torch.nn.Module``,
    or an option is invalid. Needs torch, keras and numpy.
    """
    if layout not in torch2keras.LAYOUTS or io_layout not in torch2keras.IO_LAYOUTS:
        raise VerifyUsageError(f"invalid layout {layout!r} or io_layout {io_layout!r}")
    if trials < 1:
        raise VerifyUsageError("trials must be at least 1")
    if int_high < 1:
        raise VerifyUsageError("int_high must be at least 1")
    input_dtype = _input_dtypes(input_dtype, len(input_shapes))
    path = Path(path)
    report = VerifyReport(str(path), model_expr, layout, io_layout, atol, rtol, trials)
    try:
        import numpy as np
        import torch
    except ImportError as e:
        raise VerifyUsageError(f"verify needs torch and numpy: {e}") from None
    try:
        data = path.read_bytes()
    except OSError as e:
        raise VerifyUsageError(
            f"{path}: cannot read input: {e.strerror or e}"
        ) from None

    # PyTorch side.
    try:
        source_module = _import_input(path.resolve())
    except Exception:
        raise VerifyUsageError(
            f"{path}: importing it with torch failed:\n{traceback.format_exc()}"
        ) from None
    try:
        torch_model = eval(
            model_expr, source_module.__dict__
        )  # noqa: S307 - user's own code
    except Exception:
        raise VerifyUsageError(
            f"evaluating {model_expr!r} in {path} failed:\n{traceback.format_exc()}"
        ) from None
    finally:
        sys.modules.pop(source_module.__name__, None)
    if not isinstance(torch_model, torch.nn.Module):
        raise VerifyUsageError(
            f"{model_expr!r} gave a {type(torch_model).__name__}, not a torch.nn.Module"
        )
    torch.manual_seed(seed)
    torch_model.eval()
    randomise_torch_module(torch_model, seed)

    # Conversion.
    result = torch2keras.convert(
        data, filename=str(path), layout=layout, io_layout=io_layout
    )
    report.diagnostics = list(result.diagnostics)
    if not result.ok:
        report.error = "the conversion reported errors"
        return report

    try:
        import keras
    except ImportError as e:
        raise VerifyUsageError(f"verify needs keras: {e}") from None

    rngs = [np.random.default_rng([seed, 1 + t]) for t in range(trials)]
    trial_inputs = [_random_inputs(input_shapes, input_dtype, rng, int_high) for rng in rngs]

    def keras_inputs(inputs):
        return [_channels_last(x) if io_layout == "keras" else x for x in inputs]

    rows: Dict[Tuple[str, str], OutputComparison] = {}
    generated = None
    with tempfile.TemporaryDirectory(prefix="t2k-verify-") as tmp:
        generated_path = Path(tmp) / f"{path.stem}_keras.py"
        generated_path.write_text(result.code, encoding="utf-8")
        stage = "importing the generated module"
        try:
            generated = _import_file(generated_path, f"{path.stem}_keras")
            stage = f"evaluating {model_expr!r} in the generated module"
            keras_model = eval(model_expr, generated.__dict__)  # noqa: S307
            stage = "building the Keras model (first call)"
            keras_model(*keras_inputs(trial_inputs[0]))
            stage = "load_torch_state_dict"
            generated.load_torch_state_dict(keras_model, torch_model.state_dict())
            if return_models:
                report.torch_model, report.keras_model = torch_model, keras_model

            modes = [("eager", lambda *xs: keras_model(*xs, training=False))]
            if compiled:
                if keras.backend.backend() != "tensorflow":
                    raise VerifyUsageError("compiled=True needs the TensorFlow backend")
                import tensorflow as tf

                modes.append(
                    (
                        "compiled",
                        tf.function(
                            lambda *xs: keras_model(*xs, training=False),
                            jit_compile=False,
                        ),
                    )
                )
            for inputs in trial_inputs:
                stage = "running the PyTorch model"
                with torch.no_grad():
                    ref: Dict[str, Any] = {}
                    _flatten(
                        torch_model(*[torch.from_numpy(x) for x in inputs]),
                        "output",
                        ref,
                    )
                for mode, run in modes:
                    stage = f"running the Keras model ({mode})"
                    got: Dict[str, Any] = {}
                    _flatten(run(*keras_inputs(inputs)), "output", got)
                    for name, value in ref.items():
                        ref_np = _to_numpy(value)
                        row = rows.setdefault(
                            (name, mode),
                            OutputComparison(name, mode, tuple(ref_np.shape)),
                        )
                        if name not in got:
                            row.ok, row.note = False, "missing in the Keras outputs"
                            row.max_abs = row.max_rel = math.inf
                            continue
                        got_np = _to_numpy(got[name])
                        if io_layout == "keras":
                            got_np = _channels_first(got_np)
                        _compare(row, ref_np, got_np, atol, rtol)
                    for name in got:
                        if name not in ref:
                            rows.setdefault(
                                (name, mode),
                                OutputComparison(
                                    name,
                                    mode,
                                    (),
                                    math.inf,
                                    math.inf,
                                    False,
                                    "not an output of the PyTorch model",
                                ),
                            )
        except VerifyUsageError:
            raise
        except Exception:
            report.error = f"{stage} failed:\n{traceback.format_exc()}"
        finally:
            if generated is not None:
                sys.modules.pop(generated.__name__, None)
    report.outputs = list(rows.values())
    return report
