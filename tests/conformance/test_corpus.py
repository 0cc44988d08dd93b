"""The parser against CPython on a fixed, seeded sample of the stdlib and
site-packages (numpy, torch, keras, tensorflow when installed): where CPython parses
a file, our dump-ast output must be byte-identical to ast.dump (with and without
attributes); where CPython rejects it, we must reject it too.

The whole corpus is run by bench/conformance_all.py.
"""

import os

import pytest

from corpus import check_file, corpus_files, excluded, load_exclusions, sample

SAMPLE_SIZE = int(os.environ.get("T2K_CONFORMANCE_SAMPLE", "2000"))
FILES = sample(corpus_files(), SAMPLE_SIZE)
EXCLUSIONS = load_exclusions()


def test_sample_is_large_enough():
    assert len(FILES) >= min(SAMPLE_SIZE, 2000)


@pytest.mark.parametrize("path", FILES, ids=[str(p) for p in FILES])
def test_file_matches_cpython(path):
    reason = excluded(path, EXCLUSIONS)
    if reason:
        pytest.skip(reason)
    problem = check_file(path)
    assert problem is None, problem
