"""Fuzz targets: each reader, the table mapper, and `extract_bytes` end to end.

`run_one(target, data)` returns the outcome ("ok", "rejected" = ReaderError, "limit" = LimitExceeded) or
raises: anything else out of a reader or `extract_bytes`, and any exception at all out of the mapper, is a
crash. Readers run under `FUZZ_LIMITS` (small, so limits are hit, not the machine).
"""

from __future__ import annotations

import importlib
import re
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from extract.readers.base import Block, Cell, LimitExceeded, Limits, ReaderError, TableBlock, TextBlock

TARGETS = ("html", "text", "pdf", "docx", "mapper", "pipeline")
READER_TARGETS = ("html", "text", "pdf", "docx")

# small limits: every configured limit is reachable by a fuzzed input of a few hundred KB
FUZZ_LIMITS = Limits(max_bytes=4 << 20, max_html_bytes=4 << 20, max_html_depth=200, max_table_cells=50_000,
                     max_pdf_pages=30, max_seconds=5.0, max_zip_entries=200, max_unzipped_bytes=32 << 20)
# a parse taking this much longer than max_seconds is a hang (the reader ignored its time limit)
HANG_FACTOR = 3.0

# pipeline target: the first byte chooses the file name (and so the reader) of the rest
PIPELINE_NAMES = ("report.html", "report.txt", "report.pdf", "report.docx")


class Hang(Exception):
    """A document parse ran past HANG_FACTOR x max_seconds."""


Reader = Callable[[bytes, Limits], object]


def _reader_fn(module: str, name: str, html: bool = False) -> Reader | None:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    fn = getattr(mod, name, None)
    if fn is None:
        return None
    return lambda data, limits: fn(data, limits=limits)


def reader(target: str) -> Reader | None:
    """The reader of a target, or None when that reader does not exist (yet)."""
    return {
        "html": lambda: _reader_fn("extract.readers.html", "read_html"),
        "text": lambda: _reader_fn("extract.readers.text", "read_text"),
        "pdf": lambda: _reader_fn("extract.readers.pdf", "read_pdf"),
        "docx": lambda: _reader_fn("extract.readers.docx", "read_docx"),
    }[target]()


def pipeline_fn() -> Callable[..., object] | None:
    try:
        from transform.pipeline import extract_bytes
    except ImportError:  # extract.readers.read_document not built yet
        return None
    return extract_bytes


def available(target: str) -> bool:
    if target in READER_TARGETS:
        return reader(target) is not None
    if target == "pipeline":
        return pipeline_fn() is not None
    return True


# -- the mapper's input: a small text encoding of reader blocks -------------------------------------------
# A block per "\n\n"-separated chunk. "#G" + newline starts a table: one row per line, cells split on tabs,
# "\x01" prefix = a span copy, "\x0b" = a line break inside a cell. Anything else is a text block.

def encode_blocks(blocks: list[Block]) -> bytes:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, TableBlock):
            rows = ["\t".join(("\x01" if c.copy else "") + _flat(c.text).replace("\t", " ") for c in r)
                    for r in b.rows]
            out.append("#G\n" + "\n".join(rows))
        else:
            out.append(_flat(b.text))
    return "\n\n".join(out).encode("utf-8")


def _flat(s: str) -> str:
    return s.replace("\n\n", "\n").replace("\n", "\x0b")


def decode_blocks(data: bytes) -> list[Block]:
    text = data.decode("utf-8", "replace")
    blocks: list[Block] = []
    for chunk in text.split("\n\n"):
        if chunk.startswith("#G\n"):
            rows = [[Cell(c[1:].replace("\x0b", "\n"), copy=True) if c.startswith("\x01")
                     else Cell(c.replace("\x0b", "\n")) for c in line.split("\t")]
                    for line in chunk[3:].split("\n")]
            blocks.append(TableBlock(rows))
        elif chunk.strip():
            blocks.append(TextBlock(chunk.replace("\x0b", "\n")))
    return blocks


