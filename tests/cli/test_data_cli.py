"""``brainbench data list | fetch | verify``, with the offline mirror."""

from __future__ import annotations

import json
import logging
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pooch
import pytest
import requests
from click.testing import Result

from brainbench.data import cache_files, load_manifest

Cli = Callable[..., Result]
FILES = [f.path for f in load_manifest("kriegeskorte2008").files]


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def assert_one_line_error(result: Result) -> str:
    assert result.exit_code != 0
    assert "Traceback" not in result.stdout + result.stderr
    errors = lines(result.stderr)
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("error: ")
    return errors[0]


def test_data_list(cli: Cli) -> None:
    result = cli("data", "list")
    assert result.exit_code == 0, result.output
    assert "kriegeskorte2008" in result.stdout and "0/3" in result.stdout

    as_json = cli("data", "list", "--json")
    assert as_json.exit_code == 0
    rows = {row["name"]: row for row in json.loads(as_json.stdout)}
    manifest = load_manifest("kriegeskorte2008")
    assert rows["kriegeskorte2008"] == {
        "name": "kriegeskorte2008", "title": manifest.title, "files": 3,
        "bytes": sum(f.size for f in manifest.files), "cached_files": 0, "status": "network", "mirrors": [],
        "urls": [f.url for f in manifest.files], "local_files": [], "origin": "built-in",
        "file": str(manifest.definition.path),
    }
    assert rows["marques2020"]["status"] == "embedded"


