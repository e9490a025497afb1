"""Extraction speed per format on one core, and HTML extraction as a fraction of a bare lexbor parse.

    .venv/bin/python bench/extract.py [--n 300] [--n-slow 30] [--formats html_spans,tab,...]

Documents are generated with known values (extract.demo.render), so the run also verifies that every
extracted cell equals the truth and prints the cell-exact rate per format. Targets (issue 2): >= 500
HTML or text reports/s, >= 5 five-page PDF reports/s, HTML extraction >= 20% of a bare parse's speed.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from selectolax.lexbor import LexborHTMLParser  # noqa: E402

from extract.demo.render import random_truth, render  # noqa: E402
from transform.pipeline import extract_bytes  # noqa: E402

UNITS = [("上乐村镇", "卫辉市上乐村镇人民政府"), ("苏店镇", "苏店镇人民政府"), ("城关镇", "城关镇人民政府"),
         ("恰尔巴格镇", "洛浦县恰尔巴格镇人民政府"), ("佳荣里街道", "北辰区佳荣里街道办事处")]
FORMATS = ["html_spans", "html_flat", "tab", "cellline", "markdown", "docx", "pdf"]
SLOW = {"docx", "pdf"}


def make_docs(fmt: str, n: int, seed: int) -> list[tuple[object, bytes]]:
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        unit, title = UNITS[i % len(UNITS)]
        year = rng.choice([2019, 2020, 2021, 2022, 2023, 2024])
        template = "gov2019" if year <= 2020 else "gov2021"
        truth = random_truth(rng, unit=unit, unit_title=title, year=year, template=template)
        docs.append((truth, render(truth, fmt)))
    return docs


def exact_rate(truth, ex) -> tuple[int, int]:
    got = {(c.table, c.row, c.col): c.value for c in ex.cells}
    ok = sum(1 for k, v in truth.cells.items() if k in got and got[k] == v)
    return ok, len(truth.cells)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300, help="documents per fast format")
    ap.add_argument("--n-slow", type=int, default=30, help="documents per PDF/DOCX format")
    ap.add_argument("--formats", default=",".join(FORMATS),
                    help=f"comma-separated subset of {','.join(FORMATS)} (the bare parse needs html_spans)")
    args = ap.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if unknown := sorted(set(formats) - set(FORMATS)):
        ap.error(f"unknown formats: {', '.join(unknown)}")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    ext = {"html_spans": "html", "html_flat": "html", "tab": "txt", "cellline": "txt", "markdown": "md",
           "docx": "docx", "pdf": "pdf"}
    # CPU seconds beside wall time: on a shared machine the wall clock also counts waiting for a core
    print(f"{'format':<11} {'docs':>5} {'docs/s':>9} {'ms/doc':>8} {'CPU ms/doc':>11} {'cells exact':>12}")
    html_pages: list[bytes] = []
    html_time = 0.0
    for fmt in formats:
        docs = make_docs(fmt, args.n_slow if fmt in SLOW else args.n, seed=FORMATS.index(fmt))
        t0, c0 = time.perf_counter(), time.process_time()
        results = [extract_bytes(data, source=f"bench.{ext[fmt]}") for _, data in docs]
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        ok = tot = 0
        for (truth, _), ex in zip(docs, results):
            a, b = exact_rate(truth, ex)
            ok, tot = ok + a, tot + b
        print(f"{fmt:<11} {len(docs):>5} {len(docs) / dt:>9.1f} {1000 * dt / len(docs):>8.2f} "
              f"{1000 * dc / len(docs):>11.2f} {ok / tot:>12.4%}")
        if fmt == "html_spans":
            html_pages = [d for _, d in docs]
            html_time = dt
    if not html_pages:
        return
    t0 = time.perf_counter()
    for page in html_pages:
        LexborHTMLParser(page).body  # noqa: B018 — the bare parse we compare against
    bare = time.perf_counter() - t0
    kb = sum(map(len, html_pages)) / len(html_pages) / 1024
    print(f"bare lexbor parse: {1000 * bare / len(html_pages):.3f} ms/page ({kb:.0f} KB avg); "
          f"HTML extraction speed = {bare / html_time:.1%} of a bare parse")


if __name__ == "__main__":
    main()
