"""How fast is ``load_history`` on a large registry, against the two baselines?

    python benchmarks/bench_history.py                  # 10,000 tests, 50,000 commits
    python benchmarks/bench_history.py --quick          # 1,000 tests, 5,000 commits
    python benchmarks/bench_history.py --repo /tmp/big  # reuse (or create) a repository

Measured in one run, on the same repository:

1. ``load_history`` (one ``git log`` pass + parsing into per-file history);
2. the same ``git log`` command alone, output read and thrown away (the floor:
   what parsing adds), and the plain ``git log -M --name-status -z`` without
   ``--first-parent`` for reference;
3. the per-file approach: ``git log --follow --diff-filter=A`` for a sample of
   files, extrapolated to every file.

Targets: load_history <= 1.5x the raw git log; >= 30x faster than per-file.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_git_history import add_benchmark_arguments, benchmark_repository, expected_history

from incidentops.lifecycle.history import REGISTRY_PATHS, RegistryHistory, load_history, log_argv

MAX_RAW_RATIO = 1.5
MIN_SPEEDUP = 30.0


def timed(actions: list[Callable[[], object]], repeat: int) -> list[tuple[float, float]]:
    """(best, median) wall time in seconds of each action over ``repeat`` rounds.

    Rounds interleave the actions so that a change in machine load hits all of them alike.
    """
    runs: list[list[float]] = [[] for _ in actions]
    for _ in range(repeat):
        for action, times in zip(actions, runs, strict=True):
            start = time.perf_counter()
            action()
            times.append(time.perf_counter() - start)
    return [(min(times), statistics.median(times)) for times in runs]


def run_git(repo: Path, argv: list[str]) -> bytes:
    return subprocess.run(argv, cwd=repo, capture_output=True, check=True).stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_benchmark_arguments(parser, repeat=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="incidentops-bench-") as scratch:
        repo, tests, commits = benchmark_repository(args, Path(scratch))
        truth = expected_history(tests, commits, args.seed)
        return bench(repo, truth, args.sample, args.repeat, args.seed)


def check_against_truth(
    history: RegistryHistory, truth: dict[str, tuple[int, int, int, tuple[str, ...]]]
) -> list[str]:
    """Every file's dates, count and rename chain against what the generator wrote."""
    problems = [f"missing: {path}" for path in truth if path not in history]
    problems += [f"unexpected: {path}" for path in history if path not in truth]
    for path, (added, last, count, chain) in truth.items():
        entry = history.get(path)
        if entry is None:
            continue
        got = (
            int(entry.added_at.timestamp()),
            int(entry.last_changed_at.timestamp()),
            entry.change_count,
            entry.rename_chain,
        )
        if got != (added, last, count, chain):
            problems.append(f"{path}: expected {(added, last, count, chain)}, got {got}")
    return problems


def bench(
    repo: Path,
    truth: dict[str, tuple[int, int, int, tuple[str, ...]]],
    sample_size: int,
    repeat: int,
    seed: int,
) -> int:
    same_command = log_argv(REGISTRY_PATHS, "HEAD")
    plain_command = [
        "git", "log", "-M", "--name-status", "-z", "--format=%x01%H %ct", "HEAD", "--",
        *REGISTRY_PATHS,
    ]  # fmt: skip
    run_git(repo, same_command)  # warm the page cache for everyone alike

    history = load_history(repo)
    problems = check_against_truth(history, truth)
    (load_best, load_median), (raw_best, raw_median), (plain_best, plain_median) = timed(
        [
            lambda: load_history(repo),
            lambda: run_git(repo, same_command),
            lambda: run_git(repo, plain_command),
        ],
        repeat,
    )

    files = sorted(history)
    sample = random.Random(seed).sample(files, min(sample_size, len(files)))
    per_file: list[float] = []
    agree = jumped = branch = other = 0
    for path in sample:
        start = time.perf_counter()
        out = run_git(
            repo,
            ["git", "log", "--follow", "--diff-filter=A", "--format=%ct", "--name-only", "-z", "--", path],
        )
        per_file.append(time.perf_counter() - start)
        # "<ts>\0\n<path>\0" per commit; the oldest creation is the last one.
        fields = [f.strip() for f in out.split(b"\0") if f.strip()]
        if len(fields) < 2:
            other += 1
            continue
        stamp, found = fields[-2], fields[-1]
        born = datetime.fromtimestamp(int(stamp), UTC)
        entry = history.get(path)
        assert entry is not None
        if born == entry.added_at:
            agree += 1
        elif found.decode() not in entry.rename_chain:
            jumped += 1
        elif born < entry.added_at:
            branch += 1
        else:
            other += 1
    per_file_mean = statistics.fmean(per_file)
    per_file_total = per_file_mean * len(files)

    raw_ratio = load_best / raw_best
    speedup = per_file_total / load_best
    print()
    print(f"repository: {repo}")
    print(
        f"registry: {len(files):,} files with history, {history.commits_parsed:,} first-parent"
        " commits touching the registry"
    )
    print(f"{'measure':<58} {'best':>9} {'median':>9}")
    print(f"{'load_history (one git log pass + parse)':<58} {load_best:>8.3f}s {load_median:>8.3f}s")
    print(f"{'raw git log, same command as load_history':<58} {raw_best:>8.3f}s {raw_median:>8.3f}s")
    print(f"{'raw git log -M --name-status -z (no --first-parent)':<58} {plain_best:>8.3f}s {plain_median:>8.3f}s")
    print(
        f"{'per-file git log --follow --diff-filter=A, mean of ' + str(len(sample)):<58}"
        f" {per_file_mean:>8.3f}s"
    )
    print(f"{'  extrapolated to all ' + format(len(files), ',') + ' files':<58} {per_file_total:>8.1f}s")
    print()
    print(
        f"load_history / raw git log (same command): {raw_ratio:.2f}x"
        f"  (target <= {MAX_RAW_RATIO}x: {'PASS' if raw_ratio <= MAX_RAW_RATIO else 'FAIL'})"
    )
    print(f"load_history / raw git log (no --first-parent): {load_best / plain_best:.2f}x")
    print(
        f"per-file extrapolated / load_history: {speedup:,.0f}x faster"
        f"  (target >= {MIN_SPEEDUP:.0f}x: {'PASS' if speedup >= MIN_SPEEDUP else 'FAIL'})"
    )
    print(f"added dates of the {len(sample)} sampled files, per-file --follow vs load_history:")
    print(f"  {agree} agree")
    print(
        f"  {jumped} differ: --follow jumped to another, similar file's creation"
        " (it looks for copies among all files when a path appears)"
    )
    print(
        f"  {branch} differ: --follow dates the commit on the pull-request branch,"
        " load_history the merge that landed it"
    )
    if other:
        print(f"  {other} differ for another reason: investigate")
    if problems:
        print(f"load_history vs the generator's ground truth: {len(problems)} MISMATCHES, e.g.")
        for line in problems[:10]:
            print(f"  {line}")
    else:
        print(
            f"load_history vs the generator's ground truth: all {len(truth):,} files match"
            " (added, last changed, change count, rename chain)"
        )
    ok = raw_ratio <= MAX_RAW_RATIO and speedup >= MIN_SPEEDUP and not problems
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
