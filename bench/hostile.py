"""Hostile-input report (issue 6): the hostile-input catalogue, a bounded fuzz run and the kill matrix, as one
markdown table on stdout and in bench/out/hostile.md (paste it into the README).

    .venv/bin/python bench/hostile.py                 # fuzz 40 s per target (~4 min in all)
    .venv/bin/python bench/hostile.py --seconds 120   # longer fuzzing
    .venv/bin/python bench/hostile.py --no-fuzz       # catalogue and kills only

The catalogue and the kills are the test files (tests/test_hostile_inputs.py, test_confinement.py,
test_wrong_data.py, test_regressions.py, test_kill_stages.py), run through pytest with a JUnit report;
fuzzing is fuzz/run.py. Outcomes: "handled" = every case returned or was refused with a reader error /
limit; "open bug (xfail)" = a known, reported bug with a strict-xfail regression test.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

# (test file, test-name prefix) -> kind of hostile input
CATALOGUE: list[tuple[str, str, str]] = [
    ("test_hostile_inputs", "test_arbitrary_bytes", "random bytes → each reader, extract_bytes (hypothesis)"),
    ("test_hostile_inputs", "test_arbitrary_text", "random Unicode text → HTML/text readers, mapper"),
    ("test_hostile_inputs", "test_mutated", "mutated fixtures (flips, splices, repeats) → readers, mapper, pipeline"),
    ("test_hostile_inputs", "test_seed_corpus", "unmutated fixture corpus reads"),
    ("test_hostile_inputs", "test_truncated", "truncated PDF / DOCX (9 cut points each)"),
    ("test_hostile_inputs", "test_docx_zip_bomb", "DOCX zip bombs (64 MiB entry, 1000:1 ratio, lying size header)"),
    ("test_hostile_inputs", "test_docx_many_entries", "DOCX with more zip entries than the limit"),
    ("test_hostile_inputs", "test_docx_billion", "DOCX billion laughs (nested entities)"),
    ("test_hostile_inputs", "test_docx_external", "DOCX external entity (file:///etc/passwd, local secret, http)"),
    ("test_hostile_inputs", "test_docx_dtd_in_utf16", "DOCX DTD hidden in a UTF-16 part"),
    ("test_hostile_inputs", "test_docx_not_a_docx", "zip that is not a DOCX, broken zip headers"),
    ("test_hostile_inputs", "test_html_deep", "HTML nested 12k-50k deep (div, li, b, span, tables)"),
    ("test_hostile_inputs", "test_html_depth", "HTML depth limit configurable"),
    ("test_hostile_inputs", "test_html_huge_spans", "HTML colspan/rowspan 1e6, 2^31, negative, full-width, 1e24"),
    ("test_hostile_inputs", "test_html_huge_table", "HTML table of 100k cells"),
    ("test_hostile_inputs", "test_html_size", "HTML over max_html_bytes"),
    ("test_hostile_inputs", "test_document_size", "any document over max_bytes"),
    ("test_hostile_inputs", "test_text_", "text: 100k-cell tab grid, 35k-line pipe dump"),
    ("test_hostile_inputs", "test_pdf_page", "PDF over max_pdf_pages"),
    ("test_hostile_inputs", "test_pdf_garbage", "PDF header + garbage, /Count 999999999"),
    ("test_hostile_inputs", "test_time_limit", "per-document time limit (max_seconds=0)"),
    ("test_hostile_inputs", "test_encodings", "GBK undeclared/mis-declared, UTF-16 without BOM, broken bytes"),
    ("test_hostile_inputs", "test_gbk", "GBK without declaration decodes"),
    ("test_hostile_inputs", "test_mapper", "mapper: random grids of labels, values, huge numbers"),
    ("test_regressions", "test_", "fuzzer crash reproducers (tests/regressions)"),
    ("test_confinement", "test_bad_schemes", "URLs: file/ftp/gopher/javascript/data/mailto, credentials, bad port"),
    ("test_confinement", "test_private", "private/loopback/link-local/metadata/CGNAT targets (13 forms)"),
    ("test_confinement", "test_other_hosts", "hosts outside the portal (lookalikes, integer IPs)"),
    ("test_confinement", "test_redirect", "redirects to private/metadata/file:/credentials/other hosts"),
    ("test_confinement", "test_direct_fetch", "direct fetch of forbidden targets (no request sent)"),
    ("test_confinement", "test_dns", "DNS names resolving to private/metadata addresses"),
    ("test_confinement", "test_registry", "registry rows: private only for demo; DNS check"),
    ("test_confinement", "test_explicit", "explicit --url host allowed, nothing else"),
    ("test_confinement", "test_archive", "archive paths: ../, absolute, non-sha names"),
    ("test_confinement", "test_crawl_ignores", "Content-Disposition ../ names, traversal URLs in a real crawl"),
    ("test_wrong_data", "test_", "wrong source data: 规章 by a township, negative, huge, totals disagree"),
]
KILLS: list[tuple[str, str]] = [
    ("test_kill_during_download", "SIGKILL during download (slow body in flight)"),
    ("test_kill_during_extraction", "SIGKILL during extraction (`gongkai extract` output cut)"),
    ("test_rerun_after_killed", "re-run after a killed extraction converges"),
    ("test_kill_during_load", "SIGKILL during load (WAL growing)"),
    ("test_kill_during_export", "SIGKILL during export (temp dir being written)"),
]


def run_pytest(files: list[str], xml: Path) -> dict[str, list[tuple[str, str]]]:
    """test file stem -> [(test name, outcome)] with outcome passed | failed | xfail | skipped."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}",
           *[str(ROOT / "tests" / f"{f}.py") for f in files]]
    subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for case in ET.parse(xml).getroot().iter("testcase"):
        stem = case.get("classname", "").rsplit(".", 1)[-1]
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped":
                outcome = "xfail" if "xfail" in (child.get("type", "") + child.get("message", "")) else "skipped"
        out[stem].append((case.get("name", ""), outcome))
    return out


