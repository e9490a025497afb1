"""The run summary: what one pipeline run did, as plain data, a console text and a markdown artifact.

Plain functions only (no Prefect): the flows fill a `RunSummary`, `markdown()` becomes the run's Prefect
artifact and `text()` is what the CLI prints, so both always say the same thing.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

QUALITY_SHOWN = 20  # v_quality rows listed in the report; the full list is one query away


@dataclass(slots=True)
class PortalResult:
    """One portal's crawl outcome. `error` is set when the portal failed as a whole."""

    portal_id: str
    pages: int = 0
    reports: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    error: str | None = None


@dataclass(slots=True)
class DocFailure:
    sha256: str
    url: str
    portal_id: str | None
    error: str


@dataclass(slots=True)
class TaskTiming:
    """Wall-clock interval of one task body (epoch seconds: comparable across local Dask workers)."""

    stage: str
    start: float
    end: float


@dataclass
class RunSummary:
    run_id: str
    runner: str = "local"
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    portals: list[PortalResult] = field(default_factory=list)
    # extraction: how many of the new/changed documents were extracted, found already extracted
    # (same sha256 and extractor version), or failed
    extracted: int = 0
    extract_cached: int = 0
    extract_failed: list[DocFailure] = field(default_factory=list)
    extract_known_failures: int = 0  # failed before with the same bytes and extractor: not retried
    extract_shells: int = 0  # article pages that only link their report (an attachment): not loaded
    # load (sql.load.LoadCounts as a dict), plus the run's quality picture
    load: dict[str, int] = field(default_factory=dict)
    load_error: str | None = None
    staged_files: int = 0
    loaded_report_ids: list[int] = field(default_factory=list)
    checks_failed: int = 0
    reports_with_failed_checks: int = 0
    quality_rows: int = 0
    quality: list[dict[str, Any]] = field(default_factory=list)  # first QUALITY_SHOWN v_quality rows
    export: dict[str, Any] = field(default_factory=dict)
    export_error: str | None = None
    # timing: stage wall time and every task body's interval (for the overhead figure)
    stages: dict[str, float] = field(default_factory=dict)
    tasks: list[TaskTiming] = field(default_factory=list)
    data_dir: str = ""

    # -- derived figures --------------------------------------------------------------------------
    @property
    def portals_failed(self) -> list[PortalResult]:
        return [p for p in self.portals if p.error]

    def count(self, attr: str) -> int:
        return sum(getattr(p, attr) for p in self.portals)

    @property
    def documents_failed(self) -> int:
        """Documents that could not be fetched or extracted in this run."""
        return self.count("failed") + len(self.extract_failed)

    @property
    def ok(self) -> bool:
        return not (self.portals_failed or self.documents_failed or self.load_error or self.export_error)

    def failures(self) -> list[str]:
        """One line per thing that failed: what the run's final state message is made of."""
        out = [f"portal {p.portal_id}: {p.error}" for p in self.portals_failed]
        out += [f"portal {p.portal_id}: {p.failed} document(s) could not be fetched"
                for p in self.portals if p.failed and not p.error]
        out += [f"document {d.url or d.sha256[:12]}: {d.error}" for d in self.extract_failed]
        if self.load_error:
            out.append(f"load: {self.load_error}")
        if self.export_error:
            out.append(f"export: {self.export_error}")
        return out

    def state_message(self) -> str:
        f = self.failures()
        if not f:
            return (f"ok: {len(self.portals)} portal(s), {self.count('new')} new, {self.count('changed')} "
                    f"changed, {self.load.get('reports_inserted', 0) + self.load.get('reports_updated', 0)} "
                    "report(s) loaded")
        head = f"{len(f)} failure(s)"
        return head + ": " + "; ".join(f[:5]) + (f" (+{len(f) - 5} more)" if len(f) > 5 else "")

    @property
    def elapsed(self) -> float:
        return (self.finished_at or time.time()) - self.started_at

    def task_seconds(self) -> float:
        """Wall time covered by at least one task body (the union of their intervals)."""
        return covered(self.tasks)

    def overhead(self) -> float:
        """Share of the run's wall time spent outside task bodies (orchestration, scheduling, API)."""
        total = self.elapsed
        return max(0.0, total - self.task_seconds()) / total if total > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(elapsed=round(self.elapsed, 3), overhead=round(self.overhead(), 4), ok=self.ok,
                 failures=self.failures(), documents_failed=self.documents_failed)
        return d


