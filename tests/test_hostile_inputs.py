"""Hostile and broken input (issue 6, items 1 and 3): every reader and `extract_bytes` either return or
raise ReaderError/LimitExceeded — never another exception, never a hang, never past a limit silently.

Property tests on arbitrary bytes and mutated fixtures, then a catalogue of known attacks: truncated
PDF/DOCX, zip bombs, DTDs in DOCX (billion laughs, external entities), deep nesting, huge spans and
tables, many PDF pages, broken encodings. Ends with a short smoke run of the fuzz runner (fuzz/run.py).

"Never a hang" is bounded in CPU seconds (time.process_time), not wall time: CPU time never exceeds wall
time, so a hang still fails, while a loaded CI machine cannot stretch it.
"""

from __future__ import annotations

import io
import json
import random
import resource
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from extract.readers.base import LimitExceeded, Limits, ReaderError, TableBlock  # noqa: E402
from fuzz.corpus import generated, seeds  # noqa: E402
from fuzz.harness import _mutate  # noqa: E402
from fuzz.targets import (  # noqa: E402
    FUZZ_LIMITS,
    READER_TARGETS,
    available,
    decode_blocks,
    map_blocks,
    run_one,
    signature,
)

FAST = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
OK = ("ok", "rejected", "limit")
KNOWN: dict[str, str] = json.loads((ROOT / "tests" / "regressions" / "known.json").read_text(encoding="utf-8"))
ALL = (*READER_TARGETS, "pipeline")


def _need(target: str) -> None:
    if not available(target):
        pytest.skip(f"{target} not importable yet")


def _read(target: str, data: bytes, limits: Limits = FUZZ_LIMITS) -> object:
    """The reader's result; ReaderError/LimitExceeded propagate."""
    from fuzz.targets import reader

    fn = reader(target)
    assert fn is not None
    return fn(data, limits)


def _document(data: bytes, name: str, limits: Limits = FUZZ_LIMITS) -> object:
    from extract.readers import read_document

    return read_document(data, filename=name, limits=limits)


# -- arbitrary and mutated bytes ------------------------------------------------------------------------

@pytest.mark.parametrize("target", ALL)
@FAST
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes(target: str, data: bytes) -> None:
    _need(target)
    assert run_one(target, data) in OK


@pytest.mark.parametrize("target", ("html", "text", "mapper"))
@FAST
@given(prefix=st.sampled_from(("<html><body>", "<table><tr><td>", "一、总体情况\n", "#G\n", "")),
       text=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=2000))
def test_arbitrary_text(target: str, prefix: str, text: str) -> None:
    _need(target)
    assert run_one(target, (prefix + text).encode("utf-8")) in OK


@pytest.mark.parametrize("target", ("html", "text", "mapper"))
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), rounds=st.integers(1, 4))
def test_mutated_fixtures(target: str, seed: int, rounds: int) -> None:
    _mutated(target, seed, rounds)


@pytest.mark.parametrize("target", ("pdf", "docx", "pipeline"))
@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), rounds=st.integers(1, 4))
def test_mutated_binary_fixtures(target: str, seed: int, rounds: int) -> None:
    _mutated(target, seed, rounds)


def _mutated(target: str, seed: int, rounds: int) -> None:
    _need(target)
    pool = _pool(target)
    rng = random.Random(seed)
    data = rng.choice(pool)
    for _ in range(rounds):
        data = _mutate(rng, data, pool)
    _outcome_or_known(target, data)


def _outcome_or_known(target: str, data: bytes, *, xfail: bool = False, limits: Limits = FUZZ_LIMITS) -> str:
    """run_one; a crash of an open regression (tests/regressions/known.json, replayed as a strict xfail by
    test_regressions.py) passes here, or xfails the test with xfail=True (not inside hypothesis)."""
    try:
        out = run_one(target, data, limits)
    except Exception as e:
        if signature(e) in KNOWN:
            if xfail:
                pytest.xfail(f"known open bug: {signature(e)} (tests/regressions/{KNOWN[signature(e)]})")
            return "known_crash"
        raise
    assert out in OK
    return out


