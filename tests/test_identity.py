"""Tests for synth_spark.simulation.identity: determinism, distributions, locale fidelity,
(emails: tests/test_emails.py), spreadsheet safety and a performance smoke test."""

import re

import numpy as np
import pytest

from synth_spark.simulation import emails
from synth_spark.simulation import identity as idn
from synth_spark.simulation.phrasebook import TIER_NAMES, TITLE_TEMPLATES, TITLE_TOPICS
from synth_spark.vocabulary import CATEGORIES, POST_TYPES

UNSAFE = ("=", "+", "-", "@")


def uniforms(seed: int, n: int, k: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.random(n) for _ in range(k)]


def assert_str_array(arr: np.ndarray, n: int) -> None:
    assert isinstance(arr, np.ndarray) and arr.dtype == object and arr.shape == (n,)
    assert all(type(x) is str and x for x in arr)


def assert_spreadsheet_safe(arr: np.ndarray) -> None:
    bad = [x for x in set(arr.tolist()) if x.startswith(UNSAFE)]
    assert not bad, bad[:5]


def all_outputs(seed: int, n: int = 2_000) -> dict[str, np.ndarray]:
    """Every public function on one set of uniforms, for shared property checks."""
    u = uniforms(seed, n, 12)
    country = idn.draw_country(u[0])
    category = np.asarray(CATEGORIES, dtype=object)[(u[1] * len(CATEGORIES)).astype(int)]
    first, last = idn.person_names(country, u[2], u[3])
    rank = (u[4] * 4).astype(np.int64) + 1
    return {
        "country": country,
        "currency": idn.currency_for(country),
        "first": first,
        "last": last,
        "full": idn.full_names(first, last),
        "slug": idn.ascii_slug(last),
        "creator": idn.creator_names(country, category, u[7], u[2], u[3], u[8]),
        "title": idn.post_titles(category, (u[8] * 6).astype(np.int64), np.arange(n) + 1, u[9], u[10], u[11]),
        "tier": idn.tier_names(rank, u[9]),
        "tier_desc": idn.tier_descriptions(rank, category, u[10]),
    }


def test_countries_table_is_consistent():
    codes = [c[0] for c in idn.COUNTRIES]
    assert len(codes) == len(set(codes)) == 15
    assert sum(c[1] for c in idn.COUNTRIES) == pytest.approx(1.0)
    assert dict((c[0], c[1]) for c in idn.COUNTRIES)["US"] == pytest.approx(0.45)


def test_determinism_same_and_different_uniforms():
    a, b, c = all_outputs(1), all_outputs(1), all_outputs(2)
    for key in a:
        assert_str_array(a[key], len(a[key]))
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        assert not np.array_equal(a[key], c[key]), key


def test_no_output_starts_with_formula_character():
    for key, arr in all_outputs(3).items():
        assert_spreadsheet_safe(arr)


def test_full_names_strip_formula_prefix_from_foreign_input():
    out = idn.full_names(np.array(["=cmd", "Ann"], dtype=object), np.array(["x", "Lee"], dtype=object))
    assert out.tolist() == ["cmd x", "Ann Lee"]


def test_draw_country_frequencies_match_weights():
    (u,) = uniforms(4, 200_000, 1)
    codes, counts = np.unique(idn.draw_country(u).astype(str), return_counts=True)
    freq = dict(zip(codes.tolist(), counts / len(u)))
    for code, weight, _, _ in idn.COUNTRIES:
        assert freq[code] == pytest.approx(weight, abs=0.005), code


def test_currency_mapping():
    codes = np.array(["US", "DE", "FR", "NL", "GB", "JP", "SE", "PL", "IN", "BR"], dtype=object)
    assert idn.currency_for(codes).tolist() == [
        "USD",
        "EUR",
        "EUR",
        "EUR",
        "GBP",
        "JPY",
        "SEK",
        "PLN",
        "INR",
        "BRL",
    ]
    with pytest.raises(ValueError):
        idn.currency_for(np.array(["XX"], dtype=object))


def test_japanese_names_are_romanized():
    from faker.providers.person.ja_JP import Provider

    n = 2_000
    u1, u2 = uniforms(5, n, 2)
    first, last = idn.person_names(np.full(n, "JP", dtype=object), u1, u2)
    assert all(re.fullmatch(r"[A-Za-z]+", x) for x in np.concatenate([first, last]))
    assert set(first) <= set(Provider.first_romanized_names)
    assert set(last) <= set(Provider.last_romanized_names)


def test_german_names_come_from_de_de_lists():
    from faker.providers.person.de_DE import Provider

    n = 5_000
    u1, u2 = uniforms(6, n, 2)
    first, last = idn.person_names(np.full(n, "DE", dtype=object), u1, u2)
    assert set(first) <= set(Provider.first_names)
    assert set(last) <= set(Provider.last_names)
    assert len(set(first)) > 500  # actually spread over the list


def test_mixed_countries_use_their_own_locale():
    from faker.providers.person.pt_BR import Provider as BR

    codes = np.array(["BR", "JP"] * 500, dtype=object)
    u1, u2 = uniforms(7, len(codes), 2)
    first, _ = idn.person_names(codes, u1, u2)
    assert set(first[codes == "BR"]) <= set(BR.first_names)


