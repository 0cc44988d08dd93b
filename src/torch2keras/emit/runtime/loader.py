"""Loading PyTorch weights into the converted Keras model.

This code is part of every module that torch2keras generates; it depends on numpy
and keras only.
"""

import numpy as np
import keras

# PyTorch attribute name -> Python attribute name, for the attributes the converter
# had to rename because they clash with Keras (e.g. {"layers": "layers_"}).
_TORCH_ATTRIBUTE_RENAMES = {}


def load_torch_state_dict(model, state_dict, strict=True):
    """Copies a PyTorch ``state_dict`` into a built Keras ``model``.

    ``state_dict`` maps names to torch tensors (anything with ``.detach()``, converted
    with ``.detach().cpu().numpy()``) or numpy arrays. The converted model keeps the
    PyTorch attribute names, so the key ``layer1.0.conv1.weight`` is found by walking
    ``model.layer1``, then item 0, then ``.conv1``, and the last part (``weight``) is
    the parameter or buffer name. A part made of digits is ``.layers[i]`` on a
    ``keras.Sequential`` and ``[i]`` on a list or tuple; on a dict any part is
    ``[key]``; otherwise a part is an attribute (renamed by
    ``_TORCH_ATTRIBUTE_RENAMES`` where the converter had to rename it).

    The layer reached decides how each value is transformed (PyTorch layouts are
    channels-first, Keras kernels are channels-last whatever ``data_format`` is):

    - ``Conv1D``/``Conv2D``/``Conv3D``: ``weight`` (out, in/groups, *k) becomes
      ``kernel`` (*k, in/groups, out): PyTorch Conv2d weight (out, in/groups, kH, kW)
      maps to Keras kernel (kH, kW, in/groups, out). ``bias`` is copied.
    - ``Conv1DTranspose``/``Conv2DTranspose``/``Conv3DTranspose``: ``weight``
      (in, out, *k) becomes ``kernel`` (*k, out, in); ``bias`` is copied.
    - ``DepthwiseConv1D``/``DepthwiseConv2D``: ``weight`` (in*m, 1, *k) becomes
      ``kernel`` (*k, in, m); ``bias`` is copied.
    - ``Dense``: ``weight`` (out, in) becomes ``kernel`` (in, out). A ``Dense`` marked
      by ``pytorch_flattened_input`` (its input is a channels-last flatten, (H, W, C)
      where PyTorch flattened (C, H, W)) gets the columns of ``weight`` permuted to
      that order first.
    - ``BatchNormalization``: ``weight``, ``bias``, ``running_mean``, ``running_var``
      become ``gamma``, ``beta``, ``moving_mean``, ``moving_variance``;
      ``num_batches_tracked`` is accepted and ignored.
    - ``LayerNormalization``/``GroupNormalization``: ``weight`` and ``bias`` become
      ``gamma`` and ``beta``, reshaped to the Keras shape when the sizes agree (a
      LayerNorm over several dimensions).
    - ``PReLU``: ``weight`` (num_parameters,) is broadcast to ``alpha``, whose shape
      is the input shape without the batch axis, with the shared axes of size 1.
    - ``Embedding``: ``weight`` (num, dim) is copied to ``embeddings``.
    - A ``keras.Sequential`` reached with a parameter name left (one PyTorch module
      emitted as several Keras layers, e.g. ``ZeroPadding2D`` + ``Conv2D``): the
      values go to its only sub-layer that has weights.
    - A layer made with ``pytorch_weight_norm`` (``nn.utils.weight_norm``): its
      ``weight_g`` and ``weight_v`` (``parametrizations.weight.original0`` and
      ``original1``) become ``weight`` = g * v / ||v||, then load as above.
    - A layer with a method ``load_torch_params(self, params)`` receives all of its
      module's values at once (``params``: PyTorch name -> numpy array) and assigns
      its own variables.
    - Otherwise, an attribute of that name (after renaming) holding a
      ``keras.Variable`` (an ``nn.Parameter`` or buffer of a converted module) is
      copied as is.

    A layer that the building call did not run (e.g. one branch of an ``if``) is
    built from the PyTorch shapes when it is a convolution, ``Dense`` or
    ``BatchNormalization``.

    Raises ``ValueError``:

    - when the model is not built (call it once on an input of the right shape);
    - at once, when a transformed value's shape differs from its Keras variable's
      (the message names the key, the PyTorch shape, the transformed shape and the
      expected shape), even with ``strict=False``;
    - at once, when a key reaches a Keras layer class that has no rule;
    - with ``strict=True``, listing every unexpected key (one that reaches nothing)
      and every missing entry (a Keras variable of ``model.weights`` that no key
      assigned). ``strict=False`` skips both.

    Example::

        model = MyModel()
        model(np.zeros((1, 3, 224, 224), "float32"))  # builds the variables
        load_torch_state_dict(model, torch_model.state_dict())
    """
    if not getattr(model, "built", False) or (len(state_dict) and not model.weights):
        raise ValueError(
            "load_torch_state_dict: the Keras model has no variables yet; call it "
            "once on an input of the right shape (e.g. model(np.zeros(shape))) "
            "before loading the weights"
        )
    groups = {}
    unexpected = []
    for key, value in state_dict.items():
        *path, name = key.split(".")
        # parametrizations.weight_norm keeps g and v as
        # <module>.parametrizations.weight.original0 / original1.
        if path[-2:] == ["parametrizations", "weight"] and name in ("original0", "original1"):
            path, name = path[:-2], "weight_g" if name == "original0" else "weight_v"
        target = _t2k_walk(model, path)
        if target is None:
            unexpected.append(key)
            continue
        group = groups.setdefault(id(target), (target, {}))
        group[1][name] = (key, _t2k_to_numpy(value))

    assigned = set()
    for target, params in groups.values():
        _t2k_load_layer(target, params, assigned, unexpected)

    if not strict:
        return
    problems = [
        f"unexpected key {key!r}: the Keras model has no matching variable"
        for key in unexpected
    ]
    missing = [v for v in model.weights if id(v) not in assigned]
    if missing:
        paths = _t2k_variable_paths(model)
        for variable in missing:
            where = paths.get(id(variable))
            where = f" (attribute {where})" if where else ""
            problems.append(
                f"missing: no state_dict entry for Keras variable "
                f"{variable.path!r}{where} of shape {tuple(variable.shape)}"
            )
    if problems:
        raise ValueError(
            "load_torch_state_dict: the state_dict does not match the model "
            "(pass strict=False to skip these):\n  " + "\n  ".join(problems)
        )


