"""``brainbench data list | fetch | verify``."""

from __future__ import annotations

import click
from rich.table import Table

from brainbench import paths
from brainbench.cli import options, render
from brainbench.data import cache_files, fetch_dataset, list_manifests, load_manifest, verify_dataset
from brainbench.data.manifest import DataFile


@click.group()
def data() -> None:
    """Datasets: list them, fetch them into the cache, verify the cached copies."""


@data.command("list")
@options.as_json
def data_list(as_json: bool) -> None:
    """List the datasets, their size and whether they are cached."""
    rows = []
    for m in list_manifests():
        status = verify_dataset(m)
        cached = sum(s == "ok" for s in status.values())
        known = all(f.size for f in m.files)  # Brain-Score's data publish no sizes
        rows.append({"name": m.name, "title": m.title, "files": len(m.files),
                     "bytes": sum(f.size for f in m.files) if known else None, "cached_files": cached})
    if as_json:
        render.print_json(rows)
        return
    table = Table(title=f"datasets  ·  cache {paths.data_cache()}")
    table.add_column("dataset", no_wrap=True)
    for column in ("files", "MB", "cached"):
        table.add_column(column)
    table.add_column("title", overflow="fold")
    for r in rows:
        size = "?" if r["bytes"] is None else f"{r['bytes'] / 1e6:.1f}"
        table.add_row(r["name"], str(r["files"]), size, f"{r['cached_files']}/{r['files']}",
                      r["title"])
    render.stdout.print(table)


@data.command("fetch")
@click.argument("name")
@options.data_mirror
def data_fetch(name: str, data_mirrors: tuple[str, ...]) -> None:
    """Put dataset NAME in the local cache: from a mirror, else by download; every file checksum-verified."""
    manifest = load_manifest(name)

    def bar(file: DataFile) -> render.DownloadBar:
        return render.DownloadBar(f"{manifest.name}/{file.path}")

    fetched = fetch_dataset(manifest, paths.mirror_dirs(list(data_mirrors)), progress=bar)
    for path, f in fetched.items():
        render.stdout.print(f"{manifest.name}/{path}: verified ({f.origin})")


@data.command("verify")
@click.argument("name", required=False)
@click.option("--clean", is_flag=True, help="Remove the stale partial files found (left by interrupted runs).")
def data_verify(name: str | None, clean: bool) -> None:
    """Check the sha256 of cached files (of NAME, or of every dataset); exit 1 if any is corrupt.

    Also lists the partial files in the cache (of NAME, or in the whole data and stimulus caches): those of
    a run in progress, and stale ones left by an interrupted run, which --clean removes (as does the next
    write into their folder).
    """
    manifests = [load_manifest(name)] if name else list_manifests()
    bad = 0
    for m in manifests:
        embedded = {f.path for f in m.files if f.embedded}
        for path, status in verify_dataset(m).items():
            bad += status == "corrupt"
            note = " (embedded in brainbench)" if path in embedded else ""
            render.stdout.print(f"{m.name}/{path}: {status}{note}")
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
    if bad:
        raise click.ClickException(f"{bad} cached file(s) failed their checksum; run `brainbench data fetch NAME`.")