def map_blocks(blocks: list[Block]) -> object:
    """Everything `extract_bytes` does after the reader: sections, template, tables, metadata, checks."""
    from transform.checks import run_checks
    from transform.metadata import detect_template, hints, unit_and_year
    from transform.narrative import extract_narrative
    from transform.sections import build
    from transform.tables import map_tables

    doc = build(blocks)
    template = detect_template(doc)
    meta = unit_and_year(doc, title=None, filename="fuzz.txt")
    hints(doc, meta["unit"])
    tmpl = template if template in ("gov2021", "gov2019") else "gov2021"
    mapped = map_tables(doc, tmpl)
    cells = [c for t in mapped.values() for c in t.values()]
    narrative = extract_narrative(doc.section_text(1) or doc.head_text(), doc.section_text(6))
    return run_checks(tmpl, cells, narrative, meta["unit"])


# -- one input ---------------------------------------------------------------------------------------------

@contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Raise Hang after `seconds` (main thread only; Python code only: a stuck C call is caught by the
    runner's subprocess timeout or libFuzzer's -timeout instead)."""
    def fire(signum: int, frame: object) -> None:
        raise Hang(f"parse ran past {seconds:g}s")

    try:
        old = signal.signal(signal.SIGALRM, fire)
    except ValueError:  # not the main thread
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_one(target: str, data: bytes, limits: Limits = FUZZ_LIMITS, *, guard: bool = True) -> str:
    """Run one input; return the outcome or raise (a crash). `guard`: in-process hang watchdog."""
    if guard:
        with watchdog(limits.max_seconds * HANG_FACTOR):
            return _run(target, data, limits)
    return _run(target, data, limits)


def _run(target: str, data: bytes, limits: Limits) -> str:
    if target == "mapper":
        map_blocks(decode_blocks(data))
        return "ok"
    try:
        if target == "pipeline":
            fn = pipeline_fn()
            if fn is None:
                raise RuntimeError("transform.pipeline.extract_bytes unavailable")
            name = PIPELINE_NAMES[data[0] % len(PIPELINE_NAMES)] if data else PIPELINE_NAMES[0]
            fn(data[1:], source="fuzz/" + name, filename=name, limits=limits)
        else:
            fn2 = reader(target)
            if fn2 is None:
                raise RuntimeError(f"reader {target} unavailable")
            fn2(data, limits)
    except LimitExceeded:
        return "limit"
    except ReaderError:
        return "rejected"
    return "ok"


_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')
_ROOT = str(Path(__file__).resolve().parent.parent)


def _own(filename: str) -> bool:
    """A frame in project code (not the venv, the stdlib or the fuzz harness)."""
    return filename.startswith(_ROOT) and "/.venv/" not in filename and "/fuzz/" not in filename


def _where(filename: str, func: str) -> str:
    """file:function (no line number: signatures must survive edits elsewhere in the file)."""
    return f"{Path(filename).relative_to(_ROOT) if filename.startswith(_ROOT) else Path(filename).name}:{func}"


def signature(exc: BaseException) -> str:
    """A crash's identity for deduplication: exception type + the innermost frame in project code."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if _own(f.filename)]
    f = (own or frames or [None])[-1]
    return f"{type(exc).__name__} at {_where(f.filename, f.name) if f else '?'}"


def signature_from_text(tb: str) -> str:
    """The same identity, from a printed traceback (atheris output: the exception line follows
    "=== Uncaught Python exception: ===")."""
    lines = tb.splitlines()
    etype = "crash"
    for i, ln in enumerate(lines):
        if "Uncaught Python exception" in ln and i + 1 < len(lines):
            etype = lines[i + 1].split(":", 1)[0].strip().rsplit(".", 1)[-1] or "crash"
            break
    frames = [m for m in _FRAME.finditer(tb) if _own(m.group(1))]
    if not frames:
        return etype
    m = frames[-1]
    return f"{etype} at {_where(m.group(1), m.group(3))}"