def _t2k_to_numpy(value):
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _t2k_unwrap(obj):
    """A layer the converter wrapped in a keras.Sequential between Permutes (its
    input or output in another layout): the layer, which holds the weights."""
    if isinstance(obj, keras.Sequential):
        inner = [x for x in obj.layers if not isinstance(x, keras.layers.Permute)]
        if len(inner) == 1 and len(obj.layers) > 1:
            return inner[0]
    return obj


def _t2k_attribute(obj, name):
    """``obj``'s attribute for the PyTorch name ``name``: under its rename where the
    converter renamed it in a converted class (``layers`` -> ``layers_``), else
    under ``name`` (runtime classes keep PyTorch's names: a TransformerEncoder's
    ``layers``). None when there is neither."""
    renamed = _TORCH_ATTRIBUTE_RENAMES.get(name)
    if renamed is not None and hasattr(obj, renamed):
        return getattr(obj, renamed)
    return getattr(obj, name, None)


def _t2k_walk(obj, path):
    """The object that ``path`` (a list of key parts) reaches, or None."""
    for part in path:
        obj = _t2k_unwrap(obj)
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif part.isdigit() and isinstance(obj, (keras.Sequential, list, tuple)):
            items = obj.layers if isinstance(obj, keras.Sequential) else obj
            obj = items[int(part)] if int(part) < len(items) else None
        elif isinstance(obj, keras.Sequential) and not hasattr(obj, part):
            # nn.Sequential(OrderedDict(...)) / add_module: layers named as in PyTorch.
            obj = next((layer for layer in obj.layers if layer.name == part), None)
        else:
            obj = _t2k_attribute(obj, part)
        if obj is None:
            return None
    return _t2k_unwrap(obj)


