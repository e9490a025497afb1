"""flows/: staging, planning, the run report and the CLI as plain functions; then a few Prefect flow runs
under `prefect_test_harness` (a full demo run checked against the demo's known truth, an incremental rerun,
a run with a failing portal, and the same flows on a Dask LocalCluster)."""

from __future__ import annotations

import socket
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from flows import report, staging
from flows.cli import main as cli_main
from transform.records import CellRecord, CheckRecord, Extraction, NarrativeRecord, ReportMeta

SHA = "ab" * 32


def _extraction(sha: str = SHA, version: str = "9.9") -> Extraction:
    meta = ReportMeta(source="http://x/a.html", sha256=sha, fmt="html", unit="青石镇", year=2023,
                      template="gov2021", title="青石镇2023年报告", extractor_version=version,
                      phone_area_codes=["0371"])
    return Extraction(
        meta,
        [CellRecord("s3_applications", "new_requests", "total", 12, "12", "reported", ["fuzzy_label"], "一、本年新收", "总计", 3),
         CellRecord("s2_fees", "fees", "fee_amount", Decimal("1.25"), "1.25", "reported"),
         CellRecord("s3_applications", "carried_forward", "total", None, "", "blank")],
        [NarrativeRecord("proactive_items_total", 30, "条", "主动公开30条", approx=True)],
        [CheckRecord("H1", "s3_applications/total", 12, 11, False, "sum"), CheckRecord("H2", "x", None, None, None)],
        ["a warning"])


# -- staging -------------------------------------------------------------------------------------------------

def test_staging_roundtrip_is_lossless(tmp_path: Path) -> None:
    x = _extraction()
    f = staging.write_extraction(tmp_path, "r1", x, staging.Provenance("http://x/a.html", "p1"))
    assert f == tmp_path / "staging" / "r1" / "extract" / f"{SHA}.parquet"
    [(y, prov)] = staging.read_extractions(f)
    assert y == x  # dataclass equality: every record, value type (int vs Decimal) and None kept
    assert isinstance(y.cells[1].value, Decimal) and isinstance(y.cells[0].value, int)
    assert prov.portal_id == "p1" and prov.source_url == "http://x/a.html"
    assert staging.staged_shas(tmp_path) == {SHA}
    assert not list((tmp_path / "staging" / "r1" / "extract").glob(".*"))  # no temp file left


def test_staging_rejects_unsafe_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        staging.run_dir(tmp_path, "../x")
    with pytest.raises(ValueError):
        staging.write_extraction(tmp_path, "r1", _extraction(sha="../../etc"), staging.Provenance())


def test_extraction_cache_warehouse_staging_and_failures(tmp_path: Path) -> None:
    from sql import connect

    con = connect(tmp_path)
    a, b, c, d = (ch * 64 for ch in "abcd")
    staging.write_extraction(tmp_path, "r1", _extraction(a, "9.9"), staging.Provenance())
    staging.mark_failed(tmp_path, c, "9.9", url="u", portal_id=None, error="unreadable")
    todo, done, failed = staging.split_pending(con, tmp_path, [a, b, c, d, b], "9.9")
    assert (todo, done, failed) == ([b, d], {a}, {c})
    res = staging.merge_extractions(con, tmp_path)  # the single loader
    assert res.files == 1 and res.counts["reports_inserted"] == 1 and len(res.report_ids) == 1
    assert not staging.staged_files(tmp_path)
    todo, done, _ = staging.split_pending(con, tmp_path, [a], "9.9")  # now found in the warehouse
    assert done == {a} and not todo
    todo, _, _ = staging.split_pending(con, tmp_path, [a, c], "10.0")  # a new extractor version redoes both
    assert todo == [a, c]
    assert staging.merge_extractions(con, tmp_path).files == 0  # idempotent, nothing left
    con.close()


def test_run_lock_is_exclusive(tmp_path: Path) -> None:
    with staging.run_lock(tmp_path):
        with pytest.raises(staging.RunLocked):
            with staging.run_lock(tmp_path):
                pass
    with staging.run_lock(tmp_path):  # released
        pass


