"""The unparser on the conformance sample: for every file CPython parses,
unparse(parse(file)) must parse (by CPython and by us) to the same AST as the file,
and keep every comment.

Comments are counted with the tokenize module (CPython's own view of them).
"""

import ast
import io
import os
import tokenize
import warnings

import pytest

import torch2keras
from corpus import corpus_files, excluded, load_exclusions, sample

SAMPLE_SIZE = int(os.environ.get("T2K_CONFORMANCE_SAMPLE", "2000"))
FILES = sample(corpus_files(), SAMPLE_SIZE)
EXCLUSIONS = load_exclusions()


def comment_count(text):
    try:
        return sum(1 for t in tokenize.generate_tokens(io.StringIO(text).readline)
                   if t.type == tokenize.COMMENT)
    except (tokenize.TokenError, SyntaxError):
        return None


@pytest.mark.parametrize("path", FILES, ids=[str(p) for p in FILES])
def test_unparse_round_trips(path):
    reason = excluded(path, EXCLUSIONS)
    if reason:
        pytest.skip(reason)
    data = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            original = ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pytest.skip("CPython rejects this file")
        try:
            expected = ast.dump(original)
        except (RecursionError, ValueError):
            pytest.skip("CPython cannot dump this file's AST")
        text = torch2keras.unparse(data)
        reparsed = ast.parse(text)
    assert ast.dump(reparsed) == expected
    assert torch2keras.dump_ast(text) == expected
    original_text = data.decode("utf-8", "replace") if b"coding" not in data[:200] else None
    if original_text is not None:
        before = comment_count(original_text)
        if before is not None:
            assert comment_count(text) == before, "comments were lost or duplicated"
