"""Seconds per 5-page generated report: read_pdf vs pdfplumber's extract_tables (one core).

.venv/bin/python bench/pdf_reader.py [--n 20] [--unruled]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_readers_pdf import build_report  # noqa: E402

from extract.readers.pdf import read_pdf  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20, help="reports to read")
    ap.add_argument("--unruled", action="store_true", help="tables without drawn rules")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    docs = [build_report(seed, ruled=not args.unruled)[0] for seed in range(args.n)]
    read_pdf(docs[0])  # warm-up (imports, pdfium init)
    t0 = time.perf_counter()
    for d in docs:
        read_pdf(d)
    ours = (time.perf_counter() - t0) / len(docs)

    import pdfplumber

    m = min(len(docs), 5)
    t0 = time.perf_counter()
    for d in docs[:m]:
        with pdfplumber.open(io.BytesIO(d)) as pdf:
            for page in pdf.pages:
                page.extract_tables()
    plumber = (time.perf_counter() - t0) / m
    kind = "unruled" if args.unruled else "ruled"
    print(f"{kind} 5-page report, {len(docs)} docs, one core")
    print(f"read_pdf:                   {ours:.4f} s/report ({1 / ours:.1f} reports/s)")
    print(f"pdfplumber extract_tables:  {plumber:.4f} s/report ({1 / plumber:.1f} reports/s)")


if __name__ == "__main__":
    main()
