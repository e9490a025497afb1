"""Polite async HTTP fetcher.

Per host: at most `per_host_concurrency` requests in flight and request starts spaced
`per_host_delay` seconds apart (raised to a robots.txt Crawl-delay); globally at most
`global_concurrency`. Retries with exponential backoff on 5xx, 429 (honouring Retry-After, which
also holds back every other request to that host) and network errors. Redirects are followed by hand
so every hop is confined and counted; bodies are streamed and cut at `max_body`. A request with a
`form` is a POST (list pages of sites that answer only POST, e.g. Hanweb's jpage dataproxy.jsp).

Requests are `httpx.Request`s sent over aiohttp's connection pool (`aiohttp_transport`), or httpx's own
transport for hosts whose responses only h11 can read. They go to the transport directly, not through
an httpx.AsyncClient: redirects, headers, timeouts and cookies are handled here anyway, and the client's
per-request layers (URL merging, auth and redirect wrappers, a urllib cookie-jar pass over every
response) cost ~15% of a fast crawl.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import random
import ssl
import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from extract.confine import Confined, UrlPolicy, host_key

# honest and ASCII (HTTP headers are latin-1); deployments should append a contact address
USER_AGENT = ("gongkai/0.1 (research crawler for government information disclosure annual reports; "
              "1 request/s per host; honours robots.txt)")
ROBOTS_AGENT = "gongkai"


@dataclass(frozen=True)
class FetchConfig:
    per_host_concurrency: int = 1
    per_host_delay: float = 1.0  # seconds between request starts on one host
    polite: bool = True  # False: no per-host limits (benchmarks against our own server only)
    global_concurrency: int = 8
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 120.0  # wall time for one attempt, body included (slow-drip servers)
    retries: int = 3  # extra attempts after the first
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_retry_after: float = 300.0  # a longer Retry-After fails the URL instead of stalling the crawl
    max_body: int = 50 * 1024 * 1024
    max_redirects: int = 5
    user_agent: str = USER_AGENT
    respect_robots: bool = True

    def fast(self, **kw: object) -> FetchConfig:
        """A copy with overrides (tests, demo)."""
        from dataclasses import replace
        return replace(self, **kw)  # type: ignore[arg-type]


@dataclass
class FetchResult:
    url: str
    final_url: str
    status: int | None = None  # None: no HTTP response
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None  # set when the fetch failed; names the reason
    attempts: int = 0
    redirects: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    method: str = "GET"  # of the last hop (a 301/302/303 turns a POST into a GET)

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


class _Host:
    """Per-host gate: a semaphore and the earliest time the next request may start."""

    def __init__(self, concurrency: int) -> None:
        self.sem = asyncio.Semaphore(concurrency)
        self.next_start = 0.0
        self.delay = 0.0
        self.lock = asyncio.Lock()

    async def wait_turn(self, delay: float) -> None:
        async with self.lock:  # reserve a start slot; reservations are spaced `delay` apart
            now = time.monotonic()
            start = max(now, self.next_start)
            self.next_start = start + max(delay, self.delay)
        if start > now:
            await asyncio.sleep(start - now)

    def hold(self, seconds: float) -> None:
        self.next_start = max(self.next_start, time.monotonic() + seconds)


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        dt = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, dt.timestamp() - time.time())


class _TooBig(Exception):
    pass


# h11 (httpx's default) allows a 16 KiB header block; aiohttp's 8190-byte line limit would be stricter
_MAX_HEADER_LINE = 16 * 1024


def _pool_size(config: FetchConfig) -> int:
    return max(config.global_concurrency, 1) * 2


def aiohttp_transport(config: FetchConfig) -> httpx.AsyncBaseTransport:
    """httpx's API over aiohttp's connection pool (httpx-aiohttp). httpcore's pool checks every pooled
    connection's socket on each request, a third of a fast crawl's CPU; aiohttp's does not.

    The session is built here, not by the transport, so nothing is left to defaults that differ from
    httpx's: no proxies or netrc from the environment, no cookie jar of its own (the Fetcher keeps
    one), no decompression (httpx's Response decodes, so `max_body` counts decoded bytes), TLS
    verification with httpx's context (certifi, no SSL_CERT_FILE from the environment), httpx's pool
    size and keep-alive expiry. Redirects stay off (the transport passes allow_redirects=False)."""
    n = _pool_size(config)
    ssl_context = _ssl_context()

    def session() -> aiohttp.ClientSession:  # called on first use, inside the running loop
        # the system resolver (getaddrinfo), as httpx and extract/confine.py use, even if aiodns is installed
        connector = aiohttp.TCPConnector(limit=n, limit_per_host=0, keepalive_timeout=5.0, ssl=ssl_context,
                                         resolver=aiohttp.ThreadedResolver())
        s = aiohttp.ClientSession(connector=connector, trust_env=False, auto_decompress=False,
                                  cookie_jar=aiohttp.DummyCookieJar(),
                                  max_line_size=_MAX_HEADER_LINE, max_field_size=_MAX_HEADER_LINE)
        # aiohttp silently re-sends a GET at once when the server drops the connection before answering;
        # that second request would bypass the per-host gate and the attempt count, so it is ours to make
        # (tests/test_http_transport.py pins this: the attribute has no public setter in aiohttp 3.14)
        s._retry_connection = False
        return s
    return AiohttpTransport(client=session, verify=ssl_context, trust_env=False)  # verify=: no 2nd context


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's verifying context (certifi), built once per process: loading the CA bundle costs ~40 ms,
    which a crawl of a few seconds would pay on every run."""
    return httpx.create_ssl_context(trust_env=False)


class Fetcher:
    """Use as `async with Fetcher(config) as f: r = await f.fetch(url, policy)`."""

    def __init__(self, config: FetchConfig | None = None, *,
                 on_request: Callable[[str], None] | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config or FetchConfig()
        self._hosts: dict[str, _Host] = {}
        self._global = asyncio.Semaphore(self.config.global_concurrency)
        self._robots: dict[str, urllib.robotparser.RobotFileParser | str] = {}
        self._robots_lock: dict[str, asyncio.Lock] = {}
        self._on_request = on_request
        c = self.config
        self._transport = transport or aiohttp_transport(c)
        # aiohttp's parser (llhttp) rejects some responses h11 reads: a repeated Content-Length,
        # Content-Length with chunking, bytes after a `Connection: close` body. A host that sent one is
        # fetched with httpx's own transport from its next attempt on (same gate, counted as a retry).
        self._lenient: httpx.AsyncBaseTransport | None = None
        self._lenient_hosts: set[str] | None = None if transport is not None else set()
        self._headers = {"User-Agent": c.user_agent, "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
        self._timeout = httpx.Timeout(c.read_timeout, connect=c.connect_timeout).as_dict()
        self._cookies = httpx.Cookies()  # one jar for both transports (session cookies of list paging)
        self.robots_fetched: list[FetchResult] = []  # robots.txt responses, for archiving

    def _transport_for(self, url: str) -> httpx.AsyncBaseTransport:
        if not self._lenient_hosts or host_key(url) not in self._lenient_hosts:
            return self._transport
        if self._lenient is None:
            n = _pool_size(self.config)
            self._lenient = httpx.AsyncHTTPTransport(verify=_ssl_context(), trust_env=False,
                                                     limits=httpx.Limits(max_connections=n, max_keepalive_connections=n))
        return self._lenient

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._transport.aclose()
        if self._lenient is not None:
            await self._lenient.aclose()

    def _host(self, key: str) -> _Host:
        h = self._hosts.get(key)
        if h is None:
            h = self._hosts[key] = _Host(self.config.per_host_concurrency if self.config.polite else 10_000)
        return h

    # -- robots.txt -------------------------------------------------------------------------
    async def robots_allows(self, url: str, policy: UrlPolicy) -> tuple[bool, str | None]:
        """(allowed, reason). RFC 9309: 4xx robots = allow all; 5xx/unreachable = disallow all."""
        if not self.config.respect_robots:
            return True, None
        parts = urlsplit(url)
        key = host_key(url)
        lock = self._robots_lock.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._robots:
                robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
                r = await self._fetch(robots_url, policy, None, None, robots=True)
                if r.ok:
                    self.robots_fetched.append(r)
                    rp = urllib.robotparser.RobotFileParser()
                    rp.parse(r.body.decode("utf-8", "replace").splitlines())
                    self._robots[key] = rp
                    delay = rp.crawl_delay(ROBOTS_AGENT)
                    if delay and self.config.polite:
                        self._host(key).delay = min(float(delay), 60.0)
                elif r.status is not None and 400 <= r.status < 500:
                    self._robots[key] = "allow"
                else:
                    self._robots[key] = f"robots.txt unavailable ({r.error or r.status})"
        rp = self._robots[key]
        if rp == "allow":
            return True, None
        if isinstance(rp, str):
            return False, rp
        if rp.can_fetch(ROBOTS_AGENT, url):
            return True, None
        return False, "disallowed by robots.txt"

    # -- fetching -----------------------------------------------------------------------------
    async def fetch(self, url: str, policy: UrlPolicy, *, etag: str | None = None,
                    last_modified: str | None = None, form: dict[str, str] | None = None) -> FetchResult:
        """Fetch one URL (robots, politeness, retries, redirects); with `form`, POST it form-encoded
        (no validators: POST answers are not cached). Never raises for HTTP/network trouble: the
        result's `error` names the reason."""
        try:
            url = policy.check(url)
        except Confined as e:
            return FetchResult(url, url, error=f"refused: {e}")
        allowed, reason = await self.robots_allows(url, policy)
        if not allowed:
            return FetchResult(url, url, error=f"robots: {reason}")
        return await self._fetch(url, policy, etag, last_modified, form=form)

    async def _fetch(self, url: str, policy: UrlPolicy, etag: str | None, last_modified: str | None,
                     *, robots: bool = False, form: dict[str, str] | None = None) -> FetchResult:
        c = self.config
        result = FetchResult(url, url)
        t0 = time.monotonic()
        current = url
        seen = {url}
        attempt = 0
        while True:
            headers = {}
            if current == url and form is None:  # validators belong to the original URL's GET
                if etag:
                    headers["If-None-Match"] = etag
                if last_modified:
                    headers["If-Modified-Since"] = last_modified
            attempt += 1
            result.attempts = attempt
            result.method = "GET" if form is None else "POST"
            status, resp_headers, body, err = await self._one(current, headers, form)
            retry_wait: float | None = None
            if err is not None:
                if err.startswith("oversize"):  # retrying will not make it smaller
                    result.error = err
                    break
                retry_wait = self._backoff(attempt)
                result.error = err
            elif status is not None and (status == 429 or status >= 500):
                ra = parse_retry_after(resp_headers.get("retry-after")) if status in (429, 503) else None
                if ra is not None and ra > c.max_retry_after:
                    result.status, result.headers = status, resp_headers
                    result.error = f"HTTP {status}, Retry-After {ra:.0f}s exceeds limit"
                    break
                if ra is not None:
                    self._host(host_key(current)).hold(ra)  # the whole host waits, not just this URL
                retry_wait = ra if ra is not None else self._backoff(attempt)
                result.error = f"HTTP {status}"
                result.status, result.headers = status, resp_headers
            elif status is not None and status in (301, 302, 303, 307, 308) and "location" in resp_headers:
                target = urljoin(current, resp_headers["location"])
                result.redirects.append(target)
                if len(result.redirects) > c.max_redirects:
                    result.status, result.error = status, f"too many redirects (> {c.max_redirects})"
                    break
                try:
                    target = policy.check(target)
                except Confined as e:
                    result.status, result.error = status, f"redirect refused: {e}"
                    break
                if target in seen:
                    result.status, result.error = status, f"redirect loop at {target}"
                    break
                seen.add(target)
                if not robots:
                    ok, why = await self.robots_allows(target, policy)
                    if not ok:
                        result.status, result.error = status, f"redirect to {target}: {why}"
                        break
                current = target
                if status in (301, 302, 303):
                    form = None  # as browsers do: the next hop is a GET; 307/308 repeat the POST
                attempt -= 1  # a redirect hop is not a retry
                continue
            else:
                result.status, result.headers, result.body, result.error = status, resp_headers, body, None
                if status is not None and status >= 400:
                    result.error = f"HTTP {status}"
                break
            if attempt > c.retries:
                result.error = f"{result.error} (after {attempt} attempts)"
                break
            await asyncio.sleep(retry_wait or 0)
        result.final_url = current
        result.elapsed = time.monotonic() - t0
        return result

    def _backoff(self, attempt: int) -> float:
        c = self.config
        base = min(c.backoff_max, c.backoff_base * (2 ** (attempt - 1)))
        return base * (0.75 + random.random() * 0.5)  # jitter so retries do not synchronise

    async def _one(self, url: str, headers: dict[str, str], form: dict[str, str] | None = None
                   ) -> tuple[int | None, dict[str, str], bytes, str | None]:
        """One request: (status, headers, body, error)."""
        c = self.config
        host = self._host(host_key(url))
        async with self._global, host.sem:
            if c.polite:
                await host.wait_turn(c.per_host_delay)
            if self._on_request:
                self._on_request(url)
            try:
                return await self._request(url, headers, form)
            finally:
                if c.polite:  # the next request waits `delay` after this one ends, not after it began
                    host.hold(max(c.per_host_delay, host.delay))

    async def _request(self, url: str, headers: dict[str, str], form: dict[str, str] | None = None
                       ) -> tuple[int | None, dict[str, str], bytes, str | None]:
        c = self.config
        try:
            async with asyncio.timeout(c.total_timeout):
                request = httpx.Request("GET" if form is None else "POST", url, headers={**self._headers, **headers},
                                        data=form, extensions={"timeout": self._timeout})
                if self._cookies.jar:
                    self._cookies.set_cookie_header(request)
                resp = await self._transport_for(url).handle_async_request(request)
                resp.request = request
                try:
                    rh = {k.lower(): v for k, v in resp.headers.items()}
                    if "set-cookie" in rh:
                        self._cookies.extract_cookies(resp)
                    declared = rh.get("content-length")
                    if declared and declared.isdigit() and int(declared) > c.max_body:
                        return resp.status_code, rh, b"", f"oversize: Content-Length {declared} > {c.max_body}"
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in resp.aiter_bytes():  # decoded (gzip/deflate): the cap counts decoded bytes
                        size += len(chunk)
                        if size > c.max_body:
                            raise _TooBig
                        chunks.append(chunk)
                    return resp.status_code, rh, b"".join(chunks), None
                finally:
                    await resp.aclose()
        except _TooBig:
            return None, {}, b"", f"oversize: body > {c.max_body} bytes"
        except (httpx.HTTPError, aiohttp.ClientError) as e:
            why = _aiohttp_error(e)
            if why is None:
                return None, {}, b"", _httpx_error(e)
            if why.startswith("protocol error") and self._lenient_hosts is not None:
                self._lenient_hosts.add(host_key(url))
            return None, {}, b"", why
        except TimeoutError:
            return None, {}, b"", f"timeout: no complete response within {c.total_timeout:g}s"


def _aiohttp_error(e: Exception) -> str | None:
    """Name an aiohttp failure by aiohttp's own exception. httpx-aiohttp re-raises them as httpx errors
    coarsely (a refused or reset connection becomes ConnectTimeout, a short body ReadError) and lets
    some through unmapped (an unparsable response is a bare ClientResponseError)."""
    cause = e if isinstance(e, aiohttp.ClientError) else e.__cause__
    if not isinstance(cause, aiohttp.ClientError):
        return None
    if isinstance(cause, aiohttp.ClientPayloadError):  # body shorter than Content-Length / chunking
        return f"truncated body: {cause}"
    if isinstance(cause, aiohttp.ServerTimeoutError):  # sock_connect / sock_read / pool wait
        return f"timeout: {type(cause).__name__}: {cause}"
    if isinstance(cause, aiohttp.ClientResponseError):  # malformed status line or headers
        return f"protocol error: {cause.message}"
    return f"network error: {type(cause).__name__}: {cause}"


def _httpx_error(e: httpx.HTTPError) -> str:
    """Name an httpx failure (httpx's own transport: the lenient fallback, or an injected one)."""
    if isinstance(e, httpx.TimeoutException):
        return f"timeout: {type(e).__name__}"
    if isinstance(e, httpx.RemoteProtocolError):
        msg = str(e)
        if "incomplete" in msg.lower() or "peer closed" in msg.lower():
            return f"truncated body: {msg}"
        return f"protocol error: {msg}"
    return f"network error: {type(e).__name__}: {e}"


# -- decoding ------------------------------------------------------------------------------------

def decode_html(body: bytes, content_type: str = "") -> tuple[str, str]:
    """(text, charset used): the HTML reader's decoding (BOM, HTTP header, <meta>, declared-but-wrong
    charsets, GB2312/GBK as GB18030), so link parsing and extraction read a page the same way."""
    from extract.readers.html import decode_html as _decode

    text, encoding, _warnings = _decode(body, content_type or None)
    return text, encoding