def test_creator_names_mix_and_categories():
    n = 20_000
    u = uniforms(10, n, 6)
    country = idn.draw_country(u[0])
    category = np.full(n, "podcasts", dtype=object)
    out = idn.creator_names(country, category, u[1], u[2], u[3], u[4])
    first, last = idn.person_names(country, u[2], u[3])
    person_share = np.mean(out == idn.full_names(first, last))
    assert 0.40 < person_share < 0.50
    assert any(re.fullmatch(r"The \w+ Podcast", x) for x in out)
    with pytest.raises(ValueError):
        idn.creator_names(
            country[:1], np.array(["cooking"], dtype=object), u[1][:1], u[2][:1], u[3][:1], u[4][:1]
        )


def test_post_titles_fit_the_category_and_the_post_type():
    n = 2_000
    u = uniforms(11, n, 3)
    nums = np.arange(n, dtype=np.int64) + 1
    audio, image = np.full(n, POST_TYPES.index("audio")), np.full(n, POST_TYPES.index("image"))
    pods = idn.post_titles(np.full(n, "podcasts", dtype=object), audio, nums, *u)
    assert any(
        t == f"Episode {k}: " + t.split(": ", 1)[1] for t, k in zip(pods, nums) if t.startswith("Episode")
    )
    games = idn.post_titles(np.full(n, "games", dtype=object), np.full(n, POST_TYPES.index("text")), nums, *u)
    topics = "|".join(re.escape(t) for t in TITLE_TOPICS["games"])
    assert any(re.fullmatch(rf"Devlog #\d+: ({topics})", t) for t in games)
    # no video or audio words on a still image, no "Episode" on an artist's print
    art = idn.post_titles(np.full(n, "visual_art", dtype=object), image, nums, *u)
    assert not any(
        re.match(r"(vlog|video|episode|process video|speedpaint|new track|demo|audio)\b", t, re.I)
        for t in art
    )
    polls = idn.post_titles(np.full(n, "music", dtype=object), np.full(n, POST_TYPES.index("poll")), nums, *u)
    assert all(re.search(r"poll|vote|pick", t, re.I) for t in polls)
    # a choice is between two different songs
    choices = [re.fullmatch(r"Poll: Next Single, (.+) or (.+)\?", t) for t in polls]
    assert any(choices) and all(c[1] != c[2] for c in choices if c)


def test_a_title_speaks_of_its_own_category():
    """No nonsense pairings: a topic in a title is one of its category's (no boss fight on a
    podcast, no chord progressions in a devlog)."""
    n = 3_000
    u = uniforms(13, n, 3)
    kinds = (u[0] * len(POST_TYPES)).astype(np.int64)
    for category, topics in TITLE_TOPICS.items():
        # (another category's topic inside one of this one's, "Wildflower" in "Wildflower Meadow", is no pairing)
        others = [
            o
            for c, ts in TITLE_TOPICS.items()
            if c != category
            for o in ts
            if not any(o in t for t in topics)
        ]
        titles = idn.post_titles(np.full(n, category, dtype=object), kinds, np.arange(n) + 1, *u)
        assert sum(any(t in title for t in topics) for title in titles) > n / 2, category
        assert not [title for title in titles if any(o in title for o in others)], category


def test_every_category_has_titles_for_every_post_type():
    for category, by_type in TITLE_TEMPLATES.items():
        assert set(by_type) == set(POST_TYPES), category
        assert all(len(t) >= 2 for t in by_type.values()), category


def test_tier_names_follow_rank():
    n = 1_000
    (u,) = uniforms(12, n, 1)
    assert set(idn.tier_names(np.ones(n, dtype=np.int64), u)) <= set(TIER_NAMES[0])
    top = idn.tier_names(np.full(n, 4), u)
    assert "Inner Circle" in set(top) and set(top) <= set(TIER_NAMES[3])
    desc = idn.tier_descriptions(np.full(n, 4), np.full(n, "games", dtype=object), u)
    assert all(d.endswith((".", "!")) for d in desc)


def test_tier_descriptions_read_like_their_creator_wrote_them():
    n = 5_000
    u, u_rank = uniforms(14, n, 2)
    rank = (u_rank * 4).astype(np.int64) + 1
    podcasts = idn.tier_descriptions(rank, np.full(n, "podcasts", dtype=object), u)
    games = idn.tier_descriptions(rank, np.full(n, "games", dtype=object), u)
    assert len(set(podcasts)) > 100
    assert any("episode" in d for d in podcasts) and not any("episode" in d for d in games)
    assert any("build" in d or "beta" in d for d in games)
    # the cheapest tier never promises what only the top tiers give
    assert not any("call" in d for d, r in zip(podcasts, rank) if r == 1)


def test_a_million_and_a_half_patrons_each_get_a_name_and_an_address_of_their_own():
    """At the scale of 100x the patrons: every one named, every address different (how long it
    takes is a figure for the bench, not a rule for a test on a shared machine)."""
    n = 1_500_000
    u = uniforms(13, n, 5)
    country = idn.draw_country(u[0])
    first, last = idn.person_names(country, u[1], u[2])
    full = idn.full_names(first, last)
    mail = emails.deduplicated(
        emails.addresses(emails.person_locals(first, last, u[3], u[4]), u[4], country),
        np.arange(n, dtype=np.int64),
    )
    assert len(full) == len(mail) == n and all(full[:1000])
    assert np.unique(mail).size == n
