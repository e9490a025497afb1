"""`gongkai extract PATH...`: documents → JSON Lines records on stdout, a summary per document on stderr.

Exit codes: 0 all documents read, 1 at least one could not be read (the others still come out), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

SUFFIXES = {".html", ".htm", ".shtml", ".txt", ".md", ".pdf", ".docx", ".doc", ".wps"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("extract", help="extract report tables from files or folders as JSON Lines",
                       description="Extract every report cell, narrative figure and check as JSON Lines.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders "
                   "(.html .htm .shtml .txt .md .pdf .docx; .doc/.wps need LibreOffice or antiword)")
    p.add_argument("--quiet", action="store_true", help="no per-document summary on stderr")
    p.set_defaults(func=run)


def expand(paths: list[str]) -> tuple[list[str], list[str]]:
    """Files to read (folders walked recursively, sorted) and usage errors (paths that do not exist)."""
    files: list[str] = []
    missing: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files += [str(f) for f in sorted(path.rglob("*")) if f.is_file() and f.suffix.lower() in SUFFIXES]
        elif path.is_file():
            files.append(p)
        else:
            missing.append(p)
    return files, missing


def run(args: argparse.Namespace) -> int:
    from extract.readers.base import ReaderError
    from transform.pipeline import extract_path

    files, missing = expand(args.paths)
    if missing:
        for m in missing:
            print(f"gongkai extract: {m}: no such file or directory", file=sys.stderr)
        return 2
    failed = 0
    out = sys.stdout
    for f in files:
        try:
            ex = extract_path(f)
        except ReaderError as e:
            failed += 1
            print(f"error: {f}: {e}", file=sys.stderr)
            continue
        except Exception as e:  # a bug must not stop the batch; it is reported with the file's name
            failed += 1
            print(f"error: {f}: unexpected {type(e).__name__}: {e}", file=sys.stderr)
            continue
        # one write per document: a killed run leaves at most the last document cut (the loader skips it)
        out.write("".join(json.dumps(rec, ensure_ascii=False) + "\n" for rec in ex.records()))
        out.flush()
        if not args.quiet:
            st = Counter(c.status for c in ex.cells)
            failed_checks = sorted({c.rule for c in ex.checks if c.passed is False})
            m = ex.meta
            print(f"{f}: {m.unit or '?'} {m.year or '?'} {m.template} [{m.fmt}] cells={len(ex.cells)} "
                  + " ".join(f"{k}={v}" for k, v in sorted(st.items()))
                  + f" narrative={len(ex.narrative)} failed_checks={','.join(failed_checks) or '-'}"
                  + ("" if not ex.warnings else f" warnings={'; '.join(ex.warnings)}"), file=sys.stderr)
    out.flush()
    return 1 if failed else 0
