"""synth-spark verify: every table in every format re-read and compared with the manifest; exit 0
when all match, 1 on any damage (each kind of damage on its own copy), 2 with one line on bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from synth_spark.cli import main
from synth_spark.vocabulary import OUTPUT_TABLES

from .helpers import read_manifest


def _verify(capsys, dataset: Path) -> tuple[int, list[str], str]:
    code = main(["verify", str(dataset), "--master", "local[2]"])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


@pytest.fixture
def copy(small_dataset, tmp_path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(small_dataset, target)
    return target


def test_verify_passes_on_a_fresh_copy(capsys, copy):
    code, lines, err = _verify(capsys, copy)
    assert code == 0, "\n".join(lines) + err
    table_lines = [ln for ln in lines if ln.startswith("  ")]
    assert len(table_lines) == len(OUTPUT_TABLES) * 3
    assert all(ln.split()[0] == "ok" for ln in table_lines), lines
    assert lines[-1].startswith(f"synth-spark: {len(table_lines)} of {len(table_lines)} ok, 0 failed")


def _delete_a_part_file(root: Path) -> tuple[str, str]:
    parts = sorted((root / "parquet" / "transactions").glob("part-*.parquet"))
    assert len(parts) > 1
    parts[0].unlink()
    return "parquet", "transactions"


def _alter_a_parquet_file(spark, root: Path, tmp: Path) -> tuple[str, str]:
    """Rewrite one file with one value changed: same rows and schema, different content."""
    from pyspark.sql import functions as F

    part = sorted((root / "parquet" / "pledges").glob("part-*.parquet"))[0]
    df = spark.read.parquet(str(part))
    first = df.agg(F.min("pledge_id")).first()[0]
    status = F.when(F.col("pledge_status") == "active", "churned").otherwise("active")
    df.withColumn(
        "pledge_status", F.when(F.col("pledge_id") == first, status).otherwise(F.col("pledge_status"))
    ).coalesce(1).write.parquet(str(tmp / "rewritten"))
    (rewritten,) = (tmp / "rewritten").glob("part-*.parquet")
    rewritten.replace(part)
    # with its Hadoop checksum file: otherwise Spark refuses the file before verify compares anything
    (rewritten.parent / f".{rewritten.name}.crc").replace(part.parent / f".{part.name}.crc")
    return "parquet", "pledges"


def _truncate_a_csv(root: Path) -> tuple[str, str]:
    path = root / "csv" / "engagement_events.csv"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return "csv", "engagement_events"


def _remove_a_table_folder(root: Path) -> tuple[str, str]:
    shutil.rmtree(root / "delta" / "posts")
    return "delta", "posts"


def test_verify_detects_each_damage(capsys, spark, copy, tmp_path):
    """Four kinds of damage, each to another table of one copy (a verify run reads all 24 tables and
    formats, so one run for all four keeps the suite fast): each is reported on its own line, no
    other line fails, exit code 1."""
    deleted = _delete_a_part_file(copy)
    altered = _alter_a_parquet_file(spark, copy, tmp_path)
    truncated = _truncate_a_csv(copy)
    removed = _remove_a_table_folder(copy)
    code, lines, err = _verify(capsys, copy)
    assert code == 1, "\n".join(lines) + err
    failed = {tuple(ln.split()[1:3]): ln for ln in lines if ln.startswith("  ") and ln.split()[0] != "ok"}
    assert set(failed) == {deleted, altered, truncated, removed}, lines
    assert failed[deleted].split()[0] == "MISMATCH" and "rows" in failed[deleted]
    assert (
        failed[altered].split()[0] == "MISMATCH"
        and "checksum" in failed[altered]
        and "rows" not in failed[altered]
    )
    assert failed[truncated].split()[0] in ("MISMATCH", "UNREADABLE")
    assert failed[removed].split()[0] == "MISSING"
    assert lines[-1].startswith(
        f"synth-spark: {len(OUTPUT_TABLES) * 3 - 4} of {len(OUTPUT_TABLES) * 3} ok, 4 failed"
    )


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        pytest.param(lambda d: None, "holds no _manifest.json", id="no-manifest"),
        pytest.param(
            lambda d: (d / "_manifest.json").write_text("{half"), "cannot read", id="manifest-not-json"
        ),
        pytest.param(
            lambda d: (d / "_manifest.json").write_text(json.dumps({"formats": ["parquet"]})),
            "lists no tables",
            id="manifest-without-tables",
        ),
        pytest.param(
            lambda d: (d / "_manifest.json").write_text(json.dumps({"formats": ["xml"], "tables": {}})),
            "formats",
            id="manifest-unknown-format",
        ),
    ],
)
def test_verify_bad_input_is_one_line_exit_2(capsys, tmp_path, setup, expected):
    setup(tmp_path)
    code, lines, err = _verify(capsys, tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err and "Traceback" not in err, (
        err
    )
    assert lines == []


def test_verify_of_a_missing_folder(capsys, tmp_path):
    code, _, err = _verify(capsys, tmp_path / "nope")
    assert code == 2 and "DATASET" in err and "not a folder" in err and len(err.strip().splitlines()) == 1


def _tamper(small_dataset: Path, target: Path, change) -> None:
    shutil.copytree(small_dataset, target)
    manifest = read_manifest(target)
    change(manifest)
    (target / "_manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda m: m["tables"]["creators"]["paths"].update(parquet="../other/parquet/creators"),
            "'../other/parquet/creators' for creators (parquet) is not one synth-spark writes",
            id="path-outside",
        ),
        pytest.param(
            lambda m: m["tables"]["creators"]["paths"].update(parquet="/etc"),
            "'/etc' for creators",
            id="path-absolute",
        ),
        pytest.param(
            lambda m: m["tables"].pop("pledges"), "no entry for 'pledges'", id="table-entry-removed"
        ),
        pytest.param(
            lambda m: m["tables"]["posts"]["paths"].pop("csv"),
            "lists posts in delta, parquet",
            id="format-entry-removed",
        ),
    ],
)
def test_verify_checks_the_manifest_itself(capsys, small_dataset, tmp_path, change, expected):
    """A manifest that promises less, or points outside the dataset, is refused before anything is read."""
    target = tmp_path / "copy"
    _tamper(small_dataset, target, change)
    code, lines, err = _verify(capsys, target)
    assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err, err
    assert lines == []


def test_verify_json_is_one_document_of_every_verdict_for_the_formats_asked(capsys, copy):
    code = main(
        ["verify", str(copy), "--master", "local[2]", "--format", "parquet,delta", "--json", "--quiet"]
    )
    captured = capsys.readouterr()
    document = json.loads(captured.out)  # stdout holds the document and nothing else
    manifest = read_manifest(copy)
    assert code == document["exit_code"] == 0 and document["ok"], captured.out
    assert sorted((t["table"], t["format"]) for t in document["tables"]) == sorted(
        (t, f) for t in OUTPUT_TABLES for f in ("parquet", "delta")
    )
    assert all(
        t["status"] == "ok" and manifest["tables"][t["table"]]["checksum"] in t["detail"]
        for t in document["tables"]
    )
    assert captured.err == ""  # --quiet: no progress lines
