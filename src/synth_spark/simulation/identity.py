"""Realistic identity text: countries, currencies, names, emails, creator names,
post titles and tier names.

Vocabulary comes from Faker's *static* locale word lists (provider class
attributes), loaded once and cached as numpy object arrays. Faker is never
instantiated and never called per row: per-row Faker calls would cost ~10 us each,
i.e. tens of seconds for 1.5M rows, and would pull Faker's own RNG into the
reproducibility story.

Randomness contract: nothing in this module creates random numbers. Every
function receives float64 uniforms in [0, 1) (one per row) and maps them
deterministically to values, so the caller's seeded generator fully determines
the output. Lookups iterate in fixed orders (COUNTRIES order, Faker's list
order, module tuples), never over sets or hash order.

Spreadsheet safety: no output may start with = + - @ (CSV formula injection).
Every vocabulary entry is cleaned when loaded and every template starts with a
letter or a cleaned vocabulary entry, so outputs are safe by construction;
`full_names`, which accepts arbitrary caller strings, strips explicitly.
"""

from __future__ import annotations

import importlib
import unicodedata
from functools import lru_cache

import numpy as np

from synth_spark.simulation.phrasebook import (
    BRAND_TEMPLATES,
    CATEGORY_SUFFIX,
    CATEGORY_WORDS,
    STOPWORDS,
    TIER_CLOSERS,
    TIER_NAMES,
    TIER_OPENERS,
    TIER_PERKS,
    TITLE_TEMPLATES,
    TITLE_TOPICS,
)
from synth_spark.vocabulary import CATEGORIES, POST_TYPES, UNSAFE_TEXT_START

# (ISO-3166 alpha-2, weight, Faker locale, ISO-4217). Weights roughly mirror the
# audience of English-first creator platforms: US-heavy with a long tail.
COUNTRIES: tuple[tuple[str, float, str, str], ...] = (
    ("US", 0.45, "en_US", "USD"),
    ("GB", 0.08, "en_GB", "GBP"),
    ("CA", 0.06, "en_CA", "CAD"),
    ("AU", 0.04, "en_AU", "AUD"),
    ("DE", 0.06, "de_DE", "EUR"),
    ("FR", 0.05, "fr_FR", "EUR"),
    ("ES", 0.03, "es_ES", "EUR"),
    ("IT", 0.03, "it_IT", "EUR"),
    ("NL", 0.02, "nl_NL", "EUR"),
    ("SE", 0.02, "sv_SE", "SEK"),
    ("PL", 0.02, "pl_PL", "PLN"),
    ("BR", 0.05, "pt_BR", "BRL"),
    ("MX", 0.03, "es_MX", "MXN"),
    ("JP", 0.03, "ja_JP", "JPY"),
    ("IN", 0.03, "en_IN", "INR"),
)

#: what a generated text must not start with (with the space that would follow a stripped one)
_UNSAFE_START = "".join(UNSAFE_TEXT_START) + " "
# Faker ships no person provider for en_CA / en_AU; these are the closest lists.
_LOCALE_FALLBACK = {"en_CA": "en_US", "en_AU": "en_GB"}
# ja_JP: emails and brand names need latin script. pl_PL: `last_names` is a
# placeholder ("Doe"); the real surnames live in `unisex_last_names`, which also
# avoids pairing female first names with -ski surnames.
_NAME_ATTRS = {
    "ja_JP": ("first_romanized_names", "last_romanized_names"),
    "pl_PL": ("first_names", "unisex_last_names"),
}
# NFKD leaves these letters intact, so without this table "Łukasz" -> "ukasz".
_TRANSLIT = str.maketrans(
    {
        "ß": "ss",
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "đ": "d",
        "Đ": "D",
        "ı": "i",
        "þ": "th",
        "ð": "d",
    }
)


# --------------------------------------------------------------------- helpers
def _clean(s: str) -> str:
    return " ".join(s.split()).lstrip(_UNSAFE_START)


