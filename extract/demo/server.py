"""The demo HTTP server: every demo site on its own 127.0.0.1 origin (ephemeral port), threaded.

    with DemoServer() as srv:            # builds the default demo world
        srv.hosts                        # {'trs': '127.0.0.1:40123', ...}
        srv.url('trs', '/zwgk/zfxxgknb/')

Supports ETag/Last-Modified/304, per-path faults (see site.Fault), POST-only paths (`Site.post_only`),
a request log (for tests and the benchmark's rate proof) and `republish()`. Binds to 127.0.0.1 only.
"""

from __future__ import annotations

import email.utils
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from extract.demo.site import DemoWorld, Fault, Site, build_demo


@dataclass(frozen=True)
class RequestRecord:
    site: str
    path: str
    status: int
    start: float  # time.monotonic() when the request line arrived
    end: float
    sent: int  # body bytes written
    conditional: bool
    user_agent: str
    method: str = "GET"
    form: str = ""  # a POST's form body


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    site: Site
    owner: DemoServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like real servers
    # headers and body go out in separate writes; with Nagle on, each keep-alive response then
    # waits for the client's delayed ACK (~40 ms), which would make every fetch look slow
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr logging
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def _handle(self, method: str) -> None:
        start = time.monotonic()
        status, sent = 500, 0
        cond = bool(self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since"))
        form = ""
        try:
            if method == "POST":
                n = int(self.headers.get("Content-Length") or 0)
                form = self.rfile.read(min(n, 1 << 16)).decode("latin-1")
            status, sent = self._serve(method, form)
        except (BrokenPipeError, ConnectionResetError):
            status = 599
        finally:
            self.server.owner._log(RequestRecord(self.server.site.name, self.path, status, start, time.monotonic(),
                                                 sent, cond, self.headers.get("User-Agent", ""), method, form))

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              ctype: str = "text/html; charset=utf-8") -> tuple[int, int]:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        return status, len(body)

    def _serve(self, method: str = "GET", form: str = "") -> tuple[int, int]:
        site = self.server.site
        path = self.path
        base = path.split("?", 1)[0]
        fault = site.faults.get(path) or site.faults.get(base)
        if fault is not None and fault.fire():
            return self._fault(fault, path)
        if (method == "POST") != (base in site.post_only):
            return self._send(405, b"<html><body><h1>405 Method Not Allowed</h1></body></html>",
                              {"Allow": "POST" if base in site.post_only else "GET"})
        if method == "POST":  # a servlet reads query and form fields alike
            path = f"{base}?{urlencode(parse_qsl(urlsplit(path).query) + parse_qsl(form))}"
        res = site.get(path)
        if res is None:
            return self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>")
        body = res.data()
        etag, lm = res.etag, res.last_modified
        headers = {"ETag": etag, "Last-Modified": lm, **res.headers}
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if inm is not None:
            if etag in [t.strip() for t in inm.split(",")]:
                return self._send(304, b"", {"ETag": etag, "Last-Modified": lm}, res.content_type)
        elif ims:
            try:
                if email.utils.parsedate_to_datetime(ims) >= res.modified.replace(microsecond=0):
                    return self._send(304, b"", {"ETag": etag, "Last-Modified": lm}, res.content_type)
            except (TypeError, ValueError):
                pass
        return self._send(200, body, headers, res.content_type)

    def _fault(self, f: Fault, path: str) -> tuple[int, int]:
        if f.kind == "status":
            return self._send(f.status, f"<html><body>HTTP {f.status}</body></html>".encode())
        if f.kind == "retry_after":
            return self._send(f.status, b"slow down", {"Retry-After": str(f.retry_after)})
        if f.kind == "slow":
            time.sleep(f.delay)
            return self._serve_plain(path)
        if f.kind == "drip":
            res = self.server.site.get(path)
            body = res.data() if res else b"x" * 1000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(0, len(body), max(1, len(body) // 20)):
                self.wfile.write(body[i:i + max(1, len(body) // 20)])
                self.wfile.flush()
                time.sleep(f.delay)
            return 200, len(body)
        if f.kind == "truncate":
            res = self.server.site.get(path)
            body = res.data() if res else b"x" * 4000
            self.send_response(200)
            self.send_header("Content-Type", res.content_type if res else "application/pdf")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return 200, len(body) // 2
        if f.kind == "redirect":
            return self._send(302, b"", {"Location": f.location})
        if f.kind == "redirect_loop":
            base = path.split("?", 1)[0]
            target = base + "?loop=1" if "loop=1" not in path else base
            return self._send(302, b"", {"Location": target})
        if f.kind == "redirect_chain":
            n = int(path.rsplit("hop=", 1)[1]) + 1 if "hop=" in path else 1
            base = path.split("?", 1)[0]
            self.server.site.faults[f"{base}?hop={n}"] = f
            return self._send(302, b"", {"Location": f"{base}?hop={n}"})
        if f.kind in ("oversize", "oversize_nolen"):
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            if f.kind == "oversize":
                self.send_header("Content-Length", str(f.size))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            chunk = b"%PDF" + b"0" * 65532
            sent = 0
            try:
                while sent < f.size:
                    n = min(len(chunk), f.size - sent)
                    self.wfile.write(chunk[:n])
                    sent += n
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
            return 200, sent
        if f.kind == "wrong_charset":
            res = self.server.site.get(path)
            body = res.data() if res else b""
            return self._send(200, body, {}, "text/html; charset=utf-8")
        raise ValueError(f"unknown fault kind {f.kind!r}")

    def _serve_plain(self, path: str) -> tuple[int, int]:
        res = self.server.site.get(path)
        if res is None:
            return self._send(404, b"not found")
        return self._send(200, res.data(), {"ETag": res.etag, "Last-Modified": res.last_modified},
                          res.content_type)


class DemoServer:
    """Serve a DemoWorld (default: `build_demo()`) or a dict of Sites; a context manager."""

    def __init__(self, world: DemoWorld | dict[str, Site] | None = None, *, faults: bool = True) -> None:
        if world is None:
            world = build_demo(faults=faults)
        self.world = world if isinstance(world, DemoWorld) else None
        self.sites: dict[str, Site] = world.sites if isinstance(world, DemoWorld) else dict(world)
        self._servers: dict[str, _Server] = {}
        self._threads: list[threading.Thread] = []
        self.log: list[RequestRecord] = []
        self._log_lock = threading.Lock()

    def _log(self, rec: RequestRecord) -> None:
        with self._log_lock:
            self.log.append(rec)

    def start(self) -> DemoServer:
        for name, site in self.sites.items():
            srv = _Server(("127.0.0.1", 0), _Handler)
            srv.site, srv.owner = site, self
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1},
                                 name=f"demo-{name}", daemon=True)
            t.start()
            self._servers[name] = srv
            self._threads.append(t)
        return self

    def stop(self) -> None:
        for srv in self._servers.values():
            srv.shutdown()
            srv.server_close()
        self._servers.clear()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def hosts(self) -> dict[str, str]:
        """site name -> '127.0.0.1:port', the substitution for `{demo:NAME}` placeholders."""
        return {name: f"127.0.0.1:{srv.server_address[1]}" for name, srv in self._servers.items()}

    def url(self, site: str, path: str = "/") -> str:
        return f"http://{self.hosts[site]}{path}"

    def republish(self, site: str, path: str, body: bytes | None = None) -> None:
        self.sites[site].republish(path, body)

    def requests(self, site: str | None = None) -> list[RequestRecord]:
        with self._log_lock:
            return [r for r in self.log if site is None or r.site == site]


def main() -> None:
    """`python -m extract.demo.server`: serve the demo portals until Ctrl-C."""
    with DemoServer() as srv:
        for name, host in srv.hosts.items():
            print(f"{name:8s} http://{host}/")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
