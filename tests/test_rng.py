"""synth_spark.simulation.rng: every draw is a pure function of (seed, stream, keys), and the distributions the
simulation builds on (uniform, normal, Poisson, categorical) have the moments they claim.

Design principle 1: "Randomness comes from identity, never from placement."
"""

import math

import numpy as np
import pytest

from synth_spark.simulation import rng

N = 1_000_000
KEYS = np.arange(N, dtype=np.int64)


def _mean_tol(sd: float, n: int, sigmas: float = 5.0) -> float:
    return sigmas * sd / math.sqrt(n)


# ---------------------------------------------------------------------------------------------
# determinism and identity


def test_same_seed_stream_and_keys_give_identical_draws():
    ids = np.arange(1, 5_001, dtype=np.int64)
    months = np.arange(24)[None, :]
    a = rng.uniform(42, "pledge.start", ids[:, None], months)
    b = rng.uniform(42, "pledge.start", ids[:, None], months)
    np.testing.assert_array_equal(a, b)
    h1, h2 = rng.hash64(42, "pledge.start", ids, 3), rng.hash64(42, "pledge.start", ids, 3)
    assert h1.dtype == np.uint64
    np.testing.assert_array_equal(h1, h2)


def test_a_draw_does_not_depend_on_its_neighbours():
    """A key's draw is the same computed alone, inside a batch, or in a shuffled batch."""
    ids = np.arange(10_000, dtype=np.int64)
    full = rng.uniform(7, "churn.event", ids, 5)
    perm = np.random.default_rng(0).permutation(ids.size)
    np.testing.assert_array_equal(rng.uniform(7, "churn.event", ids[perm], 5), full[perm])
    for k in (0, 1, 4_321, 9_999):
        assert rng.uniform(7, "churn.event", k, 5) == full[k]
        assert rng.uniform(7, "churn.event", np.array([k]), 5)[0] == full[k]


def test_keys_broadcast_like_numpy():
    ids = np.arange(1, 31, dtype=np.int64)
    months = np.arange(12)
    grid = rng.uniform(3, "arrivals.n", ids[:, None], months[None, :])
    assert grid.shape == (30, 12)
    for i, m in ((0, 0), (7, 3), (29, 11)):
        assert grid[i, m] == rng.uniform(3, "arrivals.n", int(ids[i]), int(m))


def test_stream_id_is_stable_across_processes():
    """Python's hash() is salted per process; stream ids come from blake2b and must not change."""
    sid = rng.stream_id("pledge.patron")
    assert sid.dtype == np.uint64
    import hashlib

    expected = int.from_bytes(hashlib.blake2b(b"pledge.patron", digest_size=8).digest(), "little")
    assert int(sid) == expected


@pytest.mark.parametrize(
    "other",
    [
        pytest.param((43, "pledge.start", None), id="different-seed"),
        pytest.param((42, "pledge.end", None), id="different-stream"),
        pytest.param((42, "pledge.start", 1), id="key-shifted-by-one"),
    ],
)
def test_different_seed_stream_or_key_gives_different_draws(other):
    ids = np.arange(100_000, dtype=np.int64)
    base = rng.uniform(42, "pledge.start", ids)
    seed, stream, shift = other
    alt = rng.uniform(seed, stream, ids + (shift or 0))
    # essentially no coincidences, and no correlation either
    assert np.mean(base == alt) < 1e-4
    assert abs(np.corrcoef(base, alt)[0, 1]) < 0.02


def test_key_order_and_key_count_matter():
    a = rng.hash64(1, "s", np.arange(1000), 5)
    b = rng.hash64(1, "s", 5, np.arange(1000))
    c = rng.hash64(1, "s", np.arange(1000))
    d = rng.hash64(1, "s", np.arange(1000), 0)
    assert np.mean(a == b) < 0.01  # only the diagonal key (5, 5) may coincide
    assert not np.any(c == d)


def test_hash64_has_no_collisions_over_a_million_keys():
    h = rng.hash64(42, "pledge.patron", KEYS)
    assert np.unique(h).size == N


# ---------------------------------------------------------------------------------------------
# uniform


