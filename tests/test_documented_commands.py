"""Every command the README and the docs pages show is run here, as a user would type it, at a
small scale: a page that tells people what to run is only as good as the last time it ran.

Commands are read from the pages themselves: each line of a ``bash`` block, each ``$ `` line of a
``text`` block (the lines under it are the output it shows), and the ``python`` and ``sql`` blocks
(a ``text`` block right after a ``sql`` one is its result, of the page's dataset: here the columns
must be the query's, and it must return rows).
A ``bash cluster-smoke`` block is the one scripts/cluster-smoke.sh reads and runs on its standalone
cluster (tests/test_cluster.py): here it is only checked to be that script's.
A command no rule below knows how to run fails the test, so a new page cannot add an untested one.

What is changed to run them here, and nothing else:
- the scale of ``generate`` and ``changes``: ``--scale S`` becomes ``--scale 0.05`` (kept when the page shows it refused,
  or places ``--scenarios``, which needs the creators of the scale it shows), and
  ``--partitions N`` becomes 4 (there are 25 creators to share out);
- where a line addresses a cluster or a store we do not have: ``--master spark://…``, ``yarn`` or
  ``k8s://…`` becomes ``local[2]`` (and ``--deploy-mode cluster`` goes, which local mode refuses);
  under ``spark-submit`` an ``s3a://`` or ``abfss://`` folder becomes a ``file://`` one and the
  object-store connector leaves ``--packages`` (Delta stays, resolved by spark-submit as the page
  says); YARN's ``--archives`` environment is this one;
- a ``synth-spark`` line with ``s3a://BUCKET/...`` runs against the session's S3-compatible server
  (moto, on loopback): its bucket, its endpoint in place of the page's (or added, for AWS), and
  its credentials in the environment;
- placeholders: ``DATASET`` and the pages' sample folders are a generated dataset, ``DIR`` a new folder;
- ``> FILE`` after a ``synth-spark`` line is done as the shell does it: standard output into the file.
``make`` targets that are the test suite or the cluster run themselves (``make test``, ``make
test-cluster``, ``make bench`` …) are expanded with ``make -n``: CI runs them for real. So is ``make
generate``: it is ``make setup`` (CI's first step) and then the README's own ``synth-spark generate
out/1x``, which the README's test runs.

Shown output is compared line by line with what the command printed, numbers, checksums and times
masked: the lines a page shows must still be lines the tool prints.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .conftest import unmount
from .spark_servers import S3_BUCKET, S3_CREDENTIALS

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SCALE = "0.05"
#: targets that are the suite, the cluster smoke, the benchmark or the compatibility run: expanded, not run
EXPANDED_ONLY = {
    "test",
    "test-cluster",
    "test-all",
    "bench",
    "leaderboard",
    "reproducibility",
    "compat",
    "lock",
}
#: the Spark Connect address the pages show; the test's server stands in for it
CONNECT_ADDRESS = "sc://127.0.0.1:15002"

pytestmark = pytest.mark.usefixtures("small_dataset")


@dataclass
class Shown:
    page: str
    line: int
    kind: str  # bash, console, python, sql
    text: str
    output: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.text.splitlines()[0]}"


def _logical_lines(block: str, first_line: int):
    """The block's lines with backslash continuations joined, each with its line number."""
    pending, start = "", first_line
    for i, raw in enumerate(block.splitlines()):
        if not pending:
            start = first_line + i
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        yield start, pending + raw
        pending = ""


def shown_on(page: Path) -> list[Shown]:
    text = page.read_text()
    name = page.relative_to(ROOT).as_posix()
    found = []
    for m in re.finditer(r"^```(\w*)( [\w-]+)?\n(.*?)^```", text, re.S | re.M):
        lang, tag, body = m.group(1), (m.group(2) or "").strip(), m.group(3)
        first = text[: m.start(3)].count("\n") + 1
        if tag == "cluster-smoke":  # the cluster smoke test runs this block itself, on a real cluster
            found += [
                Shown(name, n, "smoke", line) for n, line in _logical_lines(body, first) if line.strip()
            ]
        elif lang == "sql":
            shown = Shown(name, first, lang, body)
            result = re.match(r"\n*```text\n(.*?)^```", text[m.end() :], re.S | re.M)
            if result and not result.group(1).startswith("$ "):  # the result the page shows for it
                shown.output = result.group(1).splitlines()
            found.append(shown)
        elif lang == "python":
            found.append(Shown(name, first, lang, body))
        elif lang in ("bash", "sh"):
            for n, line in _logical_lines(body, first):
                command = " ".join(shlex.split(line, comments=True))
                if command:
                    found.append(Shown(name, n, "bash", line.split(" #")[0].strip()))
        elif lang == "text":
            current = None  # output belongs to the last command of its own block
            for n, line in _logical_lines(body, first):
                if line.startswith("$ "):
                    current = Shown(name, n, "console", line[2:].split("  #")[0].strip())
                    found.append(current)
                elif current is not None:
                    current.output.append(line)
    return found


