"""Email addresses: built from the person's or the brand's name the way people choose them, never
ending in a row id, unique within a table, and on reserved example domains unless asked otherwise."""

from __future__ import annotations

import re

import numpy as np
import pytest

from synth_spark.simulation import emails
from synth_spark.simulation import identity as idn

ADDRESS = re.compile(r"^[a-z0-9._]+@[a-z0-9.-]+\.[a-z]+$")
RESERVED = re.compile(r"(^|\.)example\.(com|net|org)$")


def _people(n: int, seed: int = 8):
    rng = np.random.default_rng(seed)
    country = idn.draw_country(rng.random(n))
    first, last = idn.person_names(country, rng.random(n), rng.random(n))
    return country, first, last, rng


def _addresses(n: int, kind: str = "reserved", seed: int = 8):
    country, first, last, rng = _people(n, seed)
    local = emails.person_locals(first, last, rng.random(n), rng.random(n))
    ids = np.arange(10_000, 10_000 + n, dtype=np.int64)
    return (
        country,
        first,
        last,
        ids,
        emails.deduplicated(emails.addresses(local, rng.random(n), country, kind), ids),
    )


def test_by_default_every_address_is_on_a_reserved_domain():
    *_, out = _addresses(50_000)
    domains = {e.split("@")[1] for e in out}
    assert all(RESERVED.search(d) for d in domains), domains
    assert len(domains) >= 4


def test_lookalike_domains_follow_the_country():
    country, *_, out = _addresses(50_000, "lookalike")
    assert any(e.endswith(("@web.de", "@gmx.de")) for e in out[country == "DE"])
    assert not any(RESERVED.search(e.split("@")[1]) for e in out)


def test_an_unknown_domain_kind_is_refused():
    with pytest.raises(ValueError, match="reserved, lookalike"):
        emails.addresses(np.array(["a"], dtype=object), np.zeros(1), np.array(["US"], dtype=object), "gmail")


def test_addresses_are_unique_well_formed_and_come_from_the_name():
    country, first, last, ids, out = _addresses(200_000)
    assert len(set(out.tolist())) == out.size
    bad = [e for e in out if not ADDRESS.match(e)]
    assert not bad, bad[:5]
    local = [e.split("@")[0] for e in out]
    f, ln = idn.ascii_slug(first).tolist(), idn.ascii_slug(last).tolist()
    assert all(a in x or b in x for x, a, b in zip(local, f, ln))


def test_no_address_ends_in_its_row_id():
    *_, ids, out = _addresses(50_000)
    suffixed = [e for e, i in zip(out.tolist(), ids.tolist()) if e.split("@")[0].endswith(str(i))]
    assert not suffixed, suffixed[:5]


def test_people_use_several_patterns_some_with_a_number():
    n = 4_000
    rng = np.random.default_rng(9)
    local = emails.person_locals(
        np.full(n, "Maria", dtype=object), np.full(n, "Garcia", dtype=object), rng.random(n), rng.random(n)
    )
    shapes = {re.sub(r"\d+$", "", x) for x in local}
    assert shapes == {"maria.garcia", "mariagarcia", "mgarcia", "maria_garcia", "garcia.maria", "maria"}
    numbered = np.mean([x[-1].isdigit() for x in local])
    assert 0.4 < numbered < 0.6
    assert all(x[-1].isdigit() for x in local if x.startswith("maria") and re.fullmatch(r"maria\d+", x))


def test_names_are_transliterated():
    local = emails.person_locals(
        np.array(["Łukasz", "Jürgen", "太郎", "Anne-Marie"], dtype=object),
        np.array(["Żółć", "Groß", "山田", "O'Neill"], dtype=object),
        np.zeros(4),
        np.full(4, 0.9),
    )
    assert local.tolist() == ["lukasz.zolc", "jurgen.gross", "user.user", "annemarie.oneill"]


def test_a_brand_writes_from_its_own_name():
    names = np.array(["The Harbor Podcast", "Okafor Studio", "Tales of Quiet"], dtype=object)
    local = emails.brand_locals(names, np.array([0.0, 0.3, 0.5]))
    assert local.tolist() == ["harborpodcast", "okafor.studio", "hello.talesquiet"]


def test_the_lowest_id_keeps_a_shared_address_and_the_others_are_numbered():
    out = emails.deduplicated(
        np.array(["a@x.example", "b@x.example", "a@x.example", "a@x.example"], dtype=object),
        np.array([5, 1, 3, 9]),
    )
    assert out.tolist() == ["a.2@x.example", "b@x.example", "a@x.example", "a.3@x.example"]


def test_renaming_cannot_meet_a_drawn_address():
    # 2,000 people with one name: many draw the same address, and no drawn one ends in ".<digits>"
    n = 2_000
    rng = np.random.default_rng(3)
    local = emails.person_locals(
        np.full(n, "Ann", dtype=object), np.full(n, "Lee", dtype=object), rng.random(n), rng.random(n)
    )
    drawn = emails.addresses(local, rng.random(n), np.full(n, "US", dtype=object))
    assert len(set(drawn.tolist())) < n
    assert not any(re.search(r"\.\d+@", e) for e in drawn)
    assert len(set(emails.deduplicated(drawn, np.arange(n)).tolist())) == n


def test_spark_makes_the_same_addresses_unique_the_same_way(spark):
    from synth_spark.job.derived import _unique_emails

    n = 3_000
    rng = np.random.default_rng(4)
    local = emails.person_locals(
        np.full(n, "Ann", dtype=object), np.full(n, "Lee", dtype=object), rng.random(n), rng.random(n)
    )
    drawn = emails.addresses(local, rng.random(n), np.full(n, "US", dtype=object))
    ids = rng.permutation(n).astype(np.int64) + 1
    df = spark.createDataFrame(
        list(zip(ids.tolist(), drawn.tolist())), "patron_id bigint, email string"
    ).repartition(3)
    got = dict(_unique_emails(df, "patron_id").collect())
    assert got == dict(zip(ids.tolist(), emails.deduplicated(drawn, ids).tolist()))


def test_creators_write_from_an_address_that_matches_their_name():
    from synth_spark.config import load_config
    from synth_spark.simulation.calendar import Calendar
    from synth_spark.simulation.creators import draw_creators

    cfg = load_config(scale=1, seed=42)
    cre = draw_creators(cfg, Calendar(cfg.window))
    local = [e.split("@")[0] for e in cre["email"].tolist()]
    words = [
        [w for w in idn.ascii_slug(np.array(n.split(), dtype=object)).tolist() if len(w) >= 3]
        for n in cre["creator_name"].tolist()
    ]
    agree = np.mean([any(w in x for w in ws) for x, ws in zip(local, words)])
    assert agree > 0.9, agree
    assert len(set(cre["email"].tolist())) == len(local)
    assert all(RESERVED.search(e.split("@")[1]) for e in cre["email"].tolist())
