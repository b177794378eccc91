"""How fast is `incidentops decay` on a large registry, against the two ways of asking git directly?

    python benchmarks/bench_decay.py                  # 10,000 tests, 50,000 commits
    python benchmarks/bench_decay.py --quick          # 1,000 tests, 5,000 commits
    python benchmarks/bench_decay.py --repo /tmp/big  # reuse (or create) a repository

Measured in one run, on the repository of ``gen_git_history.py``:

1. ``incidentops decay --format json``, the whole command as a user runs it
   (process start, one ``git log`` pass, every test and incident record read,
   the assessment, the JSON report);
2. the raw ``git log -M --name-status`` over the same paths (the exact command
   decay runs, output read and thrown away), and the plain one without
   ``--first-parent`` for reference;
3. the per-file approach, ``git log --follow --diff-filter=A`` for a sample of
   the tests, extrapolated to every test.

Targets: decay <= 1.5x the raw git log; >= 30x faster than per-file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_git_history import add_benchmark_arguments, benchmark_repository

from incidentops.lifecycle.decay import HISTORY_PATHS
from incidentops.lifecycle.history import log_argv

REPO = Path(__file__).resolve().parents[1]
MAX_RAW_RATIO = 1.5
MIN_SPEEDUP = 30.0
AS_OF = "2025-01-01"


def timed(actions: list[Callable[[], object]], repeat: int) -> list[tuple[float, float]]:
    """(best, median) wall time in seconds of each action over ``repeat`` rounds.

    The actions take turns within each round, so a busy machine slows them alike.
    """
    runs: list[list[float]] = [[] for _ in actions]
    for _ in range(repeat):
        for action, times in zip(actions, runs, strict=True):
            start = time.perf_counter()
            action()
            times.append(time.perf_counter() - start)
    return [(min(times), statistics.median(times)) for times in runs]


def run(argv: list[str], cwd: Path) -> bytes:
    env = {**os.environ, "LC_ALL": "C"}
    return subprocess.run(argv, cwd=cwd, capture_output=True, check=True, env=env).stdout


def make_registry(repo: Path) -> None:
    """The generated history holds records only: add the policy and model lineage files (untracked)."""
    if not (repo / "incidentops.yaml").exists():
        shutil.copyfile(REPO / "tools/incidentops/scaffold/incidentops.yaml", repo / "incidentops.yaml")
    if not (repo / "models.yaml").exists():
        shutil.copyfile(REPO / "models.yaml", repo / "models.yaml")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_benchmark_arguments(parser, repeat=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="incidentops-bench-") as scratch:
        repo, _, _ = benchmark_repository(args, Path(scratch))
        make_registry(repo)
        return bench(repo, args.sample, args.repeat, args.seed)


def bench(repo: Path, sample_size: int, repeat: int, seed: int) -> int:
    decay_cmd = [sys.executable, "-m", "incidentops", "decay", "--format", "json", "--as-of", AS_OF,
                 "--state", "ACTIVE", "--state", "MONITORING", "--state", "DEPRECATED", "--state", "RETIRED"]
    same_cmd = log_argv(HISTORY_PATHS, "HEAD")
    plain_cmd = ["git", "log", "-M", "--name-status", "-z", "--format=%x01%H %ct", "HEAD", "--", *HISTORY_PATHS]
    run(same_cmd, repo)  # warm the page cache for everyone alike

    report = json.loads(run(decay_cmd, repo))
    (decay_best, decay_median), (raw_best, raw_median), (plain_best, plain_median) = timed(
        [lambda: run(decay_cmd, repo), lambda: run(same_cmd, repo), lambda: run(plain_cmd, repo)], repeat
    )

    rows = report["tests"]
    paths = [row["path"] for row in rows]
    sample = random.Random(seed).sample(rows, min(sample_size, len(rows)))
    per_file: list[float] = []
    for row in sample:
        start = time.perf_counter()
        run(["git", "log", "--follow", "--diff-filter=A", "--format=%ct", "--", row["path"]], repo)
        per_file.append(time.perf_counter() - start)
    per_file_mean = statistics.fmean(per_file)
    per_file_total = per_file_mean * len(paths)

    raw_ratio = decay_best / raw_best
    speedup = per_file_total / decay_best
    counts = report["counts"]
    print()
    print(f"repository: {repo}")
    print(f"decay as of {AS_OF}: {len(rows):,} tests (every state), recommendations {counts}")
    print(f"{'measure':<60} {'best':>9} {'median':>9}")
    print(f"{'incidentops decay --format json (whole command)':<60} {decay_best:>8.3f}s {decay_median:>8.3f}s")
    print(f"{'raw git log -M --name-status, same command as decay':<60} {raw_best:>8.3f}s {raw_median:>8.3f}s")
    print(f"{'raw git log -M --name-status -z (no --first-parent)':<60} {plain_best:>8.3f}s {plain_median:>8.3f}s")
    print(f"{'per-file git log --follow --diff-filter=A, mean of ' + str(len(sample)):<60} {per_file_mean:>8.3f}s")
    print(f"{'  extrapolated to all ' + format(len(paths), ',') + ' tests':<60} {per_file_total:>8.1f}s")
    print()
    print(f"decay / raw git log (same command): {raw_ratio:.2f}x"
          f"  (target <= {MAX_RAW_RATIO}x: {'PASS' if raw_ratio <= MAX_RAW_RATIO else 'FAIL'})")
    print(f"decay / raw git log (no --first-parent): {decay_best / plain_best:.2f}x")
    print(f"per-file extrapolated / decay: {speedup:,.0f}x faster"
          f"  (target >= {MIN_SPEEDUP:.0f}x: {'PASS' if speedup >= MIN_SPEEDUP else 'FAIL'})")
    return 0 if raw_ratio <= MAX_RAW_RATIO and speedup >= MIN_SPEEDUP else 1


if __name__ == "__main__":
    sys.exit(main())