def _obj(values) -> np.ndarray:
    """Python sequence -> 1-D object array (np.array would build a 'U' array
    or, for equal-length tuples, a 2-D one)."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _index(u, n: int) -> np.ndarray:
    """Uniforms -> integer positions in [0, n); clip guards u == 1.0 and NaN."""
    return np.clip((np.asarray(u, dtype=np.float64) * n).astype(np.int64), 0, n - 1)


def _pick(pool: tuple[np.ndarray, np.ndarray | None], u) -> np.ndarray:
    values, cum = pool
    if cum is None:
        return values[_index(u, len(values))]
    idx = np.searchsorted(cum, np.asarray(u, dtype=np.float64), side="right")
    return values[np.minimum(idx, len(values) - 1)]


def _pool(raw) -> tuple[np.ndarray, np.ndarray | None]:
    """Faker list or OrderedDict(name -> weight) -> (values, cumulative weights).
    Drops entries unusable as a person name (Dutch nobility such as
    "Bourgondië, van" or "'s Gravensande", 6-word titles)."""
    items = list(raw.items()) if isinstance(raw, dict) else [(v, 1.0) for v in raw]
    keep = [(_clean(v), w) for v, w in items if v[:1].isalpha() and "," not in v and len(v.split()) <= 3]
    values = _obj([v for v, _ in keep])
    if not isinstance(raw, dict):
        return values, None
    cum = np.cumsum([w for _, w in keep], dtype=np.float64)
    return values, cum / cum[-1]


def _provider(kind: str, locale: str):
    for loc in (locale, _LOCALE_FALLBACK.get(locale), "en_US"):
        if loc is None:
            continue
        try:
            return importlib.import_module(f"faker.providers.{kind}.{loc}").Provider
        except ModuleNotFoundError:
            continue
    raise RuntimeError(f"no Faker {kind} provider for {locale}")


@lru_cache(maxsize=None)
def _name_pools(locale: str):
    prov = _provider("person", locale)
    first_attr, last_attr = _NAME_ATTRS.get(locale, ("first_names", "last_names"))
    return _pool(getattr(prov, first_attr)), _pool(getattr(prov, last_attr))


@lru_cache(maxsize=None)
def _email_domains(locale: str) -> np.ndarray:
    # Duplicates in Faker's tuples (it_IT lists libero.it 3x) are its way of
    # weighting, so they are kept.
    prov = _provider("internet", locale)
    domains = getattr(prov, "free_email_domains", None) or _provider("internet", "en_US").free_email_domains
    return _obj([d.lower() for d in domains])


@lru_cache(maxsize=None)
def _title_words() -> tuple[np.ndarray, np.ndarray]:
    from faker.providers.lorem.en_US import Provider

    words = [w for w in Provider.word_list if len(w) >= 4 and w.islower() and w not in STOPWORDS]
    return _obj([w.title() for w in words]), _obj(words)


@lru_cache(maxsize=1)
def _country_tables():
    codes = _obj([c[0] for c in COUNTRIES])
    weights = np.array([c[1] for c in COUNTRIES], dtype=np.float64)
    cum = np.cumsum(weights) / weights.sum()
    currencies = _obj([c[3] for c in COUNTRIES])
    lookup = {c[0]: i for i, c in enumerate(COUNTRIES)}
    return codes, cum, currencies, lookup


def _country_index(country_codes) -> np.ndarray:
    # A dict lookup costs about the same as casting to 'U2' but rejects unknown
    # codes instead of silently truncating "USA" to "US".
    lookup = _country_tables()[3]
    codes = np.asarray(country_codes, dtype=object).tolist()
    try:
        return np.fromiter(map(lookup.__getitem__, codes), dtype=np.int64, count=len(codes))
    except KeyError as exc:
        raise ValueError(f"unknown country code {exc.args[0]!r}") from None


def _category_index(category) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(CATEGORIES)}
    cats = np.asarray(category, dtype=object).tolist()
    try:
        return np.fromiter(map(lookup.__getitem__, cats), dtype=np.int64, count=len(cats))
    except KeyError as exc:
        raise ValueError(f"unknown category {exc.args[0]!r}") from None


def _groups(index: np.ndarray, n_groups: int):
    """Yield (group, row positions) for each group present, in group order.
    One stable sort instead of a boolean mask per group: with 15 countries the
    masks would rescan all rows ~75 times."""
    index = np.asarray(index, dtype=np.int64)
    order = np.argsort(index.astype(np.int16), kind="stable")  # radix sort
    bounds = np.concatenate(([0], np.cumsum(np.bincount(index, minlength=n_groups))))
    for g in range(n_groups):
        if bounds[g + 1] > bounds[g]:
            yield g, order[bounds[g] : bounds[g + 1]]


def _factorize(values: list) -> tuple[np.ndarray, list]:
    """(codes, distinct values in first-seen order): lets per-name work run once
    per distinct name (a few thousand) instead of once per row."""
    lookup = {v: i for i, v in enumerate(dict.fromkeys(values))}
    codes = np.fromiter(map(lookup.__getitem__, values), dtype=np.int64, count=len(values))
    return codes, list(lookup)


def _slug(s: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", s.translate(_TRANSLIT)).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_.lower() if "a" <= ch <= "z") or "user"


# ------------------------------------------------------------------ public API
def country_index(u: np.ndarray) -> np.ndarray:
    """Position in COUNTRIES of the country each uniform draws (by COUNTRIES weight)."""
    _, cum, _, _ = _country_tables()
    return np.minimum(np.searchsorted(cum, np.asarray(u, dtype=np.float64), side="right"), len(COUNTRIES) - 1)


def draw_country(u: np.ndarray) -> np.ndarray:
    """ISO-3166 alpha-2 codes drawn by COUNTRIES weight (object array)."""
    return _country_tables()[0][country_index(u)]


def currency_for(country_codes: np.ndarray) -> np.ndarray:
    """ISO-4217 currency of each country (EUR for the euro members)."""
    return _country_tables()[2][_country_index(country_codes)]


def person_names(country_codes, u_first, u_last) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) names from the Faker locale of each row's country.
    Weighted lists (en_US, sv_SE) are sampled by their published frequencies."""
    cidx = _country_index(country_codes)
    u_first = np.asarray(u_first, dtype=np.float64)
    u_last = np.asarray(u_last, dtype=np.float64)
    first = np.empty(len(cidx), dtype=object)
    last = np.empty(len(cidx), dtype=object)
    for k, rows in _groups(cidx, len(COUNTRIES)):
        first_pool, last_pool = _name_pools(COUNTRIES[k][2])
        first[rows] = _pick(first_pool, u_first[rows])
        last[rows] = _pick(last_pool, u_last[rows])
    return first, last


