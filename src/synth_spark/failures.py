"""How a command ends: one exit code per kind of outcome, and one line for every failure.

| code | meaning |
|---|---|
| 0 | done; every check passed |
| 1 | done, but a check failed (validate, verify, check) |
| 2 | bad input: an option, the config, the folder (nothing was written) |
| 3 | the environment failed: no Java, disk full, a jar that cannot be fetched, an unfinished publish that cannot be completed |
| 4 | an internal error (a bug): one line here, the whole trace in a log file |
| 130 | interrupted (Ctrl-C) |
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import reprlib
import shutil
import sys
import traceback
from pathlib import Path

EXIT_OK, EXIT_CHECKS_FAILED, EXIT_BAD_INPUT, EXIT_ENVIRONMENT, EXIT_INTERNAL, EXIT_INTERRUPTED = (
    0,
    1,
    2,
    3,
    4,
    130,
)

#: errno values that say the machine, not synth-spark, is at fault
_ENV_ERRNOS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.EIO,
    errno.EMFILE,
    errno.ENFILE,
}
#: text in a (Java) error that says the same
_ENV_TEXT = (
    ("No space left on device", "the disk is full"),
    ("Disk quota exceeded", "the disk quota is exceeded"),
    ("Read-only file system", "the file system is read-only"),
    ("Java gateway process exited", "Spark's JVM did not start"),  # its reason: JvmLog.reason
    ("JAVA_GATEWAY_EXITED", "Spark's JVM did not start"),
    ("unresolved dependency", "a Spark package could not be fetched (offline?)"),
    ("java.lang.OutOfMemoryError", "the JVM ran out of memory (give more with --driver-memory)"),
)


#: the most characters of a user's value that a message echoes back
ECHO_LIMIT = 80
#: the longest error line: a safety net for an echo that was not shortened at its source
MAX_LINE = 1000


#: a value's repr, a few of its items deep (never the whole of a list a YAML alias repeats 9**9 times)
_ECHO = reprlib.Repr()
_ECHO.maxlevel, _ECHO.maxlist, _ECHO.maxdict, _ECHO.maxtuple, _ECHO.maxset = 3, 6, 6, 6, 6
_ECHO.maxlong, _ECHO.maxother, _ECHO.maxstring = (
    ECHO_LIMIT,
    ECHO_LIMIT,
    1 << 30,
)  # text is cut below, saying how long


def quoted(value: object, limit: int = ECHO_LIMIT) -> str:
    """A user's value as an error line shows it: its repr, cut short (a 120 kB --set value is not
    echoed back whole)."""
    try:
        text = _ECHO.repr(value)
    except ValueError:  # an integer of more digits than Python prints
        return "(a number too long to show)"
    if len(text) <= limit:
        return text
    # the quote closed again, so that a line holding two cut values still reads (and parses) as two
    closing = text[0] if text[0] in "'\"" else ""
    return f"{text[: limit - 3 - len(closing)]}...{closing} ({len(text):,} characters)"


def shortened(message: str) -> str:
    """``message`` with every quoted value longer than ECHO_LIMIT cut short (argparse echoes them whole)."""
    return re.sub(r"'[^']{%d,}'" % ECHO_LIMIT, lambda m: quoted(m.group(0)[1:-1]), message)


class ConfigError(ValueError):
    """A configuration or command-line value that is not allowed; the message is one line."""

    def __init__(self, message: object = ""):
        # one line whatever went into it (a key or a file name may hold a line break), and a short one
        line = str(message).replace("\r", "\\r").replace("\n", "\\n")
        super().__init__(line if len(line) <= MAX_LINE else line[: MAX_LINE - 3] + "...")


class EnvironmentProblem(RuntimeError):
    """The machine cannot do what was asked; the message is one line naming the cause."""


def java_problem() -> str | None:
    """Why Spark's JVM cannot start here, or None: Java must be on PATH or under JAVA_HOME."""
    home = os.environ.get("JAVA_HOME")
    if home:
        if not (Path(home) / "bin" / "java").is_file():
            return f"JAVA_HOME is {home!r} but has no bin/java; point it at a Java 17 installation"
        return None
    if shutil.which("java") is None:
        return "Java 17 is needed to run Spark and none was found (no JAVA_HOME, no java on PATH)"
    return None