def test_uniform_lies_in_unit_interval_with_mean_one_half():
    u = rng.uniform(42, "test.uniform", KEYS)
    assert u.dtype == np.float64
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < _mean_tol(math.sqrt(1 / 12), N)
    assert abs(u.var() - 1 / 12) < 0.001


def test_uniform_histogram_is_flat():
    u = rng.uniform(42, "test.uniform", KEYS)
    bins = 100
    observed = np.bincount((u * bins).astype(np.int64), minlength=bins)
    expected = N / bins
    chi2 = ((observed - expected) ** 2 / expected).sum()
    # chi-square with 99 degrees of freedom: mean 99, sd 14; 99 + 6 sd = 183
    assert chi2 < 183, chi2
    assert np.all(np.abs(observed - expected) < 6 * math.sqrt(expected))


def test_uniform_over_a_two_key_grid_is_flat_too():
    """Draws keyed by (pledge, month) as the simulation uses them, not just by a counter."""
    u = rng.uniform(9, "churn.event", np.arange(40_000)[:, None], np.arange(25)[None, :]).ravel()
    assert abs(u.mean() - 0.5) < _mean_tol(math.sqrt(1 / 12), u.size)
    observed = np.bincount((u * 20).astype(np.int64), minlength=20)
    chi2 = ((observed - u.size / 20) ** 2 / (u.size / 20)).sum()
    assert chi2 < 19 + 6 * math.sqrt(38), chi2


def test_streams_are_uncorrelated_and_successive_keys_too():
    a = rng.uniform(42, "a", KEYS)
    b = rng.uniform(42, "b", KEYS)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.005
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 0.005


# ---------------------------------------------------------------------------------------------
# normal


def test_normal_has_mean_zero_and_sd_one():
    z = rng.normal(42, "test.normal", KEYS)
    assert np.isfinite(z).all()
    assert abs(z.mean()) < _mean_tol(1.0, N)
    assert abs(z.std() - 1.0) < 0.005
    assert abs(np.mean(z**3)) < 0.02  # symmetric
    assert abs(np.mean(np.abs(z) > 1.959964) - 0.05) < 0.002
    np.testing.assert_array_equal(z[:1000], rng.normal(42, "test.normal", KEYS[:1000]))


def test_normal_streams_are_independent():
    z1 = rng.normal(42, "x", KEYS[:200_000])
    z2 = rng.normal(42, "y", KEYS[:200_000])
    assert abs(np.corrcoef(z1, z2)[0, 1]) < 0.01


# ---------------------------------------------------------------------------------------------
# poisson


@pytest.mark.parametrize("lam", [0.5, 3.0, 12.0])
def test_poisson_small_means_by_inverse_cdf(lam):
    n = 400_000
    k = rng.poisson(rng.uniform(5, "test.poisson", KEYS[:n]), np.full(n, lam))
    assert k.dtype == np.int64 and k.min() >= 0
    assert abs(k.mean() - lam) < _mean_tol(math.sqrt(lam), n)
    # var of the sample variance of a Poisson is about (2 lam^2 + lam) / n
    assert abs(k.var() - lam) < 5 * math.sqrt((2 * lam**2 + lam) / n)
    # the mass at 0 is exp(-lam)
    p0 = math.exp(-lam)
    assert abs(np.mean(k == 0) - p0) < 5 * math.sqrt(p0 * (1 - p0) / n) + 1e-6


@pytest.mark.parametrize("lam", [50.0, 400.0])
def test_poisson_large_means_by_normal_approximation(lam):
    n = 400_000
    u = rng.uniform(5, "test.poisson", KEYS[:n])
    z = rng.normal(5, "test.poisson_z", KEYS[:n])
    k = rng.poisson(u, np.full(n, lam), z)
    assert k.min() >= 0
    assert abs(k.mean() - lam) < _mean_tol(math.sqrt(lam), n)
    # rounding a continuous normal adds 1/12 to the variance
    assert abs(k.var() - lam) < 5 * math.sqrt(2 * lam**2 / n) + 1 / 12