@pytest.mark.mirror
def test_data_list_says_where_each_dataset_would_come_from(cli: Cli, mirror: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial-mirror"
    partial.mkdir()
    (partial / "kriegeskorte2008_92images").symlink_to(mirror / "kriegeskorte2008_92images")
    rows = {r["name"]: r for r in json.loads(cli("data", "list", "--json", "--data-mirror", partial).stdout)}
    assert (rows["kriegeskorte2008"]["status"], rows["kriegeskorte2008"]["mirrors"]) == ("mirror", [str(partial)])
    assert rows["cowley2023"]["status"] == "network" and rows["cowley2023"]["mirrors"] == []
    assert cli("data", "fetch", "kriegeskorte2008", "--data-mirror", partial).exit_code == 0
    rows = {r["name"]: r for r in json.loads(cli("data", "list", "--json").stdout)}
    assert (rows["kriegeskorte2008"]["status"], rows["kriegeskorte2008"]["cached_files"]) == ("cached", 3)
    table = cli("data", "list", "--data-mirror", partial)
    assert table.exit_code == 0 and "cached" in table.stdout and "network" in table.stdout


def test_verify_on_a_fresh_home_is_one_line_per_dataset(cli: Cli) -> None:
    result = cli("data", "verify")
    assert result.exit_code == 0, result.output
    assert "kriegeskorte2008: 0/3 cached" in lines(result.stdout)
    assert "marques2020: 1/1 cached, verified" in lines(result.stdout)
    assert not [line for line in lines(result.stdout) if line.endswith("missing")]  # not ~1 000 of them
    every = cli("data", "verify", "--files")
    assert "kriegeskorte2008/92_brainRDMs.mat: missing" in lines(every.stdout)


@pytest.mark.mirror
def test_fetch_from_mirror_then_verify(cli: Cli, mirror: Path, home: Path) -> None:
    fetched = cli("data", "fetch", "kriegeskorte2008", "--data-mirror", mirror)
    assert fetched.exit_code == 0, fetched.output
    assert lines(fetched.stdout) == [f"kriegeskorte2008/{f}: verified (mirror)" for f in FILES]
    assert sorted(p.name for p in (home / "data" / "kriegeskorte2008").iterdir()) == sorted(FILES)

    again = cli("data", "fetch", "kriegeskorte2008")  # no mirror needed any more
    assert again.exit_code == 0, again.output
    assert lines(again.stdout) == [f"kriegeskorte2008/{f}: verified (cache)" for f in FILES]

    listed = json.loads(cli("data", "list", "--json").stdout)
    assert next(r for r in listed if r["name"] == "kriegeskorte2008")["cached_files"] == 3

    for args in (("data", "verify", "--files"), ("data", "verify", "kriegeskorte2008")):
        verified = cli(*args)
        assert verified.exit_code == 0, verified.output
        ours = [line for line in lines(verified.stdout) if line.startswith("kriegeskorte2008/")]
        assert ours == [f"kriegeskorte2008/{f}: ok" for f in FILES]
        others = [line for line in lines(verified.stdout) if line not in ours]
        if "--files" in args:  # every dataset: the shipped file is never missing
            assert "marques2020/v1_properties.json: ok (embedded in brainbench)" in others
        assert all(line.endswith(": missing") for line in others if not line.startswith("marques2020/"))
    assert "kriegeskorte2008: 3/3 cached, verified" in lines(cli("data", "verify").stdout)

    corrupt = home / "data" / "kriegeskorte2008" / "92_brainRDMs.mat"
    corrupt.write_bytes(b"\0" * corrupt.stat().st_size)
    failed = cli("data", "verify")
    assert failed.exit_code != 0
    assert "kriegeskorte2008/92_brainRDMs.mat: corrupt" in lines(failed.stdout)  # corrupt files: always a line
    assert "kriegeskorte2008: 3/3 cached, 1 corrupt" in lines(failed.stdout)
    assert "1 cached file(s) failed their checksum" in failed.stderr
    assert "Traceback" not in failed.output
    assert corrupt.exists()  # verify only reports; the copy is left for inspection


@pytest.mark.mirror
def test_fetch_uses_the_mirror_variable(cli: Cli, mirror: Path) -> None:
    result = cli("data", "fetch", "kriegeskorte2008", env={"BRAINBENCH_DATA_MIRROR": str(mirror)})
    assert result.exit_code == 0, result.output
    assert all(line.endswith("verified (mirror)") for line in lines(result.stdout))


def test_verify_without_cache_reports_missing(cli: Cli) -> None:
    result = cli("data", "verify", "kriegeskorte2008")
    assert result.exit_code == 0
    assert lines(result.stdout) == [f"kriegeskorte2008/{f}: missing" for f in FILES]


@pytest.mark.parametrize("command", ["fetch", "verify"])
def test_unknown_dataset(cli: Cli, command: str) -> None:
    line = assert_one_line_error(cli("data", command, "nosuch"))
    assert "Unknown dataset 'nosuch'" in line and "brainbench data list" in line


def test_unknown_dataset_suggests_close_name(cli: Cli) -> None:
    line = assert_one_line_error(cli("data", "fetch", "kriegeskorte2009"))
    assert "Did you mean kriegeskorte2008?" in line


def test_fetch_offline_without_mirror(cli: Cli, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    urls = []

    def offline(url: str, *args: object, **kwargs: object) -> str:
        urls.append(url)
        raise requests.ConnectionError("network is unreachable")

    monkeypatch.setattr(pooch, "retrieve", offline)
    line = assert_one_line_error(cli("data", "fetch", "kriegeskorte2008"))
    assert "BRAINBENCH_DATA_MIRROR" in line and "--data-mirror" in line
    assert urls and urls[0].startswith("https://raw.githubusercontent.com/")
    cache = home / "data"
    assert not cache.exists() or not [p for p in cache.rglob("*") if p.is_file()]


@pytest.mark.mirror
def test_fetch_from_bad_mirror(cli: Cli, mirror: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad-mirror" / "kriegeskorte2008_92images"
    bad.mkdir(parents=True)
    for name in FILES:
        (bad / name).symlink_to(mirror / "kriegeskorte2008_92images" / name)
    (bad / "92_behavRDMs.mat").unlink()
    (bad / "92_behavRDMs.mat").write_bytes(b"not the published file")
    line = assert_one_line_error(cli("data", "fetch", "kriegeskorte2008", "--data-mirror", bad.parent))
    assert "92_behavRDMs.mat" in line and "sha256" in line


def bad_mirror(mirror: Path, root: Path, bad_file: str = "92_behavRDMs.mat") -> Path:
    """A mirror of the 92-images dataset whose copy of ``bad_file`` is not the published file."""
    folder = root / "kriegeskorte2008_92images"
    folder.mkdir(parents=True)
    for name in FILES:
        if name != bad_file:
            (folder / name).symlink_to(mirror / "kriegeskorte2008_92images" / name)
    (folder / bad_file).write_bytes(b"not the published file")
    return root


@pytest.mark.mirror
def test_a_bad_data_mirror_falls_back_to_the_environment_mirror(
    cli: Cli, mirror: Path, tmp_path: Path, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = bad_mirror(mirror, tmp_path / "bad-mirror")
    caplog.set_level(logging.WARNING, logger="brainbench")

    result = cli("data", "fetch", "kriegeskorte2008", "--data-mirror", bad, env={"BRAINBENCH_DATA_MIRROR": str(mirror)})

    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [f"kriegeskorte2008/{f}: verified (mirror)" for f in FILES]
    (warning,) = [r.getMessage() for r in caplog.records if r.name.startswith("brainbench")]
    assert warning.startswith(f"Skipped {bad / 'kriegeskorte2008_92images' / '92_behavRDMs.mat'}: does not match")
    assert warning.endswith(f"copied {mirror / 'kriegeskorte2008_92images' / '92_behavRDMs.mat'} instead.")
    cached = home / "data" / "kriegeskorte2008" / "92_behavRDMs.mat"
    assert cached.read_bytes() == (mirror / "kriegeskorte2008_92images" / "92_behavRDMs.mat").read_bytes()


@pytest.mark.mirror
def test_the_skipped_copy_is_one_line_on_stderr(mirror: Path, tmp_path: Path) -> None:
    bad = bad_mirror(mirror, tmp_path / "bad-mirror")
    env = {**os.environ, "BRAINBENCH_HOME": str(tmp_path / "home"), "BRAINBENCH_DATA_MIRROR": str(mirror)}
    result = subprocess.run([sys.executable, "-m", "brainbench", "data", "fetch", "kriegeskorte2008", "--data-mirror",
                             str(bad)], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert lines(result.stderr) == [
        f"Skipped {bad / 'kriegeskorte2008_92images' / '92_behavRDMs.mat'}: does not match the sha256 of "
        f"kriegeskorte2008/92_behavRDMs.mat; copied {mirror / 'kriegeskorte2008_92images' / '92_behavRDMs.mat'} "
        "instead."
    ]


def test_a_data_mirror_that_does_not_exist_is_refused_before_any_work(
    cli: Cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tried = []
    monkeypatch.setattr(pooch, "retrieve", lambda url, *a, **k: tried.append(url))
    result = cli("data", "fetch", "kriegeskorte2008", "--data-mirror", tmp_path / "typo")
    line = assert_one_line_error(result)
    assert result.exit_code == 2  # a usage error, found while parsing
    assert f"Directory '{tmp_path / 'typo'}' does not exist" in line and "--data-mirror" in line
    assert tried == [] and not (home / "data").exists()


def test_verify_lists_stale_partials_and_clean_removes_them(cli: Cli, home: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # its pid now names no process: what a kill -9 leaves behind
    host = cache_files.partial_prefix().split("@")[1]
    dataset = home / "data" / "kriegeskorte2008"
    stimuli = home / "stimuli"
    dataset.mkdir(parents=True)
    stimuli.mkdir()
    stale_download = dataset / f".download-{child.pid}@{host}abc123"
    stale_download.mkdir()
    (stale_download / "tmpx1y2").write_bytes(b"\0" * 122_000)
    stale_drawing = stimuli / f".partial-{child.pid}@{host}orientation-v1-8deg-96px.npy"
    stale_drawing.write_bytes(b"\0" * 260_000)
    live = dataset / f"{cache_files.partial_prefix()}92_brainRDMs.mat"  # this process: a fetch in progress
    live.write_bytes(b"\0" * 1000)

    listed = cli("data", "verify")

    assert listed.exit_code == 0, listed.output
    partial_lines = [line for line in lines(listed.stdout) if "partial" in line]
    assert partial_lines == [
        f"{stale_download}: stale partial file (0.1 MB; its writer, process {child.pid}, is gone)",
        f"{live}: partial file in progress (0.0 MB; process {os.getpid()} is writing it)",
        f"{stale_drawing}: stale partial file (0.3 MB; its writer, process {child.pid}, is gone)",
        "2 stale partial file(s), 0.4 MB: `brainbench data verify --clean` removes them (as does the next write "
        "into their folder).",
    ]
    assert stale_download.exists() and stale_drawing.exists()  # listing removes nothing

    only_one = cli("data", "verify", "kriegeskorte2008")
    assert next(line for line in lines(only_one.stdout) if "partial" in line).startswith(str(stale_download))
    assert str(stale_drawing) not in only_one.stdout  # the stimulus cache belongs to no dataset

    cleaned = cli("data", "verify", "--clean")

    assert cleaned.exit_code == 0, cleaned.output
    assert f"{stale_download}: removed stale partial file" in cleaned.stdout
    assert f"{stale_drawing}: removed stale partial file" in cleaned.stdout
    assert not stale_download.exists() and not stale_drawing.exists()
    assert live.exists()  # a live writer's partial is never removed
    assert "stale partial" not in cli("data", "verify").stdout


@pytest.mark.mirror
def test_file_size_limit_while_fetching_is_one_sentence(mirror: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"

    def limited() -> None:  # Python ignores SIGXFSZ: a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    result = subprocess.run(
        [sys.executable, "-m", "brainbench", "data", "fetch", "kriegeskorte2008", "--data-mirror", str(mirror)],
        env={**os.environ, "BRAINBENCH_HOME": str(home)}, preexec_fn=limited, capture_output=True, text=True,
        timeout=600,
    )
    assert result.returncode == 1
    assert lines(result.stderr) == [
        f"error: Cannot write kriegeskorte2008/{FILES[0]} into {home / 'data' / 'kriegeskorte2008'}: the file would "
        "exceed the file-size limit; raise the limit (ulimit -f), or set BRAINBENCH_HOME to a folder on another file "
        "system. Nothing of it was kept."
    ]
    assert list((home / "data" / "kriegeskorte2008").iterdir()) == []
