"""Writing TOML definitions (registry entries, data manifests, benchmarks): values escaped per TOML v1.0.0."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from brainbench.errors import BrainbenchError

#: TOML basic-string escapes with a short form (toml.io v1.0.0, "String"); other control characters are \uXXXX.
_SHORT_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"',
                  "\\": "\\\\"}
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quote, backslash and control characters (U+0000–U+001F, U+007F) escaped,
    anything else (non-ASCII included) written as is in UTF-8."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):  # e.g. undecodable bytes in a command-line argument
        raise BrainbenchError(f"{text!r} is not valid Unicode text; give it in UTF-8.")
    escaped = "".join(
        _SHORT_ESCAPES.get(c) or (f"\\u{ord(c):04X}" if ord(c) < 0x20 or ord(c) == 0x7F else c) for c in text
    )
    return f'"{escaped}"'


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else toml_string(key)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("nan" if math.isnan(value) else f"{value:+}")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return toml_string(str(value))


def toml_text(fields: Mapping[str, Any], header: str) -> str:
    """A TOML document: top-level values, then tables (dict values) and arrays of tables (lists of dicts), with one
    level of sub-tables (e.g. ``[assemblies.coords]``); ``header`` is a comment line at the top."""

    def values(table: Mapping[str, Any]) -> list[str]:
        return [f"{toml_key(k)} = {toml_value(v)}" for k, v in table.items()
                if v is not None and not isinstance(v, Mapping)]

    def subtables(prefix: str, table: Mapping[str, Any]) -> list[str]:
        lines = []
        for key, value in table.items():
            if isinstance(value, Mapping):
                lines += ["", f"[{prefix}.{toml_key(key)}]", *values(value)]
        return lines

    lines = [f"# {header}"]
    scalars = {k: v for k, v in fields.items() if not _is_table(v)}
    lines += values(scalars)
    for key, value in fields.items():
        if isinstance(value, Mapping):
            lines += ["", f"[{toml_key(key)}]", *values(value), *subtables(toml_key(key), value)]
        elif _is_table(value):
            for table in value:
                lines += ["", f"[[{toml_key(key)}]]", *values(table), *subtables(toml_key(key), table)]
    return "\n".join(lines) + "\n"


def _is_table(value: object) -> bool:
    return isinstance(value, Mapping) or (isinstance(value, list) and bool(value)
                                          and all(isinstance(v, Mapping) for v in value))
