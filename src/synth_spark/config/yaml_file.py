"""Reading a YAML config file safely: bounded in size and in alias expansion, duplicate keys
refused, every failure one line naming the file and what is wrong."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from synth_spark.failures import ConfigError

#: a config is a few kilobytes; a larger file is a mistake (or an attack), refused before reading
MAX_CONFIG_BYTES = 1 << 20
#: values a config may hold once its aliases are expanded (the default config has about 400)
MAX_EXPANDED_NODES = 100_000


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that names one key twice."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise ConfigError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _expanded_size(root) -> int:
    """How many values the document holds once every alias is expanded, computed on the node
    graph (aliases share nodes), so a "billion laughs" document is measured, never built."""
    sizes: dict[int, int] = {}

    def size(node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        sizes[key] = 1  # a recursive alias counts once instead of looping
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(v) for v in node.value)
        else:
            total = 1
        sizes[key] = min(total, MAX_EXPANDED_NODES + 1)
        return sizes[key]

    return size(root)


def read_yaml(path: Path | resources.abc.Traversable) -> dict:
    where = f"--config: {str(path)!r}"
    try:
        if isinstance(path, Path) and path.is_file() and path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{where} is {path.stat().st_size:,} bytes; a config file may be up to {MAX_CONFIG_BYTES:,}")
        if isinstance(path, Path) and path.exists() and not path.is_file():
            raise ConfigError(f"--config: cannot read {str(path)!r}: it is a folder; give a YAML file")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--config: cannot read {str(path)!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"--config: cannot read {str(path)!r}: not UTF-8 text (byte {exc.start})") from None
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{where} holds {len(text):,} characters; a config file may be up to {MAX_CONFIG_BYTES:,}")
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            if root is not None and _expanded_size(root) > MAX_EXPANDED_NODES:
                raise ConfigError(f"{where} expands to more than {MAX_EXPANDED_NODES:,} values through YAML aliases; "
                                  "write the settings out")
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except ConfigError as err:
        raise ConfigError(err if str(err).startswith("--conf") else f"{where}: {err}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where_in = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{where} is not valid YAML{where_in}") from None
    except RecursionError:
        raise ConfigError(f"{where} nests too deeply") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must hold a mapping of settings, not {type(data).__name__}")
    return data