def _t2k_conv_kernel(value, shape):
    # (out, in/groups, *k) -> (*k, in/groups, out); (in, out, *k) -> (*k, out, in)
    return value.transpose(tuple(range(2, value.ndim)) + (1, 0))


def _t2k_depthwise_kernel(value, shape):
    # (in*m, 1, *k) -> (in, m, *k) -> (*k, in, m)
    if len(shape) != value.ndim or value.shape[1] != 1:
        return value
    in_channels, multiplier = shape[-2], shape[-1]
    if in_channels * multiplier != value.shape[0]:
        return value
    value = value.reshape((in_channels, multiplier) + value.shape[2:])
    return value.transpose(tuple(range(2, value.ndim)) + (0, 1))


def _t2k_dense_kernel(value, shape):
    return value.T


def _t2k_flattened_columns(key, weight, spatial):
    """A Linear weight (out, C * S) whose input PyTorch flattened in (C, S) order,
    with its columns in the (S, C) order of a channels-last flatten
    (pytorch_flattened_input; S = H * W)."""
    if weight.ndim != 2 or weight.shape[1] % spatial:
        raise ValueError(
            f"load_torch_state_dict: {key!r} of shape {tuple(weight.shape)} does not "
            f"read a flatten of {spatial} positions per channel, as the converted "
            "model expects"
        )
    out = weight.shape[0]
    return weight.reshape(out, -1, spatial).transpose(0, 2, 1).reshape(out, -1)


def _t2k_same(value, shape):
    return value


def _t2k_reshape(value, shape):
    if value.shape != shape and value.size == int(np.prod(shape)):
        return value.reshape(shape)
    return value


def _t2k_prelu_alpha(value, shape):
    # One slope per channel: the channel axis is the axis of alpha of that size.
    # With PyTorch's sharing, every other axis of alpha is 1 (shared); when
    # several axes qualify, the last one (channels_last) is taken.
    if value.size == 1:
        return np.broadcast_to(value.reshape(()), shape).copy()
    axes = [i for i, n in enumerate(shape) if n == value.size]
    if value.ndim != 1 or not axes:
        return value
    view = [1] * len(shape)
    view[axes[-1]] = value.size
    return np.broadcast_to(value.reshape(view), shape).copy()


_T2K_CONV = {"weight": ("kernel", _t2k_conv_kernel), "bias": ("bias", _t2k_same)}
_T2K_RULES = (
    (
        (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D),
        _T2K_CONV,
    ),
    (
        (
            keras.layers.Conv1DTranspose,
            keras.layers.Conv2DTranspose,
            keras.layers.Conv3DTranspose,
        ),
        _T2K_CONV,
    ),
    (
        (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D),
        {
            "weight": ("kernel", _t2k_depthwise_kernel),
            "bias": ("bias", _t2k_same),
        },
    ),
    (
        (keras.layers.Dense,),
        {"weight": ("kernel", _t2k_dense_kernel), "bias": ("bias", _t2k_same)},
    ),
    (
        (keras.layers.BatchNormalization,),
        {
            "weight": ("gamma", _t2k_same),
            "bias": ("beta", _t2k_same),
            "running_mean": ("moving_mean", _t2k_same),
            "running_var": ("moving_variance", _t2k_same),
            "num_batches_tracked": None,
        },
    ),
    (
        (keras.layers.LayerNormalization, keras.layers.GroupNormalization),
        {"weight": ("gamma", _t2k_reshape), "bias": ("beta", _t2k_reshape)},
    ),
    ((keras.layers.PReLU,), {"weight": ("alpha", _t2k_prelu_alpha)}),
    ((keras.layers.Embedding,), {"weight": ("embeddings", _t2k_same)}),
)