_POOLS: dict[str, list[bytes]] = {}


def _pool(target: str) -> list[bytes]:
    if target not in _POOLS:
        _POOLS[target] = seeds(target)
    return _POOLS[target]


@pytest.mark.parametrize("target", ("html", "text", "pdf", "docx"))
def test_seed_corpus_reads(target: str) -> None:
    """The unmutated seeds are real documents: they must read (a seed that is refused tests nothing)."""
    _need(target)
    outcomes = [run_one(target, d) for d in _pool(target)]
    assert outcomes.count("ok") >= len(outcomes) * 0.8, outcomes


# -- truncation ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ("pdf", "docx"))
def test_truncated_documents(fmt: str) -> None:
    _need(fmt)
    for doc in generated(fmt, 2):
        for cut in sorted({1, 4, 9, 100, len(doc) // 3, len(doc) // 2, len(doc) - 200, len(doc) - 22,
                           len(doc) - 1}):
            assert run_one(fmt, doc[:cut]) in OK, f"{fmt} cut at {cut}"
            assert run_one("pipeline", bytes([2 if fmt == "pdf" else 3]) + doc[:cut]) in OK


# -- DOCX: zip bombs and DTDs ---------------------------------------------------------------------------

def _rezip(base: bytes, replace: dict[str, bytes] | None = None, extra: dict[str, bytes] | None = None,
           level: int = 9) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED,
                                                                    compresslevel=level) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, (replace or {}).get(info.filename, zin.read(info.filename)))
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return out.getvalue()


def _docx() -> bytes:
    return generated("docx", 1)[0]


def _document_xml(body: str, head: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{head}'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            f"{body}</w:body></w:document>").encode()


def test_docx_zip_bomb_big_entry() -> None:
    """A small file that inflates far past max_unzipped_bytes."""
    _need("docx")
    bomb = _rezip(_docx(), extra={"word/media/bomb.bin": b"\0" * (64 << 20)})
    assert len(bomb) < 200_000
    t0 = time.process_time()
    with pytest.raises(LimitExceeded):
        _read("docx", bomb)
    with pytest.raises(LimitExceeded):
        _document(bomb, "x.docx", FUZZ_LIMITS)
    assert time.process_time() - t0 < 10


def test_docx_zip_bomb_ratio_under_total_limit() -> None:
    """One entry with a 1000:1 ratio is refused even when the total stays under the size limit."""
    _need("docx")
    bomb = _rezip(_docx(), extra={"word/media/pad.bin": b"\0" * (8 << 20)})
    with pytest.raises(LimitExceeded):
        _read("docx", bomb, Limits())


def test_docx_zip_bomb_lying_header() -> None:
    """Local and central headers claim a small size; the deflate stream inflates to 64 MiB. Reading must
    stop at the claimed size (not inflate everything) and refuse the document."""
    _need("docx")
    big = b"<w:p/>" * ((64 << 20) // 6)
    doc = _rezip(_docx(), replace={"word/document.xml": big})
    data = bytearray(doc)
    real = len(big).to_bytes(4, "little")
    fake = (1000).to_bytes(4, "little")
    n = 0
    i = data.find(real)
    while i >= 0:  # the uncompressed-size fields of the local and the central header
        data[i:i + 4] = fake
        n += 1
        i = data.find(real, i + 4)
    assert n >= 2
    t0 = time.process_time()
    out = _outcome_or_known("docx", bytes(data), xfail=True)
    assert out in ("rejected", "limit")
    assert time.process_time() - t0 < 10


def test_docx_many_entries() -> None:
    _need("docx")
    many = _rezip(_docx(), extra={f"word/extra{i}.xml": b"<a/>" for i in range(FUZZ_LIMITS.max_zip_entries + 5)})
    with pytest.raises(LimitExceeded, match="max_zip_entries"):
        _read("docx", many)


BILLION_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                            for i in range(1, 10))
                  + "]>")


