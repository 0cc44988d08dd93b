"""verify's element comparison: NaN matches NaN, an infinity matches itself."""
import math

import numpy as np

from torch2keras.verify import OutputComparison, _compare


def compare(ref, got):
    row = OutputComparison(name="output", mode="eager", shape=np.shape(ref))
    _compare(row, np.asarray(ref, "float32"), np.asarray(got, "float32"), 1e-4, 1e-4)
    return row


def test_nan_matches_nan_and_infinities_match():
    row = compare([math.nan, math.inf, -math.inf, 1.0], [math.nan, math.inf, -math.inf, 1.00001])
    assert row.ok and row.max_abs < 1e-4


def test_nan_against_a_number_or_another_infinity_fails():
    assert not compare([math.nan], [0.0]).ok
    assert not compare([1.0], [math.nan]).ok
    assert not compare([math.inf], [-math.inf]).ok
    assert not compare([1.0], [1.1]).ok
