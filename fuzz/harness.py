"""One fuzz target in this process (started by fuzz/run.py, one subprocess per target).

    python fuzz/harness.py atheris TARGET STATS.json [libFuzzer flags...] CORPUS_DIR
    python fuzz/harness.py mutate  TARGET STATS.json SECONDS CORPUS_DIR CRASH_DIR

atheris: coverage-guided (libFuzzer) over the project's own modules; a crash stops the process (the runner
restarts it). mutate: the fallback when atheris cannot be imported: random byte mutations of the corpus
(flips, inserts, deletes, splices, truncation, repeats); crashes are saved and the loop goes on.
STATS.json gets {"execs", "outcomes", "seconds"} about once a second.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_PROJECT_MODULES = ("extract.readers.html", "extract.readers.text", "extract.readers.pdf", "extract.readers.docx",
                    "extract.readers", "transform.sections", "transform.tables", "transform.labels",
                    "transform.values", "transform.metadata", "transform.narrative", "transform.checks",
                    "transform.pipeline")


class Stats:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.t0 = time.monotonic()
        self.last = 0.0
        self.execs = 0
        self.outcomes: dict[str, int] = {}

    def add(self, outcome: str) -> None:
        self.execs += 1
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        now = time.monotonic()
        if now - self.last > 1.0:
            self.write()

    def write(self) -> None:
        self.last = time.monotonic()
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"execs": self.execs, "outcomes": self.outcomes,
                                   "seconds": round(self.last - self.t0, 2)}))
        tmp.replace(self.path)


def _import_targets() -> None:
    import importlib

    for m in _PROJECT_MODULES:
        try:
            importlib.import_module(m)
        except ImportError:
            pass


def main_atheris(target: str, stats_path: Path, flags: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["extract", "transform"]):
        _import_targets()
    from fuzz.targets import run_one, signature

    stats = Stats(stats_path)
    # crashes already saved (by this run or as open regressions): counted, not re-reported, so one known
    # bug does not stop the search for others
    known = set(json.loads(os.environ.get("GONGKAI_FUZZ_KNOWN", "[]")))

    def test_one(data: bytes) -> None:
        # hangs: libFuzzer's -timeout (it also catches a parse stuck in C code)
        try:
            outcome = run_one(target, data, guard=False)
        except Exception as e:
            if signature(e) not in known:
                raise
            outcome = "known_crash"
        stats.add(outcome)

    atheris.Setup([sys.argv[0], *flags], test_one)
    atheris.Fuzz()


def _mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4, 8))):
        op = rng.randrange(8)
        n = len(b)
        if op == 0 and n:  # flip bits
            i = rng.randrange(n)
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1:  # insert random bytes
            i = rng.randrange(n + 1)
            b[i:i] = rng.randbytes(rng.randrange(1, 16))
        elif op == 2 and n:  # delete a run
            i = rng.randrange(n)
            del b[i:i + rng.randrange(1, 64)]
        elif op == 3 and n:  # truncate
            del b[rng.randrange(n):]
        elif op == 4 and n:  # repeat a slice (nesting, long rows)
            i = rng.randrange(n)
            piece = bytes(b[i:i + rng.randrange(1, 256)])
            b[i:i] = piece * rng.randrange(2, 64)
        elif op == 5 and pool:  # splice another input
            other = rng.choice(pool)
            if other:
                i, j = rng.randrange(n + 1), rng.randrange(len(other))
                b[i:] = other[j:j + rng.randrange(1, 4096)]
        elif op == 6 and n:  # interesting bytes / numbers
            i = rng.randrange(n)
            b[i:i + 1] = rng.choice((b"\x00", b"\xff", b"<", b">", b'"', b"\n", b"\t", b"|", b"-1",
                                     b"99999999999999999999", b"\xe4\xb8\x80", b"\x81\x30\x81\x30"))
        elif op == 7 and n:  # overwrite with a random byte
            b[rng.randrange(n)] = rng.randrange(256)
    return bytes(b)


def main_mutate(target: str, stats_path: Path, seconds: float, corpus: Path, crashes: Path) -> None:
    from fuzz.targets import FUZZ_LIMITS, HANG_FACTOR, Hang, run_one, signature

    _import_targets()
    pool = [p.read_bytes() for p in sorted(corpus.iterdir()) if p.is_file()] or [b""]
    rng = random.Random(int(time.time()))
    stats = Stats(stats_path)
    seen: set[str] = set()
    known = set(json.loads(os.environ.get("GONGKAI_FUZZ_KNOWN", "[]")))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        data = _mutate(rng, rng.choice(pool), pool)
        try:
            outcome = run_one(target, data, FUZZ_LIMITS, guard=True)
        except Exception as e:  # noqa: BLE001 - every other exception is a finding
            outcome = "hang" if isinstance(e, Hang) else "crash"
            sig = signature(e)
            if sig in known:
                outcome = "known_crash"
            elif sig not in seen:
                seen.add(sig)
                crashes.mkdir(parents=True, exist_ok=True)
                name = ("timeout-" if isinstance(e, Hang) else "crash-") + hashlib.sha1(data).hexdigest()
                (crashes / name).write_bytes(data)
                tb = "".join(traceback.format_exception(e))
                (crashes / (name + ".txt")).write_text(f"{sig}\nlimit {FUZZ_LIMITS.max_seconds * HANG_FACTOR}s\n\n{tb}")
                print(f"== crash {sig} -> {name}", file=sys.stderr, flush=True)
        stats.add(outcome)
    stats.write()


def main(argv: list[str]) -> None:
    engine, target, stats = argv[0], argv[1], Path(argv[2])
    if engine == "atheris":
        main_atheris(target, stats, argv[3:])
    elif engine == "mutate":
        main_mutate(target, stats, float(argv[3]), Path(argv[4]), Path(argv[5]))
    else:
        raise SystemExit(f"unknown engine {engine!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
