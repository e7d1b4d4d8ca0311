"""synth_spark.column_notes covers every published column, in the order the tables write them."""

from __future__ import annotations

import pytest

from synth_spark.column_notes import NOTES
from synth_spark.vocabulary import OUTPUT_TABLES, columns


def test_notes_cover_exactly_the_published_tables():
    assert set(NOTES) == set(OUTPUT_TABLES)


@pytest.mark.parametrize("table", OUTPUT_TABLES)
def test_notes_follow_the_columns_of_each_table(table):
    assert list(NOTES[table]) == columns(table)
    for column, note in NOTES[table].items():
        assert isinstance(note, str) and note.strip(), (table, column)
        assert "\n" not in note and "\r" not in note, (table, column)
