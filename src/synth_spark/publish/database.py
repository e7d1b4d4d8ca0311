"""A dataset as Delta tables registered in the session's catalog (``--database NAME``, or
``CATALOG.SCHEMA``) instead of a folder: the handle every command opens one with.

Each table is created once with the data dictionary's table and column comments and NOT NULL on
every column that is always set (``vocabulary.NULLABLE``); Delta then refuses a null there. A
publish replaces each table's rows in one Delta commit, so replacing a dataset adds a version and
keeps the history. The manifest goes last, as the one row of ``NAME.synth_spark_manifest``: a reader
that finds a manifest finds every table written, each at the Delta version it lists.

A replace records first, as a property of the manifest table, the version each table had before it
(``synth_spark.replacing``, with its run's owner). A run killed between tables leaves that note; the
next command that opens the database (generate, verify, validate, check) finds its run dead and puts
every table back with Delta's ``RESTORE TABLE ... TO VERSION AS OF`` (dropping the tables that run
created), or, when the manifest was already written, only clears the note. While a live run replaces
the tables, readers read each at the version the manifest names.

Tables of the database that synth-spark does not write are never touched; a table with one of our
names that synth-spark did not write is refused, never replaced. Drives the session it is given and
imports no pyspark itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from synth_spark import manifest as manifests
from synth_spark.column_notes import NOTES, TABLE_NOTES
from synth_spark.failures import ConfigError, one_line
from synth_spark.publish.dataset_folder import owner_record, owner_running
from synth_spark.vocabulary import NULLABLE, OUTPUT_TABLES, column_types

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: the table holding the dataset's manifest, written last
MANIFEST_TABLE = "synth_spark_manifest"
MANIFEST_DDL = "run_id string NOT NULL, generated_at timestamp NOT NULL, manifest string NOT NULL"
#: every table property we set starts with this
PREFIX = "synth_spark."
#: the manifest table's property that records a replace under way (see the module's notes)
REPLACING = PREFIX + "replacing"


def quoted(name: str) -> str:
    return ".".join(f"`{part}`" for part in name.split("."))


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Database:
    """A database (schema) of the session's catalog that holds, or will hold, a synth-spark dataset."""

    def __init__(self, spark: SparkSession, name: str):
        self.spark, self.name = spark, name

    def table(self, table: str) -> str:
        return quoted(f"{self.name}.{table}")

    def create(self) -> None:
        if not self.exists():  # "IF NOT EXISTS" alone has the Hive metastore log an error when it does
            self.spark.sql(
                f"CREATE DATABASE IF NOT EXISTS {quoted(self.name)} COMMENT "
                f"{_literal('Synthetic creator-economy data written by synth-spark')}"
            )

    def create_manifest_table(self) -> None:
        self.spark.sql(
            f"CREATE TABLE IF NOT EXISTS {self.table(MANIFEST_TABLE)} ({MANIFEST_DDL}) USING delta "
            f"COMMENT {_literal('The manifest of the synth-spark dataset in this database: written last')} "
            f"TBLPROPERTIES ('{PREFIX}generator' = 'synth-spark')"
        )

    def exists(self) -> bool:
        """Whether the database exists; a name the catalog rejects is a one-line ConfigError."""
        try:
            self.spark.sql(f"DESCRIBE NAMESPACE {quoted(self.name)}").collect()
            return True
        except Exception as exc:  # noqa: BLE001 - the catalog's own words say what is wrong
            if any(k in str(exc) for k in ("SCHEMA_NOT_FOUND", "NoSuchNamespace", "NoSuchDatabase")):
                return False
            raise ConfigError(
                f"--database: {self.name!r} is refused by the catalog: {one_line(exc)}"
            ) from None

    def has(self, table: str) -> bool:
        return bool(self.spark.catalog.tableExists(f"{self.name}.{table}"))

    def properties(self, table: str) -> dict[str, str]:
        return {r[0]: r[1] for r in self.spark.sql(f"SHOW TBLPROPERTIES {self.table(table)}").collect()}

    def ours(self) -> list[str]:
        """The tables of a synth-spark dataset this database holds. A table with one of our names that
        synth-spark did not write, or whose columns are not the ones this version writes, is refused."""
        if not self.exists():
            return []
        found = []
        for table in (*OUTPUT_TABLES, MANIFEST_TABLE):
            if not self.has(table):
                continue
            if self.properties(table).get(f"{PREFIX}generator") != manifests.GENERATOR:
                raise ConfigError(
                    f"--database: {self.name}.{table} exists and synth-spark did not write it; "
                    "give another database (synth-spark never replaces a table it did not write)"
                )
            want = (
                MANIFEST_DDL.replace(" NOT NULL", "")
                if table == MANIFEST_TABLE
                else ", ".join(f"{c} {t}" for c, t in column_types(table).items())
            )
            have = ", ".join(
                f"{f.name} {f.dataType.simpleString()}" for f in self.spark.table(self.table(table)).schema
            )
            if have != want:
                raise ConfigError(
                    f"--database: {self.name}.{table} has other columns than synth-spark writes now "
                    f"({have}); drop it or give another database"
                )
            found.append(table)
        return found

    def check_target(self, overwrite: bool) -> None:
        """Refuse, before any work, a database we must not write (one line, exit 2)."""
        if self.ours() and not overwrite:
            raise ConfigError(
                f"--database: {self.name} already holds a synth-spark dataset; pass --overwrite to "
                "replace it (a new Delta version of each table: the history stays)"
            )

    def create_table(self, table: str) -> None:
        types = column_types(table)
        notes = NOTES[table]
        columns = ", ".join(
            f"`{c}` {t}{'' if c in NULLABLE[table] else ' NOT NULL'} COMMENT {_literal(notes[c])}"
            for c, t in types.items()
        )
        self.spark.sql(
            f"CREATE TABLE IF NOT EXISTS {self.table(table)} ({columns}) USING delta "
            f"COMMENT {_literal(TABLE_NOTES[table])} TBLPROPERTIES ('{PREFIX}generator' = 'synth-spark')"
        )

    def set_properties(self, table: str, props: dict[str, str]) -> None:
        pairs = ", ".join(f"{_literal(PREFIX + k)} = {_literal(v)}" for k, v in props.items())
        self.spark.sql(f"ALTER TABLE {self.table(table)} SET TBLPROPERTIES ({pairs})")

    def version(self, table: str) -> int:
        return int(self.spark.sql(f"DESCRIBE HISTORY {self.table(table)} LIMIT 1").first()["version"])

    def location(self, table: str) -> str:
        return str(self.spark.sql(f"DESCRIBE DETAIL {self.table(table)}").first()["location"])

    def read(self, table: str, version: int | None = None):
        """A table as it is now, or at ``version`` (time travel)."""
        if version is None:
            return self.spark.table(self.table(table))
        return self.spark.sql(f"SELECT * FROM {self.table(table)} VERSION AS OF {int(version)}")

    def replacing(self) -> dict | None:
        """The note of a replace under way (or cut short): its run, owner and the versions before it."""
        if not self.exists() or not self.has(MANIFEST_TABLE):
            return None
        try:
            note = json.loads(self.properties(MANIFEST_TABLE).get(REPLACING) or "null")
        except ValueError:
            return None
        return note if isinstance(note, dict) and isinstance(note.get("versions"), dict) else None

    def reading_versions(self, manifest: dict) -> dict[str, int]:
        """The version to read each table at: the manifest's while a run replaces them, else the
        latest as it is now (an edit made later to a table of ours is then seen by verify)."""
        latest = {t: self.version(t) for t in manifest["tables"] if self.has(t)}
        if self.replacing() is None:  # looked at after: a replace begun before has its note by now
            return latest
        return {
            t: e["data_version"]
            for t, e in manifest["tables"].items()
            if isinstance(e.get("data_version"), int)
        }

    def recover(self, say: Callable[[str], None]) -> None:
        """Finish or undo a replace that a dead run left (see the module's notes); a live run's is left
        alone."""
        note = self.replacing()
        if note is None or owner_running(note.get("owner") or {}):
            return
        row = self.spark.table(self.table(MANIFEST_TABLE)).select("run_id").first()
        if row is not None and row["run_id"] == note.get("run_id"):
            self.end_replace()
            say(f"completed an interrupted replace of {self.name}: it holds the dataset that run generated")
            return
        for table, version in note["versions"].items():
            if table not in OUTPUT_TABLES or not self.has(table):
                continue
            if version is None:  # that run created it
                if self.properties(table).get(f"{PREFIX}generator") == manifests.GENERATOR:
                    self.spark.sql(f"DROP TABLE {self.table(table)}")
            elif self.version(table) != version:
                self.spark.sql(f"RESTORE TABLE {self.table(table)} TO VERSION AS OF {int(version)}")
        if row is None and not note.get("manifest_existed", True):
            self.spark.sql(f"DROP TABLE {self.table(MANIFEST_TABLE)}")
        else:
            self.end_replace()
        say(f"restored {self.name} to the dataset it held before a replace that did not finish")

    def begin_replace(self, run_id: str) -> None:
        """Record the versions the tables have before a replace, on the manifest table (created if
        need be)."""
        existed = self.has(MANIFEST_TABLE)
        self.create_manifest_table()
        versions = {t: self.version(t) if self.has(t) else None for t in OUTPUT_TABLES}
        note = {"run_id": run_id, "owner": owner_record(), "manifest_existed": existed, "versions": versions}
        self.spark.sql(
            f"ALTER TABLE {self.table(MANIFEST_TABLE)} SET TBLPROPERTIES "
            f"({_literal(REPLACING)} = {_literal(json.dumps(note))})"
        )

    def end_replace(self) -> None:
        self.spark.sql(
            f"ALTER TABLE {self.table(MANIFEST_TABLE)} UNSET TBLPROPERTIES IF EXISTS ({_literal(REPLACING)})"
        )

    def manifest(self, name: str = "--database") -> dict:
        """The manifest of the dataset the database holds; a one-line ConfigError when it holds none."""
        if not self.exists() or not self.has(MANIFEST_TABLE):
            raise ConfigError(
                f"{name}: {self.name} holds no synth-spark dataset (no {MANIFEST_TABLE} table); "
                f"write one with 'synth-spark generate --database {self.name}'"
            )
        row = self.spark.table(self.table(MANIFEST_TABLE)).first()
        try:
            manifest = json.loads(row["manifest"]) if row else None
        except ValueError:
            manifest = None
        if not isinstance(manifest, dict) or manifest.get("generator") != manifests.GENERATOR:
            raise ConfigError(f"{name}: {self.name}.{MANIFEST_TABLE} holds no synth-spark manifest")
        return manifest
