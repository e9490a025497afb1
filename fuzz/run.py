"""Bounded fuzzing of the readers and the table mapper; results in fuzz/out/results.json.

    .venv/bin/python fuzz/run.py --seconds 60                # every target, 60 s each
    .venv/bin/python fuzz/run.py --seconds 120 --target pdf  # one target (repeatable)
    .venv/bin/python fuzz/run.py --total 30                  # a 30 s budget split over the targets (CI smoke)

Each target runs in its own subprocess (fuzz/harness.py) under atheris (coverage-guided libFuzzer) or,
when atheris cannot be imported, a random-mutation loop (engine "mutate", not coverage-guided). The corpus
starts from fuzz/corpus.py (test fixtures + generated reports) in OUT/corpus/<target>/ and grows across
runs. A crash (an exception other than ReaderError/LimitExceeded from a reader or extract_bytes, any
exception from the mapper), a hang (libFuzzer -timeout, or the child stops answering) or an out-of-memory
is saved as OUT/<target>/crash-*|timeout-*|oom-* with its traceback; libFuzzer stops at a crash, so the
runner restarts the target until its time is used (at most --max-restarts times).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fuzz.targets import FUZZ_LIMITS, HANG_FACTOR, TARGETS, available, signature_from_text  # noqa: E402

HARNESS = Path(__file__).resolve().parent / "harness.py"
DEFAULT_OUT = Path(__file__).resolve().parent / "out"
RSS_LIMIT_MB = 2048


@dataclass
class Finding:
    kind: str  # crash | timeout | oom
    signature: str
    input: str  # path of the saved input
    detail: str = ""  # the traceback's tail


@dataclass
class TargetResult:
    target: str
    engine: str
    available: bool = True
    seconds: float = 0.0
    execs: int = 0
    runs: int = 0  # subprocesses started (a libFuzzer crash ends one)
    corpus: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    note: str = ""


KNOWN = ROOT / "tests" / "regressions" / "known.json"


def known_signatures() -> set[str]:
    """Signatures of open (xfail) regressions: tests/regressions/known.json {signature: reproducer}."""
    if not KNOWN.exists():
        return set()
    return set(json.loads(KNOWN.read_text(encoding="utf-8")))


def engine_available() -> str:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return "mutate"
    return "atheris"


def _artifact_kind(name: str) -> str:
    return name.split("-", 1)[0] if name.split("-", 1)[0] in ("crash", "timeout", "oom", "leak") else "crash"


def _tail(text: str, n: int = 25) -> str:
    lines = [ln for ln in text.splitlines() if not ln.startswith(("#", "INFO:", "MS:", "base unit:", "0x"))]
    return "\n".join(lines[-n:])


def _traceback_of(text: str) -> str:
    i = text.find("=== Uncaught Python exception: ===")
    if i < 0:
        i = text.find("Traceback (most recent call last)")
    return text[i:] if i >= 0 else text


def _run_atheris(target: str, seconds: float, out: Path, corpus: Path, res: TargetResult,
                 max_restarts: int) -> None:
    art = out / target
    art.mkdir(parents=True, exist_ok=True)
    stats = art / "stats.json"
    deadline = time.monotonic() + seconds
    seen = {f.signature for f in res.findings}
    per_doc = max(1, int(FUZZ_LIMITS.max_seconds * HANG_FACTOR))
    while res.runs <= max_restarts:
        left = deadline - time.monotonic()
        if left < 2:
            break
        before = {p.name for p in art.iterdir()}
        cmd = [sys.executable, str(HARNESS), "atheris", target, str(stats), f"-max_total_time={int(left)}",
               f"-timeout={per_doc}", f"-rss_limit_mb={RSS_LIMIT_MB}", f"-artifact_prefix={art}/",
               "-print_final_stats=1", str(corpus)]
        res.runs += 1
        rc: int | None = None
        env = {**os.environ, "GONGKAI_FUZZ_KNOWN": json.dumps(sorted(seen | known_signatures()))}
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=left + per_doc + 60,
                               cwd=ROOT, env=env)
            text, rc = p.stderr + p.stdout, p.returncode
        except subprocess.TimeoutExpired as e:
            text = (e.stderr or b"").decode("utf-8", "replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
            res.findings.append(Finding("timeout", "harness unresponsive (stuck in C code?)", "", _tail(text)))
        execs = max([int(m) for m in re.findall(r"stat::number_of_executed_units: (\d+)", text)]
                    + [int(m) for m in re.findall(r"^#(\d+)\s", text, re.M)] + [0])
        if stats.exists():
            st = json.loads(stats.read_text())
            for k, v in st["outcomes"].items():
                res.outcomes[k] = res.outcomes.get(k, 0) + v
            execs = max(execs, st["execs"])
            stats.unlink()
        res.execs += execs
        new = sorted(p for p in art.iterdir() if p.name not in before and not p.name.endswith((".txt", ".json")))
        for a in new:
            kind = _artifact_kind(a.name)
            tb = _traceback_of(text)
            sig = signature_from_text(tb) if kind == "crash" else kind
            if kind == "timeout":
                sig = f"timeout > {per_doc}s"
            elif kind == "oom":
                sig = f"out of memory > {RSS_LIMIT_MB} MB"
            (art / (a.name + ".txt")).write_text(f"{sig}\n\n{_tail(tb, 60)}\n")
            if sig in seen:
                a.unlink()  # a duplicate of a finding already kept
                continue
            seen.add(sig)
            res.findings.append(Finding(kind, sig, str(a.relative_to(ROOT) if a.is_relative_to(ROOT) else a),
                                        _tail(tb, 12)))
        if not new and rc not in (0, None):  # died without an artifact: report, do not loop
            res.note = f"harness exit {rc}: {_tail(text, 5)}"
            break
        if rc == 0 or rc is None:
            break


def _run_mutate(target: str, seconds: float, out: Path, corpus: Path, res: TargetResult) -> None:
    art = out / target
    art.mkdir(parents=True, exist_ok=True)
    stats = art / "stats.json"
    before = {p.name for p in art.iterdir()}
    cmd = [sys.executable, str(HARNESS), "mutate", target, str(stats), str(seconds), str(corpus), str(art)]
    res.runs += 1
    env = {**os.environ, "GONGKAI_FUZZ_KNOWN": json.dumps(sorted(known_signatures()))}
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=seconds + 120, cwd=ROOT,
                           env=env)
        if p.returncode != 0:
            res.note = f"harness exit {p.returncode}: {_tail(p.stderr, 5)}"
    except subprocess.TimeoutExpired:
        res.findings.append(Finding("timeout", "harness unresponsive (stuck in C code?)", ""))
    if stats.exists():
        st = json.loads(stats.read_text())
        res.execs += st["execs"]
        for k, v in st["outcomes"].items():
            res.outcomes[k] = res.outcomes.get(k, 0) + v
        stats.unlink()
    for a in sorted(art.iterdir()):
        if a.name in before or a.name.endswith((".txt", ".json")):
            continue
        info = (art / (a.name + ".txt")).read_text() if (art / (a.name + ".txt")).exists() else ""
        res.findings.append(Finding(_artifact_kind(a.name), info.split("\n", 1)[0], str(a), _tail(info, 12)))


def fuzz_target(target: str, seconds: float, out: Path, engine: str, max_restarts: int = 20) -> TargetResult:
    from fuzz.corpus import write_corpus

    res = TargetResult(target, engine)
    if not available(target):
        res.available, res.note = False, "target not importable yet (module missing)"
        return res
    corpus = out / "corpus" / target
    write_corpus(target, corpus)
    t0 = time.monotonic()
    if engine == "atheris":
        _run_atheris(target, seconds, out, corpus, res, max_restarts)
    else:
        _run_mutate(target, seconds, out, corpus, res)
    res.seconds = round(time.monotonic() - t0, 1)
    res.corpus = sum(1 for _ in corpus.iterdir())
    return res


def run(targets: list[str], seconds: float, out: Path, *, engine: str | None = None, jobs: int = 2,
        max_restarts: int = 20) -> dict:
    engine = engine or engine_available()
    out.mkdir(parents=True, exist_ok=True)
    from fuzz.corpus import seeds

    for t in targets:  # render the generated seeds once, here, not in every child
        if available(t):
            seeds(t)
    t0 = time.monotonic()
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        results = list(pool.map(lambda t: fuzz_target(t, seconds, out, engine, max_restarts), targets))
    doc = {"engine": engine, "seconds_per_target": seconds, "wall_seconds": round(time.monotonic() - t0, 1),
           "limits": asdict_limits(), "targets": {r.target: asdict(r) for r in results}}
    (out / "results.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    return doc


def asdict_limits() -> dict:
    return {k: getattr(FUZZ_LIMITS, k) for k in FUZZ_LIMITS.__dataclass_fields__}


def summary(doc: dict) -> str:
    lines = [f"engine {doc['engine']}, {doc['seconds_per_target']:g} s per target, wall {doc['wall_seconds']} s"]
    for t, r in doc["targets"].items():
        if not r["available"]:
            lines.append(f"  {t:9s} skipped: {r['note']}")
            continue
        oc = ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items()))
        lines.append(f"  {t:9s} {r['execs']:>8} execs in {r['seconds']:>6} s ({oc}); corpus {r['corpus']}; "
                     f"findings {len(r['findings'])}" + (f"; note: {r['note']}" if r["note"] else ""))
        for f in r["findings"]:
            lines.append(f"      {f['kind']}: {f['signature']}  {f['input']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="fuzzing time per target (default 60)")
    ap.add_argument("--total", type=float, default=None, help="total budget, split evenly over the targets")
    ap.add_argument("--target", action="append", choices=TARGETS, help="target(s) (default: all)")
    ap.add_argument("--engine", choices=("atheris", "mutate"), default=None, help="default: atheris if importable")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="targets fuzzed in parallel")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output dir (default fuzz/out)")
    ap.add_argument("--max-restarts", type=int, default=20)
    a = ap.parse_args(argv)
    targets = a.target or list(TARGETS)
    seconds = a.seconds
    if a.total is not None:
        rounds = -(-len(targets) // max(1, a.jobs))
        seconds = max(2.0, a.total / rounds - 2.5)  # ~2.5 s of start-up per child
    doc = run(targets, seconds, a.out, engine=a.engine, jobs=a.jobs, max_restarts=a.max_restarts)
    print(summary(doc))
    print(f"results: {a.out / 'results.json'}")
    return 1 if any(r["findings"] for r in doc["targets"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