def full_names(first, last) -> np.ndarray:
    """ "First Last". Inputs may come from anywhere, so a leading = + - @ is
    stripped; the check runs on distinct first names to keep the common path
    a single concatenation."""
    a = np.asarray(first, dtype=object).tolist()
    b = np.asarray(last, dtype=object).tolist()
    out = [f"{x} {y}" for x, y in zip(a, b)]
    if any(not str(x)[:1].isalnum() for x in dict.fromkeys(a)):
        out = [s.lstrip(_UNSAFE_START) for s in out]
    return _obj(out)


def ascii_slug(names) -> np.ndarray:
    """Lowercase a-z only (NFKD transliteration, "ß" -> "ss", "Ł" -> "l"...).
    Names with no latin letters left (e.g. kanji) become "user" so callers never
    get an empty local part."""
    codes, distinct = _factorize(np.asarray(names, dtype=object).tolist())
    return _obj([_slug(str(v)) for v in distinct])[codes]


#: where u_kind starts the brand band of creator_names
_BRAND_FROM = 0.70


def is_brand_name(u_kind) -> np.ndarray:
    """Whether creator_names gives a brand (rather than a person's name) for these uniforms."""
    return np.asarray(u_kind, dtype=np.float64) >= _BRAND_FROM


def creator_names(country_codes, category, u_kind, u_first, u_last, u_word) -> np.ndarray:
    """Creator / brand display names.

    u_kind < 0.45: a person's full name ("Maria Garcia");
    0.45-0.70: "<Last> <category suffix>" ("Okafor Studio");
    0.70-1.00: a category brand template around a lorem word ("The Harbor Podcast").
    Where u_kind falls inside its band picks the suffix / template, so no extra
    uniforms are needed.
    """
    first, last = person_names(country_codes, u_first, u_last)
    cat = _category_index(category)
    u_kind = np.asarray(u_kind, dtype=np.float64)
    words = _title_words()[0]
    word = words[_index(u_word, len(words))]
    # band 0 = person, 1 = "<Last> <Suffix>", 2 = brand template
    band = np.searchsorted([0.45, _BRAND_FROM], u_kind, side="right")
    out = np.empty(len(cat), dtype=object)

    rows = np.flatnonzero(band == 0)
    out[rows] = full_names(first[rows], last[rows])
    for c, rows in _groups(cat, len(CATEGORIES)):
        name = CATEGORIES[c]
        r = rows[band[rows] == 1]
        suffixes = _obj(CATEGORY_SUFFIX[name])
        suffix = suffixes[_index((u_kind[r] - 0.45) / 0.25, len(suffixes))]
        out[r] = last[r] + " " + suffix

        r = rows[band[rows] == 2]
        templates = BRAND_TEMPLATES[name]
        for t, sub in _groups(
            _index((u_kind[r] - _BRAND_FROM) / (1 - _BRAND_FROM), len(templates)), len(templates)
        ):
            out[r[sub]] = _obj(list(map(templates[t].format, word[r[sub]].tolist())))
    return out