def _outcome(results: list[tuple[str, str]]) -> str:
    n = defaultdict(int)
    for _, o in results:
        n[o] += 1
    parts = []
    if n["passed"]:
        parts.append("handled" if not (n["failed"] or n["xfail"]) else f"{n['passed']} handled")
    if n["xfail"]:
        parts.append(f"{n['xfail']} open bug (xfail)")
    if n["failed"]:
        parts.append(f"**{n['failed']} FAILED**")
    if n["skipped"]:
        parts.append(f"{n['skipped']} skipped")
    return ", ".join(parts) or "—"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=40.0, help="fuzzing seconds per target (default 40)")
    ap.add_argument("--no-fuzz", action="store_true")
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    rows: list[tuple[str, str, str]] = []

    tests = run_pytest(["test_hostile_inputs", "test_regressions", "test_confinement", "test_wrong_data"],
                       OUT / "hostile-junit.xml")
    for stem, prefix, kind in CATALOGUE:
        got = [(n, o) for n, o in tests.get(stem, []) if n.startswith(prefix) and n != "test_fuzz_smoke"]
        rows.append((kind, f"{len(got)} cases", _outcome(got)))

    if not a.no_fuzz:
        from fuzz.run import run

        doc = run(["html", "text", "pdf", "docx", "mapper", "pipeline"], a.seconds, OUT / "fuzz")
        for t, r in doc["targets"].items():
            if not r["available"]:
                rows.append((f"fuzz {t}", "0", r["note"]))
                continue
            oc = ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items()))
            found = "; ".join(f"{f['kind']}: {f['signature']}" for f in r["findings"])
            rows.append((f"fuzz `{t}` ({doc['engine']}, {r['seconds']:g} s)", f"{r['execs']} execs",
                         (f"**{len(r['findings'])} new finding(s)**: {found}" if r["findings"] else "no new crash")
                         + f" ({oc})"))

    kills = run_pytest(["test_kill_stages"], OUT / "kill-junit.xml")
    for name, kind in KILLS:
        got = [(n, o) for n, o in kills.get("test_kill_stages", []) if n.startswith(name)]
        rows.append((kind, f"{len(got)} kill + re-run", _outcome(got)))

    md = ["| hostile input | tried | outcome |", "|---|---|---|"]
    md += [f"| {k} | {n} | {o} |" for k, n, o in rows]
    md.append(f"\n_bench/hostile.py, {time.strftime('%Y-%m-%d')}, {time.monotonic() - t0:.0f} s; open bugs: "
              "tests/regressions/known.json_")
    text = "\n".join(md)
    print(text)
    (OUT / "hostile.md").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