def covered(intervals: list[TaskTiming]) -> float:
    total, end = 0.0, float("-inf")
    for t in sorted(intervals, key=lambda t: t.start):
        if t.end <= end:
            continue
        total += t.end - max(t.start, end)
        end = t.end
    return total


# -- rendering ---------------------------------------------------------------------------------------

def id_ranges(ids: list[int]) -> list[tuple[int, int]]:
    """Sorted ids as inclusive runs: [1,2,3,7] -> [(1,3), (7,7)]."""
    out: list[tuple[int, int]] = []
    for i in sorted(set(ids)):
        if out and i == out[-1][1] + 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def quality_query(ids: list[int]) -> str:
    """SQL selecting the v_quality rows of these reports (compact: id ranges, not every id)."""
    if not ids:
        return "SELECT * FROM v_quality"
    parts = [f"report_id = {a}" if a == b else f"report_id BETWEEN {a} AND {b}" for a, b in id_ranges(ids)]
    return "SELECT * FROM v_quality WHERE " + " OR ".join(parts) + " ORDER BY report_id"


def _one_line(v: object) -> str:
    return " ".join(str(v).split()) if v is not None else ""


def _md_cell(v: object) -> str:
    return _one_line(v).replace("|", "\\|")


def _link(url: str | None, text: str) -> str:
    real = url and url.startswith(("http://", "https://")) and "{demo:" not in url  # placeholders are no links
    return f"[{_md_cell(text)}]({url})" if real else _md_cell(url or text)


def headline(s: RunSummary) -> list[tuple[str, str]]:
    """The figures both renderings show, in order."""
    ld = s.load
    loaded = ld.get("reports_inserted", 0) + ld.get("reports_updated", 0)
    return [
        ("portals crawled", f"{len(s.portals) - len(s.portals_failed)} of {len(s.portals)}"
         + (f" ({len(s.portals_failed)} failed)" if s.portals_failed else "")),
        ("documents new / changed / unchanged", f"{s.count('new')} / {s.count('changed')} / {s.count('unchanged')}"),
        ("documents failed", f"{s.documents_failed} (fetch {s.count('failed')}, extract {len(s.extract_failed)})"),
        ("extracted / already extracted", f"{s.extracted} / {s.extract_cached}"
         + (f" ({s.extract_shells} link-only pages, report in the attachment)" if s.extract_shells else "")
         + (f" (+{s.extract_known_failures} known unreadable, not retried)" if s.extract_known_failures else "")),
        ("reports loaded", f"{loaded} ({ld.get('reports_inserted', 0)} new, {ld.get('reports_updated', 0)} "
         f"updated, {ld.get('reports_unchanged', 0)} unchanged)"),
        ("cells inserted / updated / deleted", f"{ld.get('cells_inserted', 0)} / {ld.get('cells_updated', 0)} / "
         f"{ld.get('cells_deleted', 0)}"),
        ("checks failed", f"{s.checks_failed} in {s.reports_with_failed_checks} report(s); "
         f"{s.quality_rows} v_quality row(s)"),
        ("time", f"{s.elapsed:.1f}s (" + ", ".join(f"{k} {v:.1f}s" for k, v in s.stages.items())
         + f"; outside task bodies {s.overhead():.0%})"),
    ]


