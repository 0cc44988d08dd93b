"""Issue 6, sequence models: embeddings, recurrent layers, attention, transformers.

Each option is checked against real PyTorch with random parameters and buffers
(harness.check_calls: eagerly and inside tf.function); integer token ids include
the padding index, so a padding rule that changed the numbers would show.
"""

from pathlib import Path

import sys
import numpy as np
import pytest
import tensorflow as tf
import torch

from harness import assert_conversion_error, check_calls, convert, flat, load_module, randomize

HEAD = """
import torch
import torch.nn as nn
import torch.nn.functional as F
"""

# --- Embedding (P28): padding_idx looks rows up as usual, is zero when made and
# gets no gradient; F.embedding with a weight of the model's own.

EMBEDDINGS = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 6, padding_idx=0)
        self.last = nn.Embedding(20, 6, padding_idx=-1)
        self.plain = nn.Embedding(20, 6)
        self.table = nn.Parameter(torch.randn(20, 4))
        self.fc = nn.Linear(6, 3)

    def forward(self, ids):
        h = self.emb(ids) + self.last(ids) * 0.5 + self.plain(ids)
        return self.fc(h), F.embedding(ids, self.table, padding_idx=3)
"""


def ids(seed, shape=(3, 7)):
    a = np.random.default_rng(seed).integers(0, 20, size=shape).astype("int64")
    a[:, -2:] = 0  # padded batches
    a[0, 0], a[1, 0], a[-1, 0] = 19, 3, 0
    return a


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_embeddings_look_up_rows_as_pytorch(layout):
    check_calls(EMBEDDINGS, "Net()", [((ids(1),), {}), ((ids(2, (2, 5)),), {})], layout=layout)


def test_embedding_padding_rows_get_no_gradient():
    torch_model = load_module(EMBEDDINGS, "torch_embeddings").Net()
    randomize(torch_model, 0)
    keras_ns = load_module(convert(EMBEDDINGS, "channels_last"), "keras_embeddings")
    keras_model = keras_ns.Net()
    x = ids(3)
    keras_model(tf.constant(x))
    keras_ns.load_torch_state_dict(keras_model, torch_model.state_dict())
    weights = np.random.default_rng(4).normal(size=(3, 7, 3)).astype("float32")
    out, _ = torch_model(torch.from_numpy(x))
    (out * torch.from_numpy(weights)).sum().backward()
    with tf.GradientTape() as tape:
        got, _ = keras_model(tf.constant(x))
        loss = tf.reduce_sum(got * weights)
    layers = [keras_model.emb, keras_model.last, keras_model.plain]
    grads = tape.gradient(loss, [layer.embeddings for layer in layers])
    for layer, grad, ref in zip(layers, grads, [torch_model.emb, torch_model.last, torch_model.plain]):
        grad = tf.convert_to_tensor(grad).numpy()
        np.testing.assert_allclose(grad, ref.weight.grad.numpy(), atol=1e-5)
    assert not grads[0].numpy()[0].any() and not tf.convert_to_tensor(grads[1]).numpy()[19].any()
    assert tf.convert_to_tensor(grads[2]).numpy()[0].any()  # no padding row: row 0 learns


def test_a_fresh_embedding_has_a_zero_padding_row():
    keras_ns = load_module(convert(EMBEDDINGS, "channels_last"), "keras_embeddings_fresh")
    model = keras_ns.Net()
    model(tf.constant(ids(5)))
    assert not model.emb.embeddings.numpy()[0].any() and not model.last.embeddings.numpy()[19].any()
    assert model.plain.embeddings.numpy()[0].any()
    config = model.emb.get_config()
    assert config["padding_idx"] == 0 and type(model.emb).from_config(config).padding_idx == 0


@pytest.mark.parametrize("arg,message", [
    ("max_norm=1.0", "`max_norm=1.0` is not supported yet"),
    ("scale_grad_by_freq=True", "`scale_grad_by_freq=True` is not supported yet"),
])
def test_embedding_options_without_an_exact_form_are_errors(arg, message):
    assert_conversion_error(EMBEDDINGS.replace("nn.Embedding(20, 6)", f"nn.Embedding(20, 6, {arg})"), message)


# --- EmbeddingBag (P65): bags of rows summed, averaged or maxed. Padding ids
# are left out of their bag (not counted by mean, not candidates for max), an
# empty bag is zeros, include_last_offset takes B + 1 offsets. randomize gives
# the padding rows random values, so a padding id that counted would show.

EMBEDDING_BAGS = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.sum = nn.EmbeddingBag(20, 6, mode="sum")
        self.mean = nn.EmbeddingBag(20, 6, padding_idx=0, sparse=True)  # a gradient's storage
        self.max = nn.EmbeddingBag(20, 6, mode="max", padding_idx=-1)
        self.plain_max = nn.EmbeddingBag(20, 6, mode="max", norm_type=1.0)  # max_norm's p
        self.weighted = nn.EmbeddingBag(20, 6, mode="sum", padding_idx=3)
        self.csr = nn.EmbeddingBag(20, 6, mode="mean", include_last_offset=True, padding_idx=0)
        self.csr_max = nn.EmbeddingBag(20, 6, mode="max", include_last_offset=True)
        self.table = nn.Parameter(torch.randn(20, 4))

    def forward(self, ids, offsets, weights):
        starts = offsets[:-1]  # offsets: B + 1 entries, the last len(ids) (CSR)
        return (self.sum(ids, starts), self.mean(ids, starts), self.max(ids, starts),
                self.plain_max(ids, starts),
                self.weighted(ids, starts, per_sample_weights=weights),
                self.csr(ids, offsets), self.csr_max(ids, offsets),
                self.mean(ids, offsets),  # offsets[-1] == len(ids): an empty last bag
                F.embedding_bag(ids, self.table, starts, mode="max", padding_idx=3),
                F.embedding_bag(ids, self.table, offsets, None, 2, False, "mean", False, None,
                                True, 19),
                F.embedding_bag(ids, self.table, starts, per_sample_weights=weights, mode="sum"))
"""


def bag_call(seed, lengths):
    """(ids, offsets, per-sample weights) for bags of the given lengths: offsets
    has len(lengths) + 1 entries, the last len(ids). Bag 1 is all 0 and a bag of
    one id is 19 (padding only, for the bags padded by 0 or by 19); bags of 3 or
    more mix other ids with 0, 3 and 19."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, 19, size=sum(lengths)).astype("int64")
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype("int64")
    for i, (start, n) in enumerate(zip(offsets, lengths)):
        if i == 1:
            ids[start:start + n] = 0
        elif n == 1:
            ids[start] = 19
        elif n >= 3:
            ids[start:start + 3] = rng.permutation([0, 3, 19])
    weights = rng.normal(size=ids.shape).astype("float32")
    return (ids, offsets, weights), {}


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_embedding_bags_of_offsets_reduce_as_pytorch(layout):
    # Empty bags first, in the middle and last; bags of one id; long bags.
    calls = [bag_call(1, [4, 2, 0, 5, 1, 3]), bag_call(2, [0, 3, 6, 0]),
             bag_call(3, [7, 1, 4, 4, 5])]
    check_calls(EMBEDDING_BAGS, "Net()", calls, layout=layout)


EMBEDDING_BAGS_2D = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.sum = nn.EmbeddingBag(20, 6, mode="sum", include_last_offset=True)  # 2-D: no offsets
        self.mean = nn.EmbeddingBag(20, 6)
        self.padded_mean = nn.EmbeddingBag(20, 6, mode="mean", padding_idx=0)
        self.max = nn.EmbeddingBag(20, 6, mode="max")
        self.padded_max = nn.EmbeddingBag(20, 6, mode="max", padding_idx=0)
        self.weighted = nn.EmbeddingBag(20, 6, mode="sum", padding_idx=-1)
        self.table = nn.Parameter(torch.randn(20, 4))

    def forward(self, ids, weights):
        return (self.sum(ids), self.mean(ids), self.padded_mean(ids), self.max(ids),
                self.padded_max(ids), self.weighted(ids, per_sample_weights=weights),
                F.embedding_bag(ids, self.table, mode="max", padding_idx=-20),
                F.embedding_bag(ids, self.table, padding_idx=3),
                F.embedding_bag(ids, self.table, per_sample_weights=weights, mode="sum",
                                padding_idx=0))
"""


