"""URL confinement: which URLs a crawl may request.

Only http/https, only the portal's allowed hosts, and never loopback/private/link-local/metadata
addresses unless the portal row allows it explicitly (the demo portals and tests do). The check is
applied to every link before it is queued and to every redirect hop before it is followed.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

ALLOWED_SCHEMES = frozenset({"http", "https"})
# cloud metadata endpoints by name; their IPs are link-local and caught by the address check
_METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})


class Confined(ValueError):
    """A URL outside the crawl's policy; the message names the reason."""


def normalize_url(url: str, base: str | None = None) -> str:
    """Resolve against base, drop the fragment, lowercase scheme and host, strip default ports."""
    url = url.strip()
    if base is not None:
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port  # raises ValueError on a bad port
    netloc = host
    if ":" in host:  # IPv6 literal
        netloc = f"[{host}]"
    if port is not None and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc = f"{netloc}:{port}"
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def host_key(url: str) -> str:
    """The politeness / robots key of a URL: scheme-less host[:port]."""
    return urlsplit(url).netloc.lower()


def _is_forbidden_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback address"
    if ip.is_link_local:
        return "link-local/metadata address"
    if ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_unspecified:
        return "private/reserved address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"):
        return "carrier-grade NAT address"
    return None


@dataclass(frozen=True)
class UrlPolicy:
    """allowed_hosts entries: `example.gov.cn` (that host, any port), `.example.gov.cn` (the host and
    its subdomains), `127.0.0.1:8080` (that host and port only)."""

    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    allow_private: bool = False
    resolve_dns: bool = False  # also check the A/AAAA records (off by default: no DNS in tests)

    def host_allowed(self, host: str, port: int | None) -> bool:
        for entry in self.allowed_hosts:
            entry = entry.lower()
            if entry.startswith("."):
                if host == entry[1:] or host.endswith(entry):
                    return True
            elif ":" in entry and not entry.startswith("["):
                h, _, p = entry.rpartition(":")
                if host == h and str(port) == p:
                    return True
            elif host == entry.strip("[]"):
                return True
        return False

    def check(self, url: str) -> str:
        """Return the normalized URL or raise Confined."""
        raw = urlsplit(url.strip())
        if raw.username or raw.password:  # normalize_url drops userinfo, so look first
            raise Confined("credentials in URL")
        try:
            norm = normalize_url(url)
            parts = urlsplit(norm)
            port = parts.port
        except ValueError as e:
            raise Confined(f"malformed URL: {e}") from None
        if parts.scheme not in ALLOWED_SCHEMES:
            raise Confined(f"scheme {parts.scheme or '(none)'!r} not allowed")
        host = parts.hostname or ""
        if not host:
            raise Confined("no host")
        if port is None:
            port = 443 if parts.scheme == "https" else 80
        if not self.host_allowed(host, port):
            raise Confined(f"host {host} not in the portal's allowed hosts")
        if not self.allow_private:
            if host in _METADATA_HOSTS or host == "localhost" or host.endswith(".localhost"):
                raise Confined(f"host {host} is a local/metadata name")
            try:
                ip = ipaddress.ip_address(host)
            except ValueError:
                ip = None
            if ip is not None:
                reason = _is_forbidden_ip(ip)
                if reason:
                    raise Confined(f"{host}: {reason}")
            elif self.resolve_dns:
                try:
                    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
                except (socket.gaierror, UnicodeError) as e:
                    raise Confined(f"{host} does not resolve: {e}") from None
                for info in infos:
                    reason = _is_forbidden_ip(ipaddress.ip_address(info[4][0]))
                    if reason:
                        raise Confined(f"{host} resolves to a {reason}")
        return norm

    def allows(self, url: str) -> bool:
        try:
            self.check(url)
        except Confined:
            return False
        return True


def policy_for_url(url: str) -> UrlPolicy:
    """Policy of an ad-hoc `--url` crawl: its own host only; that host is allowed even if private,
    because the user named it explicitly."""
    parts = urlsplit(normalize_url(url))
    if parts.scheme not in ALLOWED_SCHEMES or not parts.hostname:
        raise Confined(f"not an http(s) URL: {url}")
    return UrlPolicy(allowed_hosts=frozenset({parts.netloc.lower()}), allow_private=True)