def _portal(pid: str, *urls: str, hosts: tuple[str, ...] = ()):
    from urllib.parse import urlsplit

    from extract.registry import Portal

    return Portal(id=pid, unit="u", level="county", family="generic", entry_urls=urls,
                  allowed_hosts=hosts or tuple({urlsplit(u).netloc for u in urls}))


def test_host_groups_never_share_a_host_between_tasks() -> None:
    ps = [_portal("a", "http://h1/x"), _portal("b", "http://h2/x"), _portal("c", "http://h1/y", "http://h3/"),
          _portal("d", "http://h3/z"), _portal("e", "http://h4/", hosts=("h4", ".gov.cn"))]
    jobs = staging.host_groups(ps)
    groups = sorted(sorted(p.id for p in j.portals) for j in jobs)
    assert groups == [["a", "c", "d"], ["b"], ["e"]]
    seen: set[str] = set()
    for j in jobs:
        assert not seen & set(j.hosts)
        seen |= set(j.hosts)
    demo = _portal("demo", "http://{demo:trs}/list", hosts=("{demo:trs}",)).resolve_demo({"trs": "127.0.0.1:5555"})
    [job] = staging.host_groups([demo])
    assert job.hosts == ["{demo:trs}"]  # limit names stay stable across demo server ports


# -- report ---------------------------------------------------------------------------------------------------

def _summary(**kw) -> report.RunSummary:
    s = report.RunSummary("20260101T000000Z-abc", data_dir="data", started_at=100.0, finished_at=110.0)
    s.portals = [report.PortalResult("p1", pages=2, reports=5, new=3, changed=1, unchanged=1),
                 report.PortalResult("p2", error="ConnectError: refused")]
    s.load = {"reports_inserted": 3, "reports_updated": 1, "reports_unchanged": 0}
    s.tasks = [report.TaskTiming("crawl", 100.0, 103.0), report.TaskTiming("extract", 102.0, 106.0),
               report.TaskTiming("extract", 107.0, 108.0)]
    for k, v in kw.items():
        setattr(s, k, v)
    return s


def test_report_says_what_failed_in_both_renderings() -> None:
    s = _summary(extract_failed=[report.DocFailure(SHA, "http://x/b.pdf", "p1", "unreadable: bad pdf")],
                 quality=[{"report_id": 7, "unit_name": "青石镇", "year": 2023, "kind": "check", "rule": "H1",
                           "reason": "H1 a|b\nc", "source_url": "http://x/a.html"}], quality_rows=3,
                 loaded_report_ids=[7, 8, 9, 12], checks_failed=2, reports_with_failed_checks=1)
    assert not s.ok and s.documents_failed == 1
    msg = s.state_message()
    assert "portal p2" in msg and "http://x/b.pdf" in msg
    md, txt = report.markdown(s), report.text(s)
    for out in (md, txt):
        assert "3 / 1 / 1" in out  # new / changed / unchanged
        assert "4 (3 new, 1 updated" in out  # reports loaded
        assert "p2" in out and "unreadable: bad pdf" in out
        assert "report_id BETWEEN 7 AND 9 OR report_id = 12" in out  # link to the v_quality rows
    assert "[document](http://x/a.html)" in md and "a\\|b c" in md  # table-safe cells
    assert s.overhead() == pytest.approx(0.3)  # task bodies cover 100-106 and 107-108: 7 s of 10


def test_report_of_a_clean_incremental_run() -> None:
    s = report.RunSummary("r", portals=[report.PortalResult("p1", pages=2, unchanged=5)], started_at=0, finished_at=1)
    assert s.ok and s.state_message().startswith("ok")
    assert "nothing new since the last run" in report.text(s)
    assert "No quality findings" in report.markdown(s)
    assert report.id_ranges([5, 1, 2, 3, 9, 10]) == [(1, 3), (5, 5), (9, 10)]


