"""Tests of models.gaussian: the Box-Muller draws are standard normal and independent."""

import math

import numpy as np
import pytest
from scipy import stats

from models.gaussian import standard_normal
from optics.errors import InvalidParameter


def test_draws_are_standard_normal():
    x = standard_normal(np.random.default_rng(1), 1 << 20)
    n = x.size
    assert x.dtype == np.float64 and x.shape == (n,)
    assert abs(x.mean()) < 4 / math.sqrt(n)
    assert x.var() == pytest.approx(1.0, abs=4 * math.sqrt(2 / n))
    assert stats.kurtosis(x) == pytest.approx(0.0, abs=4 * math.sqrt(24 / n))
    assert stats.kstest(x, "norm").pvalue > 1e-3
    # tails: P(|Z| > 3) = 2.70e-3, counted within 5 standard deviations of the binomial count
    p3 = 2 * stats.norm.sf(3.0)
    assert abs(np.count_nonzero(np.abs(x) > 3) - n * p3) < 5 * math.sqrt(n * p3)


def test_cosine_and_sine_branches_are_independent():
    x = standard_normal(np.random.default_rng(2), 1 << 18)
    m = x.size // 2
    a, b = x[:m], x[m:]
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / math.sqrt(m)
    assert abs(np.corrcoef(a * a, b * b)[0, 1]) < 4 / math.sqrt(m)  # same radius, yet uncorrelated squares
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) < 4 / math.sqrt(x.size)


def test_shapes_out_and_reproducibility():
    rng = np.random.default_rng(3)
    odd = standard_normal(rng, 7)
    assert odd.shape == (7,)
    assert standard_normal(rng, (3, 4)).shape == (3, 4)
    a = standard_normal(np.random.default_rng(9), 1001)
    buf = np.empty(1001)
    b = standard_normal(np.random.default_rng(9), 1001, out=buf)
    assert b is buf
    np.testing.assert_array_equal(a, b)
    # ceil(N/2) doubles, then ceil(N/2) single-precision uniforms per call: a known state after
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    standard_normal(g1, 7)
    g2.random(4)
    g2.random(4, dtype=np.float32)
    assert g1.random() == g2.random()
    with pytest.raises(InvalidParameter, match="size"):
        standard_normal(rng, -1)
    with pytest.raises(InvalidParameter, match="out"):
        standard_normal(rng, 4, out=np.empty(4, dtype=np.float32))
    with pytest.raises(InvalidParameter, match="dtype"):
        standard_normal(rng, 4, dtype=np.int32)


def test_single_precision_draws_are_the_double_ones_rounded():
    a = standard_normal(np.random.default_rng(11), 100_001)
    buf = np.empty(100_001, dtype=np.float32)
    b = standard_normal(np.random.default_rng(11), 100_001, out=buf, dtype=np.float32)
    assert b is buf and b.dtype == np.float32
    # the radius is rounded before its square root and the product is rounded: a few ulps
    np.testing.assert_allclose(b, a, rtol=4 * np.finfo(np.float32).eps, atol=1e-30)
    assert stats.kstest(b.astype(np.float64), "norm").pvalue > 1e-3
