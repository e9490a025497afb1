"""`gongkai` command line. Each command lives in its own module exposing `register(subparsers)`.

Exit codes: 0 success, 1 some input failed (the rest still processed), 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

# command modules, in the order they appear in --help
COMMAND_MODULES = [
    "flows.cmd_extract",  # gongkai extract PATH...
    "flows.cmd_crawl",  # gongkai crawl
    "flows.cmd_warehouse",  # gongkai load / query / compare / export
    "flows.cmd_run",  # gongkai run / demo / serve
]


def add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, default=Path("data"),
                   help="where the warehouse, raw archive and crawl state live (default ./data)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gongkai",
        description="政府信息公开工作年度报告 pipeline: crawl, extract, check, load, export.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:  # a command module not built yet must not break the others
            if e.name == name:
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
