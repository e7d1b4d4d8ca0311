"""Where a dataset is written: a local folder (``pathlib.Path``) or a Hadoop FileSystem URI
(``s3a://``, ``abfss://``, ``gs://``, ``hdfs://``, ``file://``) handled through the JVM's
``org.apache.hadoop.fs.FileSystem``, so the driver can stage, publish and write the manifest on
object storage exactly as Spark's executors write the tables there.

``HadoopPath`` offers the few ``pathlib`` operations publishing needs, with the same names, so the
writer has one code path for both. On object stores a folder rename is a copy and delete done by
the connector, not an atomic step: the publish journal finishes one that was cut short
(``HadoopPath.finish_move``), and the manifest is still written last, so a reader that sees one
sees a whole dataset.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
from pathlib import Path

from synth_spark.failures import ConfigError

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_uri(text: str) -> bool:
    return bool(_URI.match(text))


def location(text: str) -> Path | str:
    """``--out`` as given: a local path, or a URI kept as text until Spark is up to resolve it."""
    return text if is_uri(text) else Path(text)


def resolve(spark, where: Path | str) -> Path | "HadoopPath":
    """A local path as is; a URI as a :class:`HadoopPath` on the session's Hadoop configuration."""
    return where if isinstance(where, Path) else HadoopPath.of(spark, where)


