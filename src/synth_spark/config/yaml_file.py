"""Reading YAML safely, a config file or a --set value alike: bounded in size, in alias expansion and
in depth, duplicate keys and keys that are not names refused, every failure one line naming where
the text came from and what is wrong."""

from __future__ import annotations

import stat
from importlib import resources
from pathlib import Path

import yaml

from synth_spark.failures import ConfigError

#: a config is a few kilobytes; a larger file is a mistake (or an attack), refused before reading
MAX_CONFIG_BYTES = 1 << 20
#: values a config may hold once its aliases are expanded (the default config has about 400)
MAX_EXPANDED_NODES = 100_000
#: how deep settings may nest (the default config: 5 levels)
MAX_DEPTH = 32


def _line(node) -> str:
    return f"line {node.start_mark.line + 1}"


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that names one key twice or a key that is not a name,
    and a date that is no day of the calendar, in one line each."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict, set)):
                raise ConfigError(
                    f"the key at {_line(key_node)} is a {'list' if isinstance(key, list) else 'mapping'}; "
                    "a key is a setting's name"
                )
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise ConfigError(f"duplicate key {key!r} at {_line(key_node)}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:  # 2024-02-30 looks like a date to YAML, and is none
            raise ConfigError(
                f"{node.value!r} at {_line(node)} is not a date ({exc}); give a day of the calendar, "
                "YYYY-MM-DD"
            ) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def _expanded_size(root) -> int:
    """How many values the document holds once every alias is expanded, computed on the node
    graph (aliases share nodes), so a "billion laughs" document is measured, never built; a
    document nesting deeper than MAX_DEPTH is refused on the way."""
    sizes: dict[int, int] = {}

    def size(node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise ConfigError(f"nests more than {MAX_DEPTH} levels deep (at {_line(node)})")
        key = id(node)
        if key in sizes:
            return sizes[key]
        sizes[key] = 1  # a recursive alias counts once instead of looping
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(v, depth + 1) for v in node.value)
        else:
            total = 1
        sizes[key] = min(total, MAX_EXPANDED_NODES + 1)
        return sizes[key]

    return size(root, 0)


def _flow_depth_over(text: str, most: int) -> bool:
    """Whether brackets ([ and {) outside quotes and comments nest deeper than ``most``: looked at
    before PyYAML, whose scanner reads every nested flow collection ahead before it yields the first,
    in time that grows with the square of the depth (60,000 brackets took 7 s to be refused)."""
    depth, quote, comment, escaped, before = 0, "", False, False, " "
    for ch in text:
        if comment:
            comment = ch != "\n"
        elif quote:
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch == "#" and before in " \t\n":
            comment = True
        elif ch in "'\"" and before in " \t\n[{,:" or ch == "'" == before:  # '' inside '...' is a quote
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth > most:
                return True
        elif ch in "]}":
            depth = max(depth - 1, 0)
        before = ch
    return False


def parse_yaml(text: str, where: str):
    """The value a YAML text holds (None for an empty one), read within the bounds above; any
    failure a ConfigError starting with ``where`` (``--config: 'c.yaml'``, ``--set: the value of 'x'``)."""
    if _flow_depth_over(text, MAX_DEPTH):
        raise ConfigError(f"{where}: nests more than {MAX_DEPTH} levels deep")
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            if root is not None and _expanded_size(root) > MAX_EXPANDED_NODES:
                raise ConfigError(
                    f"expands to more than {MAX_EXPANDED_NODES:,} values through YAML aliases; "
                    "write the settings out"
                )
            return loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where_in = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{where} is not valid YAML{where_in}") from None
    except RecursionError:  # composing nests deeper than Python's stack: far past MAX_DEPTH
        raise ConfigError(f"{where}: nests more than {MAX_DEPTH} levels deep") from None


def _kind(mode: int) -> str | None:
    """What a path that is not a regular file is, or None for one that can be read as a file."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode):  # a pipe: --config <(...), read within the bound
        return None
    return (
        "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a file"
    )


def _read_text(path: Path | resources.abc.Traversable, where: str, name: str) -> str:
    if not isinstance(path, Path):  # the packaged default
        return path.read_text(encoding="utf-8")
    try:
        kind = _kind(path.stat().st_mode)
        if kind is not None:
            raise ConfigError(f"{name}: cannot read {str(path)!r}: it is {kind}; give a YAML file")
        with path.open("rb") as f:
            data = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read {str(path)!r}: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{where} holds more than {MAX_CONFIG_BYTES:,} bytes; a config file may be up to "
            f"{MAX_CONFIG_BYTES:,}"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name}: cannot read {str(path)!r}: not UTF-8 text (byte {exc.start})") from None


def read_yaml(path: Path | resources.abc.Traversable, name: str = "--config") -> dict:
    """``name``: how the caller's user gave the file (an option or an argument), for its errors."""
    where = f"{name}: {str(path)!r}"
    data = parse_yaml(_read_text(path, where, name), where)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must hold a mapping of settings, not {type(data).__name__}")
    return data