def test_docx_billion_laughs() -> None:
    _need("docx")
    body = '<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>'
    doc = _rezip(_docx(), replace={"word/document.xml": _document_xml(body, BILLION_LAUGHS)})
    t0 = time.process_time()
    with pytest.raises(ReaderError):
        _read("docx", doc)
    assert time.process_time() - t0 < 5


@pytest.mark.parametrize("where", ("word/document.xml", "word/styles.xml", "[Content_Types].xml"))
def test_docx_external_entity_not_read(tmp_path: Path, where: str) -> None:
    _need("docx")
    secret = tmp_path / "secret.txt"
    secret.write_text("GONGKAI-SECRET-MARKER")
    for target in (secret.as_uri(), "file:///etc/passwd", "http://127.0.0.1:9/xxe"):
        head = f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{target}">]>'
        base = _docx()
        with zipfile.ZipFile(io.BytesIO(base)) as z:
            orig = z.read(where)
        if where == "word/document.xml":
            part = _document_xml('<w:p><w:r><w:t>&xxe;</w:t></w:r></w:p>', head)
        else:  # the DTD right after the XML declaration of another part
            decl_end = orig.find(b"?>") + 2 if orig.startswith(b"<?xml") else 0
            part = orig[:decl_end] + head.encode() + orig[decl_end:]
        doc = _rezip(base, replace={where: part})
        try:
            res = _read("docx", doc)
        except ReaderError:
            continue
        text = repr(res)
        assert "GONGKAI-SECRET-MARKER" not in text and "root:" not in text


def test_docx_dtd_in_utf16_part() -> None:
    """A DTD hidden by a UTF-16 encoding (a byte search for <!DOCTYPE would miss it)."""
    _need("docx")
    xml = _document_xml('<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>', BILLION_LAUGHS).decode()
    xml = xml.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    doc = _rezip(_docx(), replace={"word/document.xml": xml})
    with pytest.raises(ReaderError):
        _read("docx", doc)


def test_docx_not_a_docx() -> None:
    _need("docx")
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    for data in (z.getvalue(), b"PK\x03\x04" + b"\0" * 100, b"PK\x05\x06" + b"\0" * 18):
        assert run_one("docx", data) in ("rejected", "limit")
        assert run_one("pipeline", b"\x03" + data) in ("rejected", "limit")


# -- HTML: nesting, spans, size ---------------------------------------------------------------------------

@pytest.mark.parametrize(("tag", "n"), [("b", 50_000), ("span", 50_000), ("table><tr><td", 50_000),
                                        ("div", 25_000), ("ul><li", 12_000)])  # quadratic in lexbor: prescan
def test_html_deep_nesting(tag: str, n: int) -> None:
    """Refused (max_html_depth) or read, within 3 x max_seconds: a parse must not outlast the time limit."""
    _need("html")
    close = "</" + tag.split(">")[0] + ">"
    doc = ("<html><body>" + f"<{tag}>" * n + "x" + close * n + "</body></html>").encode()
    limits = Limits(max_seconds=0.5, max_html_depth=FUZZ_LIMITS.max_html_depth)
    t0 = time.process_time()
    try:
        out = run_one("html", doc, limits, guard=False)
    finally:
        elapsed = time.process_time() - t0
    assert out in OK
    assert elapsed < 3 * limits.max_seconds, f"{n} nested <{tag}>: {elapsed:.1f}s"


def test_html_depth_limit_is_configurable() -> None:
    _need("html")
    doc = ("<html><body>" + "<div>" * 60 + "一、总体情况" + "</div>" * 60 + "</body></html>").encode()
    with pytest.raises(LimitExceeded, match="max_html_depth"):
        _read("html", doc, Limits(max_html_depth=40))
    _read("html", doc, Limits(max_html_depth=100))


@pytest.mark.parametrize("attrs", ('colspan="1000000" rowspan="1000000"', 'colspan="2147483648"',
                                   'rowspan="-5" colspan="-1"', 'colspan="1e9"', 'rowspan="0"',
                                   'colspan="９９９９"', 'rowspan="999999999999999999999999"'))
