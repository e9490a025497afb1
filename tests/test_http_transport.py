"""The Fetcher's transport (aiohttp under httpx's API): what reaches the wire and what comes back.

Raw asyncio servers on 127.0.0.1 play the misbehaving or observing peer, so each test controls exact
bytes. The Fetcher must keep its contract whatever aiohttp does differently from httpcore: never raise
for network trouble, decode and cap bodies, send our headers only, use no proxy from the environment.
"""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ipaddress
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from extract.confine import UrlPolicy
from extract.http import USER_AGENT, FetchConfig, Fetcher, FetchResult

FAST = FetchConfig(per_host_delay=0.0, backoff_base=0.01, backoff_max=0.05, retries=1, read_timeout=2.0,
                   total_timeout=5.0, max_body=200_000, respect_robots=False)
Handler = Callable[["Peer", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Peer:
    """A raw TCP server: records each connection's request heads, answers with `handler`."""

    def __init__(self, handler: Handler, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler, self.ssl_context = handler, ssl_context
        self.connections = 0
        self.heads: list[str] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> Peer:
        async def serve(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self.handler(self, r, w)
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
                pass  # the client went away, or the test is over
            finally:
                w.close()
        self.server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=self.ssl_context)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def host(self) -> str:
        assert self.server is not None
        return f"127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def head(self, r: asyncio.StreamReader) -> str:
        h = (await r.readuntil(b"\r\n\r\n")).decode("latin-1")
        self.heads.append(h)
        return h


def _policy(*hosts: str) -> UrlPolicy:
    return UrlPolicy(frozenset(hosts), allow_private=True)


def _reply(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def test_headers_on_the_wire_and_keep_alive() -> None:
    """Our User-Agent and validators, no aiohttp defaults, cookies from our one jar; one connection."""
    async def handler(peer: Peer, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        while True:
            await peer.head(r)
            w.write(_reply(b"ok", "Set-Cookie: sid=1; Path=/"))
            await w.drain()
    peer = Peer(handler)

    async def go() -> list[FetchResult]:
        async with peer as p, Fetcher(FAST) as f:
            return [await f.fetch(f"http://{p.host}/{n}", _policy(p.host), etag='"e1"',
                                  last_modified="Mon, 01 Jan 2024 00:00:00 GMT") for n in range(5)]
    results = asyncio.run(go())
    assert all(r.ok and r.body == b"ok" for r in results)
    assert peer.connections == 1  # keep-alive: the pool reused the connection
    for i, h in enumerate(peer.heads):
        fields = [ln.split(":", 1) for ln in h.split("\r\n")[1:] if ln]
        names = [k.lower() for k, _ in fields]
        values = {k.lower(): v.strip() for k, v in fields}
        assert len(names) == len(set(names))  # nothing sent twice (two cookie jars, two user agents)
        assert values["user-agent"] == USER_AGENT
        assert values["if-none-match"] == '"e1"' and values["if-modified-since"] == "Mon, 01 Jan 2024 00:00:00 GMT"
        assert values["accept-encoding"] == "gzip, deflate"
        assert "aiohttp" not in h.lower()
        assert values.get("cookie") == (None if i == 0 else "sid=1")  # the fetcher's jar: set once, sent back


def _fetch_from(handler: Handler, path: str = "/x", config: FetchConfig = FAST,
                ssl_context: ssl.SSLContext | None = None, scheme: str = "http") -> tuple[FetchResult, Peer]:
    peer = Peer(handler, ssl_context)

    async def go() -> FetchResult:
        async with peer as p, Fetcher(config) as f:
            return await f.fetch(f"{scheme}://{p.host}{path}", _policy(p.host))
    return asyncio.run(go()), peer


def test_gzip_is_decoded_and_the_cap_counts_decoded_bytes() -> None:
    small = gzip.compress("报告".encode() * 100)
    bomb = gzip.compress(b"0" * 5_000_000)  # ~5 KB on the wire, 5 MB decoded

    async def handler(peer: Peer, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        while True:
            h = await peer.head(r)
            w.write(_reply(bomb if "/bomb" in h else small, "Content-Encoding: gzip"))
            await w.drain()
    r, peer = _fetch_from(handler, "/ok")
    assert r.ok and r.body == "报告".encode() * 100
    r, peer = _fetch_from(handler, "/bomb")
    assert not r.ok and "oversize" in (r.error or "") and r.attempts == 1


def test_unparsable_response_is_an_error_not_an_exception() -> None:
    async def handler(peer: Peer, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await peer.head(r)
        w.write(b"SPAM/9 what\r\n\r\n")
        await w.drain()
    r, peer = _fetch_from(handler)
    assert not r.ok and r.error and r.error.startswith("protocol error") and r.attempts == 2


def test_chunked_body_cut_short_is_truncated() -> None:
    async def handler(peer: Peer, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await peer.head(r)
        w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n10\r\n0123")
        await w.drain()
    r, peer = _fetch_from(handler)
    assert not r.ok and "truncated" in (r.error or "") and peer.connections == 2  # retried once


def test_server_closing_before_answering_is_retried() -> None:
    async def handler(peer: Peer, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await peer.head(r)
        if peer.connections == 1:
            return  # closes without a response
        w.write(_reply(b"second time"))
        await w.drain()
    r, peer = _fetch_from(handler)
    assert r.ok and r.body == b"second time" and r.attempts == 2


def test_connection_refused_is_a_network_error() -> None:
    async def go() -> FetchResult:
        srv = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        host = f"127.0.0.1:{srv.sockets[0].getsockname()[1]}"
        srv.close()
        await srv.wait_closed()
        async with Fetcher(FAST) as f:
            return await f.fetch(f"http://{host}/x", _policy(host))
    r = asyncio.run(go())
    assert not r.ok and r.status is None and r.error and r.error.startswith("network error") and r.attempts == 2


def test_headers_are_read_within_read_timeout() -> None:
    async def handler(peer: Peer, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await peer.head(r)
        await asyncio.sleep(3)  # never answers within read_timeout
    r, peer = _fetch_from(handler, config=FAST.fast(read_timeout=0.2, retries=0))
    assert not r.ok and (r.error or "").startswith("timeout")


def test_long_header_line_is_accepted() -> None:
    async def handler(peer: Peer, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await peer.head(r)
        w.write(_reply(b"ok", "Set-Cookie: big=" + "x" * 12_000, "Content-Type: text/html; charset=GBK"))
        await w.drain()
    r, peer = _fetch_from(handler)
    assert r.ok and r.body == b"ok" and r.content_type == "text/html; charset=GBK"


def test_proxy_settings_in_the_environment_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    async def go() -> tuple[FetchResult, int]:
        proxied = 0

        async def proxy(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            nonlocal proxied
            proxied += 1
            w.close()
        psrv = await asyncio.start_server(proxy, "127.0.0.1", 0)
        purl = f"http://127.0.0.1:{psrv.sockets[0].getsockname()[1]}"
        for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.setenv(k, purl)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)

        async def handler(peer: Peer, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await r.readuntil(b"\r\n\r\n")
            w.write(_reply(b"direct"))
            await w.drain()
        async with Peer(handler) as p, Fetcher(FAST) as f:
            res = await f.fetch(f"http://{p.host}/x", _policy(p.host))
        psrv.close()
        return res, proxied
    r, proxied = asyncio.run(go())
    assert r.ok and r.body == b"direct" and proxied == 0


def _self_signed(tmp: Path) -> ssl.SSLContext:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    (tmp / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    return ctx


def test_tls_certificates_are_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))  # trust_env=False: not read

    async def handler(peer: Peer, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await r.readuntil(b"\r\n\r\n")
        w.write(_reply(b"secret"))
        await w.drain()
    r, _ = _fetch_from(handler, ssl_context=ctx, scheme="https", config=FAST.fast(retries=0))
    assert not r.ok and r.status is None and "certificate" in (r.error or "").lower()


def test_response_only_h11_accepts_is_read_on_the_next_attempt() -> None:
    """A repeated Content-Length (RFC 9110 allows reading it) fails aiohttp's parser; the retry, and
    every later request to that host, goes through httpx's own transport."""
    async def handler(peer: Peer, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        while True:
            await peer.head(r)
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok")
            await w.drain()
    peer = Peer(handler)

    async def go() -> list[FetchResult]:
        async with peer as p, Fetcher(FAST) as f:
            return [await f.fetch(f"http://{p.host}/{n}", _policy(p.host)) for n in range(3)]
    first, second, third = asyncio.run(go())
    assert first.ok and first.body == b"ok" and first.attempts == 2
    assert second.ok and second.attempts == 1 and third.ok and third.attempts == 1
    assert peer.connections == 2  # aiohttp's (closed on the error), then httpx's, kept alive
