"""``brainbench data list | fetch | verify``, with the offline mirror."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pooch
import pytest
import requests
from click.testing import Result

from brainbench.data import load_manifest

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
        "bytes": sum(f.size for f in manifest.files), "cached_files": 0,
    }


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

    for args in (("data", "verify"), ("data", "verify", "kriegeskorte2008")):
        verified = cli(*args)
        assert verified.exit_code == 0, verified.output
        ours = [line for line in lines(verified.stdout) if line.startswith("kriegeskorte2008/")]
        assert ours == [f"kriegeskorte2008/{f}: ok" for f in FILES]
        others = [line for line in lines(verified.stdout) if line not in ours]
        if len(args) == 2:  # every dataset: the shipped file is never missing
            assert "marques2020/v1_properties.json: ok (embedded in brainbench)" in others
        assert all(line.endswith(": missing") for line in others if not line.startswith("marques2020/"))

    corrupt = home / "data" / "kriegeskorte2008" / "92_brainRDMs.mat"
    corrupt.write_bytes(b"\0" * corrupt.stat().st_size)
    failed = cli("data", "verify")
    assert failed.exit_code != 0
    assert "kriegeskorte2008/92_brainRDMs.mat: corrupt" in lines(failed.stdout)
    assert "kriegeskorte2008/92_behavRDMs.mat: ok" in lines(failed.stdout)
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