def test_html_huge_spans(attrs: str) -> None:
    _need("html")
    rows = "".join(f"<tr><td {attrs}>a{i}</td><td>1</td></tr>" for i in range(300))
    doc = f"<html><body><table>{rows}</table></body></html>".encode()
    t0 = time.process_time()
    try:
        res = _read("html", doc)
    except LimitExceeded:
        return
    finally:
        assert time.process_time() - t0 < 10
    cells = sum(len(r) for b in res.blocks if isinstance(b, TableBlock) for r in b.rows)  # type: ignore[attr-defined]
    assert cells <= FUZZ_LIMITS.max_table_cells


def test_html_huge_table() -> None:
    _need("html")
    row = "<tr>" + "<td>1</td>" * 100 + "</tr>"
    doc = ("<html><body><table>" + row * 1000 + "</table></body></html>").encode()
    with pytest.raises(LimitExceeded, match="max_table_cells"):
        _read("html", doc)
    with pytest.raises(LimitExceeded, match="max_table_cells"):
        _read("html", doc, Limits(max_table_cells=10_000))


def test_html_size_limit() -> None:
    _need("html")
    doc = b"<html><body>" + b"<p>x</p>" * 200_000 + b"</body></html>"
    with pytest.raises(LimitExceeded, match="max_html_bytes"):
        _read("html", doc, Limits(max_html_bytes=1 << 20))


def test_document_size_limit() -> None:
    _need("pipeline")
    for name in ("a.html", "a.txt", "a.pdf", "a.docx"):
        with pytest.raises(LimitExceeded, match="max_bytes"):
            _document(b"%PDF-1.4 " + b"x" * 5000, name, Limits(max_bytes=4096))


# -- text ---------------------------------------------------------------------------------------------------

def test_text_huge_tab_table() -> None:
    _need("text")
    doc = ("\t".join(["0"] * 50) + "\n").encode() * 2000
    with pytest.raises(LimitExceeded, match="max_table_cells"):
        _read("text", doc)


def test_text_many_lines_is_fast() -> None:
    _need("text")
    doc = ("|" * 50 + "\n" + "一、总体情况\n" + "0\n" * 5).encode() * 5000
    t0 = time.process_time()
    assert run_one("text", doc) in OK
    assert time.process_time() - t0 < 15


# -- PDF ---------------------------------------------------------------------------------------------------

def _pdf_pages(n: int) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for i in range(n):
        c.drawString(72, 720, f"page {i + 1} 0 0 0")
        c.showPage()
    c.save()
    return buf.getvalue()


def test_pdf_page_limit() -> None:
    _need("pdf")
    doc = _pdf_pages(FUZZ_LIMITS.max_pdf_pages + 5)
    with pytest.raises(LimitExceeded, match="max_pdf_pages"):
        _read("pdf", doc)
    assert run_one("pipeline", b"\x02" + doc) == "limit"
    _read("pdf", doc, Limits(max_pdf_pages=100))


def test_pdf_garbage_after_header() -> None:
    _need("pdf")
    for data in (b"%PDF-1.7\n" + bytes(range(256)) * 40, b"%PDF-", b"junk" * 10 + b"%PDF-1.4\n%%EOF",
                 b"%PDF-1.4\n1 0 obj << /Type /Pages /Count 999999999 /Kids [1 0 R] >> endobj\n"
                 b"trailer << /Root 1 0 R >>\n%%EOF"):
        assert run_one("pdf", data) in ("rejected", "limit")


# -- time limit ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ("html", "pdf"))
def test_time_limit(target: str) -> None:
    """max_seconds=0: the reader must notice (readers with no time check are listed in the report)."""
    _need(target)
    doc = generated("html_spans", 1)[0] if target == "html" else generated("pdf", 1)[0]
    with pytest.raises(LimitExceeded, match="max_seconds"):
        _read(target, doc, Limits(max_seconds=0.0))


# -- encodings ----------------------------------------------------------------------------------------------

_GBK_HTML = "<html><head><title>政府信息公开工作年度报告</title></head><body><p>一、总体情况</p></body></html>"


