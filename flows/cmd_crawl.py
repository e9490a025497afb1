"""`gongkai crawl`: fetch annual reports from registry portals, an ad-hoc URL or the demo portals."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from typing import Any

from flows.cli import add_data_dir


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "crawl", help="crawl portals for annual reports into the raw archive",
        description="Crawl annual-report columns: list pages every run, documents only when new or changed.")
    p.add_argument("--portal", action="append", default=[], metavar="ID", help="registry portal id (repeatable)")
    p.add_argument("--url", action="append", default=[], metavar="URL",
                   help="ad-hoc entry URL (generic adapter with family auto-detection, no registry row)")
    p.add_argument("--demo", action="store_true",
                   help="start the bundled demo portals on 127.0.0.1 and crawl them")
    p.add_argument("--all", action="store_true", help="every non-demo registry portal with an entry URL")
    p.add_argument("--registry", default=None, help="registry file (default: extract/portals.toml)")
    p.add_argument("--delay", type=float, default=None,
                   help="seconds between requests to one host (default 1.0; demo 0.05)")
    p.add_argument("--per-host", type=int, default=None, help="concurrent requests per host (default 1)")
    p.add_argument("--concurrency", type=int, default=None, help="global concurrent requests (default 8)")
    p.add_argument("--timeout", type=float, default=None, help="read timeout in seconds (default 30)")
    p.add_argument("--retries", type=int, default=None, help="retries after the first attempt (default 3)")
    p.add_argument("--max-body", type=int, default=None, help="maximum document size in bytes (default 50 MiB)")
    p.add_argument("--recheck", action="store_true", help="conditional GET of every known document too")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_data_dir(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from extract.crawl import CrawlConfig, crawl_portals
    from extract.http import FetchConfig
    from extract.registry import RegistryError, adhoc_portal, load_registry

    err = Console(stderr=True)
    try:
        registry = load_registry(args.registry)
    except (OSError, RegistryError) as e:
        err.print(f"[red]registry: {e}[/red]")
        return 2
    by_id = {p.id: p for p in registry}
    unknown = [i for i in args.portal if i not in by_id]
    if unknown:
        err.print(f"[red]unknown portal id(s): {', '.join(unknown)}[/red] (known: {', '.join(by_id)})")
        return 2
    portals = [by_id[i] for i in args.portal]
    if args.all:
        portals += [p for p in registry if not p.demo and (p.entry_urls or p.report_urls) and p not in portals]
    try:
        portals += [adhoc_portal(u) for u in args.url]
    except ValueError as e:
        err.print(f"[red]--url: {e}[/red]")
        return 2
    if args.demo and not args.portal:
        portals += [p for p in registry if p.demo]
    if not portals:
        err.print("nothing to crawl: give --portal ID, --url URL, --all or --demo")
        return 2

    fetch = FetchConfig()
    overrides: dict[str, Any] = {}
    if args.demo and args.delay is None:
        overrides.update(per_host_delay=0.05, backoff_base=0.2)  # our own local server
    for opt, key in (("delay", "per_host_delay"), ("per_host", "per_host_concurrency"),
                     ("concurrency", "global_concurrency"), ("timeout", "read_timeout"),
                     ("retries", "retries"), ("max_body", "max_body")):
        if getattr(args, opt) is not None:
            overrides[key] = getattr(args, opt)
    config = CrawlConfig(fetch=fetch.fast(**overrides), recheck=args.recheck)

    with ExitStack() as stack:
        if any(p.demo for p in portals) or args.demo:
            from extract.demo.server import DemoServer
            srv = stack.enter_context(DemoServer())
            portals = [p.resolve_demo(srv.hosts) if p.demo else p for p in portals]
            err.print("demo portals: " + ", ".join(f"{n}=http://{h}/" for n, h in srv.hosts.items()))
        progress = Progress(TextColumn("[bold]crawl[/bold]"), BarColumn(),
                            TextColumn("pages {task.fields[pages]} · documents {task.fields[docs]} · "
                                       "errors {task.fields[errors]}"), TimeElapsedColumn(),
                            console=err, disable=args.no_progress or not err.is_terminal, transient=False)
        counts = {"page": 0, "document": 0, "error": 0}
        with progress:
            task = progress.add_task("crawl", total=None, pages=0, docs=0, errors=0)

            def on_event(event: str, portal_id: str, url: str) -> None:
                if event in counts:
                    counts[event] += 1
                    progress.update(task, pages=counts["page"], docs=counts["document"], errors=counts["error"])
            summary = crawl_portals(portals, args.data_dir, config=config, progress=on_event)

    table = Table(title=f"crawl {summary.run_id}")
    for col in ("portal", "pages", "reports", "new", "changed", "unchanged", "failed", "broken", "skipped"):
        table.add_column(col, justify="left" if col == "portal" else "right")
    for ps in summary.portals.values():
        table.add_row(ps.portal_id, *(str(getattr(ps, c)) for c in
                                      ("pages", "reports", "new", "changed", "unchanged", "failed", "broken", "skipped")))
    table.add_row("[bold]total[/bold]", *(str(summary.total(c)) for c in
                                          ("pages", "reports", "new", "changed", "unchanged", "failed", "broken", "skipped")))
    out = Console(file=sys.stdout, width=120)
    out.print(table)
    for ps in summary.portals.values():
        for url, reason in ps.errors:
            err.print(f"[red]{ps.portal_id}: {url}: {reason}[/red]", highlight=False, soft_wrap=True)
        for url, reason in ps.skips:
            err.print(f"[yellow]{ps.portal_id}: skipped {url}: {reason}[/yellow]", highlight=False, soft_wrap=True)
    if summary.total("new") + summary.total("changed") == 0:
        out.print("nothing changed")
    return 0 if summary.ok else 1
