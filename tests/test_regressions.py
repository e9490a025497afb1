"""Replay every crash input in tests/regressions/ (see its README): each must read or be refused cleanly."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fuzz.targets import FUZZ_LIMITS, TARGETS, available, run_one, signature  # noqa: E402

REG = ROOT / "tests" / "regressions"
KNOWN: dict[str, str] = json.loads((REG / "known.json").read_text(encoding="utf-8"))
OPEN_FILES = set(KNOWN.values())


def _cases() -> list[object]:
    out = []
    for p in sorted(REG.glob("*.bin")):
        target = p.name.split("-", 1)[0]
        assert target in TARGETS, f"{p.name}: name must start with a fuzz target ({', '.join(TARGETS)})"
        marks = []
        # an open bug: every reproducer of a known signature (the pipeline variant of a docx bug too)
        if p.name in OPEN_FILES or any(p.name.endswith(f.split("-", 1)[1]) for f in OPEN_FILES):
            marks.append(pytest.mark.xfail(strict=True, reason="open reader bug, see tests/regressions/known.json"))
        out.append(pytest.param(target, p, id=p.name, marks=marks))
    return out


@pytest.mark.parametrize(("target", "path"), _cases())
def test_regression_input(target: str, path: Path) -> None:
    if not available(target):
        pytest.skip(f"{target} not importable")
    # a hang reproducer (`-hang-`) runs with a short time limit: done or refused within 3 x max_seconds
    limits = replace(FUZZ_LIMITS, max_seconds=0.5) if "-hang-" in path.name else FUZZ_LIMITS
    t0 = time.process_time()
    try:
        outcome = run_one(target, path.read_bytes(), limits, guard=False)
    except Exception as e:
        raise AssertionError(f"{path.name}: {signature(e)}: {e}") from e
    elapsed = time.process_time() - t0
    assert outcome in ("ok", "rejected", "limit")
    assert elapsed < 3 * limits.max_seconds, f"{path.name}: {elapsed:.1f}s (limit {limits.max_seconds}s)"


def test_known_entries_have_reproducers() -> None:
    for sig, name in KNOWN.items():
        assert (REG / name).exists(), f"{sig}: reproducer {name} missing"