ALL = [s for page in PAGES for s in shown_on(page)]


# -- the sandbox a page's commands run in ----------------------------------------------------------


class Sandbox:
    """A folder per page, with what the commands expect beside them (the repository's jobs/, the
    package, the venv) and a prepared dataset for the placeholders."""

    def __init__(self, root: Path, dataset: Path):
        self.root, self.dataset = root, dataset
        for name in ("jobs", "src", "conf", "scripts"):
            (root / name).symlink_to(ROOT / name)
        (root / ".venv").symlink_to(Path(sys.prefix))
        (root / "tmp").mkdir()
        (root / "dataset").symlink_to(dataset)
        import pyspark

        bin_dir = str(Path(sys.executable).parent)
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "PYSPARK_PYTHON": sys.executable,
            "SPARK_HOME": str(Path(pyspark.__file__).parent),
            "PYTHONPATH": str(ROOT),
        }
        self.results: dict[str, subprocess.CompletedProcess] = {}
        #: the Spark Connect server a page started (scripts/spark-connect-server.sh): its address
        self.remote: str | None = None
        self.request = None  # the test's, to start the session's Connect server when a page asks

    def run(
        self, argv: list[str], env: dict | None = None, timeout: int = 900
    ) -> subprocess.CompletedProcess:
        key = shlex.join(argv)
        if (
            key not in self.results
        ):  # a page may show the same command twice (in a block, then with its output)
            self.results[key] = subprocess.run(
                argv,
                cwd=self.root,
                capture_output=True,
                text=True,
                timeout=timeout,
                env={**self.env, **(env or {})},
            )
        return self.results[key]


def _placeholders(args: list[str], box: Sandbox) -> list[str]:
    out = []
    for a in args:
        a = a.replace("/abs/path/OUT", str(box.dataset))
        a = re.sub(r"^/tmp/", f"{box.root}/tmp/", a)
        a = {"DATASET": "dataset", "DIR": str(box.root / "tmp" / "dir")}.get(a, a)
        if CONNECT_ADDRESS in a:
            assert box.remote, "a page uses a Spark Connect server before it shows how to start one"
            a = a.replace(CONNECT_ADDRESS, box.remote)
        out.append(a)
    return out


def _small(args: list[str], refused: bool) -> list[str]:
    if refused or "--scenarios" in args:  # placing instances needs the creators of the scale shown
        return args
    if "--partitions" in args:  # a cluster's task count; 0.05x has 25 creators, and a task needs one
        i = args.index("--partitions")
        args = [*args[: i + 1], "4", *args[i + 2 :]]
    if "--scale" in args:
        i = args.index("--scale")
        return [*args[: i + 1], SCALE, *args[i + 2 :]]
    return [*args, "--scale", SCALE]


def _local_cluster(args: list[str], box: Sandbox, line: int) -> list[str]:
    out, it = [], iter(args)
    for a in it:
        if a == "--master":
            next(it)
            out += ["--master", "local[2]"]
        elif a == "--deploy-mode":
            mode = next(it)
            if mode != "cluster":
                out += [a, mode]
        elif a == "--archives":
            next(it)  # YARN's packed environment: here the environment is this one
        elif a == "--packages":
            kept = [p for p in next(it).split(",") if not p.startswith("org.apache.hadoop:")]
            out += [a, ",".join(kept)]
        elif re.match(r"^(s3a|abfss)://", a):
            # the pages show alternatives writing the same folder: each gets its own
            out.append((box.root / "store" / f"line{line}" / re.sub(r"^\w+://[^/]*/", "", a)).as_uri())
        else:
            out.append(a.replace("local:///opt/synth-spark/", ""))
    return out


# -- how each kind of command runs -------------------------------------------------------------------