def test_poisson_mixes_small_and_large_means_elementwise():
    n = 100_000
    lam = np.where(np.arange(n) % 2 == 0, 2.0, 200.0)
    u = rng.uniform(1, "mix", KEYS[:n])
    z = rng.normal(1, "mix_z", KEYS[:n])
    k = rng.poisson(u, lam, z)
    assert abs(k[lam == 2.0].mean() - 2.0) < 0.05
    assert abs(k[lam == 200.0].mean() - 200.0) < 0.5
    # each element only depends on its own (u, lam, z)
    np.testing.assert_array_equal(k[:10], rng.poisson(u[:10], lam[:10], z[:10]))


def test_poisson_needs_a_normal_draw_for_large_means():
    with pytest.raises(ValueError, match="normal draw"):
        rng.poisson(np.array([0.3]), np.array([45.0]))


def test_poisson_of_zero_mean_is_zero_and_counts_grow_with_u():
    u = np.linspace(0, 1, 1001, endpoint=False)
    assert not rng.poisson(u, np.zeros_like(u)).any()
    k = rng.poisson(u, np.full_like(u, 6.0))
    assert np.all(np.diff(k) >= 0)  # inverse CDF is monotone in u


def test_poisson_top_quantile_stays_in_the_tail_of_the_distribution():
    # P(X > 60 | lam = 12) < 1e-20, far below the 2**-53 mass the top uniform represents
    u = np.array([1 - 2**-53, 1 - 2**-52])
    k = rng.poisson(u, np.array([12.0, 12.0]))
    assert k.max() <= 60, k


# ---------------------------------------------------------------------------------------------
# categorical


def test_categorical_1d_frequencies_match_weights():
    w = np.array([0.45, 0.30, 0.15, 0.0, 0.10])
    idx = rng.categorical(rng.uniform(11, "cat", KEYS), w)
    freq = np.bincount(idx, minlength=w.size) / N
    assert freq[3] == 0.0  # a zero weight is never drawn
    for f, p in zip(freq, w):
        assert abs(f - p) < 5 * math.sqrt(p * (1 - p) / N) + 1e-9


def test_categorical_1d_accepts_unnormalised_weights():
    u = rng.uniform(11, "cat", KEYS[:100_000])
    np.testing.assert_array_equal(rng.categorical(u, [2, 1, 1]), rng.categorical(u, [0.5, 0.25, 0.25]))


def test_categorical_2d_uses_each_rows_weights():
    n = 600_000
    rows = np.array([[0.6, 0.4, 0.0, 0.0], [0.52, 0.36, 0.12, 0.0], [0.48, 0.33, 0.13, 0.06]])
    which = np.arange(n) % 3
    idx = rng.categorical(rng.uniform(12, "cat2", KEYS[:n]), rows[which])
    for r, w in enumerate(rows):
        got = idx[which == r]
        freq = np.bincount(got, minlength=4) / got.size
        for f, p in zip(freq, w):
            assert abs(f - p) < 5 * math.sqrt(p * (1 - p) / got.size) + 1e-9, (r, freq)
        assert got.max() <= np.nonzero(w)[0].max()  # never beyond the row's last positive weight


def test_categorical_ends_of_the_unit_interval():
    top = 1 - 2**-53
    w = np.array([0.0, 0.7, 0.3, 0.0])
    assert rng.categorical(np.array([0.0, top]), w).tolist() == [1, 2]
    assert rng.categorical(np.array([0.0, top]), np.stack([w, w])).tolist() == [1, 2]


def test_every_stream_is_registered_once_and_drawn_only_by_its_name():
    """Two streams sharing a name would draw the same numbers; a name typed inline could silently
    collide with a registered one. So every stream lives in simulation.streams, once."""
    import ast
    import re
    from pathlib import Path

    import synth_spark
    from synth_spark.simulation import streams

    assert len(streams.ALL) == len(set(streams.ALL))
    shape = re.compile(r"^[a-z]+\.[a-z_0-9]+(\.[a-z0-9_]+)*$")
    assert all(shape.match(name) for name in streams.ALL)
    prefixes = {name.split(".")[0] for name in streams.ALL}
    package = Path(synth_spark.__file__).parent
    inline = []
    for path in package.rglob("*.py"):
        if path.name == "streams.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and shape.match(node.value)
                and node.value.split(".")[0] in prefixes
                and not node.value.endswith((".png", ".json", ".md"))
            ):
                inline.append(f"{path.relative_to(package)}:{node.lineno} {node.value!r}")
    assert not inline, inline