def test_portal_results_mark_a_portal_that_read_nothing_as_failed() -> None:
    from extract.crawl import CrawlSummary, PortalSummary
    from flows.nightly import portal_results

    cs = CrawlSummary("x", {"ok": PortalSummary("ok", pages=1, new=2, failed=1, errors=[("u", "HTTP 500")]),
                            "dead": PortalSummary("dead", failed=1, errors=[("http://h/", "network error")])})
    by = {p.portal_id: p for p in portal_results(cs)}
    assert by["ok"].error is None and by["ok"].failed == 1
    assert "network error" in (by["dead"].error or "")


def test_retry_conditions_only_network_and_locks() -> None:
    import duckdb

    from flows.tasks import is_lock_error, is_network_error

    assert is_network_error(httpx.ConnectError("refused")) and is_network_error(TimeoutError())
    assert not is_network_error(ValueError("bug")) and not is_network_error(None)
    assert is_lock_error(duckdb.IOException('Could not set lock on file "x": Conflicting lock is held'))
    assert not is_lock_error(duckdb.IOException("disk full")) and not is_lock_error(RuntimeError("lock"))


def test_nightly_deployment_schedule_defaults_and_overrides() -> None:
    from flows.deployments import build_deployment

    d = build_deployment()
    [sch] = d.schedules
    assert (sch.schedule.cron, sch.schedule.timezone) == ("0 2 * * *", "Asia/Shanghai")
    assert d.name == "nightly"
    d = build_deployment(name="n2", cron="30 3 * * 1", timezone="UTC", parameters={"demo": True})
    assert (d.schedules[0].schedule.cron, d.schedules[0].schedule.timezone) == ("30 3 * * 1", "UTC")
    assert d.parameters == {"demo": True}


