"""Counter-based randomness: every draw is a pure function of (seed, stream, keys).

A draw never depends on which task, partition or batch computes it, so one seed gives the same
tables on one core or on a cluster (Spark's ``rand(seed)`` depends on the partition index). The
mixer is splitmix64's finaliser applied to each key in turn, vectorised over numpy ``uint64``.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
_INV_2_53 = 1.0 / (1 << 53)


def _mix(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> _S30)
    x = x * _C1
    x = x ^ (x >> _S27)
    x = x * _C2
    return x ^ (x >> _S31)


@lru_cache(maxsize=None)
def stream_id(name: str) -> np.uint64:
    """A stable 64-bit constant per stream name (Python's ``hash`` is salted per process)."""
    return np.uint64(int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little"))


def hash64(seed: int, stream: str, *keys: np.ndarray | int) -> np.ndarray:
    """64-bit hash of (seed, stream, keys...), broadcast over the key arrays."""
    with np.errstate(over="ignore"):
        h = _mix(np.uint64(seed & 0xFFFFFFFFFFFFFFFF) ^ stream_id(stream))
        for k in keys:
            k = np.asarray(k).astype(np.uint64, copy=False)
            h = _mix(h ^ (k * _GOLDEN + _GOLDEN))
    return np.asarray(h, dtype=np.uint64)


def uniform(seed: int, stream: str, *keys: np.ndarray | int) -> np.ndarray:
    """Uniform floats in [0, 1) with 53 random bits."""
    return (hash64(seed, stream, *keys) >> _S11).astype(np.float64) * _INV_2_53


def normal(seed: int, stream: str, *keys: np.ndarray | int) -> np.ndarray:
    """Standard normal draws by Box-Muller on two independent uniforms."""
    u1 = uniform(seed, stream + ".bm1", *keys)
    u2 = uniform(seed, stream + ".bm2", *keys)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def categorical(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Index drawn by inverse CDF: ``weights`` is 1-D (shared) or 2-D (one row per draw)."""
    w = np.asarray(weights, dtype=np.float64)
    cdf = np.cumsum(w, axis=-1)
    if w.ndim == 1:
        idx = np.searchsorted(cdf / cdf[-1], u, side="right")
        return np.minimum(idx, len(w) - 1)
    scaled = u * cdf[:, -1]
    idx = (cdf <= scaled[:, None]).sum(axis=1)
    return np.minimum(idx, w.shape[1] - 1)


def poisson(u: np.ndarray, lam: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
    """Poisson counts by inverse CDF for small means and a normal approximation for large ones.

    ``z`` is a standard normal draw used where ``lam`` >= 30 (pass one from :func:`normal`).
    """
    # The running CDF sum can stop a hair below 1; keep the top uniforms inside it.
    u = np.minimum(np.asarray(u, dtype=np.float64), 1.0 - 1e-12)
    lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), u.shape)
    out = np.zeros(u.shape, dtype=np.int64)
    small = lam < 30.0
    if small.any():
        ls, us = lam[small], u[small]
        k = np.zeros(ls.shape, dtype=np.int64)
        p = np.exp(-ls)
        cdf = p.copy()
        todo = us > cdf
        # Bounded: for lam < 30 the CDF passes 1 - 1e-12 well before 120 steps.
        for step in range(1, 120):
            if not todo.any():
                break
            k[todo] += 1
            p = p * ls / step
            cdf = cdf + p
            todo &= us > cdf
        out[small] = k
    large = ~small
    if large.any():
        if z is None:
            raise ValueError("poisson: a normal draw z is needed for means of 30 or more")
        zl = np.broadcast_to(z, u.shape)[large]
        out[large] = np.maximum(0, np.rint(lam[large] + np.sqrt(lam[large]) * zl)).astype(np.int64)
    return out
