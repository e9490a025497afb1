"""Portal registry: `extract/portals.toml`, one `[[portal]]` row per portal (data, not code).

Demo rows use host placeholders like `{demo:trs}` that `Portal.resolve_demo()` replaces with the
127.0.0.1:port of the running demo server; a row with an unresolved placeholder is never crawled.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from extract.confine import UrlPolicy, normalize_url

REGISTRY_PATH = Path(__file__).resolve().parent / "portals.toml"
LEVELS = ("province", "prefecture", "county", "township", "department")
_PLACEHOLDER_RE = re.compile(r"\{demo:([a-z0-9_\-]+)\}")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{1,63}$")


class RegistryError(ValueError):
    pass


@dataclass(frozen=True)
class Portal:
    id: str
    unit: str  # the unit running the portal, e.g. 云溪县人民政府
    level: str  # province | prefecture | county | township | department
    family: str  # hanweb | trs | vsb | generic | auto
    entry_urls: tuple[str, ...]  # list pages of the annual-report column
    allowed_hosts: tuple[str, ...]
    province: str = ""
    prefecture: str = ""
    county: str = ""
    township: str = ""
    codes: dict[str, str] = field(default_factory=dict)  # admin (GB/T 2260), credit (统一社会信用代码)…
    report_urls: tuple[str, ...] = ()  # direct report pages (e.g. Hanweb xxgkAnnualReport.jsp)
    units: tuple[str, ...] = ()  # a report title must name one of these (filters other units' reports)
    allow_private: bool = False  # loopback/private hosts allowed (demo and tests only)
    demo: bool = False
    options: dict[str, Any] = field(default_factory=dict)  # delay, max_list_pages, allow_empty_pages, list_method
    notes: str = ""
    # set by resolve_demo, not a registry field: real netloc -> placeholder, so state and manifest
    # keep stable URLs although the demo server's port changes on every start
    host_aliases: dict[str, str] = field(default_factory=dict)

    def policy(self) -> UrlPolicy:
        # a public portal's host must not resolve to a private/metadata address (DNS rebinding aside)
        return UrlPolicy(allowed_hosts=frozenset(self.allowed_hosts), allow_private=self.allow_private,
                         resolve_dns=not self.allow_private)

    @property
    def unresolved(self) -> bool:
        blob = " ".join((*self.entry_urls, *self.report_urls, *self.allowed_hosts))
        return "{demo:" in blob

    def resolve_demo(self, hosts: dict[str, str]) -> Portal:
        """Substitute `{demo:NAME}` placeholders with `127.0.0.1:PORT` of the running demo server."""
        def sub(s: str) -> str:
            return _PLACEHOLDER_RE.sub(lambda m: hosts.get(m.group(1), m.group(0)), s)
        aliases = {hosts[m]: "{demo:" + m + "}" for h in self.allowed_hosts
                   for m in _PLACEHOLDER_RE.findall(h) if m in hosts}
        return replace(self, entry_urls=tuple(map(sub, self.entry_urls)),
                       report_urls=tuple(map(sub, self.report_urls)),
                       allowed_hosts=tuple(map(sub, self.allowed_hosts)), host_aliases=aliases)

    def canonical(self, url: str) -> str:
        """URL as recorded in state and manifest (demo hosts in placeholder form)."""
        for real, alias in self.host_aliases.items():
            prefix = f"//{real}/"
            if prefix in url[:len(real) + 12]:
                return url.replace(prefix, f"//{alias}/", 1)
        return url

    def real(self, url: str) -> str:
        """Inverse of canonical(): the URL to request."""
        for real, alias in self.host_aliases.items():
            prefix = f"//{alias}/"
            if prefix in url[:len(alias) + 12]:
                return url.replace(prefix, f"//{real}/", 1)
        return url


def _portal_from_row(row: dict[str, Any]) -> Portal:
    missing = [k for k in ("id", "unit", "level", "family", "allowed_hosts") if k not in row]
    if missing:
        raise RegistryError(f"portal row {row.get('id', '?')}: missing {', '.join(missing)}")
    if not _ID_RE.match(row["id"]):
        raise RegistryError(f"portal id {row['id']!r}: use lowercase letters, digits, - and _")
    if row["level"] not in LEVELS:
        raise RegistryError(f"portal {row['id']}: level must be one of {LEVELS}")
    from extract.families import FAMILIES
    if row["family"] not in (*FAMILIES, "auto"):
        raise RegistryError(f"portal {row['id']}: unknown family {row['family']!r}")
    known = set(Portal.__dataclass_fields__) - {"host_aliases"}
    extra = set(row) - known
    if extra:
        raise RegistryError(f"portal {row['id']}: unknown fields {sorted(extra)}")
    kw = dict(row)
    for k in ("entry_urls", "allowed_hosts", "report_urls", "units"):
        kw[k] = tuple(kw.get(k, ()))
    return Portal(**kw)


def load_registry(path: Path | str | None = None) -> list[Portal]:
    data = tomllib.loads(Path(path or REGISTRY_PATH).read_text(encoding="utf-8"))
    portals = [_portal_from_row(r) for r in data.get("portal", [])]
    ids = [p.id for p in portals]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise RegistryError(f"duplicate portal ids: {sorted(dupes)}")
    return portals


def adhoc_portal(url: str) -> Portal:
    """A registry-less portal for `gongkai crawl --url`: generic adapter with family auto-detection,
    confined to the URL's own host (which may be private: the user named it)."""
    norm = normalize_url(url)
    parts = urlsplit(norm)
    host = parts.netloc.lower()
    pid = "adhoc-" + re.sub(r"[^a-z0-9]+", "-", host).strip("-")
    return Portal(id=pid[:64], unit=host, level="county", family="auto", entry_urls=(norm,),
                  allowed_hosts=(host,), allow_private=True, notes="ad-hoc --url crawl")
