"""The ``[[assemblies]]`` tables of a generic data manifest: which file, variable and axis order make each assembly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from brainbench.errors import DataError

FORMATS = ("rdm", "responses", "trials", "category_mapping")
TABLES = ("trials", "category_mapping")
"""Formats read from a table (CSV, JSON) rather than an array: they have no dims."""
STRUCTURE_KEYS = ("name", "format", "file", "variable", "dims", "stimuli", "coords", "columns")
"""Keys that say how to read an assembly; every other (scalar) key is recorded as an attribute (region, species…)."""


@dataclass(frozen=True)
class AssemblyTable:
    """One ``[[assemblies]]`` table. ``dims``: one name per axis of the array (rdm, responses); ``stimuli``: the
    stimulus source whose order the ``stimulus`` axis follows ("" for a category mapping); ``coords``: labels of
    other axes; ``columns``: the trial CSV's column names (trials); ``attrs``: recorded on the assembly."""

    name: str
    format: str
    file: str
    variable: str = ""
    dims: tuple[str, ...] = ()
    stimuli: str = ""
    coords: dict[str, list[Any]] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """The file and variable, as error sentences name them (``it_rdms.mat:RDMs.RDM``)."""
        return f"{self.file}:{self.variable}" if self.variable else self.file


def _names(value: object, key: str, origin: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise DataError(f"{origin}: {key} must be a list of names.")
    return tuple(value)


def parse_assembly_table(table: Mapping[str, Any], sources: Sequence[str], origin: str) -> AssemblyTable:
    """Check and parse one ``[[assemblies]]`` table; ``sources``: the names of the dataset's stimulus sources."""
    name = table.get("name")
    if not isinstance(name, str) or not name:
        raise DataError(f"{origin}: each [[assemblies]] table needs a name.")
    where = f"{origin}, assembly {name}"
    kind = table.get("format")
    if kind not in FORMATS:
        raise DataError(f"{where}: format {kind!r} is not one of {', '.join(FORMATS)}.")
    if not isinstance(table.get("file"), str) or not table["file"]:
        raise DataError(f"{where}: file must name one of the dataset's [[files]] paths.")
    dims = _names(table.get("dims"), "dims", where) if kind not in TABLES else ()
    if kind == "trials" and "dims" in table:
        raise DataError(f"{where}: a trials CSV has no dims; name its columns with columns = {{...}} instead.")
    if kind == "category_mapping":
        if stray := [k for k in ("dims", "stimuli", "coords", "columns") if k in table]:
            raise DataError(f"{where}: a category mapping is read from its JSON alone; remove {', '.join(stray)}.")
        return AssemblyTable(name, kind, table["file"], str(table.get("variable", "")),
                             attrs=_attrs(table, where))
    source = table.get("stimuli", sources[0] if len(sources) == 1 else None)
    if source is None:
        raise DataError(f"{where}: the dataset has several stimulus sources ({', '.join(sources)}); say which one "
                        "this assembly's stimuli come from (stimuli = \"...\").")
    if source not in sources:
        raise DataError(f"{where}: no stimulus source named {source!r} (the sources: {', '.join(sources)}).")
    coords = table.get("coords", {})
    if not isinstance(coords, dict) or not all(isinstance(v, list) for v in coords.values()):
        raise DataError(f"{where}: coords must be a table of lists (e.g. subject = [\"S1\", \"S2\"]).")
    columns = table.get("columns", {})
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise DataError(f"{where}: columns must be a table of column names (e.g. choice = \"response\").")
    return AssemblyTable(name, kind, table["file"], str(table.get("variable", "")), dims, source,
                         {str(k): list(v) for k, v in coords.items()}, dict(columns), _attrs(table, where))


def _attrs(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    attrs = {k: v for k, v in table.items() if k not in STRUCTURE_KEYS}
    odd = [k for k, v in attrs.items() if not isinstance(v, str | int | float | bool)]
    if odd:
        raise DataError(f"{where}: unknown key(s) {', '.join(odd)} (known: {', '.join(STRUCTURE_KEYS)}; any other "
                        "key is recorded as an attribute and must be text or a number).")
    return attrs
