"""Seed corpora: the test fixtures (seeds, corpus, portal pages) plus a few generated reports per format
(`extract.demo.render`). Deterministic; written to fuzz/out/corpus/<target>/ by `fuzz/run.py`."""

from __future__ import annotations

import hashlib
import random
from functools import cache
from pathlib import Path

from fuzz.targets import PIPELINE_NAMES, encode_blocks, reader

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
REGRESSIONS = ROOT / "tests" / "regressions"

_UNITS = (("苏店镇", "苏店镇人民政府", "gov2021", 2022), ("城关镇", "城关镇人民政府", "gov2019", 2019),
          ("西城区月坛街道", "西城区月坛街道办事处", "gov2021", 2023))


def _fixture_files(*globs: str) -> list[Path]:
    out: list[Path] = []
    for g in globs:
        out += sorted(FIXTURES.glob(g))
    return out


@cache
def generated(fmt: str, n: int = 3) -> tuple[bytes, ...]:
    """n rendered reports in a demo format (html_spans, html_flat, tab, cellline, markdown, docx, pdf)."""
    from extract.demo.render import Noise, random_truth, render

    out = []
    for i, (unit, title, tpl, year) in enumerate(_UNITS[:n]):
        truth = random_truth(random.Random(1000 + i), unit=unit, unit_title=title, year=year, template=tpl,
                             zero_share=0.4, consistent=i != 1)
        kw = {"encoding": "gbk", "chrome": True} if fmt.startswith("html") and i == 2 else {}
        out.append(render(truth, fmt, noise=Noise() if i == 0 else None, **kw))
    return tuple(out)


def seeds(target: str) -> list[bytes]:
    """The seed inputs of a target (fixtures first, then generated documents)."""
    if target == "html":
        files = _fixture_files("corpus/*.html", "portal/*.html", "portal/*.jsp")
        return [p.read_bytes() for p in files] + list(generated("html_spans")) + list(generated("html_flat"))
    if target == "text":
        files = _fixture_files("seeds/*.txt", "corpus/*.txt", "portal/*.txt")
        return ([p.read_bytes() for p in files] + list(generated("tab")) + list(generated("cellline"))
                + list(generated("markdown")))
    if target == "pdf":
        return list(generated("pdf"))
    if target == "docx":
        return list(generated("docx"))
    if target == "mapper":
        return _mapper_seeds()
    if target == "pipeline":
        out = []
        for k, t in enumerate(("html", "text", "pdf", "docx")):
            assert PIPELINE_NAMES[k].endswith(t if t != "text" else "txt")
            out += [bytes([k]) + s for s in seeds(t)[:8]]
        return out
    raise ValueError(f"unknown target {target!r}")


def _mapper_seeds() -> list[bytes]:
    """Reader output of the fixtures, encoded as mapper input (fuzz.targets.encode_blocks)."""
    from extract.readers.base import Limits, ReaderError

    out = []
    for t in ("text", "html", "pdf", "docx"):
        fn = reader(t)
        if fn is None:
            continue
        for data in seeds(t):
            try:
                res = fn(data, Limits())
            except ReaderError:
                continue
            out.append(encode_blocks(res.blocks))  # type: ignore[attr-defined]
    return out


def regression_inputs(target: str) -> list[Path]:
    """Crash inputs kept as regression files: tests/regressions/<target>-*.bin."""
    return sorted(REGRESSIONS.glob(f"{target}-*.bin"))


def write_corpus(target: str, dest: Path) -> int:
    """Seed `dest` (content-addressed names, existing files kept); return the number of files there."""
    dest.mkdir(parents=True, exist_ok=True)
    for data in seeds(target) + [p.read_bytes() for p in regression_inputs(target)]:
        p = dest / hashlib.sha1(data).hexdigest()
        if not p.exists():
            p.write_bytes(data)
    return sum(1 for _ in dest.iterdir())