@pytest.mark.parametrize("data", [
    _GBK_HTML.encode("gbk"),
    _GBK_HTML.replace("<head>", '<head><meta charset="utf-8">').encode("gbk"),
    _GBK_HTML.replace("<head>", '<head><meta charset="x-no-such-charset">').encode("gbk"),
    _GBK_HTML.replace("<head>", '<head><meta charset="utf-16">').encode("utf-8"),
    _GBK_HTML.encode("utf-16-le"),
    b"\xff\xfe" + _GBK_HTML.encode("utf-16-le")[:-1],
    _GBK_HTML.encode("gbk")[:-7] + b"\x81\xff\xfe\x80",
    bytes(range(128, 256)) * 20,
], ids=["gbk", "gbk-declared-utf8", "unknown-charset", "utf16-label", "utf16-nobom", "utf16-odd",
        "gbk-broken", "high-bytes"])
def test_encodings(data: bytes) -> None:
    for target in ("html", "text"):
        _need(target)
        assert run_one(target, data) in OK
    _need("pipeline")
    assert run_one("pipeline", b"\x00" + data) in OK


def test_gbk_without_declaration_decodes() -> None:
    _need("html")
    res = _read("html", _GBK_HTML.encode("gbk"))
    assert "总体情况" in repr(res)


# -- the mapper --------------------------------------------------------------------------------------------

@FAST
@given(rows=st.lists(st.lists(st.sampled_from(["", "0", "1", "-3", "99999999999999999999", "无", "—",
                                                 "本年新收政府信息公开申请数量", "自然人", "总计", "一、总体情况",
                                                 "三、收到和处理政府信息公开申请情况", "1\n46", "１２", "x" * 300]),
                                min_size=0, max_size=12), max_size=40))
def test_mapper_arbitrary_grid(rows: list[list[str]]) -> None:
    enc = "#G\n" + "\n".join("\t".join(c.replace("\n", "\x0b") for c in r) for r in rows)
    blocks = decode_blocks(("三、收到和处理政府信息公开申请情况\n\n" + enc).encode())
    map_blocks(blocks)


# -- the fuzz runner, briefly (CI smoke) -------------------------------------------------------------------

@pytest.mark.slow
def test_fuzz_smoke(tmp_path: Path) -> None:
    """A short fuzz run (the full one is `make fuzz` / bench/hostile.py): the runner works and finds nothing
    new. Targets: text, docx and pipeline (which reaches every reader and the mapper)."""
    t0 = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    p = subprocess.run([sys.executable, str(ROOT / "fuzz" / "run.py"), "--total", "10", "--out", str(tmp_path),
                        "--target", "text", "--target", "docx", "--target", "pipeline"],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    elapsed = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - t0
    doc = json.loads((tmp_path / "results.json").read_text())
    for t, r in doc["targets"].items():
        if r["available"]:
            assert r["execs"] > 0, (t, r["note"], p.stderr[-2000:])
    findings = [(t, f["signature"], f["input"]) for t, r in doc["targets"].items() for f in r["findings"]]
    assert not findings, f"new fuzz findings (add them to tests/regressions/): {findings}"
    assert elapsed < 35, f"smoke fuzz took {elapsed:.0f}s of CPU"


def test_zlib_available() -> None:
    assert zlib.compress(b"x")  # the zip-bomb builders above need deflate


# -- time limit: every reader stops at max_seconds --------------------------------------------------------

@pytest.mark.parametrize("fmt", ["text", "docx"])
def test_time_limit_stops_text_and_docx(fmt: str) -> None:
    """max_seconds applies to the text and DOCX readers too (checked per region / table row), not only
    to HTML and PDF: with no time at all they stop with the limit's name, with the default they read."""
    _need(fmt)
    from extract.demo.render import random_truth, render

    truth = random_truth(random.Random(5), unit="苏店镇", unit_title="苏店镇人民政府", year=2023, template="gov2021")
    data = render(truth, "tab" if fmt == "text" else "docx")
    with pytest.raises(LimitExceeded, match="max_seconds"):
        _read(fmt, data, Limits(max_seconds=0.0))
    assert _read(fmt, data, Limits()) is not None