def test_cli_usage_errors_never_start_prefect(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli_main(["run", "--data-dir", str(tmp_path)]) == 2
    assert cli_main(["run", "--portal", "no-such-portal", "--data-dir", str(tmp_path)]) == 2
    assert cli_main(["serve", "--timezone", "Mars/Olympus", "--data-dir", str(tmp_path)]) == 2
    assert "unknown portal" in capsys.readouterr().err
    assert not (tmp_path / ".prefect").exists()


def test_prefect_env_keeps_state_in_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.cmd_run import prefect_env

    for k in ("PREFECT_API_URL", "PREFECT_HOME", "PREFECT_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(Path, "home", lambda: tmp_path / "home")
    assert prefect_env(tmp_path / "d") is None
    import os

    assert os.environ["PREFECT_HOME"] == str((tmp_path / "d" / ".prefect").resolve())
    assert (tmp_path / "d" / ".prefect").is_dir()
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert prefect_env(tmp_path / "e") == "http://127.0.0.1:4200/api"


# -- flow runs ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    from flows.nightly import without_heartbeats

    with prefect_test_harness(server_startup_timeout=180), without_heartbeats():
        yield


def _truth_by_url(portal_ids: set[str] | None = None) -> dict[str, tuple[int, int, int]]:
    from extract.demo.site import demo_truths

    return {t.url: (t.year, t.truth.cells[("s3_applications", "new_requests", "total")],
                    t.truth.cells[("s3_applications", "total_processed", "total")])
            for t in demo_truths() if portal_ids is None or t.portal_id in portal_ids}


def _views(data_dir: Path) -> dict[str, tuple]:
    from sql import connect

    con = connect(data_dir, read_only=True)
    try:
        return {r[0]: r[1:] for r in con.execute(
            "SELECT source_url, year, applications_received, total_processed FROM v_unit_year").fetchall()}
    finally:
        con.close()


def _run(**kw) -> tuple[object, dict]:
    from flows.nightly import DEMO_FETCH, nightly

    kw.setdefault("fetch", dict(DEMO_FETCH))
    kw.setdefault("export", False)
    state = nightly(host_limits=False, return_state=True, **kw)
    assert state.is_completed(), state.message
    return state, state.result()


@pytest.mark.flow
@pytest.mark.slow
def test_full_demo_run_matches_the_known_truth_then_reruns_incrementally(harness, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    from extract.demo.server import DemoServer

    truth = _truth_by_url()
    with DemoServer() as srv:
        state, res = _run(data_dir=str(tmp_path), demo=True, demo_hosts=srv.hosts, export=True)
    s = res["summary"]
    assert s["ok"] and state.name == "Completed", res["text"]
    assert len(s["portals"]) == 4 and not s["documents_failed"]
    assert s["load"]["reports_inserted"] == len(truth) == 75
    assert s["extract_shells"] == 37  # the article pages of the 37 PDF/DOCX reports only link them
    got = _views(tmp_path)
    assert {u: got.get(u) for u in truth} == truth  # every report: year, applications received, processed
    assert (tmp_path / "export" / "manifest.json").exists()
    with get_client(sync_client=True) as client:
        art = client.read_latest_artifacts()
    md = next(a for a in art if a.key == "gongkai-run-report").data
    assert "reports loaded | 75 (75 new" in md and "v_quality" in md

    from flows.nightly import export_flow  # a stage is a flow of its own too: same export, byte for byte

    again = export_flow(str(tmp_path), str(tmp_path / "export-again"))
    assert again.value["files"] > 0
    assert ((tmp_path / "export-again" / "manifest.json").read_bytes()
            == (tmp_path / "export" / "manifest.json").read_bytes())

    with DemoServer() as srv:  # a second run: nothing new, nothing re-extracted, warehouse unchanged
        _, res2 = _run(data_dir=str(tmp_path), demo=True, demo_hosts=srv.hosts)
    s2 = res2["summary"]
    assert s2["ok"] and s2["extracted"] == 0 and s2["load"].get("documents", 0) == 0
    assert sum(p["new"] + p["changed"] for p in s2["portals"]) == 0
    assert "nothing new since the last run" in res2["text"]
    assert _views(tmp_path) == got


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when we return: connections are refused


@pytest.mark.flow
@pytest.mark.slow
def test_a_failing_portal_does_not_fail_the_run(harness, tmp_path: Path) -> None:
    from extract.demo.server import DemoServer

    bad = f"http://127.0.0.1:{_closed_port()}/gknb/"
    with DemoServer() as srv:
        state, res = _run(data_dir=str(tmp_path), demo=True, demo_hosts=srv.hosts, urls=[bad],
                          portals=["demo-generic-liujiang"], fetch={"per_host_delay": 0.0, "retries": 0})
    s = res["summary"]
    assert state.name == "Partial" and not s["ok"]
    assert "adhoc-127-0-0-1" in state.message  # the final state names what failed
    by = {p["portal_id"]: p for p in s["portals"]}
    assert by["demo-generic-liujiang"]["error"] is None
    assert [p for p in by.values() if p["error"]][0]["portal_id"].startswith("adhoc-127-0-0-1")
    assert s["load"]["reports_inserted"] == 3  # the healthy portal was still loaded
    assert {k: v for k, v in _views(tmp_path).items()} == _truth_by_url({"demo-generic-liujiang"})


@pytest.mark.flow
@pytest.mark.slow
def test_dask_local_cluster_runs_the_same_flows(harness, tmp_path: Path) -> None:
    from extract.demo.server import DemoServer
    from flows.nightly import local_cluster

    ids = {"demo-generic-liujiang", "demo-trs-qinghe"}
    with local_cluster(2) as address, DemoServer() as srv:
        state, res = _run(data_dir=str(tmp_path), demo=True, demo_hosts=srv.hosts, portals=sorted(ids),
                          runner="dask", dask_address=address)
    s = res["summary"]
    assert s["ok"], res["text"]
    assert s["runner"].startswith("dask@tcp://")
    truth = _truth_by_url(ids)
    assert s["load"]["reports_inserted"] == len(truth)
    assert _views(tmp_path) == truth
    assert not staging.staged_files(tmp_path)  # workers' parquet merged by the single loader