def bag_rows(seed, shape):
    """2-D ids: rows padded with 0 at the end, row 1 all padding, 3 and 19 about."""
    a = ids(seed, shape)
    a[1] = 0
    a[0, 1], a[-1, 1] = 19, 3
    return (a, np.random.default_rng(seed).normal(size=shape).astype("float32")), {}


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_embedding_bags_of_rows_reduce_as_pytorch(layout):
    check_calls(EMBEDDING_BAGS_2D, "Net()", [bag_rows(1, (3, 7)), bag_rows(2, (4, 5))], layout=layout)


def test_embedding_bag_gradients_skip_padding_ids():
    """Training: a padding id adds no gradient to its row (left out of the bag); a
    max bag's gradient goes to the row that gave the max, as in PyTorch."""
    torch_model = load_module(EMBEDDING_BAGS, "torch_embedding_bags").Net()
    randomize(torch_model, 0)
    keras_ns = load_module(convert(EMBEDDING_BAGS, "channels_last"), "keras_embedding_bags")
    keras_model = keras_ns.Net()
    (x, offsets, weights), _ = bag_call(5, [4, 2, 0, 5, 1, 3])
    tensors = [tf.constant(v) for v in (x, offsets, weights)]
    keras_model(*tensors)
    keras_ns.load_torch_state_dict(keras_model, torch_model.state_dict())
    outs = torch_model(*[torch.from_numpy(v) for v in (x, offsets, weights)])
    rng = np.random.default_rng(6)
    scales = [rng.normal(size=tuple(o.shape)).astype("float32") for o in outs]
    sum((o * torch.from_numpy(s)).sum() for o, s in zip(outs, scales)).backward()
    names = ["sum", "mean", "max", "plain_max", "weighted", "csr", "csr_max"]
    with tf.GradientTape() as tape:
        loss = sum(tf.reduce_sum(o * s) for o, s in zip(keras_model(*tensors), scales))
    variables = [getattr(keras_model, n).weight for n in names] + [keras_model.table]
    grads = tape.gradient(loss, variables)
    refs = [getattr(torch_model, n).weight.grad for n in names] + [torch_model.table.grad]
    for name, grad, ref in zip(names + ["table"], grads, refs):
        ref = ref.to_dense() if ref.is_sparse else ref  # sparse=True: same values
        np.testing.assert_allclose(tf.convert_to_tensor(grad).numpy(), ref.numpy(), atol=1e-5,
                                   err_msg=name)
    assert not tf.convert_to_tensor(grads[1]).numpy()[0].any()  # mean's padding row 0


def test_a_fresh_embedding_bag_has_a_zero_padding_row():
    keras_ns = load_module(convert(EMBEDDING_BAGS, "channels_last"), "keras_embedding_bags_fresh")
    model = keras_ns.Net()
    assert not model.mean.weight.numpy()[0].any() and not model.max.weight.numpy()[19].any()
    assert model.sum.weight.numpy()[0].any() and model.max.padding_idx == 19
    config = model.csr.get_config()
    assert config["include_last_offset"] and config["mode"] == "mean"
    assert type(model.csr).from_config(config).padding_idx == 0


def test_per_sample_weights_need_mode_sum_in_both():
    """PyTorch raises at the call for per_sample_weights with mode "mean"; so
    does the converted model (the forward cannot be equivalent otherwise)."""
    source = EMBEDDING_BAGS.replace('mode="sum", padding_idx=3', 'mode="mean", padding_idx=3')
    (x, offsets, weights), _ = bag_call(1, [4, 2, 3])
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        load_module(source, "torch_embedding_bags_mean").Net()(
            *[torch.from_numpy(v) for v in (x, offsets, weights)])
    keras_model = load_module(convert(source, "channels_last"), "keras_embedding_bags_mean").Net()
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        keras_model(*[tf.constant(v) for v in (x, offsets, weights)])


@pytest.mark.parametrize("old,new,message", [
    ('6, mode="sum")', '6, mode="sum", max_norm=1.0)', "`max_norm=1.0` is not supported yet"),
    ('6, mode="sum")', '6, mode="sum", scale_grad_by_freq=True)',
     "`scale_grad_by_freq=True` is not supported yet"),
    ('starts, mode="max", padding_idx=3)', 'starts, max_norm=2.0, mode="max")',
     "`max_norm=2.0` is not supported yet"),
    ('starts, mode="max", padding_idx=3)', 'starts, scale_grad_by_freq=True)',
     "`scale_grad_by_freq=True` is not supported yet"),
])
def test_embedding_bag_options_without_an_exact_form_are_errors(old, new, message):
    assert EMBEDDING_BAGS.count(old) == 1
    assert_conversion_error(EMBEDDING_BAGS.replace(old, new), message)


def test_an_embedding_bag_given_a_weight_tensor_fails_when_made():
    """`_weight=` with a tensor is no compile-time constant: the converted code
    checks it when the model is made, and says what is not supported."""
    source = EMBEDDING_BAGS.replace('6, mode="sum")', '6, mode="sum", _weight=torch.zeros(20, 6))')
    keras_ns = load_module(convert(source, "channels_last"), "keras_embedding_bags_weight")
    with pytest.raises(ValueError, match="`_weight=` is not supported yet"):
        keras_ns.Net()


# --- F.scaled_dot_product_attention: a boolean attn_mask keeps the True scores
# (the opposite of nn.MultiheadAttention's masks), a float one is added;
# is_causal and scale.

SDPA = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(8, 24)
        self.out = nn.Linear(8, 8)

    def forward(self, x, mask):
        b, n, _ = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q = q.view(b, n, 2, 4).transpose(1, 2)
        k = k.view(b, n, 2, 4).transpose(1, 2)
        v = v.view(b, n, 2, 4).transpose(1, 2)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        c = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        d = F.scaled_dot_product_attention(q, k, v, attn_mask=mask.float() * -3.0, scale=0.3)
        return self.out((a + c + d).transpose(1, 2).reshape(b, n, 8)), a
"""


def attention_mask(seed, b=2, n=5):
    mask = np.random.default_rng(seed).random((b, 1, n, n)) > 0.5
    mask[..., np.arange(n), np.arange(n)] = True  # every query keeps a key
    return mask


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_scaled_dot_product_attention_masks_mean_what_pytorch_says(layout):
    rng = np.random.default_rng(7)
    calls = [((rng.normal(size=(2, 5, 8)).astype("float32"), attention_mask(s)), {}) for s in (1, 2)]
    check_calls(SDPA, "Net()", calls, layout=layout)


def test_grouped_query_attention_is_an_error_for_now():
    assert_conversion_error(SDPA.replace("is_causal=True)", "is_causal=True, enable_gqa=True)"),
                            "`enable_gqa=True` is not supported yet")


# --- nn.MultiheadAttention (P29): PyTorch's packed in_proj parameters loaded as
# they are; boolean masks' True entries are masked out (key_padding_mask,
# attn_mask), float masks are added; weights averaged over heads or not.

MHA = HEAD + """
class Net(nn.Module):
    def __init__(self, batch_first):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, dropout=0.1, batch_first=batch_first)

    def forward(self, x, pad, causal):
        out, w = self.attn(x, x, x, key_padding_mask=pad, attn_mask=causal)
        out2, w2 = self.attn(x, x, x, need_weights=True, average_attn_weights=False)
        out3, _ = self.attn(x, x, x, need_weights=False, attn_mask=causal.float() * -2.0)
        return out, w, out2, w2, out3