def _refused(shown: Shown) -> bool:
    """Shown refusing its input (exit 2): the error names an option or the dataset."""
    return any(
        re.match(r"synth-spark: error: ((--[a-z-]+|DATASET):|'[^']*' is not (a command|an option))", line)
        for line in shown.output
    )


def run_synth_spark(shown: Shown, box: Sandbox) -> subprocess.CompletedProcess:
    args = _placeholders(shlex.split(shown.text), box)
    env = {}
    while "=" in args[0]:  # VAR=value synth-spark ...
        key, value = args.pop(0).split("=", 1)
        env[key] = value
    if args[1] == "generate" and "/mnt/tiny" in shown.text:
        with tiny_disk(box.root / "mnt" / "tiny") as mount:
            args = _small([a.replace("/mnt/tiny", str(mount)) for a in args], _refused(shown))
            done = _cli_run(box, args, shown)
            assert list(mount.iterdir()) == [], "a full disk left files behind"
            return done
    if args[1] in ("generate", "changes"):
        args = _small(args, _refused(shown))
    if ">" in args:  # synth-spark ... > FILE: standard output into a file, as the shell does it
        at = args.index(">")
        done = _cli_run(box, args[:at], shown, env or None)
        (box.root / args[at + 1]).write_text(done.stdout)
        return done
    if any(a.startswith("s3a://") for a in args):
        args, env = _on_test_store(args, box, shown), {**env, **S3_CREDENTIALS}
    if "offline" in _comment(shown):
        env = {**env, **_offline(box)}
    return _cli_run(box, args, shown, env or None)


def _on_test_store(args: list[str], box: Sandbox, shown: Shown) -> list[str]:
    """An ``s3a://BUCKET/...`` line against the session's S3 server: the page's bucket is the
    server's (under a prefix of the page's own), and the store's endpoint is the server's, given
    as the page gives it for a store that is not AWS (or added, where the line addresses AWS)."""
    endpoint = box.request.getfixturevalue("s3_endpoint")
    prefix = Path(shown.page).stem
    args = [re.sub(r"^s3a://BUCKET/", f"s3a://{S3_BUCKET}/{prefix}/", a) for a in args]
    settings = {
        "spark.hadoop.fs.s3a.endpoint": endpoint,
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.endpoint.region": S3_CREDENTIALS["AWS_REGION"],
    }
    for key, value in settings.items():
        given = [i for i, a in enumerate(args) if a.startswith(f"{key}=")]
        if given:
            args[given[0]] = f"{key}={value}"
        else:
            args += ["--spark-conf", f"{key}={value}"]
    return args


def _cli_run(
    box: Sandbox, args: list[str], shown: Shown, env: dict | None = None
) -> subprocess.CompletedProcess:
    done = box.run([str(Path(sys.executable).parent / "synth-spark"), *args[1:]], env)
    expected = (
        2 if _refused(shown) else 3 if any("synth-spark: error:" in ln for ln in shown.output) else None
    )
    if expected is not None:
        assert done.returncode == expected, f"{shown}\n{done.stderr[-3000:]}"
    elif args[1] == "validate" or "dbt-broken" in shown.text:
        assert done.returncode in (0, 1), f"{shown}\n{done.stderr[-3000:]}"  # 1: a check failed, not a crash
    else:
        assert done.returncode == 0, f"{shown}\n{done.stderr[-3000:]}"
    return done


def _comment(shown: Shown) -> str:
    page = (ROOT / shown.page).read_text().splitlines()
    line = page[shown.line - 1]
    return line.split("#", 1)[1] if "#" in line else ""


def _offline(box: Sandbox) -> dict:
    """No cached Delta jars and no way to Maven Central (a proxy that refuses)."""
    return {
        "SYNTH_SPARK_CACHE": str(box.root / "cache"),
        "PYSPARK_SUBMIT_ARGS": f"--conf spark.jars.ivy={box.root / 'ivy'} --driver-java-options "
        "'-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=9' pyspark-shell",
    }


@contextmanager
def tiny_disk(mount: Path):
    """A 256 KiB file system (tmpfs; the tests run as root, as CI does)."""
    mount.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True, text=True
    )
    assert done.returncode == 0, f"cannot mount a tmpfs here: {done.stderr}"
    try:
        yield mount
    finally:
        unmount(mount)