def post_titles(category, post_type, post_number, u_template, u_w1, u_w2) -> np.ndarray:
    """Post titles that fit the creator's category and the post's type (POST_TYPES codes), from the
    category's topics, e.g. "Episode 42: The Salem Trials" (a podcast's audio), "WIP: Koi Pond" (an
    artist's image), "Poll: Next Single, Static or Wanderer?" (a musician's poll)."""
    cat = _category_index(category)
    kind = np.asarray(post_type, dtype=np.int64)
    numbers = np.asarray(post_number, dtype=np.int64)
    u_template = np.asarray(u_template, dtype=np.float64)
    u_w1, u_w2 = np.asarray(u_w1, dtype=np.float64), np.asarray(u_w2, dtype=np.float64)
    out = np.empty(len(cat), dtype=object)
    for g, rows in _groups(cat * len(POST_TYPES) + kind, len(CATEGORIES) * len(POST_TYPES)):
        category_name = CATEGORIES[g // len(POST_TYPES)]
        topics = _obj(TITLE_TOPICS[category_name])
        i1 = _index(u_w1[rows], len(topics))
        i2 = (i1 + 1 + _index(u_w2[rows], len(topics) - 1)) % len(topics)  # never the first one again
        templates = TITLE_TEMPLATES[category_name][POST_TYPES[g % len(POST_TYPES)]]
        for t, sub in _groups(_index(u_template[rows], len(templates)), len(templates)):
            r = rows[sub]
            first, second = topics[i1[sub]].tolist(), topics[i2[sub]].tolist()
            out[r] = _obj(list(map(templates[t].format, numbers[r].tolist(), first, second)))
    return out


def _by_rank(table, tier_rank, u) -> np.ndarray:
    # Ranks outside 1..4 are clamped: a 5th tier still reads as a top tier.
    rank = np.clip(np.asarray(tier_rank, dtype=np.int64), 1, len(table)) - 1
    u = np.asarray(u, dtype=np.float64)
    out = np.empty(len(rank), dtype=object)
    for r, rows in _groups(rank, len(table)):
        out[rows] = _obj(table[r])[_index(u[rows], len(table[r]))]
    return out


def tier_names(tier_rank, u) -> np.ndarray:
    """Tier name for rank 1 (cheapest) .. 4 (top), e.g. "Fan", "Inner Circle"."""
    return _by_rank(TIER_NAMES, tier_rank, u)


def tier_descriptions(tier_rank, category, u) -> np.ndarray:
    """A tier's description as its creator would write it: an opener, the perks of the rank in the
    words of the category (episodes, builds, worksheets...), a closer. One uniform picks all three
    (its digits in mixed radix)."""
    rank = np.clip(np.asarray(tier_rank, dtype=np.int64), 1, len(TIER_PERKS)) - 1
    cat = _category_index(category)
    u = np.asarray(u, dtype=np.float64) * len(TIER_OPENERS)
    opener = _index(u / len(TIER_OPENERS), len(TIER_OPENERS))
    u = (u - opener) * len(TIER_PERKS[0])
    perk = np.minimum(u.astype(np.int64), len(TIER_PERKS[0]) - 1)
    closer = _index(u - perk, len(TIER_CLOSERS))
    perks = [
        [p.format(thing=CATEGORY_WORDS[c][0], extra=CATEGORY_WORDS[c][1]) for p in by_rank]
        for c in CATEGORIES
        for by_rank in TIER_PERKS
    ]
    out = [
        f"{TIER_OPENERS[o]} {perks[c * len(TIER_PERKS) + r][k]}{TIER_CLOSERS[z]}"
        for o, c, r, k, z in zip(opener.tolist(), cat.tolist(), rank.tolist(), perk.tolist(), closer.tolist())
    ]
    return _obj(out)


def country_codes() -> list[str]:
    """Every country a creator or patron can come from, in COUNTRIES order."""
    return [c[0] for c in COUNTRIES]


def country_positions(country_codes) -> np.ndarray:
    """Position in COUNTRIES of each ISO code; an unknown code is a ValueError naming it."""
    return _country_index(country_codes)


def country_cumulative() -> np.ndarray:
    """The cumulative weights :func:`country_index` draws by, in COUNTRIES order."""
    return _country_tables()[1]
