"""Data without answers: ``generate --truth-out`` writes the ground truth to a file outside the
dataset, whose anomalies table is then empty and whose manifest names no answer; the seven tables
are the same as with the truth inside; ``questions`` lists what an analyst is asked and nothing
more; a truth file goes nowhere it should not, and replaces nothing it does not own."""

from __future__ import annotations

import json

import pytest

from synth_spark.config import ConfigError
from synth_spark.manifest import TRUTH_APART, TRUTH_IN_TABLE
from synth_spark.vocabulary import TABLE_ORDER

from .conftest import SMALL_SCALE, SMALL_SEED
from .helpers import assert_refused, read_manifest, run_cli, run_main, table_checksums


@pytest.fixture(scope="module")
def apart(tmp_path_factory):
    root = tmp_path_factory.mktemp("apart")
    done = run_cli(
        "generate", root / "data", "--seed", SMALL_SEED, "--scale", SMALL_SCALE, "--format", "parquet",
        "--truth-out", root / "truth.json", "--partitions", 2, "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return root


def test_the_truth_goes_to_its_file_and_the_dataset_holds_no_answer(apart, small_manifest):
    m = read_manifest(apart / "data")
    assert m["ground_truth"] == TRUTH_APART and small_manifest["ground_truth"] == TRUTH_IN_TABLE
    assert m["anomalies"] == [] and "data_incidents" not in m
    assert m["tables"]["anomalies"]["rows"] == 0
    doc = json.loads((apart / "truth.json").read_text())
    assert doc["format"] == "synth-spark ground truth" and doc["dataset"]["run_id"] == m["run_id"]
    kept = {i["anomaly_id"]: i for i in doc["instances"]}
    inside = {a["anomaly_id"]: a for a in small_manifest["anomalies"]}
    assert kept.keys() == inside.keys()
    for i, row in inside.items():
        assert (
            kept[i]["segment"] == json.loads(row["segment"]) and kept[i]["question_id"] == row["question_id"]
        )
    text = (apart / "data" / "_manifest.json").read_text()
    for row in inside.values():  # no answer in words either
        assert row["expected_root_cause"] not in text and row["expected_effect"] not in text


def test_the_seven_tables_are_the_same_with_the_truth_inside_or_apart(apart, small_dataset):
    ours, theirs = table_checksums(apart / "data"), table_checksums(small_dataset)
    assert {t: ours[t] for t in TABLE_ORDER} == {t: theirs[t] for t in TABLE_ORDER}


def test_questions_name_no_answer_and_are_the_same_wherever_the_truth_is(apart, small_dataset):
    done = run_cli("questions", apart / "data")
    assert done.returncode == 0, done.stderr
    asked = [json.loads(line) for line in done.stdout.splitlines()]
    assert [q["question_id"] for q in asked] == [f"Q{n}" for n in range(1, len(asked) + 1)]
    assert all(set(q) == {"question_id", "question", "kpi"} for q in asked)
    assert asked == [json.loads(line) for line in run_cli("questions", small_dataset).stdout.splitlines()]
    truth = json.loads((apart / "truth.json").read_text())["instances"]
    for q in asked:
        for inst in truth:
            for values in inst["segment"].values():
                assert not any(f" {v} " in f" {q['question']} " for v in map(str, values) if len(v) > 3)


def test_a_truth_file_inside_the_dataset_or_over_a_file_not_ours_is_refused_and_nothing_is_written(
    tmp_path, capsys
):
    (tmp_path / "notes.json").write_text('{"mine": true}')
    cases = [
        (tmp_path / "data" / "truth.json", "inside the dataset's folder"),
        (tmp_path / "notes.json", "is not a synth-spark ground truth"),
        (tmp_path / "truth.txt", "is not a .json file"),
        (tmp_path / "notes.json" / "truth.json", "is a file, not a folder"),
    ]
    for path, why in cases:
        code, err = run_main(capsys, "generate", tmp_path / "data", "--scale", "0.05", "--truth-out", path)
        assert_refused(code, err, "--truth-out", why)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.json"]
    assert (tmp_path / "notes.json").read_text() == '{"mine": true}'


def test_a_truth_of_ours_is_replaced_only_with_overwrite(apart, capsys):
    code, err = run_main(
        capsys, "generate", apart / "other", "--scale", "0.05", "--truth-out", apart / "truth.json"
    )
    assert_refused(code, err, "--truth-out", "give --overwrite")
    assert not (apart / "other").exists()


def test_a_dataset_whose_truth_is_apart_is_scored_and_validated_only_with_its_truth(
    apart, small_dataset, capsys
):
    empty = apart / "empty.json"
    empty.write_text('{"findings": []}')
    for command in (["score", apart / "data", empty], ["validate", apart / "data"]):
        code, err = run_main(capsys, *command)
        assert_refused(code, err, "--truth", "kept apart")
    code, err = run_main(capsys, "score", small_dataset, empty, "--truth", apart / "truth.json")
    assert_refused(code, err, "--truth", "answers another dataset")
    code, _ = run_main(capsys, "score", apart / "data", empty, "--truth", apart / "truth.json", "--quiet")
    assert code == 0


def test_the_library_keeps_the_truth_apart_as_the_command_line_does(spark, small_config, apart, tmp_path):
    import synth_spark

    result = synth_spark.Generator(spark, config=small_config, partitions=2).write(
        tmp_path / "data", formats="parquet", truth_out=tmp_path / "truth.json"
    )
    assert result.manifest["ground_truth"] == TRUTH_APART
    assert table_checksums(tmp_path / "data") == table_checksums(apart / "data")
    ours, theirs = (json.loads((p / "truth.json").read_text()) for p in (tmp_path, apart))
    assert ours["instances"] == theirs["instances"]
    with pytest.raises(ConfigError, match="^truth_out: .* give overwrite=True to replace it"):
        synth_spark.Generator(spark, config=small_config).write(
            tmp_path / "other", formats="parquet", truth_out=tmp_path / "truth.json"
        )


def test_validate_reads_a_truth_kept_apart_wherever_it_would_read_the_anomalies_table(
    spark, small_config, apart, small_dataset
):
    """The measures that leave an instance's rows out (the departed creators' audiences, the viral
    cohort) read the truth file as they read the table: apart, no check may lose its exclusions."""
    from synth_spark.publish.truth_file import read_truth
    from synth_spark.validation.metrics import Dataset
    from synth_spark.validation.scoring import ground_truth, with_truth_apart

    def load(root):
        window = small_config.window
        return Dataset.load(spark, str(root), window.start, window.months, read_manifest(root))

    ours, theirs = load(apart / "data"), load(small_dataset)
    with_truth_apart(ours, read_truth(apart / "truth.json", read_manifest(apart / "data")))
    assert ours.departed_creators() == theirs.departed_creators() and ours.departed_creators()[0]
    named = ["anomaly_id", "anomaly_type", "start_at", "end_at", "creator_ids"]
    assert ground_truth(ours)[named].equals(ground_truth(theirs)[named])
