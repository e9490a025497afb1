"""Content-addressed raw archive: `DATA_DIR/raw/ab/cd/<sha256>`, and the `documents` manifest row.

File names come only from the sha256 of the bytes (never from URLs or headers), so nothing a server
sends can choose a path, and the same bytes are stored once. Writes go to a temp file
(`.<sha prefix>.<random>.tmp`) in the object's own directory and are renamed into place, so a killed
crawl never leaves a partial object. (One shared temp directory made every file creation cost ~0.4 ms
of kernel time on this project's ext4 machine, against ~8 us in the sharded directories.)

Durability: `put` fsyncs each object. The crawler instead `write`s objects unsynced and calls `sync` on a
batch before committing the rows that name them: on Linux one syncfs(2) commits the whole batch (data
and renames) in one journal flush, where an fsync per object cost ~1 ms of CPU each under a fast crawl.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _load_syncfs() -> Callable[[int], int] | None:
    """glibc's syncfs(2), or None off Linux (there `sync` fsyncs object by object)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
    return fn


_syncfs = _load_syncfs()


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class RawArchive:
    def __init__(self, data_dir: Path | str) -> None:
        self.root = (Path(data_dir) / "raw").resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._dirs: set[Path] = set()

    def path_for(self, sha256: str) -> Path:
        if not _SHA_RE.match(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        p = self.root / sha256[:2] / sha256[2:4] / sha256
        if p.parent.parent.parent != self.root:  # belt and braces: never outside data_dir/raw
            raise ValueError("archive path escapes the archive root")
        return p

    def put(self, data: bytes, sha256: str | None = None) -> tuple[str, bool]:
        """Store bytes; return (sha256, newly_written). The bytes are on disk when this returns, also when
        an older run had left the file unsynced. `sha256`: the caller's digest of `data`, not recomputed."""
        sha = sha256 or sha256_bytes(data)
        if not self._write(data, sha, fsync=True):
            self.fsync(sha)  # an older run may have left it unsynced; a clean file costs nothing
            return sha, False
        return sha, True

    def write(self, data: bytes, sha256: str) -> tuple[str, bool]:
        """Store bytes (`sha256`: the caller's digest of them) without waiting for the disk; return
        (sha256, newly_written). Durable only once `sync` has been called with this digest."""
        return sha256, self._write(data, sha256, fsync=False)

    def sync(self, shas: Iterable[str]) -> None:
        """Make the named objects durable, renames included (whether this process wrote them or an
        earlier, killed run did). Raises OSError if the disk reports a write error."""
        shas = list(shas)
        if not shas:
            return
        if _syncfs is not None:
            fd = os.open(self.root, os.O_RDONLY)
            try:
                if _syncfs(fd) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"syncfs({self.root}): {os.strerror(err)}")
            finally:
                os.close(fd)
            return
        dirs: set[Path] = set()
        for sha in dict.fromkeys(shas):
            self.fsync(sha)
            dirs.add(self.path_for(sha).parent)
        for d in dirs:  # the renames: the directory entries that name the objects
            _fsync_path(d)

    def _write(self, data: bytes, sha: str, *, fsync: bool) -> bool:
        dest = self.path_for(sha)
        if dest.exists():
            return False
        self._mkdirs(dest.parent)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{sha[:16]}.", suffix=".tmp")
        try:
            try:  # plain fd writes: no buffered file object (its fstat/ioctl/lseek) per object
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                if fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    def _mkdirs(self, leaf: Path) -> None:
        """`ab/` and `ab/cd/`, each created at most once per process (a syscall per object otherwise)."""
        if leaf in self._dirs:
            return
        for d in (leaf.parent, leaf):
            if d not in self._dirs:
                try:
                    os.mkdir(d)
                except FileExistsError:
                    pass
                self._dirs.add(d)

    def fsync(self, sha256: str) -> None:
        _fsync_path(self.path_for(sha256))

    def get(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()


@dataclass(frozen=True)
class ManifestRow:
    url: str
    sha256: str
    portal_id: str | None
    kind: str  # list | article | attachment | robots
    content_type: str | None
    http_status: int | None
    size: int
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    final_url: str | None = None
    parent_url: str | None = None
    title: str | None = None
    year: int | None = None
    run_id: str | None = None
    method: str = "GET"  # POST: a list page of a site that answers only POST