def run_synopsis(shown: Shown, box: Sandbox) -> subprocess.CompletedProcess:
    """A usage line (``[--option VALUE]``): every option it shows is one the command accepts."""
    args = shlex.split(shown.text)
    program = {
        "synth-spark": [str(Path(sys.executable).parent / "synth-spark"), args[1]],
        "spark-submit": [sys.executable, args[1]],
        "python": [sys.executable, args[1]],
    }[args[0]]
    done = box.run([*program, "--help"])
    assert done.returncode == 0, f"{shown}\n{done.stderr[-2000:]}"
    for option in re.findall(r"--[a-z][a-z-]*", shown.text):
        assert option in done.stdout, f"{shown}: {option} is not in {' '.join(program)} --help"
    return done


def run_make(shown: Shown, box: Sandbox) -> subprocess.CompletedProcess:
    args = shlex.split(shown.text)
    target = args[1]
    if target in EXPANDED_ONLY:
        done = subprocess.run(["make", "-n", *args[1:]], cwd=ROOT, capture_output=True, text=True)
    elif args[1:] == ["generate"]:
        # the front door is make setup (CI's first step, for real) and then a synth-spark line the
        # same page runs for real: that line, as the page shows it, with make's scale and --overwrite
        # (under another make, as in CI, make -n also prints the folders it enters: not asked for here)
        done = subprocess.run(
            ["make", "--no-print-directory", "-n", "generate"], cwd=ROOT, capture_output=True, text=True
        )
        line = done.stdout.strip().splitlines()[-1]
        assert line == ".venv/bin/synth-spark generate out/1x --scale 1 --overwrite", done.stdout
        assert any(s.page == shown.page and s.text == "synth-spark generate out/1x" for s in ALL), (
            f"{shown}: the page does not run the command make generate runs"
        )
    else:  # another make target: the front door's variants, at a small scale into the sandbox
        done = subprocess.run(
            [
                "make",
                *args[1:],
                f"OUT={box.root / 'out' / 'make'}",
                f"SCALE={SCALE}",
                f"BIN={Path(sys.executable).parent}",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            env=box.env,
        )
    assert done.returncode == 0, f"{shown}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


def run_spark_submit(shown: Shown, box: Sandbox) -> subprocess.CompletedProcess:
    args = _local_cluster(_placeholders(shlex.split(shown.text), box), box, shown.line)
    if "jobs/generate.py" in args:
        args = _small(args, refused=False)
    done = box.run(args)
    # Spark's PythonRunner sends the Python driver's stderr to its stdout
    assert done.returncode == 0, f"{shown}\n{done.stdout[-2000:]}"
    if "jobs/generate.py" in args:
        out = next(a for a in args if a.startswith("file://"))
        assert (Path(out.removeprefix("file://")) / "_manifest.json").is_file(), shown
    return done


def run_export(shown: Shown, box: Sandbox) -> None:
    """Environment for the lines after it; a path into YARN's unpacked archive is this interpreter."""
    for assignment in shlex.split(shown.text)[1:]:
        key, value = assignment.split("=", 1)
        box.env[key] = sys.executable if value.startswith("./environment/") else str(box.root / value)


def run_zip(shown: Shown, box: Sandbox) -> subprocess.CompletedProcess:
    done = box.run(shlex.split(shown.text))
    assert done.returncode == 0, done.stderr
    import zipfile

    with zipfile.ZipFile(box.root / "synth_spark.zip") as z:  # the link's content, not the link
        assert b"anomalies:" in z.read("synth_spark/config/default.yaml")
    return done


def run_dbt(shown: Shown, box: Sandbox) -> subprocess.CompletedProcess:
    from synth_spark.checks.dbt import PROJECT_DIR, duckdb_extension_dir

    project = Path(shutil.copytree(PROJECT_DIR, box.root / "dbt_project"))
    args = _placeholders(shlex.split(shown.text), box)
    args[0] = str(Path(sys.executable).parent / "dbt")
    done = subprocess.run(
        args,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        env={**box.env, "SYNTH_SPARK_DUCKDB_EXTENSIONS": duckdb_extension_dir()},
    )
    assert done.returncode == 0, f"{shown}\n{done.stdout[-3000:]}"
    assert "Completed successfully" in done.stdout
    return done


def run_cluster_smoke(shown: Shown, box: Sandbox) -> subprocess.CompletedProcess:
    """Minutes long, with a cluster of its own: tests/test_cluster.py runs it (make test-cluster, in CI)."""
    assert "scripts/cluster-smoke.sh" in (ROOT / "tests" / "test_cluster.py").read_text()
    done = subprocess.run(
        ["bash", "-n", str(ROOT / "scripts" / "cluster-smoke.sh")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done


def run_on_the_smoke_cluster(shown: Shown, box: Sandbox) -> None:
    """A block the cluster smoke test reads from its page and runs on its standalone cluster
    (scripts/cluster-smoke.sh, under tests/test_cluster.py in CI): checked there, not here."""
    script = (ROOT / "scripts" / "cluster-smoke.sh").read_text()
    assert f"$ROOT/{shown.page}" in script, f"{shown}: cluster-smoke.sh does not read {shown.page}"
    assert "scripts/cluster-smoke.sh" in (ROOT / "tests" / "test_cluster.py").read_text()


def run_databricks_bundle(shown: Shown, box: Sandbox) -> subprocess.CompletedProcess:
    """No Databricks workspace here: the page's bundle is checked instead. Its wheel task names an
    entry point of the installed package, and the task's parameters are a command line that
    entry point runs (locally, small, the volume a local folder)."""
    import importlib.metadata

    import yaml

    page = (ROOT / shown.page).read_text()
    bundles = [yaml.safe_load(b) for b in re.findall(r"^```yaml\n(.*?)^```", page, re.S | re.M)]
    tasks = [
        t["python_wheel_task"]
        for b in bundles
        for job in b["resources"]["jobs"].values()
        for t in job["tasks"]
        if "python_wheel_task" in t
    ]
    assert tasks, f"{shown}: no python_wheel_task in the page's bundle"
    scripts = {ep.name: ep.value for ep in importlib.metadata.distribution("synth-spark").entry_points}
    done = None
    for task in tasks:
        assert task["package_name"] == "synth_spark", task
        assert task["entry_point"] in scripts, f"{task['entry_point']} is not one of {sorted(scripts)}"
        params = [re.sub(r"^/Volumes/", f"{box.root}/tmp/volumes/", p) for p in task["parameters"]]
        done = box.run(
            [str(Path(sys.executable).parent / task["entry_point"]), *_small(params, refused=False)]
        )
        assert done.returncode == 0, f"{shown}: the task's parameters\n{done.stderr[-3000:]}"
    return done


def run_connect_server(shown: Shown, box: Sandbox) -> None:
    """The session's Spark Connect server (the same script, on a free port): the page's
    ``sc://127.0.0.1:15002`` addresses it from here on."""
    box.remote = box.request.getfixturevalue("connect_server")


def run_baseline(shown: Shown, box: Sandbox) -> subprocess.CompletedProcess:
    """A reference method of the package, its findings written where the page sends them."""
    args = shlex.split(shown.text)
    done = box.run([sys.executable, *args[1:-2]])
    assert done.returncode == 0, f"{shown}\n{done.stderr[-3000:]}"
    (box.root / args[-1]).write_text(done.stdout)
    return done


def run_python(shown: Shown, box: Sandbox) -> subprocess.CompletedProcess:
    (box.root / "out").mkdir(exist_ok=True)
    if not (box.root / "out" / "1x").exists():
        (box.root / "out" / "1x").symlink_to(box.dataset)
    done = box.run([sys.executable, "-c", shown.text])
    assert done.returncode == 0, f"{shown}\n{done.stderr[-3000:]}"
    return done


def run_sql(shown: Shown, box: Sandbox) -> None:
    import duckdb

    (box.root / "out").mkdir(exist_ok=True)
    if not (box.root / "out" / "1x").exists():
        (box.root / "out" / "1x").symlink_to(box.dataset)
    cwd = os.getcwd()
    os.chdir(box.root)
    try:
        cursor = duckdb.connect().execute(shown.text)
        names, rows = [d[0] for d in cursor.description], cursor.fetchall()
    finally:
        os.chdir(cwd)
    assert rows, f"{shown}: no rows"
    if shown.output:  # the page's result is of another dataset: its columns must still be the query's
        assert shown.output[0].split() == names, (
            f"{shown}: shown columns {shown.output[0].split()}, got {names}"
        )


RULES = [
    (r"^make ", run_make),
    (r"^(synth-spark|spark-submit|python) \S+ .*\[", run_synopsis),
    (r"^([A-Z_]+=\S+ )*synth-spark ", run_synth_spark),
    (r"^scripts/spark-connect-server\.sh", run_connect_server),
    (r"^spark-submit ", run_spark_submit),
    (r"^export ", run_export),
    (r"^(zip|python -m zipfile) ", run_zip),
    (r"^dbt test ", run_dbt),
    (r"^scripts/cluster-smoke\.sh", run_cluster_smoke),
    (r"^databricks bundle ", run_databricks_bundle),
    (r"^python -m synth_spark\.baselines\.\w+ \S+ > \S+$", run_baseline),
]


def _rule(shown: Shown):
    if shown.kind == "python":
        return run_python
    if shown.kind == "sql":
        return run_sql
    if shown.kind == "smoke":
        return run_on_the_smoke_cluster
    return next((fn for pattern, fn in RULES if re.search(pattern, shown.text)), None)


# -- shown output, compared with what was printed -------------------------------------------------

#: validate's summary counts the checks too noisy to judge at the run's scale, and below 1x those it
#: does not judge: a page may show a clause (a 1x run) where the 0.05x run here has none, or the other
#: way round
_NOISY_CLAUSE = re.compile(
    r", \d+ too noisy to judge at this scale|, \d+ not judgeable below 1x \(the targets hold from 1x\)"
)


def _mask(line: str, box: Sandbox) -> str:
    line = _NOISY_CLAUSE.sub("", line)
    line = line.replace(str(box.root) + "/", "").replace("/tmp/", "tmp/")
    line = re.sub(r"\b[0-9a-f]{16}\b", "H", line)
    line = re.sub(r"\d[\d,]*(\.\d+)?", "N", line)
    line = re.sub(r"\.{3,}", "…", line)
    return " ".join(line.split())


def _printed_lines(done: subprocess.CompletedProcess, box: Sandbox) -> set[str]:
    lines = (done.stdout + "\n" + done.stderr).splitlines()
    return {_mask(ln, box) for ln in lines}


def _check_output(shown: Shown, done, box: Sandbox) -> None:
    if not shown.output or done is None:
        return
    printed = _printed_lines(done, box)
    for line in shown.output:
        if line.strip() in ("", "...") or "..." in line and line.strip().endswith("..."):
            continue
        if re.match(r"^\s*(pass|FAIL|info|noisy|n/a)\s", line):  # a check's verdict depends on the sample
            name = _mask(re.sub(r"^\s*\S+\s+", "", line).split("  measured")[0], box)
            assert any(name in p for p in printed), f"{shown}: no check named {name!r} was printed"
            continue
        if "..." in line:  # shown abridged: its start must be printed
            start = _mask(line.split("...")[0], box)
            assert any(p.startswith(start) for p in printed), (
                f"{shown}: nothing printed starts with {start!r}"
            )
            continue
        assert _mask(line, box) in printed, f"{shown}: {line.strip()!r} was not printed"


# -- the tests ------------------------------------------------------------------------------------


def test_every_shown_command_has_a_rule():
    assert ALL, "no command found in the pages"
    assert [str(s) for s in ALL if _rule(s) is None] == []


@pytest.mark.parametrize("page", sorted({s.page for s in ALL}))
def test_commands_on_the_page_work_as_shown(page, small_dataset, tmp_path, request):
    shown_here = [s for s in ALL if s.page == page]
    box = Sandbox(tmp_path, small_dataset)
    box.request = request
    if any("dbt-broken" in s.text for s in shown_here):
        _broken_copy(small_dataset, box.root / "tmp" / "dbt-broken")
    (box.root / "tmp" / "dbt-sample").symlink_to(small_dataset)
    for shown in shown_here:
        done = _rule(shown)(shown, box)
        _check_output(shown, done, box)


def _broken_copy(dataset: Path, to: Path) -> None:
    from .broken_copies import BrokenCopy, break_everything

    copy = BrokenCopy(dataset, to)
    break_everything(copy)
    copy.write()


def _prose(page: Path) -> str:
    """The page without its code blocks (a ``#`` comment there is no heading, a ``](`` no link)."""
    return re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces to hyphens."""
    text = _prose(page)
    return {
        re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", text, re.M)
    }


def test_every_link_between_the_pages_resolves():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", _prose(page)):
            if re.match(r"^[a-z]+:", target):
                continue  # a web address
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []
