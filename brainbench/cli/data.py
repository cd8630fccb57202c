"""``brainbench data list | fetch | verify``."""

from __future__ import annotations

import click
from rich.text import Text

from brainbench import paths
from brainbench.cli import options, render
from brainbench.cli.authoring import data_add
from brainbench.data import cache_files
from brainbench.data.fetch import availability, fetch_dataset, verify_dataset
from brainbench.data.manifest import DataFile, list_manifests, load_manifest
from brainbench.definitions import definition_fields, where


@click.group()
def data() -> None:
    """Datasets: list them, fetch them into the cache, verify the cached copies."""


data.add_command(data_add)


@data.command("list")
@options.definitions
@options.data_mirror
@options.as_json
def data_list(definitions: tuple[str, ...], data_mirrors: tuple[str, ...], as_json: bool) -> None:
    """List the datasets: size, cached files, and where they would come from now.

    status: embedded (shipped inside brainbench), local (files of this machine named by the manifest, read in
    place), cached, mirror (in a data mirror), network (to download), or unavailable. Files count as cached or
    mirrored when a copy of the published size is there; `brainbench data verify` checks their checksums. from:
    built-in, or the file of a user manifest (BRAINBENCH_HOME,
    BRAINBENCH_DEFINITIONS, --definitions).
    """
    mirrors = paths.mirror_dirs(list(data_mirrors))
    rows = []
    manifests = list_manifests(definitions)
    for m in manifests:
        found = availability(m, mirrors)
        known = all(f.size for f in m.files)  # Brain-Score's data publish no sizes
        rows.append({"name": m.name, "title": m.title, "files": len(m.files),
                     "bytes": sum(f.size for f in m.files) if known else None, "cached_files": found.cached,
                     "status": found.status, "mirrors": [str(p) for p in found.in_mirrors],
                     "urls": list(found.urls), "local_files": [str(f) for f in found.local_files],
                     **definition_fields(m.definition)})
    if as_json:
        render.print_json(rows)
        return
    # Names and places are never cut: one row per dataset when the table fits, else one block per dataset.
    console = render.console_now()
    console.print(Text(f"datasets  ·  cache {paths.data_cache()}"))
    cells = []
    for r, m in zip(rows, manifests, strict=True):
        size = "?" if r["bytes"] is None else f"{r['bytes'] / 1e6:.1f}"
        status = f"mirror {', '.join(r['mirrors'])}" if r["status"] == "mirror" else r["status"]
        cells.append((r["name"], str(r["files"]), size, f"{r['cached_files']}/{r['files']}", status,
                      where(m.definition)))
    table = render.compact_table()
    for column in ("dataset", "files", "MB", "cached", "status", "from", "title"):
        table.add_column(column, no_wrap=True, justify="right" if column in ("files", "MB", "cached") else "left")
    for cell, r in zip(cells, rows, strict=True):
        table.add_row(*(Text(c) for c in cell), Text(r["title"]))
    if render.natural_width(console, table) <= console.width:
        console.print(table)
        return
    for (name, files, size, cached, status, origin), r in zip(cells, rows, strict=True):
        console.print(Text(f"{name}  {status}"))
        source = origin if origin == "built-in" else f"from {origin}"
        console.print(Text(f"    {files} files, {size} MB, {cached} cached · {source} · {r['title']}"))


@data.command("fetch")
@click.argument("name")
@options.definitions
@options.data_mirror
def data_fetch(name: str, definitions: tuple[str, ...], data_mirrors: tuple[str, ...]) -> None:
    """Put dataset NAME in the local cache: from a mirror, else by download; every file checksum-verified."""
    manifest = load_manifest(name, definitions)

    def bar(file: DataFile) -> render.DownloadBar:
        return render.DownloadBar(f"{manifest.name}/{file.path}")

    fetched = fetch_dataset(manifest, paths.mirror_dirs(list(data_mirrors)), progress=bar)
    for path, f in fetched.items():
        render.stdout.print(f"{manifest.name}/{path}: verified ({f.origin})")


@data.command("verify")
@click.argument("name", required=False)
@click.option("--clean", is_flag=True, help="Remove the stale partial files found (left by interrupted runs).")
@click.option("--files", "every_file", is_flag=True, help="One line per file (the default with NAME).")
@options.definitions
def data_verify(name: str | None, clean: bool, every_file: bool, definitions: tuple[str, ...]) -> None:
    """Check the sha256 of cached files (of NAME, or of every dataset); exit 1 if any is corrupt.

    Without NAME, one line per dataset ("kriegeskorte2008: 3/3 cached, verified") and a line per corrupt file;
    with NAME or --files, one line per file. Also lists the partial files in the cache (of NAME, or in the whole
    data and stimulus caches): those of a run in progress, and stale ones left by an interrupted run, which
    --clean removes (as does the next write into their folder).
    """
    manifests = [load_manifest(name, definitions)] if name else list_manifests(definitions)
    bad = changed = 0
    for m in manifests:
        embedded = {f.path for f in m.files if f.embedded}
        local = {f.path: f.local for f in m.files if f.local is not None}
        statuses = verify_dataset(m)
        bad += sum(status == "corrupt" and path not in local for path, status in statuses.items())
        changed += sum(status == "corrupt" and path in local for path, status in statuses.items())
        for path, status in statuses.items():
            if name or every_file or status == "corrupt":
                note = (" (embedded in brainbench)" if path in embedded
                        else f" (local file {local[path]})" if path in local else "")
                render.stdout.print(f"{m.name}/{path}: {status}{note}", markup=False)
        if not (name or every_file):
            ok = sum(status == "ok" for status in statuses.values())
            corrupt = sum(status == "corrupt" for status in statuses.values())
            state = f", {corrupt} corrupt" if corrupt else (", verified" if ok else "")
            render.stdout.print(f"{m.name}: {ok + corrupt}/{len(statuses)} cached{state}", markup=False)
    folders = [paths.data_cache() / m.name for m in manifests] if name else [paths.data_cache(), paths.stimulus_cache()]
    stale = []
    for partial in (p for folder in folders for p in cache_files.partials(folder, recursive=True)):
        size = f"{partial.size / 1e6:.1f} MB"
        if not partial.stale:
            render.stdout.print(f"{partial.path}: partial file in progress ({size}; {partial.reason})")
            continue
        stale.append(partial)
        if clean:
            cache_files.remove(partial)
        done = "removed " if clean else ""
        render.stdout.print(f"{partial.path}: {done}stale partial file ({size}; {partial.reason})")
    if stale and not clean:
        render.stdout.print(f"{len(stale)} stale partial file(s), {sum(p.size for p in stale) / 1e6:.1f} MB: "
                            "`brainbench data verify --clean` removes them (as does the next write into their folder).")
    problems = ([f"{bad} cached file(s) failed their checksum: run `brainbench data fetch NAME`"] if bad else []) + (
        [f"{changed} local file(s) changed since their manifest was written: re-run `brainbench data add` or fix the "
         "sha256"] if changed else [])
    if problems:
        raise click.ClickException("; ".join(problems) + ".")