def markdown(s: RunSummary) -> str:
    """The run's Prefect markdown artifact."""
    status = "✅ ok" if s.ok else "⚠️ " + s.state_message()
    lines = [f"# gongkai run `{s.run_id}`", "", f"**{status}** — runner: {s.runner}, data: `{s.data_dir}`", "",
             "| | |", "|---|---|"]
    lines += [f"| {k} | {_md_cell(v)} |" for k, v in headline(s)]
    if s.portals:
        lines += ["", "## Portals", "", "| portal | pages | reports | new | changed | unchanged | failed | error |",
                  "|---|---:|---:|---:|---:|---:|---:|---|"]
        lines += [f"| {p.portal_id} | {p.pages} | {p.reports} | {p.new} | {p.changed} | {p.unchanged} | "
                  f"{p.failed} | {_md_cell(p.error or '')} |" for p in s.portals]
    if s.extract_failed:
        lines += ["", "## Documents that could not be extracted", "", "| document | portal | error |", "|---|---|---|"]
        lines += [f"| {_link(d.url, d.url or d.sha256[:12])} | {d.portal_id or ''} | {_md_cell(d.error)} |"
                  for d in s.extract_failed]
    if s.load_error or s.export_error:
        lines += ["", "## Errors", ""] + [f"- {e}" for e in (s.load_error, s.export_error) if e]
    lines += ["", "## Quality (v_quality rows of the reports loaded in this run)", ""]
    if s.quality:
        lines += ["| report | unit | year | kind | rule | where | reason | source |", "|---:|---|---:|---|---|---|---|---|"]
        for q in s.quality:
            where = "/".join(str(q[k]) for k in ("table_key", "row_key", "col_key") if q.get(k))
            lines.append(f"| {q.get('report_id')} | {_md_cell(q.get('unit_name'))} | {_md_cell(q.get('year'))} | "
                         f"{_md_cell(q.get('kind'))} | {_md_cell(q.get('rule'))} | {_md_cell(where)} | "
                         f"{_md_cell(q.get('reason'))} | {_link(q.get('source_url'), 'document')} |")
        if s.quality_rows > len(s.quality):
            lines.append(f"\n… {s.quality_rows - len(s.quality)} more row(s).")
    else:
        lines.append("No quality findings for the reports loaded in this run.")
    lines += ["", "All rows:", "", "```", f'gongkai query --data-dir {s.data_dir or "data"} '
              f'"{quality_query(s.loaded_report_ids)}"', "```"]
    return "\n".join(lines) + "\n"


def text(s: RunSummary) -> str:
    """The console version of the same summary."""
    w = max(len(k) for k, _ in headline(s))
    out = [f"gongkai run {s.run_id} [{s.runner}]: " + ("ok" if s.ok else s.state_message())]
    out += [f"  {k:<{w}}  {v}" for k, v in headline(s)]
    for p in s.portals:
        if p.error or p.failed:
            out.append(f"  ! portal {p.portal_id}: " + (p.error or f"{p.failed} document(s) failed to fetch"))
    out += [f"  ! document {d.url or d.sha256[:12]}: {d.error}" for d in s.extract_failed]
    if not (s.count("new") or s.count("changed") or s.extracted or s.load.get("documents")):
        out.append("  nothing new since the last run: no document fetched in full, none re-extracted")
    if s.quality:
        out.append(f"  quality findings ({s.quality_rows} v_quality rows for this run's reports; first "
                   f"{len(s.quality)}):")
        for q in s.quality:
            out.append(f"    report {q.get('report_id')} {q.get('unit_name') or '?'} {q.get('year') or '?'} "
                       f"{q.get('kind')}: {_one_line(q.get('reason'))}")
    if s.loaded_report_ids or s.quality_rows:
        out.append(f'  all rows: gongkai query --data-dir {s.data_dir or "data"} '
                   f'"{quality_query(s.loaded_report_ids)}"')
    return "\n".join(out)


# -- the quality picture of a run's reports (plain SQL on the warehouse) ----------------------------------------

def quality_picture(con, report_ids: list[int], limit: int = QUALITY_SHOWN) -> dict[str, Any]:
    """Failed checks and v_quality rows of the reports a run loaded (RunSummary field names)."""
    ids = sorted(int(i) for i in report_ids)
    out: dict[str, Any] = {"loaded_report_ids": ids, "checks_failed": 0, "reports_with_failed_checks": 0,
                           "quality_rows": 0, "quality": []}
    if not ids:
        return out
    out["checks_failed"], out["reports_with_failed_checks"] = con.execute(
        "SELECT count(*), count(DISTINCT report_id) FROM checks WHERE passed = FALSE "
        "AND report_id IN (SELECT unnest(?::BIGINT[]))", [ids]).fetchone()
    out["quality_rows"] = con.execute(
        "SELECT count(*) FROM v_quality WHERE report_id IN (SELECT unnest(?::BIGINT[]))", [ids]).fetchone()[0]
    cur = con.execute("SELECT report_id, unit_name, year, kind, rule, table_key, row_key, col_key, reason, "
                      "source_url FROM v_quality WHERE report_id IN (SELECT unnest(?::BIGINT[])) "
                      "ORDER BY report_id, kind, rule, table_key, row_key, col_key LIMIT ?", [ids, limit])
    cols = [d[0] for d in cur.description]
    out["quality"] = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    return out