"""


def masked_sequence_calls(seed, batch_first):
    """Two calls (x, key padding mask, causal mask) for a batch of 2 sequences of 5
    8-feature steps, masks in PyTorch's meaning (True: masked out)."""
    rng = np.random.default_rng(seed)
    causal = np.triu(np.ones((5, 5), dtype=bool), 1)
    calls = []
    for _ in range(2):
        x = rng.normal(size=(2, 5, 8) if batch_first else (5, 2, 8)).astype("float32")
        pad = rng.random((2, 5)) > 0.6
        pad[:, 0] = False  # every query keeps a key
        calls.append(((x, pad, causal), {}))
    return calls


@pytest.mark.parametrize("batch_first", [True, False])
def test_multihead_attention_matches_pytorch_with_its_masks(batch_first):
    check_calls(MHA, f"Net({batch_first})", masked_sequence_calls(11, batch_first))


MHA_OPTIONS = HEAD + """
class Net(nn.Module):
    def __init__(self, batch_first):
        super().__init__()
        self.cross = nn.MultiheadAttention(8, 2, kdim=6, vdim=4, add_bias_kv=True,
                                           batch_first=batch_first)
        self.zero = nn.MultiheadAttention(8, 2, bias=False, add_bias_kv=True, add_zero_attn=True,
                                          batch_first=batch_first)
        self.plain = nn.MultiheadAttention(8, 2, batch_first=batch_first)
        self.batch_first = batch_first

    def forward(self, x, keys, values, pad, causal):
        a, wa = self.cross(x, keys, values, key_padding_mask=pad)
        b, wb = self.zero(x, x, x, key_padding_mask=pad, attn_mask=causal,
                          average_attn_weights=False)
        c, _ = self.zero(x, x, x, attn_mask=causal, need_weights=False, is_causal=True)
        single = x[0] if self.batch_first else x[:, 0]
        d, wd = self.plain(single, single, single, key_padding_mask=pad[0])
        return a, wa, b, wb, c, d, wd
"""


@pytest.mark.parametrize("batch_first", [True, False])
def test_multihead_attention_options_match_pytorch(batch_first):
    """kdim/vdim (separate q/k/v_proj_weight), add_bias_kv (bias_k/bias_v appended
    to the keys and values), add_zero_attn (a zero key and value per head), bias
    False, is_causal with need_weights=False, unbatched (L, E) inputs."""
    rng = np.random.default_rng(12)

    def sequence(features):
        return rng.normal(size=(2, 5, features) if batch_first else (5, 2, features)).astype("float32")

    calls = []
    for _, pad, causal in (args for args, _ in masked_sequence_calls(12, batch_first)):
        calls.append(((sequence(8), sequence(6), sequence(4), pad, causal), {}))
    check_calls(MHA_OPTIONS, f"Net({batch_first})", calls)


# --- nn.TransformerEncoderLayer: torch.nn's composition (post- or pre-norm, relu
# or gelu), sublayers under PyTorch's names, PyTorch's masks.

ENCODER_LAYER = HEAD + """
class Net(nn.Module):
    def __init__(self, norm_first, activation, batch_first):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1,
                                                activation=activation, batch_first=batch_first,
                                                norm_first=norm_first, layer_norm_eps=1e-4)

    def forward(self, x, pad, causal):
        return self.layer(x, src_mask=causal, src_key_padding_mask=pad)
"""


@pytest.mark.parametrize("norm_first,activation,batch_first", [(False, "relu", True), (True, "gelu", False)])
def test_transformer_encoder_layer_matches_pytorch(norm_first, activation, batch_first):
    check_calls(ENCODER_LAYER, f"Net({norm_first}, {activation!r}, {batch_first})",
                masked_sequence_calls(12, batch_first))


# --- TransformerDecoderLayer, TransformerEncoder / TransformerDecoder stacks and
# nn.Transformer: torch.nn's compositions, PyTorch's state_dict names
# (`layers.0.self_attn.in_proj_weight`, `norm.weight`), PyTorch's masks.


def seq2seq_calls(seed, batch_first, aligned=True):
    """Two calls (src (S=4), tgt (T=5), src padding, tgt padding, causal (T, T)) for
    a batch of 3. With `aligned`, each source sequence keeps a prefix of its
    positions (what PyTorch's nested-tensor path needs); the second call's
    padding leaves a hole in one sequence otherwise."""
    rng = np.random.default_rng(seed)
    causal = np.triu(np.ones((5, 5), dtype=bool), 1)
    calls = []
    for hole in (False, not aligned):
        src = rng.normal(size=(3, 4, 8) if batch_first else (4, 3, 8)).astype("float32")
        tgt = rng.normal(size=(3, 5, 8) if batch_first else (5, 3, 8)).astype("float32")
        src_pad = np.arange(4) >= np.array([[4], [2], [3]])
        if hole:
            src_pad[0, 1] = True
        tgt_pad = rng.random((3, 5)) > 0.7
        tgt_pad[:, 0] = False
        calls.append(((src, tgt, src_pad, tgt_pad, causal), {}))
    return calls


DECODER_LAYER = HEAD + """
class Net(nn.Module):
    def __init__(self, norm_first, batch_first):
        super().__init__()
        self.layer = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, activation=ACTIVATION,
                                                batch_first=batch_first, norm_first=norm_first,
                                                layer_norm_eps=1e-4)

    def forward(self, memory, x, memory_pad, pad, causal):
        return self.layer(x, memory, tgt_mask=causal, tgt_key_padding_mask=pad,
                          memory_key_padding_mask=memory_pad)
"""


@pytest.mark.parametrize("norm_first,activation,batch_first", [
    (False, '"relu"', True), (True, '"gelu"', False), (False, "nn.GELU()", False)])
def test_transformer_decoder_layer_matches_pytorch(norm_first, activation, batch_first):
    check_calls(DECODER_LAYER.replace("ACTIVATION", activation),
                f"Net({norm_first}, {batch_first})", seq2seq_calls(13, batch_first))


ENCODER = HEAD + """
class Net(nn.Module):
    def __init__(self, batch_first, norm_first, nested, mask_check):
        super().__init__()
        layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, activation=ACTIVATION,
                                           batch_first=batch_first, norm_first=norm_first)
        self.encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8),
                                             enable_nested_tensor=nested, mask_check=mask_check)

    def forward(self, x, unused, pad, unused_pad, causal):
        float_pad = pad.float() * -3.0
        return (self.encoder(x, src_key_padding_mask=pad),
                self.encoder(x, src_key_padding_mask=float_pad),
                self.encoder(x, mask=causal[:4, :4]))
"""


