"""Bad input is refused before Spark starts: one line naming the option, exit code 2, nothing written."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from .helpers import assert_refused, run_cli, run_main


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--scale", "-1"], "--scale"),
        (["--scale", "abc"], "--scale"),
        (["--scale", "0"], "--scale"),
        (["--partitions", "0"], "--partitions"),
        (["--format", "parquet,xml"], "--format"),
        (["--seed", "x"], "--seed"),
    ],
)
def test_bad_option_is_one_line_exit_2_and_writes_nothing(tmp_path, extra, expected):
    out = tmp_path / "out"
    done = run_cli("generate", str(out), *extra)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in done.stderr, done.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("colour: blue\n", "unknown key 'colour'"),
        ("churn:\n  pause_rate: 1.5\n", "churn.pause_rate"),
        ("creators:\n  categories: {podcasts: 0.5, video: 0.2}\n", "sum to 1"),
        ("tiers:\n  prices: {1: [2, 3], 2: [3, 9], 3: [20], 4: [75]}\n", "tier 1 prices"),
        ("window: {start: 2023-01-01, months: [1\n", "not valid YAML"),
    ],
)
def test_bad_config_is_one_line_exit_2(tmp_path, yaml_text, expected):
    conf = tmp_path / "bad.yaml"
    conf.write_text(yaml_text)
    done = run_cli("generate", str(tmp_path / "out"), "--config", str(conf))
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and expected in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_output_path_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    done = run_cli("generate", str(target))
    assert done.returncode == 2 and "is a file" in done.stderr
    assert target.read_text() == "x"


OUR_MANIFEST = '{"generator": "synth-spark", "formats": ["parquet"], "tables": {}}'


def test_existing_dataset_needs_overwrite(tmp_path):
    (tmp_path / "_manifest.json").write_text(OUR_MANIFEST)
    done = run_cli("generate", str(tmp_path))
    assert done.returncode == 2 and "--overwrite" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_manifest.json"]


# ---------------------------------------------------------------------------------------------
# every kind of bad input, through the same main() the console script runs (in-process: fast).
# Each: exit 2, exactly one stderr line naming the field, no traceback, the output folder untouched.


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param(["--scale", "nan"], ("--scale", "'nan'"), id="scale-nan"),
        pytest.param(["--scale", "inf"], ("--scale", "'inf'"), id="scale-inf"),
        pytest.param(["--scale", ""], ("--scale",), id="scale-empty"),
        pytest.param(["--partitions", "-3"], ("--partitions", "-3", "1 to 10,000"), id="partitions-negative"),
        pytest.param(["--partitions", "two"], ("--partitions", "'two'"), id="partitions-not-a-number"),
        pytest.param(["--format", "json"], ("--format", "json", "parquet, delta, csv"), id="format-unknown"),
        pytest.param(["--format", ","], ("--format",), id="format-empty"),
        pytest.param(["--seed", "-1"], ("--seed", "-1"), id="seed-negative"),
        pytest.param(["--colour", "blue"], ("--colour",), id="unknown-option"),
    ],
)
def test_bad_option_in_process(capsys, tmp_path, extra, expected):
    out = tmp_path / "out"
    code, err = run_main(capsys, "generate", str(out), *extra)
    assert_refused(code, err, *expected)
    assert not out.exists()


def test_missing_dataset(capsys):
    assert_refused(*run_main(capsys, "generate"), "DATASET", "give the output folder")


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        pytest.param(
            "payments:\n  retry_dayz: [1]\n",
            ("unknown key 'payments.retry_dayz'", "allowed here:", "retry_days"),
            id="unknown-nested-key",
        ),
        pytest.param(
            "volumes:\n  creators: many\n", ("volumes.creators", "'many'", "integer"), id="wrong-type"
        ),
        pytest.param("seed: [1, 2]\n", ("seed", "[1, 2]"), id="wrong-type-list"),
        pytest.param(
            "posts:\n  pinned_share: -0.1\n",
            ("posts.pinned_share", "-0.1", "greater than or equal to 0"),
            id="probability-negative",
        ),
        pytest.param(
            "churn:\n  paused_churn: .nan\n", ("churn.paused_churn", "nan", "finite"), id="probability-nan"
        ),
        pytest.param(
            "creators:\n  size_tiers:\n    emerging: {monthly_growth: .inf}\n",
            ("creators.size_tiers.emerging.monthly_growth", "inf", "finite"),
            id="unbounded-float-inf",
        ),
        pytest.param(
            "payments:\n  methods: {card: 0.5}\n",
            ("payments", "methods", "sum to 1", "0.82"),
            id="weights-not-one",
        ),
        pytest.param(
            "creators:\n  categories: []\n",
            ("creators.categories", "[]", "dictionary"),
            id="empty-category-list",
        ),
        pytest.param(
            "creators:\n  subcategories: {games: []}\n",
            ("subcategories", "'games'", "at least one"),
            id="empty-subcategory-list",
        ),
        pytest.param(
            "payments:\n  retry_days: []\n  retry_success: []\n",
            ("retry_days", "non-empty"),
            id="empty-retry-list",
        ),
        pytest.param(
            "tiers:\n  prices: {1: []}\n", ("tiers.prices.1", "at least 1 item"), id="empty-price-list"
        ),
        pytest.param(
            "tiers:\n  prices: {3: [20, 80]}\n",
            ("tiers", "prices", "tier 3 prices [20, 80]", "tier 4 prices"),
            id="prices-out-of-order",
        ),
        pytest.param(
            "window: {months: 0}\n",
            ("window.months", "0", "greater than or equal to 1"),
            id="window-months-zero",
        ),
        pytest.param("window: {months: -6}\n", ("window.months", "-6"), id="window-end-before-start"),
        pytest.param(
            "window: {start: 2023-03-15}\n",
            ("window.start", "2023-03-15", "first day"),
            id="window-start-mid-month",
        ),
        pytest.param(
            "anomalies:\n  payment_outage: {start: 2025-02-14}\n",
            ("anomalies.payment_outage.start", "2025-02-14", "outside the window 2023-01-01 to 2024-12-31"),
            id="anomaly-after-window",
        ),
        pytest.param(
            "window: {months: 6}\n",
            ("anomalies.viral_spike.start", "outside the window"),
            id="window-shrunk-under-anomaly",
        ),
        pytest.param(
            "anomalies:\n  viral_spike: {creator_id: 5000}\n",
            ("anomalies.viral_spike.creator_id", "5000", "1 to 500"),
            id="anomaly-creator-not-in-run",
        ),
        pytest.param("scale: 0\n", ("scale", "0", "greater than 0"), id="scale-zero-in-file"),
        pytest.param("scale: .nan\n", ("scale", "nan"), id="scale-nan-in-file"),
        pytest.param("scale: lots\n", ("scale", "'lots'"), id="scale-not-a-number-in-file"),
        pytest.param(
            "creators:\n  subcategories: {games: ['=HYPERLINK(1)']}\n",
            ("creators.subcategories.games.0", "'=HYPERLINK(1)'", "formula"),
            id="formula-in-a-name",
        ),
        pytest.param(
            "payments:\n  first_attempt_failure: 1.5\n",
            ("payments.first_attempt_failure", "1.5", "less than or equal to 1"),
            id="probability-above-one",
        ),
        pytest.param("seed: 1\n\tscale: 2\n", ("--config", "not valid YAML", "line 2"), id="yaml-tab"),
        pytest.param("- seed\n", ("--config", "mapping", "list"), id="yaml-not-a-mapping"),
    ],
)
def test_bad_config_in_process(capsys, tmp_path, yaml_text, expected):
    conf = tmp_path / "bad.yaml"
    conf.write_text(yaml_text)
    out = tmp_path / "out"
    assert_refused(*run_main(capsys, "generate", str(out), "--config", str(conf)), *expected)
    assert not out.exists()


def test_unreadable_config_file(capsys, tmp_path):
    out = tmp_path / "out"
    assert_refused(
        *run_main(capsys, "generate", str(out), "--config", str(tmp_path / "nope.yaml")),
        "--config",
        "nope.yaml",
        "cannot read",
    )
    assert_refused(
        *run_main(capsys, "generate", str(out), "--config", str(tmp_path)), "--config", "cannot read"
    )
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    assert_refused(
        *run_main(capsys, "generate", str(out), "--config", str(binary)), "--config", "binary.yaml"
    )
    assert not out.exists()


def test_output_under_a_file_is_not_writable(capsys, tmp_path):
    """Tests run as root, who may write anywhere (a chmod'ed folder proves nothing), so "not writable"
    is a path below a regular file: nothing can ever be created there, whoever runs."""
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    line = assert_refused(
        *run_main(capsys, "generate", str(blocker / "sub" / "out")), "DATASET", "not writable"
    )
    assert "file.txt" in line and "is a file" in line
    assert blocker.read_text() == "x" and sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_output_in_a_read_only_folder_is_not_writable(capsys, tmp_path, monkeypatch):
    """What a non-root user meets with a read-only folder: simulated through os.access, since root passes it."""
    import synth_spark.cli as cli

    real = os.access
    monkeypatch.setattr(cli.os, "access", lambda p, mode: False if Path(p) == tmp_path else real(p, mode))
    assert_refused(
        *run_main(capsys, "generate", str(tmp_path / "out")), "DATASET", "not writable", "permission"
    )
    assert not (tmp_path / "out").exists()


def test_folder_with_format_folders_but_no_manifest_is_never_replaced(capsys, tmp_path):
    """An incomplete or foreign dataset is not ours: refused, with or without --overwrite."""
    (tmp_path / "parquet" / "creators").mkdir(parents=True)
    (tmp_path / "parquet" / "creators" / "part-0.parquet").write_text("not ours")
    for extra in ([], ["--overwrite"]):
        assert_refused(
            *run_main(capsys, "generate", str(tmp_path), *extra),
            "DATASET",
            "parquet/creators",
            "did not write",
        )
    assert (tmp_path / "parquet" / "creators" / "part-0.parquet").read_text() == "not ours"


def test_existing_dataset_needs_overwrite_in_process(capsys, tmp_path):
    (tmp_path / "_manifest.json").write_text(OUR_MANIFEST)
    (tmp_path / "parquet").mkdir()
    assert_refused(
        *run_main(capsys, "generate", str(tmp_path), "--scale", "0.1"),
        "DATASET",
        "already holds",
        "--overwrite",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_manifest.json", "parquet"]


def test_the_older_forms_still_work_with_a_note(capsys, tmp_path):
    """--out DIR and --conf FILE were the first forms: still read, with one note each on stderr."""
    conf = tmp_path / "c.yaml"
    conf.write_text("seed: true\n")
    code, err = run_main(capsys, "generate", "--out", str(tmp_path / "out"), "--conf", str(conf))
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 3, err
    assert "--out DIR is the older form" in lines[0] and "--conf is the older name of --config" in lines[1]
    assert lines[2].startswith("synth-spark: error: config: seed")


def test_version_and_a_bare_command(capsys):
    import pytest

    from synth_spark import __version__
    from synth_spark.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out.strip() == f"synth-spark {__version__}"
    assert main([]) == 2 and "generate,plan,changes,advance,validate,check,verify" in capsys.readouterr().err


def test_set_overrides_one_setting_validated_like_the_file(capsys, tmp_path):
    out = str(tmp_path / "out")
    assert_refused(
        *run_main(capsys, "generate", out, "--set", "churn.pause_rate=1.5"), "churn.pause_rate", "1.5"
    )
    assert_refused(
        *run_main(capsys, "generate", out, "--set", "churn.pause_rat=0.1"), "unknown key 'churn.pause_rat'"
    )
    assert_refused(*run_main(capsys, "generate", out, "--set", "seed"), "--set", "KEY.PATH=VALUE")
    assert_refused(
        *run_main(capsys, "generate", out, "--spark-conf", "memory=8g"), "--spark-conf", "spark.KEY=VALUE"
    )
    from synth_spark.options import setting

    assert setting("anomalies.holiday_churn.enabled=false") == {
        "anomalies": {"holiday_churn": {"enabled": False}}
    }
    assert setting("tiers.prices.1=[2, 3]") == {"tiers": {"prices": {"1": [2, 3]}}}


def _snapshot_manifest(folder: Path, as_of: str | None = "2024-11-30") -> Path:
    """A snapshot's manifest alone (seed 7, scale 0.05, anomalies on): what changes SNAPSHOT reads before
    Spark."""
    import json

    from synth_spark.config import load_config

    folder.mkdir()
    cfg = load_config(scale=0.05, seed=7)
    (folder / "_manifest.json").write_text(
        json.dumps(
            {
                "generator": "synth-spark",
                "formats": ["parquet"],
                "seed": 7,
                "scale": 0.05,
                "tables": {},
                "window": {"start": "2023-01-01", "end": "2024-12-31"},
                "config": cfg.fingerprint(),
                **({"as_of": as_of} if as_of else {}),
            }
        )
    )
    return folder


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        pytest.param({"--seed": "8"}, ("--seed: 8 is not the snapshot's seed 7",), id="seed"),
        pytest.param({"--scale": "1"}, ("--scale: 1 is not the snapshot's scale 0.05",), id="scale"),
        pytest.param(
            {"--no-anomalies": True},
            ("--no-anomalies: the snapshot was generated with anomalies on",),
            id="no-anomalies",
        ),
        pytest.param(
            {"--set": "anomalies.viral_spike.enabled=false"},
            ("--set: gives anomalies.viral_spike.enabled = false, and the snapshot has true",),
            id="set",
        ),
        pytest.param({"--config": "c.yaml"}, ("--config: gives churn.pause_rate = 0.5",), id="config"),
        pytest.param(
            {"--from": "2024-12-02"},
            ("--from: 2024-12-02 is not the day after the snapshot's day 2024-11-30", "give 2024-12-01"),
            id="from",
        ),
        pytest.param(
            {"--to": "2024-11-30"},
            ("--to: 2024-11-30 is not after the snapshot's day", "2024-12-01 to 2024-12-31"),
            id="to-not-after",
        ),
        pytest.param({"--out": "snap"}, ("--out:", "is inside the dataset"), id="out-inside-the-snapshot"),
    ],
)
def test_changes_refuses_an_option_that_disagrees_with_its_snapshot(
    capsys, tmp_path, monkeypatch, changed, expected
):
    """changes SNAPSHOT runs with the snapshot's settings and day: an option saying otherwise would write
    batches that replay onto no snapshot of these, so it is refused before any work, and nothing is written."""
    monkeypatch.chdir(tmp_path)
    _snapshot_manifest(tmp_path / "snap")
    (tmp_path / "c.yaml").write_text("churn:\n  pause_rate: 0.5\n")
    given = {"--to": "2024-12-03", "--out": "feed", **changed}
    args = [
        a
        for option, value in given.items()
        if value is not None
        for a in ([option] if value is True else [option, value])
    ]
    assert_refused(*run_main(capsys, "changes", "snap", *args), *expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml", "snap"]
    assert [p.name for p in (tmp_path / "snap").iterdir()] == ["_manifest.json"]


def test_changes_puts_its_batches_beside_the_snapshot_unless_told(tmp_path, monkeypatch):
    from synth_spark.changes_options import ChangesFields, changes_request
    from synth_spark.request import CLI

    monkeypatch.chdir(tmp_path)
    _snapshot_manifest(tmp_path / "snap")
    run = changes_request(ChangesFields(to=dt.date(2024, 12, 3), snapshot="snap"), CLI)
    assert run.feed == tmp_path / "snap-feed" / "changes"


def test_changes_refuses_what_is_no_snapshot(capsys, tmp_path):
    _snapshot_manifest(tmp_path / "whole", as_of=None)
    feed = ("--to", "2024-12-03", "--out", str(tmp_path / "f"))
    assert_refused(*run_main(capsys, "changes", str(tmp_path / "whole"), *feed), "SNAPSHOT:", "no as_of")
    assert_refused(
        *run_main(capsys, "changes", str(tmp_path / "none"), *feed), "SNAPSHOT:", "is not a folder"
    )
    assert_refused(
        *run_main(capsys, "changes", "--to", "2024-12-03"), "SNAPSHOT: give the snapshot to continue"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["whole"]