def check_writable(out: Path) -> None:
    """Refuse a local output folder that cannot be written, before anything is written."""
    probe = out if out.exists() else next((p for p in out.parents if p.exists()), Path("/"))
    if not probe.is_dir():
        raise ConfigError(f"DATASET: {str(out)!r} is not writable: {str(probe)!r} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"DATASET: {str(out)!r} is not writable (no write permission on {str(probe)!r})")


def remove_tree(path: Path | "HadoopPath", ignore_errors: bool = False) -> None:
    if isinstance(path, HadoopPath):
        try:
            path.rmtree()
        except Exception:
            if not ignore_errors:
                raise
    else:
        shutil.rmtree(path, ignore_errors=ignore_errors)


#: a whole-write's temporary file, beside its target: this prefix and the target's name. A fixed name
#: (no random part), so a leftover is known for ours and the next whole-write of that file replaces it.
PARTIAL_PREFIX = ".synth-spark-partial-"


def partial_of(path: Path | "HadoopPath") -> Path | "HadoopPath":
    """Where a whole-write of ``path`` writes before the rename."""
    return path.parent / f"{PARTIAL_PREFIX}{path.name}"


def sync_folder(folder: Path | "HadoopPath") -> None:
    """Make the renames in a local folder durable (a no-op for Hadoop paths)."""
    if isinstance(folder, Path):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_synced(path: Path | "HadoopPath", text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all, durable before returning: written and synced
    under :func:`partial_of`'s name, then renamed over ``path``. A run killed (or out of space) in
    the middle leaves the file as it was, and at most the partial file, which the next claim removes."""
    if isinstance(path, HadoopPath):
        path.write_whole(text)
        return
    partial = partial_of(path)
    try:
        with open(partial, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)  # disk full: leave no partial file behind
        raise
    sync_folder(path.parent)


class HadoopPath:
    """A file or folder on a Hadoop FileSystem; ``str()`` is its URI, which Spark's writers take."""

    def __init__(self, jvm, conf, uri: str):
        self._jvm, self._conf = jvm, conf
        self._path = jvm.org.apache.hadoop.fs.Path(uri)
        self._fs = self._path.getFileSystem(conf)
        self._uri = str(self._fs.makeQualified(self._path).toString()).rstrip("/")

    @classmethod
    def of(cls, spark, uri: str) -> "HadoopPath":
        sc = spark.sparkContext
        return cls(sc._jvm, sc._jsc.hadoopConfiguration(), uri)

    def __str__(self) -> str:
        return self._uri

    def __repr__(self) -> str:
        return f"HadoopPath({self._uri!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, HadoopPath) and other._uri == self._uri

    def __hash__(self) -> int:
        return hash(self._uri)

    def __lt__(self, other: "HadoopPath") -> bool:
        return self._uri < other._uri

    def __truediv__(self, name: str) -> "HadoopPath":
        return HadoopPath(self._jvm, self._conf, f"{self._uri}/{name}")

    @property
    def name(self) -> str:
        return self._uri.rsplit("/", 1)[-1]

    @property
    def parent(self) -> "HadoopPath":
        return HadoopPath(self._jvm, self._conf, self._uri.rsplit("/", 1)[0])

    def resolve(self) -> "HadoopPath":
        return self

    absolute = resolve  # a URI is absolute already

    def relative_to(self, other: "HadoopPath") -> Path:
        prefix = str(other) + "/"
        if not self._uri.startswith(prefix):
            raise ValueError(f"{self} is not under {other}")
        return Path(self._uri[len(prefix) :])

    def exists(self) -> bool:
        return bool(self._fs.exists(self._path))

    def is_dir(self) -> bool:
        return self.exists() and bool(self._fs.getFileStatus(self._path).isDirectory())

    def is_file(self) -> bool:
        return self.exists() and bool(self._fs.getFileStatus(self._path).isFile())

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        if self.exists():
            if exist_ok and self.is_dir():
                return
            raise FileExistsError(str(self))
        if not parents and not self.parent.exists():
            raise FileNotFoundError(str(self.parent))
        if not self._fs.mkdirs(self._path):
            raise OSError(f"could not create {self}")

    def iterdir(self) -> list["HadoopPath"]:
        return [self / str(s.getPath().getName()) for s in self._fs.listStatus(self._path)]

    def walk(self) -> list[str]:
        """Every file and folder under this folder, relative to it, folders ending in ``/``."""
        found, todo = [], [(self._path, "")]
        while todo:
            path, prefix = todo.pop()
            for status in self._fs.listStatus(path):
                name = prefix + str(status.getPath().getName())
                if status.isDirectory():
                    found.append(name + "/")
                    todo.append((status.getPath(), name + "/"))
                else:
                    found.append(name)
        return found

    def glob(self, pattern: str) -> list["HadoopPath"]:
        if not self.exists():
            return []
        return sorted((p for p in self.iterdir() if fnmatch.fnmatchcase(p.name, pattern)), key=str)

    def read_text(self, encoding: str = "utf-8") -> str:
        if not self.exists():
            raise FileNotFoundError(str(self))
        stream = self._fs.open(self._path)
        try:
            return bytes(self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream)).decode(encoding)
        finally:
            stream.close()

    def write_text(self, text: str, encoding: str = "utf-8") -> None:
        stream = self._fs.create(self._path, True)
        try:
            stream.write(text.encode(encoding))
            stream.hsync()
        finally:
            stream.close()

    def write_whole(self, text: str, encoding: str = "utf-8") -> None:
        """Write the file whole or not at all. On an object store (S3A, GCS, ABFS) an object appears
        only when its stream is closed, so the write is in place, and aborted on failure; elsewhere
        (HDFS) it is written under a partial name and renamed over the file, which HDFS does in one step."""
        stream = self._fs.create(self._path, True) if self._visible_on_close else None
        if stream is not None:
            try:
                stream.write(text.encode(encoding))
            except BaseException:
                stream.abort()  # the object never appears
                raise
            stream.close()
            return
        partial = partial_of(self)
        try:
            partial.write_text(text, encoding)
            ctx = self._jvm.org.apache.hadoop.fs.FileContext.getFileContext(self._fs.getUri(), self._conf)
            rename = self._jvm.org.apache.hadoop.fs.Options.Rename
            overwrite = self._jvm.java.lang.reflect.Array.newInstance(rename._java_lang_class, 1)
            overwrite[0] = rename.OVERWRITE
            ctx.rename(partial._path, self._path, overwrite)
        except BaseException:
            try:
                partial.unlink(missing_ok=True)
            except Exception:  # noqa: BLE001 - the error that brought us here is the one to tell
                pass
            raise

    @property
    def _visible_on_close(self) -> bool:
        """Whether a file written here becomes visible only, and whole, when its stream is closed."""
        return bool(self._fs.hasPathCapability(self._path, "fs.capability.outputstream.abortable"))

    def replace(self, target: "HadoopPath") -> "HadoopPath":
        """Rename onto ``target``, which must not exist (Hadoop would move a folder *into* it)."""
        if target.exists():
            if target.is_dir():
                raise FileExistsError(f"{target} exists")
            target._fs.delete(target._path, False)
        if not self._fs.rename(self._path, target._path):
            raise OSError(f"could not rename {self} to {target}")
        return target

    def finish_move(self, target: "HadoopPath") -> None:
        """Complete a rename that was cut short with both ``self`` and ``target`` there.

        Object stores (S3A, GCS, ABFS without hierarchical namespace) rename a folder one object
        at a time: every object is copied, and the sources are deleted only after their copies
        have completed. Each copy is whole or absent, so a cut-short rename leaves some objects at
        the target and every other one still at the source: moving each object that is still at
        the source, over its copy if there is one, and then the source folder, finishes it. Safe
        to repeat if this too is cut short."""
        if self.is_file():
            self.replace(target)
            return
        listing, files = self._fs.listFiles(self._path, True), []
        while listing.hasNext():  # listed whole before anything moves, so no page of it shifts
            files.append(HadoopPath(self._jvm, self._conf, str(listing.next().getPath().toString())))
        for source in files:
            moved = target / str(source.relative_to(self))
            moved.parent.mkdir(parents=True, exist_ok=True)
            source.replace(moved)
        self.rmtree()

    @property
    def conditional_writes(self) -> bool:
        """Whether the store refuses a write whose condition no longer holds (S3A on a store with
        S3's conditional writes, on unless ``fs.s3a.create.conditional.enabled`` is false)."""
        return bool(self._fs.hasPathCapability(self._path, "fs.s3a.create.conditional.enabled"))

    def modified(self) -> int:
        """When the file was last written, in milliseconds (the store's clock); OSError when missing."""
        try:
            return int(self._fs.getFileStatus(self._path).getModificationTime())
        except Exception as err:  # noqa: BLE001 - Py4J wraps the store's FileNotFoundException
            raise OSError(f"{self}: {err}") from None

    def etag(self) -> str | None:
        """The object's entity tag, where the store gives one (None when missing or unsupported)."""
        try:
            return str(self._fs.getFileStatus(self._path).getEtag())
        except Exception:  # noqa: BLE001 - no such file, or a status without an etag
            return None

    def _conditional_write(self, text: str, etag: str | None, encoding: str = "utf-8") -> bool:
        """Write whole if the object is absent (``etag`` None) or still has ``etag``; False if the
        store refused because that no longer held. The store checks when the object is committed
        (on close), so two writers racing cannot both succeed."""
        builder = (
            self._fs.createFile(self._path)
            .overwrite(etag is not None)
            .must("fs.s3a.create.performance", True)
        )
        if etag is not None:
            builder = builder.must("fs.option.create.conditional.overwrite.etag", etag)
        stream = builder.build()
        try:
            stream.write(text.encode(encoding))
        finally:
            try:
                stream.close()
            except Exception as exc:  # py4j wraps the store's 412 Precondition Failed
                if "RemoteFileChangedException" in str(exc) or "PreconditionFailed" in str(exc):
                    return False
                raise
        return True

    def create_new(self, text: str, encoding: str = "utf-8") -> bool:
        """Write a file only if none is there: False if one is. Atomic on HDFS, the local file
        system and stores with conditional writes; elsewhere a race can let two writers through."""
        if self.exists():  # also where the store should refuse: a store may ignore the condition
            return False
        if self.conditional_writes:
            return self._conditional_write(text, None, encoding)
        try:
            stream = self._fs.create(self._path, False)
        except Exception as exc:  # py4j wraps FileAlreadyExistsException
            if "FileAlreadyExists" in str(exc) or "already exists" in str(exc):
                return False
            raise
        try:
            stream.write(text.encode(encoding))
            stream.hsync()
        finally:
            stream.close()
        return True

    def replace_if_unchanged(self, text: str, etag: str, encoding: str = "utf-8") -> bool:
        """Overwrite the file only if it still has ``etag`` (compare and swap): False if it changed.
        Only on stores with conditional writes."""
        if not self.conditional_writes:
            raise OSError(f"{self}: the store offers no conditional writes")
        return self._conditional_write(text, etag, encoding)

    def unlink(self, missing_ok: bool = False) -> None:
        if not self.exists():
            if missing_ok:
                return
            raise FileNotFoundError(str(self))
        if not self._fs.delete(self._path, False):
            raise OSError(f"could not delete {self}")

    def rmdir(self) -> None:
        if self.iterdir():
            raise OSError(f"{self} is not empty")
        if not self._fs.delete(self._path, False):
            raise OSError(f"could not delete {self}")

    def rmtree(self) -> None:
        if self.exists() and not self._fs.delete(self._path, True):
            raise OSError(f"could not delete {self}")