@pytest.mark.parametrize("batch_first,norm_first,nested,mask_check,activation", [
    (True, False, True, True, '"relu"'),     # PyTorch's nested-tensor path when aligned
    (True, False, True, True, "nn.GELU()"),  # a GELU module qualifies too
    (True, False, True, False, '"gelu"'),    # mask_check=False: first positions kept
    (True, False, False, True, '"relu"'),    # enable_nested_tensor=False
    (True, True, True, True, '"relu"'),      # norm_first: no nested path
    (False, False, True, True, '"gelu"'),    # sequence first: no nested path
    (True, False, True, True, "F.gelu"),     # PyTorch's F.gelu / F.relu qualify as values
    (True, False, True, True, "F.relu"),
    (True, False, True, True, "torch.relu"),  # torch.relu is not F.relu: no nested path
])
def test_transformer_encoder_matches_pytorch_padded_positions_included(
        batch_first, norm_first, nested, mask_check, activation):
    """In inference PyTorch's TransformerEncoder may run on a nested tensor that
    leaves padded positions out: they come out 0 (then `norm`) and a float padding
    mask's non-zero entries are left out rather than added. The second call's
    padding has a hole, which mask_check sends down the ordinary path."""
    check_calls(ENCODER.replace("ACTIVATION", activation),
                f"Net({batch_first}, {norm_first}, {nested}, {mask_check})",
                seq2seq_calls(14, batch_first, aligned=False))


TRANSFORMER = HEAD + """
class Net(nn.Module):
    def __init__(self, batch_first, norm_first):
        super().__init__()
        self.transformer = nn.Transformer(8, 2, num_encoder_layers=2, num_decoder_layers=1,
                                          dim_feedforward=16, batch_first=batch_first,
                                          norm_first=norm_first, layer_norm_eps=1e-4)
        layer = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, batch_first=batch_first)
        self.decoder = nn.TransformerDecoder(layer, 2)
        self.batch_first = batch_first

    def forward(self, src, tgt, src_pad, tgt_pad, causal):
        out = self.transformer(src, tgt, tgt_mask=nn.Transformer.generate_square_subsequent_mask(5),
                               src_key_padding_mask=src_pad, tgt_key_padding_mask=tgt_pad,
                               memory_key_padding_mask=src_pad)
        size = tgt.size(1) if self.batch_first else tgt.size(0)
        plain = self.transformer(src, tgt, tgt_mask=self.transformer.generate_square_subsequent_mask(size))
        return out, plain, self.decoder(tgt, src, tgt_mask=causal, tgt_is_causal=True,
                                        memory_key_padding_mask=src_pad)
"""


@pytest.mark.parametrize("batch_first,norm_first", [(True, False), (False, True)])
def test_transformer_and_decoder_stack_match_pytorch(batch_first, norm_first):
    check_calls(TRANSFORMER, f"Net({batch_first}, {norm_first})",
                seq2seq_calls(15, batch_first))


# --- Causal masks as models build them: torch.triu / tril (functions and methods)
# and nn.Transformer.generate_square_subsequent_mask, in a buffer or in forward.

CAUSAL = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("keep", torch.tril(torch.ones(5, 5)).view(1, 1, 5, 5))
        self.proj = nn.Linear(4, 4)

    def forward(self, x):
        scores = self.proj(x) @ x.transpose(-2, -1)
        a = scores.masked_fill(self.keep[0, 0] == 0, float("-inf")).softmax(-1)
        b = (scores + nn.Transformer.generate_square_subsequent_mask(5)).softmax(-1)
        c = scores.triu(1) + torch.triu(scores, diagonal=-1) + scores.tril()
        return a, b, c
"""


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_causal_masks_built_the_usual_ways(layout):
    x = np.random.default_rng(13).normal(size=(2, 5, 4)).astype("float32")
    check_calls(CAUSAL, "Net()", [((x,), {})], layout=layout)


# --- examples/gpt_decoder.py: a GPT written the usual way (token + position
# embeddings via torch.arange(dtype=torch.long), causal self-attention with a
# `tril` buffer and masked_fill, GELU MLP, output head tied to the embedding).

GPT_SOURCE = (Path(__file__).resolve().parents[2] / "examples" / "gpt_decoder.py").read_text()


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_gpt_example_matches_pytorch(layout):
    rng = np.random.default_rng(20)
    calls = [((rng.integers(0, 64, size=(2, t)).astype("int64"),), {}) for t in (16, 9)]
    check_calls(GPT_SOURCE, "GPT()", calls, layout=layout)


def test_tied_weights_are_one_keras_variable():
    """`self.wte.weight = self.lm_head.weight`: PyTorch has one parameter for both
    modules, and so has the Keras model (training updates both at once)."""
    import warnings

    keras_ns = load_module(convert(GPT_SOURCE, "channels_last"), "gpt")
    model = keras_ns.GPT()
    # The Dense the tied layer replaced is no sublayer: Keras does not warn of
    # "unbuilt state" when the model is built.
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model(np.zeros((1, 4), "int64"))
    assert all(layer.built for layer in model._flatten_layers())
    torch_ns = {}
    exec(compile(GPT_SOURCE, "gpt_decoder.py", "exec"), torch_ns)
    torch_model = torch_ns["GPT"]()
    assert len(model.trainable_weights) == len(list(torch_model.parameters()))
    assert sum(int(np.prod(v.shape)) for v in model.trainable_weights) == \
        sum(p.numel() for p in torch_model.parameters())
    assert model.lm_head.embedding is model.wte


CASTS = HEAD + """
class Net(nn.Module):
    def forward(self, x):
        steps = torch.arange(x.size(1), dtype=torch.float32)
        odd = torch.arange(1, 9, 2)
        return (x * steps, odd, (x > 0).long(), x.int(), x.bool(), x.double(),
                torch.arange(0.5, 3.0, 0.5))
"""


def test_arange_and_dtype_casts_match_pytorch():
    x = np.random.default_rng(21).normal(size=(2, 4)).astype("float32") * 3
    check_calls(CASTS, "Net()", [((x,), {})])


EXPAND = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.class_token = nn.Parameter(torch.zeros(1, 1, 6))

    def forward(self, x):
        n, length, _ = x.shape
        torch._assert(length == 4, "expected 4 positions")
        token = self.class_token.expand(n, -1, -1)
        return torch.cat([token, x], dim=1), x[:, :1].expand(n, length, 6), x[0, 0].expand(2, 3, 6)
"""


def test_expand_and_static_asserts_match_pytorch():
    """ViT's class token: x.expand(n, -1, -1) keeps the -1 axes; torch._assert of
    sizes checks them when the model is built."""
    x = np.random.default_rng(22).normal(size=(3, 4, 6)).astype("float32")
    check_calls(EXPAND, "Net()", [((x,), {})])
    model = load_module(convert(EXPAND, "channels_last"), "expand").Net()
    with pytest.raises(AssertionError, match="expected 4 positions"):
        model(np.zeros((3, 5, 6), "float32"))


CLASS_TOKEN = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 8))

    def forward(self, x):
        n = x.shape[0]
        return torch.cat([self.cls_token.expand(n, -1, -1), x], dim=1)