def _t2k_rules(layer):
    for classes, rules in _T2K_RULES:
        if isinstance(layer, classes):
            return rules
    return None


def _t2k_describe(layer):
    return f"{type(layer).__name__} {getattr(layer, 'name', '?')!r}"


def _t2k_keys(params):
    return ", ".join(repr(key) for key, _ in params.values())


def _t2k_load_layer(layer, params, assigned, unexpected):
    """Assigns ``params`` (PyTorch name -> (key, array)) to ``layer``'s variables."""
    hook = getattr(layer, "load_torch_params", None)
    if callable(hook):
        hook({name: value for name, (key, value) in params.items()})
        assigned.update(id(v) for v in layer.weights)
        return
    if isinstance(layer, keras.Sequential):
        inner = _t2k_only_weighted_layer(layer, params)
        _t2k_load_layer(inner, params, assigned, unexpected)
        return
    if "weight_g" in params and "weight_v" in params:
        params = _t2k_weight_from_norm(layer, params)
    spatial = getattr(layer, "_pytorch_flatten_spatial_size", None)
    if spatial and "weight" in params:
        key, weight = params["weight"]
        params = dict(params, weight=(key, _t2k_flattened_columns(key, weight, spatial)))
    rules = _t2k_rules(layer)
    if rules is not None and not layer.built:
        _t2k_build(layer, params)
    for name, (key, value) in params.items():
        if rules is not None and name in rules:
            if rules[name] is None:  # accepted and ignored
                continue
            attribute, transform = rules[name]
            variable = getattr(layer, attribute, None)
            if not isinstance(variable, keras.Variable):
                unexpected.append(key)  # e.g. a bias where Keras has use_bias=False
                continue
            _t2k_assign(key, value, transform, variable, layer, assigned)
            continue
        if isinstance(layer, (list, tuple)) and name.isdigit() and int(name) < len(layer):
            variable = layer[int(name)]  # nn.ParameterList
        elif isinstance(layer, dict):
            variable = layer.get(name)  # nn.ParameterDict
        else:
            variable = _t2k_attribute(layer, name)
        if isinstance(variable, keras.Variable):
            # A parameter stored channels-last (pytorch_parameter) says how.
            transform = getattr(variable, "_pytorch_load_transform", _t2k_same)
            _t2k_assign(key, value, transform, variable, layer, assigned)
        elif (
            rules is None
            and isinstance(layer, keras.layers.Layer)
            and type(layer).__module__.startswith("keras.")
        ):
            raise ValueError(
                f"load_torch_state_dict: no rule to load {key!r} into the Keras "
                f"layer {_t2k_describe(layer)} (class {type(layer).__name__}); "
                "give that layer a load_torch_params(self, params) method"
            )
        else:
            unexpected.append(key)


def _t2k_weight_from_norm(layer, params):
    """`params` with weight_g and weight_v (pytorch_weight_norm) replaced by the
    weight they make, g * v / ||v|| over every axis of v but the layer's `dim`."""
    dim = getattr(layer, "_pytorch_weight_norm_dim", None)
    key, g = params["weight_g"]
    _, v = params["weight_v"]
    if dim is None:
        raise ValueError(f"load_torch_state_dict: {key!r} is a weight_norm magnitude, but the "
                         f"Keras layer {_t2k_describe(layer)} was not made with weight_norm")
    if dim == -1:
        norm = np.sqrt(np.sum(np.square(v)))
    else:
        axes = tuple(a for a in range(v.ndim) if a != dim % v.ndim)
        norm = np.sqrt(np.sum(np.square(v), axis=axes, keepdims=True))
    params = {name: item for name, item in params.items() if name not in ("weight_g", "weight_v")}
    params["weight"] = (key[: -len("weight_g")] + "weight", (v * (g / norm)).astype(v.dtype))
    return params


