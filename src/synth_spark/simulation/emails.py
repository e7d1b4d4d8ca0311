"""Email addresses as people choose them: built from the person's name (or the brand's, for a
creator who publishes under one) in the patterns people use, unique within a table, and on the
reserved example domains by default (RFC 2606), so that a load test of a mail-sending pipeline can
never write to a real person. ``lookalike`` domains (each country's free-mail providers, from Faker)
are a config switch for tests that need them.

Like the rest of the identity text, nothing here draws random numbers: callers pass one uniform per
row and decision, and the output is a function of them.
"""

from __future__ import annotations

import numpy as np

from synth_spark.simulation import identity
from synth_spark.simulation.identity import (
    COUNTRIES,
    _email_domains,
    _factorize,
    _groups,
    _index,
    _obj,
    _slug,
)

#: (domain, weight): example.com/.net/.org and names under them are reserved for documentation
RESERVED_DOMAINS = (
    ("example.com", 0.40),
    ("example.net", 0.20),
    ("example.org", 0.15),
    ("mail.example.com", 0.10),
    ("inbox.example.net", 0.08),
    ("webmail.example.org", 0.07),
)
EMAIL_DOMAIN_KINDS = ("reserved", "lookalike")
#: (pattern, weight) of a person's local part: f first name, l last name, i initial
PERSON_STYLES = (
    ("{f}.{l}", 0.30),
    ("{f}{l}", 0.20),
    ("{i}{l}", 0.15),
    ("{f}_{l}", 0.10),
    ("{l}.{f}", 0.10),
    ("{f}", 0.15),
)
#: share of person addresses with a number after the name (always, for the first name alone)
NUMBER_SHARE = 0.40
#: brand addresses: the brand's words run together or dotted, or a role address
BRAND_STYLES = ("{w}", "{d}", "hello.{w}", "team.{w}", "contact.{w}")
_BRAND_FILLER = frozenset({"the", "of", "and", "a"})


def _cumulative(weights) -> np.ndarray:
    cum = np.cumsum(weights, dtype=np.float64)
    return cum / cum[-1]


def _number(u: np.ndarray) -> np.ndarray:
    """A number people put after their name: half a two-digit birth year (60-99, 00-09), half
    anything from 1 to 999. ``u`` is uniform in [0, 1)."""
    year = (60 + _index(u * 2, 50)) % 100
    free = 1 + _index(u * 2 - 1, 999)
    return np.where(u < 0.5, year, free)


def person_locals(first, last, u_style, u_number) -> np.ndarray:
    """Local parts like maria.garcia, mgarcia, garcia.maria, maria84."""
    f_codes, f_distinct = _factorize(np.asarray(first, dtype=object).tolist())
    l_codes, l_distinct = _factorize(np.asarray(last, dtype=object).tolist())
    f = _obj([_slug(str(v)) for v in f_distinct])[f_codes]
    ln = _obj([_slug(str(v)) for v in l_distinct])[l_codes]
    style = np.searchsorted(
        _cumulative([w for _, w in PERSON_STYLES]), np.asarray(u_style, dtype=np.float64), side="right"
    )
    style = np.minimum(style, len(PERSON_STYLES) - 1)
    u_number = np.asarray(u_number, dtype=np.float64)
    alone = style == len(PERSON_STYLES) - 1
    numbered = alone | (u_number < NUMBER_SHARE)
    number = _number(np.where(alone, u_number, u_number / NUMBER_SHARE) % 1.0)
    out = np.empty(len(f), dtype=object)
    for s, rows in _groups(style, len(PERSON_STYLES)):
        pattern = PERSON_STYLES[s][0]
        out[rows] = _obj(
            [pattern.format(f=a, l=b, i=a[0]) for a, b in zip(f[rows].tolist(), ln[rows].tolist())]
        )
    tail = _obj([str(n) for n in number.tolist()])
    return np.where(numbered, out + tail, out)


def brand_locals(names, u_style) -> np.ndarray:
    """Local parts of a brand: "The Harbor Podcast" -> harborpodcast, harbor.podcast, hello.harborpodcast."""
    codes, distinct = _factorize(np.asarray(names, dtype=object).tolist())
    words = [
        [w for w in map(_slug, str(v).split()) if w not in _BRAND_FILLER and w != "user"] or ["studio"]
        for v in distinct
    ]
    table = _obj([style.format(w="".join(ws), d=".".join(ws)) for ws in words for style in BRAND_STYLES])
    return table[codes * len(BRAND_STYLES) + _index(u_style, len(BRAND_STYLES))]


def addresses(local, u_domain, country_codes, kind: str = "reserved") -> np.ndarray:
    """``local@domain``: a reserved example domain, or with ``kind="lookalike"`` a free-mail
    domain of the row's country (en_US's list where Faker has none)."""
    u_domain = np.asarray(u_domain, dtype=np.float64)
    if kind == "reserved":
        pool = _obj([d for d, _ in RESERVED_DOMAINS])
        at = np.searchsorted(_cumulative([w for _, w in RESERVED_DOMAINS]), u_domain, side="right")
        domain = pool[np.minimum(at, len(pool) - 1)]
    elif kind == "lookalike":
        domain = np.empty(len(u_domain), dtype=object)
        for k, rows in _groups(identity._country_index(country_codes), len(COUNTRIES)):
            pool = _email_domains(COUNTRIES[k][2])
            domain[rows] = pool[_index(u_domain[rows], len(pool))]
    else:
        raise ValueError(f"email domains: {kind!r}; allowed: {', '.join(EMAIL_DOMAIN_KINDS)}")
    return _obj([f"{a}@{b}" for a, b in zip(np.asarray(local, dtype=object).tolist(), domain.tolist())])


def deduplicated(emails, ids) -> np.ndarray:
    """Unique addresses: where several rows drew the same address, the lowest id keeps it and the
    k-th (k >= 2, by id) becomes ``local.k@domain``. No drawn address ends its local part with a dot
    and digits, so a renamed one cannot meet another. The Spark twin is job.derived._unique_emails."""
    emails = np.asarray(emails, dtype=object)
    ids = np.asarray(ids, dtype=np.int64)
    codes, _ = _factorize(emails.tolist())
    order = np.lexsort((ids, codes))
    c = codes[order]
    start = np.r_[True, c[1:] != c[:-1]]
    group_start = np.maximum.accumulate(np.where(start, np.arange(c.size), 0))
    k = np.arange(c.size) - group_start + 1
    out = emails.copy()
    for row, n in zip(order[k > 1].tolist(), k[k > 1].tolist()):
        local, domain = out[row].rsplit("@", 1)
        out[row] = f"{local}.{n}@{domain}"
    return out
