"""Hypothesis strategies for synthetic reports with known truth, and the extraction assert helper.

    from reportgen import truths, noises, formats, assert_extraction_matches
    @given(truths(), noises(), formats())
    def test_roundtrip(truth, noise, fmt):
        data = render(truth, fmt, noise=noise)
        assert_extraction_matches(truth, extract_bytes(data, ...).records(), noise=noise, fmt=fmt)
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from decimal import Decimal

from hypothesis import strategies as st

from extract.demo.render import (
    FORMATS,
    TEMPLATES,
    Noise,
    ReportTruth,
    random_truth,
    truth_status,
)

# (unit as the body names it, unit as the title names it); townships, 乡, 街道 and county-prefixed names
UNITS: tuple[tuple[str, str], ...] = (
    ("卫辉市上乐村镇", "卫辉市上乐村镇人民政府"),
    ("苏店镇", "苏店镇人民政府"),
    ("城关镇", "城关镇人民政府"),
    ("洛浦县恰尔巴格镇", "洛浦县恰尔巴格镇人民政府"),
    ("安乐镇", "安乐镇人民政府"),
    ("桃江县松木塘镇", "桃江县松木塘镇人民政府"),
    ("临洮县新添镇", "临洮县新添镇人民政府"),
    ("宁化县安远乡", "宁化县安远乡人民政府"),
    ("太平乡", "太平乡人民政府"),
    ("北京街道", "北京街道办事处"),
    ("西城区月坛街道", "西城区月坛街道办事处"),
    ("龙口镇", "龙口镇人民政府"),
)
YEARS = {"gov2019": (2019, 2020), "gov2021": (2021, 2022, 2023, 2024, 2025)}


@st.composite
def truths(draw: st.DrawFn, *, template: str | None = None, consistent: bool = True,
           blank: bool = True) -> ReportTruth:
    """A random report truth; values come from `random_truth` seeded by a drawn integer."""
    tpl = template or draw(st.sampled_from(TEMPLATES))
    unit, unit_title = draw(st.sampled_from(UNITS))
    year = draw(st.sampled_from(YEARS[tpl]))
    zero_share = draw(st.sampled_from((0.0, 0.3, 0.5, 0.8, 0.95, 1.0)))
    blank_share = draw(st.sampled_from((0.0, 0.0, 0.3, 1.0))) if blank else 0.0
    seed = draw(st.integers(0, 2**32 - 1))
    return random_truth(random.Random(seed), unit=unit, unit_title=unit_title, year=year, template=tpl,
                        zero_share=zero_share, consistent=consistent, blank_share=blank_share)


@st.composite
def noises(draw: st.DrawFn, *, max_level: float = 1.0) -> Noise:
    """Clean, or every variant switched on with a drawn probability up to `max_level`."""
    level = draw(st.sampled_from([x for x in (0.0, 0.2, 0.5, 1.0) if x <= max_level]))
    if level == 0.0:
        return Noise.clean()
    return Noise.random(random.Random(draw(st.integers(0, 2**32 - 1))), level=level)


def formats(*, exclude: Iterable[str] = ()) -> st.SearchStrategy[str]:
    return st.sampled_from([f for f in FORMATS if f not in set(exclude)])


def _get(rec: object, name: str) -> object:
    return rec.get(name) if isinstance(rec, Mapping) else getattr(rec, name, None)


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    # records carry floats for decimals (records._num); compare through their shortest repr
    return Decimal(str(a)) == Decimal(str(b))


def assert_extraction_matches(truth: ReportTruth, records: Iterable[object], *, noise: Noise | None = None,
                              fmt: str = "", statuses: bool = True) -> None:
    """Cell records (dicts or objects with table,row,col,value,status,raw) must equal `truth.cells`.

    Non-cell records (kind != "cell"), derived rows (status "derived") and extra:* rows are ignored.
    With statuses=True the status must be the one `truth_status(truth, noise, fmt)` implies; without
    a noise, only its class is checked (None -> blank|dash, 0 -> reported|none_text).
    Raises AssertionError listing every mismatch."""
    got: dict[tuple[str, str, str], object] = {}
    problems: list[str] = []
    for rec in records:
        kind = _get(rec, "kind")
        if kind not in (None, "cell") or _get(rec, "status") == "derived":
            continue
        key = (str(_get(rec, "table")), str(_get(rec, "row")), str(_get(rec, "col")))
        if key[1].startswith("extra:"):
            continue
        if key in got:
            problems.append(f"duplicate record {key}")
        got[key] = rec
    want_status = truth_status(truth, noise, fmt) if noise is not None else None
    for key, value in truth.cells.items():
        rec = got.get(key)
        if rec is None:
            problems.append(f"missing  {key}: want {value!r}")
            continue
        v, status, raw = _get(rec, "value"), _get(rec, "status"), _get(rec, "raw")
        if not _same(v, value):
            problems.append(f"value    {key}: want {value!r}, got {v!r} (raw {raw!r}, status {status})")
        if not statuses:
            continue
        if want_status is not None:
            ok, want = status == want_status[key], want_status[key]
        elif value is None:
            ok, want = status in ("blank", "dash"), "blank|dash"
        elif value == 0:
            ok, want = status in ("reported", "none_text"), "reported|none_text"
        else:
            ok, want = status == "reported", "reported"
        if not ok:
            problems.append(f"status   {key}: want {want}, got {status!r} (raw {raw!r})")
    for key in sorted(set(got) - set(truth.cells)):
        problems.append(f"extra    {key}: got {_get(got[key], 'value')!r} (raw {_get(got[key], 'raw')!r})")
    if problems:
        head = (f"{len(problems)} mismatch(es) for {truth.unit} {truth.year} {truth.template}"
                f"{' ' + fmt if fmt else ''}" + (f" [{noise.describe()}]" if noise else ""))
        raise AssertionError(head + "\n  " + "\n  ".join(problems))