def _t2k_assign(key, value, transform, variable, layer, assigned):
    expected = tuple(variable.shape)
    result = np.asarray(transform(value, expected))
    if tuple(result.shape) != expected:
        raise ValueError(
            f"load_torch_state_dict: shape mismatch for {key!r}: PyTorch shape "
            f"{tuple(value.shape)}, transformed to {tuple(result.shape)} for "
            f"{_t2k_describe(layer)}, but the Keras variable {variable.path!r} has "
            f"shape {expected}"
        )
    variable.assign(result.astype(variable.dtype))
    assigned.add(id(variable))


def _t2k_only_weighted_layer(sequential, params):
    """The one sub-layer of ``sequential`` that has weights (or could have)."""
    candidates = [layer for layer in sequential.layers if layer.weights]
    if not candidates:
        candidates = [
            layer
            for layer in sequential.layers
            if _t2k_rules(layer) is not None
            or callable(getattr(layer, "load_torch_params", None))
        ]
    if len(candidates) != 1:
        raise ValueError(
            f"load_torch_state_dict: cannot tell which layer of the Sequential "
            f"{sequential.name!r} receives {_t2k_keys(params)}: "
            f"{len(candidates)} of its layers have weights"
        )
    return candidates[0]


def _t2k_build(layer, params):
    """Builds a layer that never ran, from the PyTorch shapes, or raises."""
    weight = params.get("weight", (None, None))[1]
    shape = None
    if weight is not None and isinstance(
        layer,
        (
            keras.layers.Conv1D,
            keras.layers.Conv2D,
            keras.layers.Conv3D,
            keras.layers.Conv1DTranspose,
            keras.layers.Conv2DTranspose,
            keras.layers.Conv3DTranspose,
            keras.layers.DepthwiseConv1D,
            keras.layers.DepthwiseConv2D,
        ),
    ):
        if isinstance(
            layer, (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
        ):
            channels = weight.shape[1] * getattr(layer, "groups", 1)
        elif isinstance(
            layer, (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
        ):
            channels = weight.shape[0] // layer.depth_multiplier
        else:
            channels = weight.shape[0]
        shape = [None] * weight.ndim
        shape[-1 if layer.data_format == "channels_last" else 1] = channels
    elif weight is not None and isinstance(layer, keras.layers.Dense):
        shape = [None, weight.shape[1]]
    elif isinstance(layer, keras.layers.BatchNormalization):
        value = next(iter(params.values()))[1]
        axis = layer.axis
        shape = [None] * max(axis + 1 if axis >= 0 else -axis, 2)
        shape[axis] = value.shape[0] if value.ndim else 1
    if shape is None:
        raise ValueError(
            f"load_torch_state_dict: the layer {_t2k_describe(layer)} is not built, "
            f"so {_t2k_keys(params)} cannot be loaded; call the model once on inputs "
            "that run this layer (every branch), or build the layer"
        )
    layer.build(tuple(shape))
    if isinstance(layer, keras.layers.BatchNormalization):
        # build() fixed the rank to the guessed one; keep the channel check only.
        layer.input_spec = keras.InputSpec(axes={layer.axis: shape[layer.axis]})


def _t2k_variable_paths(model):
    """id(variable) -> attribute path such as "layer1.0.conv1.kernel" (messages)."""
    paths = {}
    seen = set()
    stack = [("", model)]
    while stack:
        prefix, obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, keras.Variable):
            paths.setdefault(id(obj), prefix)
            continue
        if isinstance(obj, keras.Sequential):
            children = [(str(i), layer) for i, layer in enumerate(obj.layers)]
        elif isinstance(obj, keras.layers.Layer):
            children = [(k, v) for k, v in vars(obj).items() if not k.startswith("_")]
        elif isinstance(obj, (list, tuple)):
            children = [(str(i), item) for i, item in enumerate(obj)]
        elif isinstance(obj, dict):
            children = [(str(k), item) for k, item in obj.items()]
        else:
            continue
        for name, child in reversed(children):
            if isinstance(
                child, (keras.Variable, keras.layers.Layer, list, tuple, dict)
            ):
                stack.append((f"{prefix}.{name}" if prefix else name, child))
    return paths
