"""Seconds per 5-page generated report: read_pdf vs pdfplumber's extract_tables (one core).

.venv/bin/python bench/pdf_reader.py [--n 20] [--unruled | --demo] [--repeat 3] [--profile]

--demo reads the reports bench/extract.py times (extract.demo.render, reportlab's non-embedded
STSong-Light: many one-glyph text objects pdfium drops, which read_pdf recovers from the content
stream); the default reads tests/test_readers_pdf.py's build_report. The run also prints how many
pages needed the pdfplumber fallback, and with --profile the top of a cProfile of read_pdf.
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

from extract.readers import pdf as pdf_mod  # noqa: E402
from extract.readers.pdf import read_pdf  # noqa: E402


def demo_docs(n: int) -> list[bytes]:
    """The PDFs bench/extract.py times (its make_docs, same seed)."""
    import runpy

    bench = runpy.run_path(str(ROOT / "bench" / "extract.py"), run_name="bench_extract")
    return [data for _truth, data in bench["make_docs"]("pdf", n, seed=bench["FORMATS"].index("pdf"))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20, help="reports to read")
    ap.add_argument("--unruled", action="store_true", help="tables without drawn rules")
    ap.add_argument("--demo", action="store_true", help="the reports of bench/extract.py")
    ap.add_argument("--repeat", type=int, default=1, help="timed passes over the reports (best is shown)")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of one pass")
    ap.add_argument("--no-plumber", action="store_true", help="skip timing pdfplumber's extract_tables")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    if args.demo:
        docs = demo_docs(args.n)
        kind = "demo (bench/extract.py)"
    else:
        docs = [build_report(seed, ruled=not args.unruled)[0] for seed in range(args.n)]
        kind = "unruled" if args.unruled else "ruled"

    fallback_pages: list[int] = []
    page = pdf_mod._Plumber.page

    def counted(self, index):  # pdfplumber is asked only when the fast recovery gave up
        fallback_pages.append(index)
        return page(self, index)

    lost_pages: list[int] = []
    fast = pdf_mod._recover_lost_fast

    def counted_fast(*a):  # called for every page with glyphs pdfium dropped
        lost_pages.append(len(a[2]))
        return fast(*a)

    pdf_mod._Plumber.page = counted
    pdf_mod._recover_lost_fast = counted_fast
    t0 = time.perf_counter()
    read_pdf(docs[0])  # warm-up (imports, pdfium init, CMaps)
    cold = time.perf_counter() - t0
    passes = []
    for _ in range(max(1, args.repeat)):
        fallback_pages.clear()
        lost_pages.clear()
        t0 = time.perf_counter()
        for d in docs:
            read_pdf(d)
        passes.append((time.perf_counter() - t0) / len(docs))
    pdf_mod._Plumber.page = page
    pdf_mod._recover_lost_fast = fast
    ours = min(passes)
    import pypdfium2

    total_pages = sum(len(pypdfium2.PdfDocument(d)) for d in docs)

    print(f"{kind} report, {len(docs)} docs ({total_pages / len(docs):.1f} pages avg), one core")
    print(
        f"read_pdf:                   {ours:.4f} s/report ({1 / ours:.1f} reports/s)"
        + (f"; passes {', '.join(f'{1000 * p:.1f}' for p in passes)} ms" if len(passes) > 1 else "")
    )
    print(f"first report (cold):        {cold:.4f} s")
    print(
        f"pages with glyphs pdfium dropped: {len(lost_pages)} of {total_pages} ({sum(lost_pages)} glyphs); "
        f"read by the pdfplumber fallback: {len(fallback_pages)}"
    )

    if args.profile:
        import cProfile
        import pstats

        pr = cProfile.Profile()
        pr.enable()
        for d in docs:
            read_pdf(d)
        pr.disable()
        pstats.Stats(pr).sort_stats("tottime").print_stats(20)

    if args.no_plumber:
        return
    import pdfplumber

    m = min(len(docs), 5)
    t0 = time.perf_counter()
    for d in docs[:m]:
        with pdfplumber.open(io.BytesIO(d)) as pdf:
            for p in pdf.pages:
                p.extract_tables()
    plumber = (time.perf_counter() - t0) / m
    print(f"pdfplumber extract_tables:  {plumber:.4f} s/report ({1 / plumber:.1f} reports/s)")


if __name__ == "__main__":
    main()
