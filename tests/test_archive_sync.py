"""RawArchive.write + sync: the crawler's batched durability (one syncfs per batch, or fsync per object)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import extract.archive as archive_mod
from extract.archive import RawArchive, sha256_bytes


def _fd_paths(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the path behind every fd passed to os.fsync."""
    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)
    monkeypatch.setattr(archive_mod.os, "fsync", fsync)
    return synced


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name fsynced files")
def test_write_does_not_fsync_and_sync_without_syncfs_fsyncs_objects_and_their_directories(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = RawArchive(tmp_path)
    synced = _fd_paths(monkeypatch)
    blobs = [b"alpha", b"beta", b"alpha"]
    written = [a.write(b, sha256_bytes(b)) for b in blobs]
    assert [new for _, new in written] == [True, True, False]  # the same bytes are stored once
    assert synced == []  # nothing waits for the disk until the batch syncs
    assert all(a.get(sha) == b for (sha, _), b in zip(written, blobs, strict=True))
    left = sorted(str(f.relative_to(a.root)) for f in a.root.rglob("*") if f.is_file())
    assert left == sorted({f"{sha[:2]}/{sha[2:4]}/{sha}" for sha, _ in written})  # renamed: no temp files left

    monkeypatch.setattr(archive_mod, "_syncfs", None)  # the portable path
    a.sync([sha for sha, _ in written])
    want_files = {str(a.path_for(sha)) for sha, _ in written}
    want_dirs = {str(a.path_for(sha).parent) for sha, _ in written}
    assert set(synced) == want_files | want_dirs and len(synced) == len(want_files | want_dirs)


def test_sync_with_syncfs_is_one_call_per_batch_on_the_archive_filesystem(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = RawArchive(tmp_path)
    calls: list[str] = []

    def syncfs(fd: int) -> int:
        calls.append(os.readlink(f"/proc/self/fd/{fd}") if Path("/proc/self/fd").is_dir() else str(fd))
        return 0
    monkeypatch.setattr(archive_mod, "_syncfs", syncfs)
    shas = [a.write(b, sha256_bytes(b))[0] for b in (b"x", b"y", b"z")]
    a.sync([])  # an empty batch costs nothing
    assert calls == []
    a.sync(shas)
    assert len(calls) == 1
    if Path("/proc/self/fd").is_dir():
        assert calls == [str(a.root)]


def test_sync_reports_a_disk_error_naming_the_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = RawArchive(tmp_path)
    sha = a.write(b"x", sha256_bytes(b"x"))[0]
    monkeypatch.setattr(archive_mod, "_syncfs", lambda fd: -1)
    monkeypatch.setattr(archive_mod.ctypes, "get_errno", lambda: 5)  # EIO
    with pytest.raises(OSError, match="syncfs") as e:
        a.sync([sha])
    assert str(a.root) in str(e.value) and e.value.errno == 5


@pytest.mark.skipif(archive_mod._syncfs is None, reason="syncfs(2) is Linux-only")
def test_real_syncfs_succeeds(tmp_path: Path) -> None:
    a = RawArchive(tmp_path)
    sha = a.write(b"durable", sha256_bytes(b"durable"))[0]
    a.sync([sha])  # raises OSError on failure
    assert a.get(sha) == b"durable"
