"""`gongkai run | demo | serve`: the whole pipeline through the Prefect flows.

    gongkai run --portal ID [--portal ID ...] [--url URL] [--demo] [--data-dir DIR] [--runner local|dask]
    gongkai demo [--data-dir DIR]       bundled offline demo portals → DATA_DIR/gongkai.duckdb + comparison
    gongkai serve [--cron "0 2 * * *"] [--timezone Asia/Shanghai]

Prefect needs no setup: without PREFECT_API_URL (env or active profile) a run uses Prefect's temporary
local API with its state under DATA_DIR/.prefect, so nothing depends on the user's home. The runner is
chosen by flag or by GONGKAI_RUNNER / GONGKAI_DASK_ADDRESS.

Exit codes: 0 success, 1 the run finished but something failed (listed), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

from flows.cli import add_data_dir


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("run", help="crawl → extract → load (→ export) through the Prefect flows",
                              description="One whole pipeline run for the named portals; prints the run report.")
    p.add_argument("--portal", action="append", default=[], metavar="ID", help="registry portal id (repeatable)")
    p.add_argument("--url", action="append", default=[], metavar="URL", help="ad-hoc entry URL (repeatable)")
    p.add_argument("--demo", action="store_true", help="start the bundled demo portals on 127.0.0.1 and crawl them")
    p.add_argument("--all", action="store_true", help="every non-demo registry portal (the nightly default)")
    p.add_argument("--export", nargs="?", const="", default=None, metavar="DIR",
                   help="also export parquet (default DIR: DATA_DIR/export)")
    _common(p)
    p.set_defaults(func=cmd_run)

    p = subparsers.add_parser("demo", help="install-free whole run on the bundled offline demo portals",
                              description="Start the demo portals on 127.0.0.1, run the nightly flow against them "
                              "into DATA_DIR/gongkai.duckdb, print the run report and a township x year "
                              "comparison from v_unit_year. A second run is incremental.")
    p.add_argument("--metric", default="applications_received", help="v_unit_year column to compare")
    p.add_argument("--no-export", action="store_true", help="skip the parquet export")
    _common(p)
    p.set_defaults(func=cmd_demo)

    p = subparsers.add_parser("serve", help="serve the nightly deployment on a cron schedule",
                              description="Register the nightly deployment with a cron schedule and run it "
                              "on schedule (Prefect serve). Uses PREFECT_API_URL when set, else starts a "
                              "local Prefect server on 127.0.0.1 for the duration.")
    p.add_argument("--cron", default=os.environ.get("GONGKAI_CRON", "0 2 * * *"),
                   help="cron expression (default 0 2 * * *, or GONGKAI_CRON)")
    p.add_argument("--timezone", default=os.environ.get("GONGKAI_TIMEZONE", "Asia/Shanghai"),
                   help="IANA time zone of the cron expression (default Asia/Shanghai, or GONGKAI_TIMEZONE)")
    p.add_argument("--name", default="nightly", help="deployment name (default nightly)")
    p.add_argument("--portal", action="append", default=[], metavar="ID", help="limit to these portals")
    p.add_argument("--demo", action="store_true", help="crawl the bundled demo portals (started per run)")
    p.add_argument("--no-export", action="store_true", help="skip the parquet export")
    p.add_argument("--port", type=int, default=None, help="port of the local Prefect server (default: free port)")
    _common(p)
    p.set_defaults(func=cmd_serve)


def _common(p: argparse.ArgumentParser) -> None:
    add_data_dir(p)
    p.add_argument("--runner", choices=("local", "dask"), default=os.environ.get("GONGKAI_RUNNER", "local"),
                   help="task runner: local threads or a Dask cluster (default local, or GONGKAI_RUNNER)")
    p.add_argument("--dask-address", default=os.environ.get("GONGKAI_DASK_ADDRESS"), metavar="ADDR",
                   help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: start a local cluster)")
    p.add_argument("--dask-workers", type=int, default=2, help="workers of the local cluster (default 2)")
    p.add_argument("--delay", type=float, default=None, help="seconds between requests to one host")
    p.add_argument("--retries", type=int, default=None, help="retries per request after the first")
    p.add_argument("--timeout", type=float, default=None, help="read timeout in seconds")
    p.add_argument("--no-host-limits", action="store_true",
                   help="no Prefect global concurrency limits per host on a real Prefect server (host groups "
                   "always apply; on the temporary API the limits are off)")
    p.add_argument("--registry", default=None, help="registry file (default: extract/portals.toml)")
    p.add_argument("--json", action="store_true", help="print the run summary as JSON instead of text")
    p.add_argument("-v", "--verbose", action="store_true", help="Prefect's INFO logs (task runs) on the console")


# -- Prefect without setup ------------------------------------------------------------------------------------

def _profile_api_url() -> str | None:
    """PREFECT_API_URL of the active Prefect profile, read without importing Prefect."""
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect")
    try:
        data = tomllib.loads((home / "profiles.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or data.get("active", "ephemeral")
    return (data.get("profiles", {}).get(active) or {}).get("PREFECT_API_URL") or None


def prefect_env(data_dir: Path, *, verbose: bool = False) -> str | None:
    """Configure Prefect through the environment, before it is first imported. Returns the API URL in use,
    or None for the temporary local API (state under DATA_DIR/.prefect)."""
    api = os.environ.get("PREFECT_API_URL") or _profile_api_url()
    env = os.environ
    if not api:
        env.setdefault("PREFECT_HOME", str((Path(data_dir) / ".prefect").resolve()))
        Path(env["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)  # Prefect does not create parents
        env["PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"] = "true"  # = server.ephemeral.enabled: no server by hand
        # the first start migrates a new SQLite database: allow slow CI machines more than the 20 s default
        env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
        env.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")  # shutdown noise of the temporary server
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no network: telemetry would only log errors
    env.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    env.setdefault("DASK_DISTRIBUTED__LOGGING__DISTRIBUTED", "warning")
    return api


def _fetch_overrides(args: argparse.Namespace, demo: bool) -> dict[str, Any]:
    from flows.nightly import DEMO_FETCH

    out: dict[str, Any] = dict(DEMO_FETCH) if demo else {}
    for opt, key in (("delay", "per_host_delay"), ("retries", "retries"), ("timeout", "read_timeout")):
        if getattr(args, opt, None) is not None:
            out[key] = getattr(args, opt)
    return out


def _check_portals(args: argparse.Namespace) -> str | None:
    """A usage error in the portal selection, found before Prefect starts."""
    from extract.registry import RegistryError, adhoc_portal, load_registry

    try:
        known = {p.id for p in load_registry(args.registry)}
        for u in getattr(args, "url", []) or []:
            adhoc_portal(u)
    except (OSError, RegistryError, ValueError) as e:
        return str(e)
    unknown = [i for i in args.portal if i not in known]
    if unknown:
        return f"unknown portal id(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})"
    return None


def run_pipeline(args: argparse.Namespace, *, demo: bool, portals: list[str], urls: list[str],
                 export: bool, export_to: str | None) -> tuple[int, dict | None]:
    """Run the nightly flow in this process; returns (exit code, flow result)."""
    api = prefect_env(args.data_dir, verbose=args.verbose)
    where = f"Prefect API {api}" if api else f"temporary local Prefect API (state in {args.data_dir}/.prefect)"
    print(f"gongkai: {where}; runner {args.runner}" + (f" @ {args.dask_address}" if args.dask_address else ""),
          file=sys.stderr)
    from contextlib import nullcontext

    from flows.nightly import nightly, without_heartbeats

    if not api:
        _temporary_server()

    params: dict[str, Any] = dict(
        data_dir=str(args.data_dir), portals=portals or None, urls=urls or None, demo=demo,
        registry=args.registry, fetch=_fetch_overrides(args, demo), runner=args.runner,
        dask_address=args.dask_address, dask_workers=args.dask_workers, export=export, export_to=export_to,
        # global limits live in the API: on a temporary one (per process) they would guard nothing that
        # the host groups and the data-dir lock do not already guard
        host_limits=not args.no_host_limits and api is not None)
    with nullcontext() if api else without_heartbeats():
        state = nightly(**params, return_state=True)
    if not state.is_completed():
        print(f"gongkai: run failed: {state.message or state.name}", file=sys.stderr)
        try:
            state.result(raise_on_failure=True)
        except Exception as e:  # noqa: BLE001 - shown, then a non-zero exit
            print(f"  {type(e).__name__}: {e}", file=sys.stderr)
        return 1, None
    result = state.result()
    if args.json:
        print(json.dumps(result["summary"], ensure_ascii=False, default=str, indent=1))
    else:
        print(result["text"])
    return (0 if result["summary"]["ok"] else 1), result


def _temporary_server() -> None:
    """Start the process's temporary Prefect API server now (the flow and Dask workers use this one) with
    a watchdog that stops it if this process is killed: Prefect stops it only from an atexit handler,
    which a SIGKILL skips, leaving the server running after the run."""
    import atexit

    from prefect.server.api.server import SubprocessASGIServer

    from flows.reaper import Reaper

    server = SubprocessASGIServer()  # the singleton that Prefect's client would start on first use
    server.start()
    if server.server_process is None:
        return
    reaper = Reaper(server.server_process.pid)

    def stop() -> None:  # registered after Prefect's own stop, so it runs first (atexit is LIFO)
        server.stop()
        reaper.disarm()
    atexit.register(stop)


def cmd_run(args: argparse.Namespace) -> int:
    err = _check_portals(args)
    if err:
        print(f"gongkai run: {err}", file=sys.stderr)
        return 2
    if not (args.portal or args.url or args.demo or args.all):
        print("gongkai run: nothing to run: give --portal ID, --url URL, --demo or --all", file=sys.stderr)
        return 2
    export = args.export is not None
    code, _ = run_pipeline(args, demo=args.demo, portals=args.portal, urls=args.url, export=export,
                           export_to=args.export or None)
    return code


# -- the demo ------------------------------------------------------------------------------------------------

def unit_year_comparison(con, metric: str = "applications_received") -> tuple[list[str], list[tuple]]:
    """Township x year matrix of one v_unit_year column, per county (the county's own row after its
    townships). A unit the gazetteer could not place keeps the county of the portal it came from."""
    cols = {r[0] for r in con.execute("DESCRIBE v_unit_year").fetchall()}
    if metric not in cols:
        raise ValueError(f"unknown metric {metric!r}; one of: {', '.join(sorted(cols))}")
    rows = con.execute(f"""
        SELECT coalesce(v.county, p.county) AS county, v.unit_name, v.level, v.year, v."{metric}"
        FROM v_unit_year v JOIN reports r USING (report_id) LEFT JOIN portals p ON p.portal_id = r.portal_id
        WHERE v.level NOT IN ('province', 'prefecture', 'department')
          AND coalesce(v.county, p.county) IS NOT NULL""").fetchall()
    years = sorted({r[3] for r in rows})
    table: dict[tuple, dict[int, Any]] = {}
    for county, unit, level, year, value in rows:
        table.setdefault((county, level != "township", unit), {})[year] = value
    out = [(county, unit, *(vals.get(y) for y in years)) for (county, _, unit), vals in sorted(table.items())]
    return ["county", "unit", *map(str, years)], out


def print_comparison(data_dir: Path, metric: str) -> bool:
    from rich.console import Console
    from rich.table import Table

    from sql import connect

    con = connect(data_dir, read_only=True)
    try:
        cols, rows = unit_year_comparison(con, metric)
    finally:
        con.close()
    if not rows:
        print("no township reports in v_unit_year", file=sys.stderr)
        return False
    t = Table(*cols, title=f"{metric} by township x year (v_unit_year)")
    last = None
    for r in rows:
        if last is not None and r[0] != last:
            t.add_section()
        last = r[0]
        t.add_row(*("" if v is None else str(v) for v in r))
    Console(file=sys.stdout, width=max(100, 20 * len(cols))).print(t)
    return True


def cmd_demo(args: argparse.Namespace) -> int:
    from sql import DB_NAME

    code, result = run_pipeline(args, demo=True, portals=[], urls=[], export=not args.no_export, export_to=None)
    if result is None:
        return code
    try:
        print_comparison(args.data_dir, args.metric)
    except ValueError as e:
        print(str(e), file=sys.stderr)
        return 2
    print(f"warehouse: {args.data_dir / DB_NAME}  (try: gongkai compare --data-dir {args.data_dir} "
          "--county 青禾县)", file=sys.stderr)
    return code


# -- serve ---------------------------------------------------------------------------------------------------

def cmd_serve(args: argparse.Namespace) -> int:
    err = _check_portals(args)
    if err:
        print(f"gongkai serve: {err}", file=sys.stderr)
        return 2
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(args.timezone)
    except Exception:  # noqa: BLE001 - any lookup failure is a usage error
        print(f"gongkai serve: unknown time zone {args.timezone!r}", file=sys.stderr)
        return 2
    api = prefect_env(args.data_dir, verbose=True)
    from contextlib import ExitStack

    from flows.deployments import local_server, serve_nightly

    params: dict[str, Any] = {"data_dir": str(Path(args.data_dir).resolve()), "runner": args.runner,
                              "export": not args.no_export, "host_limits": not args.no_host_limits}
    for k, v in (("portals", args.portal or None), ("demo", args.demo or None), ("registry", args.registry),
                 ("dask_address", args.dask_address), ("fetch", _fetch_overrides(args, args.demo) or None)):
        if v is not None:
            params[k] = v
    with ExitStack() as stack:
        if not api:  # a temporary API has no scheduler service: run a real local server
            print("gongkai serve: starting a local Prefect server (state in "
                  f"{os.environ['PREFECT_HOME']})…", file=sys.stderr)
            api = stack.enter_context(local_server(args.port))
            os.environ["PREFECT_API_URL"] = api
            print(f"gongkai serve: Prefect UI at {api.removesuffix('/api')}", file=sys.stderr)
        print(f"gongkai serve: deployment gongkai-nightly/{args.name}, cron {args.cron!r} ({args.timezone}), "
              f"parameters {json.dumps(params, ensure_ascii=False)}", file=sys.stderr)
        try:
            serve_nightly(name=args.name, cron=args.cron, timezone=args.timezone, parameters=params)
        except KeyboardInterrupt:
            pass
    return 0
