"""synth_spark.column_notes covers every published table and column, in the order the tables write them,
and the columns that may be null are the data dictionary's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from synth_spark.column_notes import NOTES, TABLE_NOTES
from synth_spark.vocabulary import NULLABLE, OUTPUT_TABLES, columns


def test_notes_cover_exactly_the_published_tables():
    assert set(NOTES) == set(OUTPUT_TABLES)


@pytest.mark.parametrize("table", OUTPUT_TABLES)
def test_notes_follow_the_columns_of_each_table(table):
    assert list(NOTES[table]) == columns(table)
    for column, note in NOTES[table].items():
        assert isinstance(note, str) and note.strip(), (table, column)
        assert "\n" not in note and "\r" not in note, (table, column)


def test_every_table_has_a_one_line_note():
    assert set(TABLE_NOTES) == set(OUTPUT_TABLES)
    assert all(note.strip() and "\n" not in note for note in TABLE_NOTES.values())


def _dictionary_nulls() -> dict[str, set[str]]:
    """The columns docs/data-dictionary.md marks "yes" in its null column, by table."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "data-dictionary.md").read_text()
    found: dict[str, set[str]] = {}
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        table = section.split("\n", 1)[0].strip().strip("`")
        rows = re.findall(r"^\| `(\w+)` \| [^|]+ \| (yes|no) \|", section, flags=re.M)
        if rows:
            found[table] = {column for column, null in rows if null == "yes"}
    return found


def test_the_nullable_columns_are_the_ones_the_data_dictionary_lets_be_null():
    assert _dictionary_nulls() == {table: set(cols) for table, cols in NULLABLE.items()}