def one_line(exc: BaseException) -> str:
    """The root cause of an error in one line (for a Java error, its last "Caused by")."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    causes = [ln.removeprefix("Caused by:").strip() for ln in lines if ln.startswith("Caused by:")]
    plain = [
        ln.lstrip(": ")
        for ln in lines
        if not ln.startswith(("An error occurred while calling", "at ", "..."))
    ]
    line = (causes[-1] if causes else plain[0] if plain else "") or type(exc).__name__
    line = re.sub(r"\b(?:[a-z][a-z0-9_]*\.)+(?=[A-Z]\w*(?:Exception|Error)\b)", "", line)
    return line if len(line) <= 200 else line[:197] + "..."


def environment_cause(exc: BaseException) -> str | None:
    """What in the environment an error comes from, or None if it does not look like one."""
    if isinstance(exc, EnvironmentProblem):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno in _ENV_ERRNOS:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{os.strerror(exc.errno)}{where}"
    text = "\n".join(traceback.format_exception_only(type(exc), exc)) + str(exc)
    for needle, cause in _ENV_TEXT:
        if needle in text:
            return f"{cause}: {one_line(exc)}"
    return None


def reported(err: BaseException, command: str) -> int:
    """A failure as the user sees it: one line on standard error and its exit code (bad input 2,
    the environment 3, a bug 4 with its whole trace in a log file); the JVM's log named when it matters."""
    if isinstance(err, ConfigError):
        JvmLog.discard()
        print(f"synth-spark: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    cause = environment_cause(err)
    if cause is not None:
        print(f"synth-spark: error: {cause}{JvmLog.named()}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    log = write_trace(err, command)
    where = f"; the full trace is in {log}" if log else ""
    print(
        f"synth-spark: internal error: {type(err).__name__}: {one_line(err)}{where}{JvmLog.named()}",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def log_folder() -> Path:
    return Path(os.environ.get("SYNTH_SPARK_CACHE", Path.home() / ".cache" / "synth-spark")) / "logs"


def write_trace(exc: BaseException, command: str) -> Path | None:
    """The whole trace of an internal error, in a log file of its own; None if it cannot be written."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = log_folder() / f"{command}-{stamp}-{os.getpid()}.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    except OSError:
        return None
    return path


#: JVM logs kept in the log folder: the oldest go as a new one starts
KEEP_JVM_LOGS = 20
#: what the JVM prints as it gives up, around the line that says why
_JVM_GAVE_UP = (
    "Error: Could not create the Java Virtual Machine",
    "Error: A fatal exception has occurred",
    "Error occurred during initialization of VM",
    "WARNING: Using incubator modules",
)


class JvmLog:
    """Where the standard output and error of the JVM this process starts go: a file in the log
    folder, not the terminal (a full disk made Spark print hundreds of lines of Java before the
    one line that says so). A failure's one line names the file; a run that ends well removes it."""

    path: Path | None = None
    #: the log's size when the current command began: a process that runs several commands (a
    #: notebook, a test) keeps one JVM, and what it wrote for an earlier command is not this one's
    since: int = 0

    @classmethod
    def mark(cls) -> None:
        """Remember how much the JVM has written so far, as a command begins."""
        try:
            cls.since = cls.path.stat().st_size if cls.path is not None else 0
        except OSError:
            cls.since = 0

    @classmethod
    def create(cls) -> Path | None:
        """A new log file for this process's JVM (the oldest beyond KEEP_JVM_LOGS removed); None
        when the log folder cannot be written."""
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        path = log_folder() / f"spark-{stamp}-{os.getpid()}.log"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
            for old in sorted(path.parent.glob("spark-*.log"), key=lambda p: p.stat().st_mtime)[
                :-KEEP_JVM_LOGS
            ]:
                old.unlink(missing_ok=True)
        except OSError:
            return None
        cls.path = path
        cls.since = 0
        return path

    @classmethod
    def reason(cls) -> str:
        """Why the JVM did not start, in its own words: the first line it wrote that is not one of
        the lines it always adds when it gives up."""
        try:
            lines = (
                [ln.strip() for ln in cls.path.read_text(errors="replace").splitlines()] if cls.path else []
            )
        except OSError:
            lines = []
        said = [ln for ln in lines if ln and not ln.startswith(_JVM_GAVE_UP)]
        line = said[0] if said else "it wrote no reason"
        return line if len(line) <= 200 else line[:197] + "..."

    @classmethod
    def named(cls) -> str:
        """``; Spark's output is in PATH`` when the JVM wrote anything during this command, else nothing."""
        try:
            wrote = cls.path is not None and cls.path.stat().st_size > cls.since
        except OSError:
            wrote = False
        return f"; Spark's output is in {cls.path}" if wrote else ""

    @classmethod
    def discard(cls) -> None:
        """Remove the log of a run that ended well (the JVM may still write to it until it exits)."""
        if cls.path is not None:
            cls.path.unlink(missing_ok=True)
            cls.path = None
