"""The `gongkai extract` contract: JSON Lines on stdout, a summary per document on stderr, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import main

SEEDS = Path(__file__).parent / "fixtures" / "seeds"


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict], str]:
    code = main(["extract", *args])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_extract_seed_folder(capsys: pytest.CaptureFixture[str]) -> None:
    code, recs, err = run_cli([str(SEEDS)], capsys)
    assert code == 0
    sources = {r["source"] for r in recs}
    assert len(sources) == 5 and all(s.startswith(str(SEEDS)) for s in sources)
    for r in recs:
        assert r["kind"] in ("cell", "narrative", "check")
        assert {"source", "unit", "year", "template"} <= set(r)
    cells = [r for r in recs if r["kind"] == "cell"]
    assert len(cells) == 200 * 4 + 198  # four gov2021 seeds and one gov2019
    for c in cells:
        assert {"table", "row", "col", "value", "raw", "status", "flags"} <= set(c)
        assert c["value"] in (0, None) and isinstance(c["flags"], list)
    by_source = {r["source"]: r for r in cells}
    assert {(r["unit"], r["year"], r["template"]) for r in by_source.values()} == {
        ("卫辉市上乐村镇", 2023, "gov2021"), ("苏店镇", 2024, "gov2021"), ("城关镇", 2022, "gov2021"),
        ("洛浦县恰尔巴格镇", 2023, "gov2021"), ("安乐镇", 2020, "gov2019")}
    assert len(err.strip().splitlines()) == 5 and "cells=200" in err


def test_unreadable_file_is_named_and_the_rest_still_comes_out(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(next(SEEDS.glob("000_*.txt")), tmp_path / "a.txt")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7 this is not really a pdf")
    (tmp_path / "empty.html").write_bytes(b"")
    code, recs, err = run_cli([str(tmp_path)], capsys)
    assert code == 1
    assert {r["source"] for r in recs} == {str(tmp_path / "a.txt")}
    assert f"error: {tmp_path / 'broken.pdf'}:" in err and f"error: {tmp_path / 'empty.html'}:" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["extract", str(tmp_path / "nope.txt")]) == 2
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["extract"])
    assert e.value.code == 2


def test_console_script_runs() -> None:
    exe = Path(sys.executable).parent / "gongkai"
    p = subprocess.run([str(exe), "extract", str(next(SEEDS.glob("004_*.txt")))], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    first = json.loads(p.stdout.splitlines()[0])
    assert first["kind"] == "cell" and first["template"] == "gov2019" and first["unit"] == "安乐镇"