"""


def test_class_token_expand_with_an_unknown_batch_size():
    # ViT's class token: in a functional model or a SavedModel signature the batch
    # size is a symbolic tensor, which `expand`'s -1 test must not compare.
    import keras

    x = np.random.default_rng(0).normal(size=(3, 5, 8)).astype("float32")
    check_calls(CLASS_TOKEN, "Net()", [((x,), {})])
    model = load_module(convert(CLASS_TOKEN, "channels_last"), "keras_class_token").Net()
    out = model(keras.Input((5, 8)))
    assert tuple(out.shape) == (None, 6, 8)
    spec = tf.TensorSpec([None, 5, 8], tf.float32)
    traced = tf.function(lambda t: model(t), input_signature=[spec]).get_concrete_function()
    assert traced.structured_outputs.shape.as_list() == [None, 6, 8]


def test_a_mask_cached_in_an_attribute_by_forward_is_an_error():
    # The PyTorch word-language-model tutorial caches its causal mask in
    # self.src_mask; a Keras layer's call cannot keep a tensor between calls.
    source = '''
import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 1)
        self.src_mask = None

    def forward(self, src):
        if self.src_mask is None or self.src_mask.size(0) != len(src):
            self.src_mask = nn.Transformer.generate_square_subsequent_mask(len(src))
        return self.encoder(src, mask=self.src_mask)
'''
    assert_conversion_error(source, "forward code keeping a tensor in `self.src_mask` between calls")


# A converted class's attribute renamed for Keras (`self.layers` is Keras'
# `layers` property: `layers_`) is renamed for that class only: a
# TransformerEncoder in the same file keeps PyTorch's `layers` for its loader.
RENAMED_LAYERS = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, batch_first=True), 1,
                                         enable_nested_tensor=False)
        self.stack = Stack()

    def forward(self, x):
        return self.stack(self.enc(x))


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(16, 16) for _ in range(2)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
'''


def test_renamed_attribute_leaves_runtime_layers_alone():
    x = np.random.default_rng(3).normal(size=(2, 5, 16)).astype("float32")
    check_calls(RENAMED_LAYERS, "Net()", [((x,), {})])


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_scaled_dot_product_attention_fully_masked_query_is_zero(layout):
    # PyTorch's safe softmax: a query whose every key is masked out (a left-padded
    # position) gets 0, not NaN, which would spread into the next layer.
    rng = np.random.default_rng(9)
    mask = attention_mask(3)
    mask[0, 0, 2, :] = False
    mask[1, 0, 0, :] = False
    check_calls(SDPA, "Net()", [((rng.normal(size=(2, 5, 8)).astype("float32"), mask), {})], layout=layout)


# Keras fills a `call` parameter named `mask` itself (from the input's Keras mask)
# when it is None and only one tensor is passed: `block(x, None)` would fail with
# "multiple values for argument 'mask'". A forward's `mask` is `mask_` in `call`.
MASK_PARAMETER = HEAD + """
class Attention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.q = nn.Linear(d, d)

    def forward(self, x, mask=None):
        s = self.q(x) @ x.transpose(1, 2)
        if mask is not None:
            s = s.masked_fill(mask, -1e9)
        return s.softmax(-1) @ x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = Attention(8)
        layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

    def forward(self, x, mask):
        causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
        return (self.attn(x, None), self.attn(x, mask), self.attn(x, mask=mask),
                self.encoder(x, None), self.encoder(x, mask=causal), self.encoder(x, causal))
"""


def test_a_forward_parameter_named_mask_is_passed_as_pytorch_passes_it():
    code = convert(MASK_PARAMETER, "channels_last")
    assert "def call(self, x, mask_=None, training=None):" in code
    assert "self.attn(x, mask_=mask_)" in code and "self.encoder(x, mask_=causal)" in code
    rng = np.random.default_rng(3)
    mask = rng.random((2, 5, 5)) < 0.3
    mask[:, :, 0] = False  # every query keeps a key
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    check_calls(MASK_PARAMETER, "Net()", [((x, mask), {})])


# A forward parameter `training` (a flag its caller passes) would repeat Keras'
# own `training` parameter: it is `training_`, and callers pass it so.
TRAINING_PARAMETER = HEAD + """
class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, d)

    def forward(self, x, training: bool = False):
        h = self.fc(x)
        if training:
            h = h * 2
        return h


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block(8)

    def forward(self, x, training=False):
        return self.block(x, training=True) + self.block(x, training) + self.block(x)
"""


def test_a_forward_parameter_named_training_is_passed_as_pytorch_passes_it():
    code = convert(TRAINING_PARAMETER, "channels_last")
    assert "def call(self, x, training_: bool = False, training=None):" in code
    assert "self.block(x, training_=True)" in code
    x = np.random.default_rng(18).normal(size=(2, 5, 8)).astype("float32")
    check_calls(TRAINING_PARAMETER, "Net()", [((x,), {}), ((x, True), {})])


# A tensor unpacked along its first axis (timm's `q, k, v = qkv`, `for row in x`):
# a graph tensor cannot be iterated in Python, so the converted code unstacks it.
UNPACKED = HEAD + """
class Attention(nn.Module):
    def __init__(self, d=8, heads=2):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv
        first, *rest = qkv.unbind(0)
        a = (q @ k.transpose(-2, -1)).softmax(-1)
        y = self.proj((a @ v).transpose(1, 2).reshape(B, N, C))
        rows = []
        for row in y:
            rows.append(row.sum(0))
        return y, torch.stack(rows), first * rest[1]
