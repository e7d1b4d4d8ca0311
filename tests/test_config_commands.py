"""``config show`` prints settings a user can save, edit and run with; ``config check`` validates a
file as generate does and lists what it changes; neither writes anything."""

from __future__ import annotations

import json
import os

import pytest

from synth_spark.config import load_config

from .helpers import assert_refused, run_main


@pytest.fixture(autouse=True)
def _in_an_empty_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield
    assert os.listdir(tmp_path) == [] or all(n.endswith(".yaml") for n in os.listdir(tmp_path))


def _printed(capsys, *args: str) -> tuple[int, str]:
    code, _ = run_main(capsys, *args)
    return code, capsys.readouterr().out


def test_the_defaults_printed_with_their_comments_are_the_defaults_a_run_uses(capsys, tmp_path):
    from synth_spark.cli import main

    assert main(["config", "show"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# ") and "  # " in text  # the comments travel with the values
    saved = tmp_path / "mine.yaml"
    saved.write_text(text)
    assert load_config(saved) == load_config()
    assert main(["config", "check", str(saved)]) == 0
    assert "is a valid config: 0 settings differ from the defaults" in capsys.readouterr().out


def test_the_settings_a_run_would_use_are_shown_with_the_values_given(capsys, tmp_path):
    from synth_spark.cli import main

    assert main(["config", "show", "--scale", "3", "--set", "churn.pause_rate=0.05"]) == 0
    saved = tmp_path / "effective.yaml"
    saved.write_text(capsys.readouterr().out)
    assert load_config(saved) == load_config(scale=3, churn={"pause_rate": 0.05})


def test_check_lists_each_setting_a_file_changes_with_its_default_and_its_value(capsys, tmp_path):
    from synth_spark.cli import main

    mine = tmp_path / "mine.yaml"
    mine.write_text("scale: 10\nanomalies:\n  viral_spike:\n    enabled: false\n")
    assert main(["config", "check", str(mine), "--seed", "7"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"synth-spark: {mine} is a valid config: 3 settings differ from the defaults"
    assert [line.split() for line in lines[1:]] == [
        ["seed", "42", "->", "7"],
        ["scale", "1.0", "->", "10.0"],
        ["anomalies.viral_spike.enabled", "true", "->", "false"],
    ]
    assert main(["config", "check", str(mine), "--json"]) == 0
    changed = json.loads(capsys.readouterr().out)["changed"]
    assert changed["anomalies.viral_spike.enabled"] == {"default": True, "given": False}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("scal: 10\n", ("unknown key 'scal'", "allowed here: seed, scale")),
        ("churn:\n  pause_rate: 7\n", ("churn.pause_rate",)),
        ("scale: [1\n", ("FILE: ", "is not valid YAML")),
    ],
)
def test_a_bad_file_is_refused_in_one_line_naming_the_setting(capsys, tmp_path, text, expected):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    assert_refused(*run_main(capsys, "config", "check", str(bad)), *expected)


def test_a_file_that_is_not_there_is_named_as_the_argument(capsys, tmp_path):
    assert_refused(
        *run_main(capsys, "config", "check", str(tmp_path / "nope.yaml")), "FILE: cannot read", "nope.yaml"
    )