"""


def test_a_tensor_unpacked_along_its_first_axis_matches_pytorch():
    code = convert(UNPACKED, "channels_last")
    assert "q, k, v = ops.unstack(qkv, num=3)" in code and "for row in ops.unstack(y):" in code
    check_calls(UNPACKED, "Attention()", [((np.random.default_rng(5).normal(size=(2, 5, 8)).astype("float32"),), {})])


# nanoGPT's model file as written: the loss in forward when targets are given
# (F.cross_entropy, ignore_index), a parameter count printed by the constructor,
# and methods the Keras model never runs (configure_optimizers, generate) that have
# no Keras form: left out with warnings, the model converted.
NANOGPT_EXTRAS = HEAD + """
class GPT(nn.Module):
    def __init__(self, vocab=20, d=8):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.head = nn.Linear(d, vocab, bias=False)
        print("number of parameters: %.2fM" % (self.get_num_params() / 1e6,))

    def get_num_params(self):
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx, targets=None):
        logits = self.head(self.wte(idx))
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            smooth = F.cross_entropy(logits.transpose(1, 2), targets.clamp(min=0), label_smoothing=0.1,
                                     reduction="sum")
            soft = F.cross_entropy(logits, logits.detach().softmax(-1) * 0.5, reduction="none")
            return logits, loss, smooth, soft
        return logits, None

    def configure_optimizers(self, learning_rate):
        return torch.optim.AdamW(self.parameters(), lr=learning_rate)

    @torch.no_grad()
    def generate(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            logits, _ = self(idx)
            idx_next = torch.multinomial(F.softmax(logits[:, -1, :], dim=-1), num_samples=1)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx
"""


def test_nanogpt_loss_in_forward_and_methods_keras_never_runs():
    import torch2keras

    result = torch2keras.convert(NANOGPT_EXTRAS, filename="model.py")
    assert result.ok
    warnings = [d.message for d in result.diagnostics if d.severity == "warning"]
    assert any("left out `print(...)`: it calls `self.get_num_params()`" in w for w in warnings)
    # configure_optimizers converts: the runtime's AdamW, given the model itself.
    assert "return PyTorchAdamW(self, learning_rate=learning_rate)" in result.code
    assert any("left out method `generate`" in w and "torch.multinomial" in w for w in warnings)
    rng = np.random.default_rng(8)
    idx = rng.integers(0, 20, size=(2, 6)).astype("int64")
    targets = rng.integers(0, 20, size=(2, 6)).astype("int64")
    targets[0, :2] = -1  # ignored positions
    check_calls(NANOGPT_EXTRAS, "GPT()", [((idx, targets), {})])


# nn.Embedding.from_pretrained (GloVe vectors passed in): the table starts as the
# given vectors, padding row included, frozen unless freeze=False.
PRETRAINED = HEAD + """
class Net(nn.Module):
    def __init__(self, vectors):
        super().__init__()
        self.frozen = nn.Embedding.from_pretrained(vectors, padding_idx=0)
        self.tuned = nn.Embedding.from_pretrained(vectors * 2, freeze=False)
        self.fc = nn.Linear(8, 3)

    def forward(self, ids):
        return self.fc(self.frozen(ids) + self.tuned(ids))
"""


def test_embedding_from_pretrained_starts_from_the_vectors():
    vectors = torch.randn(20, 8)
    keras_ns = load_module(convert(PRETRAINED, "channels_last"), "keras_pretrained")
    model = keras_ns.Net(vectors.numpy())
    idx = ids(3)
    model(idx)
    np.testing.assert_allclose(np.asarray(model.frozen.embeddings), vectors.numpy())  # row 0 kept
    np.testing.assert_allclose(np.asarray(model.tuned.embeddings), vectors.numpy() * 2)
    assert not model.frozen.trainable and model.tuned.trainable
    check_calls(PRETRAINED.replace("def __init__(self, vectors):", "def __init__(self, vectors=None):")
                .replace("        super().__init__()\n", "        super().__init__()\n"
                         "        vectors = torch.arange(160.0).reshape(20, 8) / 100\n"),
                "Net()", [((idx,), {})])


# bentrevett's seq2seq: a boolean mask built by the caller (`src != pad`) and
# compared with 0 inside the attention block (PyTorch compares booleans as ints).
BOOL_MASK_ARGUMENT = HEAD + """
class Attn(nn.Module):
    def forward(self, scores, mask):
        return scores.masked_fill(mask == 0, -1e10).softmax(-1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = Attn()

    def forward(self, scores, src):
        mask = src != 0
        return self.attn(scores, mask)
"""


def test_boolean_mask_passed_to_a_block_and_compared_with_zero():
    rng = np.random.default_rng(9)
    src = rng.integers(0, 4, size=(2, 6)).astype("int64")
    src[:, 0] = 1
    scores = rng.normal(size=(2, 6)).astype("float32")
    check_calls(BOOL_MASK_ARGUMENT, "Net()", [((scores, src), {})])


# An encoder's and a decoder's embeddings sharing one table (seq2seq): one Keras
# layer serves both; tying two Linears is refused when converting.
TIED_EMBEDDINGS = HEAD + """
class Enc(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10, 4)
        self.fc = nn.Linear(4, 4)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Enc()
        self.decoder = Enc()
        self.decoder.embedding.weight = self.encoder.embedding.weight

    def forward(self, ids):
        x = self.decoder.fc(self.decoder.embedding(ids))
        return x @ self.encoder.embedding.weight.T + self.encoder.fc(self.encoder.embedding(ids)).sum(-1, True)
"""


def test_two_embeddings_tied_are_one_keras_layer():
    keras_ns = load_module(convert(TIED_EMBEDDINGS, "channels_last"), "keras_tied_embeddings")
    model = keras_ns.Net()
    assert model.decoder.embedding is model.encoder.embedding
    idx = ids(4, (2, 5)) % 10
    check_calls(TIED_EMBEDDINGS, "Net()", [((idx,), {})])


def test_tying_two_linears_is_an_error():
    assert_conversion_error(
        TIED_EMBEDDINGS.replace("self.decoder.embedding.weight = self.encoder.embedding.weight",
                                "self.decoder.fc.weight = self.encoder.fc.weight"),
        "weight tying between a `torch.nn.Linear` and a `torch.nn.Linear` is not supported yet")


# PyTorch quirk: TransformerDecoder deep-copies its layer, and the copy's
# __setstate__ replaces a module activation (nn.GELU(), kept in _modules) by
# F.relu; a function activation (F.gelu) is kept. The encoder keeps both.
DECODER_ACTIVATIONS = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        module_act = nn.TransformerDecoderLayer(16, 2, 32, dropout=0.0, batch_first=True, activation=nn.GELU())
        function_act = nn.TransformerDecoderLayer(16, 2, 32, dropout=0.0, batch_first=True, activation=F.gelu)
        self.a = nn.TransformerDecoder(module_act, 1)
        self.b = nn.TransformerDecoder(function_act, 1)
        self.t = nn.Transformer(16, 2, 1, 1, 32, dropout=0.0, activation=nn.GELU(), batch_first=True)

    def forward(self, x, memory):
        return self.a(x, memory), self.b(x, memory), self.t(memory, x)
"""


def test_decoder_clones_of_a_module_activation_compute_relu_as_pytorch():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(2, 5, 16)).astype("float32")
    memory = rng.normal(size=(2, 7, 16)).astype("float32")
    check_calls(DECODER_ACTIVATIONS, "Net()", [((x, memory), {})])


# The PyTorch translation tutorial's Seq2SeqTransformer: encode/decode methods
# that only the user's greedy decoding calls, converted as forward code is.
SEQ2SEQ_METHODS = HEAD + """
class Seq2Seq(nn.Module):
    def __init__(self, vocab=12, d=16):
        super().__init__()
        self.transformer = nn.Transformer(d_model=d, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                                          dim_feedforward=32, dropout=0.0)
        self.src_tok_emb = nn.Embedding(vocab, d)
        self.tgt_tok_emb = nn.Embedding(vocab, d)
        self.generator = nn.Linear(d, vocab)

    def forward(self, src, tgt):
        outs = self.transformer(self.src_tok_emb(src), self.tgt_tok_emb(tgt))
        return self.generator(outs)

    def encode(self, src, src_mask):
        return self.transformer.encoder(self.src_tok_emb(src), src_mask)

    def decode(self, tgt, memory, tgt_mask):
        return self.transformer.decoder(self.tgt_tok_emb(tgt), memory, tgt_mask)
"""


def test_methods_only_user_code_calls_convert_as_forward_code():
    import tensorflow as tf

    torch_model = load_module(SEQ2SEQ_METHODS, "torch_seq2seq").Seq2Seq().eval()
    randomize(torch_model, 0)
    keras_model = load_module(convert(SEQ2SEQ_METHODS, "channels_last"), "keras_seq2seq").Seq2Seq()
    src = ids(5, (6, 2)) % 12
    tgt = ids(6, (4, 2)) % 12
    keras_model(src, tgt)
    sys.modules["keras_seq2seq"].load_torch_state_dict(keras_model, torch_model.state_dict())
    src_mask = np.zeros((6, 6), "float32")
    tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(4)
    with torch.no_grad():
        memory = torch_model.encode(torch.from_numpy(src), torch.from_numpy(src_mask))
        out = torch_model.decode(torch.from_numpy(tgt), memory, tgt_mask)
    keras_memory = keras_model.encode(src, tf.constant(src_mask))
    keras_out = keras_model.decode(tgt, keras_memory, tf.constant(tgt_mask.numpy()))
    np.testing.assert_allclose(np.asarray(keras_memory), memory.numpy(), atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(np.asarray(keras_out), out.numpy(), atol=1e-4, rtol=1e-4)


# Sizes unknown when the graph is traced (a SavedModel / TFLite signature with
# None batch and sequence axes): nanoGPT's size assert, SDPA's default scale
# after a view(B, T, h, -1), and MultiheadAttention's 3-D mask reshape.
DYNAMIC_SIZES = HEAD + """
class Net(nn.Module):
    def __init__(self, block_size=8, d=8):
        super().__init__()
        self.block_size = block_size
        self.wte = nn.Embedding(20, d)
        self.wpe = nn.Embedding(block_size, d)
        self.mha = nn.MultiheadAttention(d, 2, batch_first=True)

    def forward(self, idx, mask):
        b, t = idx.size()
        assert t <= self.block_size, f"Cannot forward sequence of length {t}"
        x = self.wte(idx) + self.wpe(torch.arange(0, t, dtype=torch.long))
        q = x.view(b, t, 2, -1).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, q, q, is_causal=True).transpose(1, 2).reshape(b, t, -1)
        out, _ = self.mha(y, y, y, attn_mask=mask)
        return out
"""


def test_sizes_unknown_when_traced():
    torch_model = load_module(DYNAMIC_SIZES, "torch_dynamic").Net().eval()
    randomize(torch_model, 0)
    keras_ns = load_module(convert(DYNAMIC_SIZES, "channels_last"), "keras_dynamic")
    keras_model = keras_ns.Net()
    rng = np.random.default_rng(11)
    idx = rng.integers(0, 20, size=(2, 6)).astype("int64")
    mask = rng.random((4, 6, 6)) < 0.3
    mask[..., 0] = False
    keras_model(idx, mask)
    keras_ns.load_torch_state_dict(keras_model, torch_model.state_dict())
    fn = tf.function(lambda i, m: keras_model(i, m, training=False),
                     input_signature=[tf.TensorSpec((None, None), tf.int64), tf.TensorSpec((None, None, None), tf.bool)])
    for b, t in [(2, 6), (1, 3)]:
        i, m = idx[:b, :t], np.concatenate([mask[:2 * b, :t, :t]])
        with torch.no_grad():
            ref = torch_model(torch.from_numpy(i), torch.from_numpy(m)).numpy()
        np.testing.assert_allclose(np.asarray(fn(i, m)), ref, atol=1e-4, rtol=1e-4)
    with pytest.raises(AssertionError, match="Cannot forward sequence of length 9"):
        keras_model(rng.integers(0, 20, size=(1, 9)).astype("int64"), np.zeros((2, 9, 9), bool))


# The Annotated Transformer's positional encoding: a slice of a buffer marked
# requires_grad_(False), a flag, not a change of its values.
POSITIONAL_FLAG = HEAD + """
class PositionalEncoding(nn.Module):
    def __init__(self, d=8, max_len=64):
        super().__init__()
        self.register_buffer("pe", torch.randn(1, max_len, d))

    def forward(self, x):
        return x + self.pe[:, : x.size(1)].requires_grad_(False)
"""


def test_requires_grad_flag_on_a_buffer_slice():
    x = np.random.default_rng(12).normal(size=(2, 5, 8)).astype("float32")
    check_calls(POSITIONAL_FLAG, "PositionalEncoding()", [((x,), {})])


# Whisper's attention: a causal mask made by in-place methods of a temporary in
# the constructor, and heads split by a view of `*q.shape[:2]`.
WHISPER_ATTENTION = HEAD + """
import numpy as np


class Attention(nn.Module):
    def __init__(self, n_ctx=6, n_head=2):
        super().__init__()
        self.n_head = n_head
        mask = torch.empty(n_ctx, n_ctx).fill_(-np.inf).triu_(1)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, q):
        n_ctx = q.shape[1]
        q = q.view(*q.shape[:2], self.n_head, -1).permute(0, 2, 1, 3)
        w = (q @ q.transpose(-1, -2)) + self.mask[:n_ctx, :n_ctx]
        return w.softmax(-1)
"""


def test_whisper_mask_and_starred_shape_view():
    code = convert(WHISPER_ATTENTION, "channels_last")
    assert "ops.triu(" in code
    x = np.random.default_rng(13).normal(size=(2, 5, 8)).astype("float32")
    check_calls(WHISPER_ATTENTION, "Attention()", [((x,), {})])


# var / std over an axis whose size is known only when the graph runs.
DYNAMIC_VARIANCE = HEAD + """
class Net(nn.Module):
    def forward(self, x):
        return x.var(1), x.std(1, unbiased=False), torch.var(x, (1, 2), correction=0)
"""


def test_variance_over_sizes_unknown_when_traced():
    torch_model = load_module(DYNAMIC_VARIANCE, "torch_dynamic_variance").Net()
    keras_model = load_module(convert(DYNAMIC_VARIANCE, "channels_last"), "keras_dynamic_variance").Net()
    fn = tf.function(lambda x: keras_model(x), input_signature=[tf.TensorSpec((None, None, 4), tf.float32)])
    for t in (3, 7):
        x = np.random.default_rng(t).normal(size=(2, t, 4)).astype("float32")
        refs = [r.numpy() for r in torch_model(torch.from_numpy(x))]
        for got, ref in zip(fn(x), refs):
            np.testing.assert_allclose(np.asarray(got), ref, atol=1e-5, rtol=1e-5)


# Python float arithmetic on sizes read in forward code: a symbolic int32 tensor
# when the graph is traced with the size unknown, which TensorFlow's `**` and `*`
# refuse to combine with a float (and `/` makes float64 of). int() of such a
# number keeps Python's arithmetic (a static graph needs the shape as ints).
SIZE_ARITHMETIC = HEAD + """
import math


class Net(nn.Module):
    def forward(self, x):
        b, n, _ = x.shape
        q = x.reshape(b, n, 2, -1)
        d = q.size(-1)
        scale = 1.0 / math.sqrt(d)
        half = n / 2
        return (q * q.shape[-1] ** -0.5, q * scale, x.sum(-1) / math.sqrt(n) + half * 0.5,
                x * (d * 0.25 - 1), (x > 0).float().sum(-1) / n, (x > 0).float().sum() / x.numel(),
                x * torch.linspace(0, 1, n)[None, :, None])


class Grid(nn.Module):
    def forward(self, x):
        b, n, c = x.shape
        side = int(n ** 0.5)
        return x.transpose(1, 2).reshape(b, c, side, side).mean(2)
"""


def test_size_arithmetic_unknown_when_traced():
    code = flat(convert(SIZE_ARITHMETIC, "channels_last"))
    assert "ops.power(ops.shape(q)[-1], -0.5)" in code
    assert "side = int(n ** 0.5)" in code
    torch_model = load_module(SIZE_ARITHMETIC, "torch_size_arithmetic").Net()
    keras_model = load_module(convert(SIZE_ARITHMETIC, "channels_last"), "keras_size_arithmetic").Net()
    static = tf.function(lambda x: keras_model(x), input_signature=[tf.TensorSpec((2, 9, 6), tf.float32)])
    dynamic = tf.function(lambda x: keras_model(x), input_signature=[tf.TensorSpec((None, None, 6), tf.float32)])
    for t, runs in ((9, (keras_model, static, dynamic)), (4, (dynamic,))):
        x = np.random.default_rng(t).normal(size=(2, t, 6)).astype("float32")
        refs = [r.numpy() for r in torch_model(torch.from_numpy(x))]
        for run in runs:
            for got, ref in zip(run(x), refs, strict=True):
                assert np.asarray(got).dtype == ref.dtype
                np.testing.assert_allclose(np.asarray(got), ref, atol=1e-5, rtol=1e-5)
    # int() of such a number: Python's, so that a graph with static sizes has the shape as ints.
    x = np.random.default_rng(15).normal(size=(2, 9, 6)).astype("float32")
    check_calls(SIZE_ARITHMETIC, "Grid()", [((x,), {})])


# map(lambda t: ..., items) unpacked into names (lucidrains' attention blocks):
# the body applied to each item, lowered like any expression. Any other map over
# tensors is an error, not Python code left unconverted.
MAP_LAMBDA = HEAD + """
class Attention(nn.Module):
    def __init__(self, d=8, heads=2):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)

    def forward(self, x):
        b, n, _ = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q, k, v = map(lambda t: t.reshape(b, n, self.heads, -1).permute(0, 2, 1, 3), (q, k, v))
        k, v = map(lambda t: t.permute(0, 2, 1, 3) * 0.5 + q, self.qkv(x).reshape(b, n, 3, self.heads, -1).unbind(2)[1:])
        return (q @ k.transpose(-1, -2)).softmax(-1) @ v
"""


def test_map_lambda_unpacked_into_names():
    code = flat(convert(MAP_LAMBDA, "channels_last"))
    assert "map(" not in code
    x = np.random.default_rng(14).normal(size=(2, 5, 8)).astype("float32")
    check_calls(MAP_LAMBDA, "Attention()", [((x,), {})])
    assert_conversion_error(MAP_LAMBDA.replace("return (q", "q = tuple(map(lambda t: t * 2, (q, k)))[0]\n"
                                               "        return (q"),
                            "cannot tell what `map` does with the tensors it is given")


# The Annotated Transformer's clones: nn.ModuleList([copy.deepcopy(module) ...])
# of a module passed in, and `c = copy.deepcopy` applied to shared parts. Each copy
# has weights of its own (random and different here: a shared variable would
# give one copy the other's weights).
CLONES = HEAD + """
import copy


class LayerNorm(nn.Module):
    def __init__(self, features, eps=1e-6):
        super().__init__()
        self.a_2 = nn.Parameter(torch.ones(features))
        self.b_2 = nn.Parameter(torch.zeros(features))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        std = x.std(-1, keepdim=True)
        return self.a_2 * (x - mean) / (std + self.eps) + self.b_2


def clones(module, N):
    "Produce N identical layers."
    return nn.ModuleList([copy.deepcopy(module) for _ in range(N)])


class FeedForward(nn.Module):
    def __init__(self, d, hidden, dropout=0.1):
        super().__init__()
        self.w_1 = nn.Linear(d, hidden)
        self.w_2 = nn.Linear(hidden, d)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.w_2(self.dropout(self.w_1(x).relu()))


class EncoderLayer(nn.Module):
    def __init__(self, size, feed_forward, extra):
        super().__init__()
        self.feed_forward = feed_forward
        self.extra = extra
        self.norms = clones(LayerNorm(size), 2)

    def forward(self, x):
        x = x + self.feed_forward(self.norms[0](x))
        return x + self.extra(self.norms[1](x))


class Encoder(nn.Module):
    def __init__(self, layer, N):
        super().__init__()
        self.layers = clones(layer, N)
        self.norm = LayerNorm(layer.norms[0].a_2.shape[0])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)


class Model(nn.Module):
    def __init__(self, d=8, N=3):
        super().__init__()
        c = copy.deepcopy
        ff = FeedForward(d, 16)
        self.encoder = Encoder(EncoderLayer(d, c(ff), c(ff)), N)
        self.heads = nn.Sequential(*clones(nn.Linear(d, d), 2))

    def forward(self, x):
        return self.heads(self.encoder(x))
"""


def test_deepcopied_modules_have_their_own_weights():
    code = convert(CLONES, "channels_last")
    assert "return [pytorch_deepcopy(module) for _ in range(N)]" in code
    assert "c = pytorch_deepcopy" in code
    x = np.random.default_rng(16).normal(size=(2, 5, 8)).astype("float32")
    check_calls(CLONES, "Model()", [((x,), {})])


# Hugging Face's head split and merge: a shape made from x.size()[:-1] passed as
# `*new_shape`, and `*x.shape[:-2]` (a negative bound) among view's arguments.
HF_VIEW = HEAD + """
class SelfAttention(nn.Module):
    def __init__(self, hidden=8, heads=2):
        super().__init__()
        self.num_attention_heads = heads
        self.attention_head_size = hidden // heads
        self.all_head_size = hidden
        self.query = nn.Linear(hidden, hidden)

    def transpose_for_scores(self, x):
        new_x_shape = x.size()[:-1] + (self.num_attention_heads, self.attention_head_size)
        x = x.view(*new_x_shape)
        return x.permute(0, 2, 1, 3)

    def forward(self, hidden_states):
        q = self.transpose_for_scores(self.query(hidden_states))
        ctx = (q @ q.transpose(-1, -2)).softmax(-1) @ q
        ctx = ctx.permute(0, 2, 1, 3).contiguous()
        new_shape = ctx.size()[:-2] + (self.all_head_size,)
        return ctx.view(*new_shape), ctx.reshape(*ctx.shape[:-2], -1) + torch.zeros(*ctx.shape[:-2], 8)
"""


def test_starred_shapes_in_view_arguments():
    x = np.random.default_rng(17).normal(size=(2, 5, 8)).astype("float32")
    check_calls(HF_VIEW, "SelfAttention()", [((x,), {})])


# Hugging Face's LlamaRMSNorm: the input's dtype kept in a variable and given back
# with `.to(input_dtype)` (a variable assigned only dtypes is a dtype).
LLAMA_RMS_NORM = HEAD + """
class LlamaRMSNorm(nn.Module):
    def __init__(self, hidden_size=8, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states):
        input_dtype = hidden_states.dtype
        hidden_states = hidden_states.to(torch.float32)
        variance = hidden_states.pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        dtype = torch.float32
        return self.weight * hidden_states.to(input_dtype), hidden_states.to(dtype)
"""


def test_to_a_dtype_kept_in_a_variable():
    x = np.random.default_rng(19).normal(size=(2, 5, 8)).astype("float32")
    check_calls(LLAMA_RMS_NORM, "LlamaRMSNorm()", [((x,), {})])
    # A name bound to anything else too stays ambiguous: an error, not a guess.
    assert_conversion_error(LLAMA_RMS_NORM.replace("        dtype = torch.float32\n",
                                                   "        dtype = torch.float32\n        dtype = self.variance_epsilon\n"),
                            "cannot tell whether `dtype` is a device, a dtype or a tensor")


# Pooling over a sequence whose length is known only when the model runs: Kim's
# text CNN max-pools over time with F.max_pool1d(h, h.size(2)) (a window known
# then), and ceil_mode / padding need the length in their arithmetic.
DYNAMIC_POOL = HEAD + """
class TextCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 6, 3)
        self.pool = nn.MaxPool1d(3, stride=2, ceil_mode=True)
        self.avg = nn.AvgPool1d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)

    def forward(self, x):
        h = self.conv(x.transpose(1, 2)).relu()
        ps = [F.max_pool1d(i, i.size(2)).squeeze(2) for i in [h, h * 2]]  # Kim's list of feature maps
        return (F.max_pool1d(h, h.size(2)).squeeze(2), F.avg_pool1d(h, h.size(2) // 2), self.pool(h),
                self.avg(h), F.max_pool1d(h, 2, ceil_mode=True), torch.cat(ps, 1))
"""


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_pooling_over_lengths_unknown_when_traced(layout):
    if layout == "channels_last":
        # conv(x.transpose(1, 2)) of an (N, L, C) x: x is already its channels-last input.
        assert "self.conv(x)" in flat(convert(DYNAMIC_POOL, layout))
    torch_model = load_module(DYNAMIC_POOL, "torch_dynamic_pool").TextCNN()
    randomize(torch_model, 0)
    keras_ns = load_module(convert(DYNAMIC_POOL, layout), "keras_dynamic_pool")
    keras_model = keras_ns.TextCNN()
    x = np.random.default_rng(20).normal(size=(2, 9, 4)).astype("float32")
    keras_model(x)
    keras_ns.load_torch_state_dict(keras_model, torch_model.state_dict())
    dynamic = tf.function(lambda x: keras_model(x), input_signature=[tf.TensorSpec((None, None, 4), tf.float32)])
    for t in (9, 12, 7):
        x = np.random.default_rng(t).normal(size=(2, t, 4)).astype("float32")
        with torch.no_grad():
            refs = [r.numpy() for r in torch_model(torch.from_numpy(x))]
        for run in (keras_model, dynamic):
            for got, ref in zip(run(x), refs, strict=True):
                np.testing.assert_allclose(np.asarray(got), ref, atol=1e-5, rtol=1e-5)
