"""Generate a registry repository with a long, realistic history, fast (``git fast-import``).

    python benchmarks/gen_git_history.py /tmp/bench-repo --tests 10000 --commits 50000

The history mixes what a busy registry sees over a few years: regression tests
created and edited, renamed, retired into ``regressions/archive/`` (with the
state edit in the same commit), incidents with postmortems, audit entries, a
review file with spaces and accents in its name, pull requests merged with
merge commits, and unrelated code changes outside the registry folders. Every
commit has a fixed date; the same seed gives the same repository.
"""

from __future__ import annotations

import argparse
import io
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

START = 1_641_200_400  # 2022-01-03T09:00:00Z
STEP = 1_800  # seconds between commits
IDENT = b"Bench Registry <bench@example.org>"


@dataclass
class Stats:
    commits: int = 0
    merges: int = 0
    tests_created: int = 0
    edits: int = 0
    renames: int = 0
    archived: int = 0
    incidents: int = 0
    audit_entries: int = 0
    noise: int = 0
    seconds: float = 0.0
    # What load_history must find: path -> (added_at, last_changed_at, change_count, rename_chain),
    # dates as epoch seconds of the commit that landed the change on main.
    truth: dict[str, tuple[int, int, int, tuple[str, ...]]] = field(default_factory=dict, repr=False)


@dataclass
class _Test:
    test_id: str
    path: str
    revision: int = 0
    renames: int = 0
    state: str = "ACTIVE"


@dataclass
class _Registry:
    """What exists at the tip of main, so each operation picks a real file."""

    live: list[_Test] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    incidents: list[str] = field(default_factory=list)

    def add(self, test: _Test) -> None:
        self.index[test.test_id] = len(self.live)
        self.live.append(test)

    def remove(self, test: _Test) -> None:
        pos = self.index.pop(test.test_id)
        last = self.live.pop()
        if last is not test:
            self.live[pos] = last
            self.index[last.test_id] = pos


class _Truth:
    """The history git will report, tracked as the commits are written (one change per commit)."""

    def __init__(self) -> None:
        self.files: dict[str, list[Any]] = {}  # path -> [added, last, count, chain]
        self.when = 0
        self.touched: set[str] = set()
        self.born: set[str] = set()

    def next_commit(self, when: int) -> None:
        self.when = when
        self.touched.clear()
        self.born.clear()

    def touch(self, path: str) -> None:
        if path in self.touched:
            return
        self.touched.add(path)
        record = self.files.get(path)
        if record is None:
            self.files[path] = [self.when, self.when, 1, [path]]
            self.born.add(path)
        else:
            record[1] = self.when
            record[2] += 1

    def rename(self, src: str, dst: str) -> None:
        record = self.files.pop(src)
        self.files[dst] = record
        if src in self.born:  # created and renamed in one commit: git only sees the new name
            record[3] = [dst]
            self.born.add(dst)
        else:
            record[3].append(dst)
        if src in self.touched:
            self.touched.add(dst)
        else:
            self.touch(dst)

    def result(self) -> dict[str, tuple[int, int, int, tuple[str, ...]]]:
        return {path: (a, b, c, tuple(chain)) for path, (a, b, c, chain) in self.files.items()}


def regression_text(test: _Test) -> bytes:
    number = test.test_id.rsplit("_", 1)[-1]
    text = f"""# yaml-language-server: $schema=../schemas/regression.schema.json
test_id: {test.test_id}
incident_id: INC_{number}
suite: model-safety-regression-suite
scenario: scenario_{number}
turns:
  - "Turn one of the attack recorded for incident {number}, paraphrased for the suite."
  - "Turn two escalates the framing and asks for the restricted content directly."
  - "Turn three repeats the request with a claimed authority and urgency."
expected_block_turn: 3
severity_weight: 0.{5 + int(number) % 5}
state: {test.state}
owner: Safety team
model_version: aurora-2.0
attack_vector_status: viable
scenario_still_relevant: true
# revision {test.revision}
decisions:
  - at: "2023-01-01T00:00:00Z"
    decision: CREATE
    to_state: ACTIVE
    reason: Born from INC_{number}
    by: Safety team
"""
    return text.encode()


def incident_text(number: int, severity: str, status: str, note: str = "") -> bytes:
    """A schema-valid incident record (the decay assessment reads only valid records)."""
    resolved = 'resolved_at: "2023-01-02T10:00:00Z"\n' if status == "resolved" else ""
    return f"""# yaml-language-server: $schema=../../schemas/incident.schema.json
{note}id: INC_{number:05d}
title: Benchmark incident {number}
type: policy_violation_isolated
severity: {severity}
status: {status}
visibility: internal
detected_at: "2023-01-01T10:00:00Z"
first_response_at: "2023-01-01T10:05:00Z"
{resolved}model_version: aurora-2.0
attack_vector: vector_{number % 17}
assessment:
  harm: potential
  scope: single_user
  regulatory: false
  reputational_risk: normal
  exploitable_at_scale: false
escalations: []
summary: A benchmark incident.
timeline:
  - at: "2023-01-01T10:00:00Z"
    event: Detected
""".encode()


class _Writer:
    """Writes the fast-import stream for one commit at a time."""

    def __init__(self, out: IO[bytes] | io.RawIOBase) -> None:
        self.out = out
        self.mark = 0

    def commit(
        self, ref: str, when: int, message: str, ops: list[bytes], parent: int | None = None,
        merge: int | None = None,
    ) -> int:  # fmt: skip
        self.mark += 1
        msg = message.encode()
        head = [
            b"commit refs/heads/" + ref.encode(),
            b"mark :%d" % self.mark,
            b"author " + IDENT + b" %d +0000" % when,
            b"committer " + IDENT + b" %d +0000" % when,
            b"data %d" % len(msg),
            msg,
        ]
        if parent is not None:
            head.append(b"from :%d" % parent)
        if merge is not None:
            head.append(b"merge :%d" % merge)
        self.out.write(b"\n".join(head) + b"\n" + b"".join(ops) + b"\n")
        return self.mark


def put(path: str, content: bytes) -> bytes:
    return b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(content), content)


def move(src: str, dst: str) -> bytes:
    return b'R "%s" "%s"\n' % (src.encode(), dst.encode())


def generate(
    dest: Path,
    tests: int = 10_000,
    commits: int = 50_000,
    seed: int = 7,
    checkout: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Stats:
    """Create the repository at ``dest`` (must not exist) and return what went into it."""
    started = time.perf_counter()
    if dest.exists():
        raise SystemExit(f"{dest} already exists")
    dest.mkdir(parents=True)
    git = ["git", "-C", str(dest)]
    subprocess.run([*git, "init", "-q", "--initial-branch=main"], check=True)
    proc = subprocess.Popen(
        [*git, "fast-import", "--quiet", "--done"], stdin=subprocess.PIPE, bufsize=1 << 20
    )
    assert proc.stdin is not None
    stats = _write_history(_Writer(proc.stdin), tests, commits, random.Random(seed), progress)
    proc.stdin.write(b"done\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    # What `git gc` leaves behind that matters to `git log`; the fast-import pack is
    # already delta-compressed, so a full repack would only cost time.
    subprocess.run([*git, "commit-graph", "write", "--reachable"], check=True, capture_output=True)
    if checkout:
        subprocess.run([*git, "reset", "--quiet", "--hard"], check=True)
    stats.seconds = time.perf_counter() - started
    return stats


def _write_history(
    writer: _Writer, n_tests: int, n_commits: int, rng: random.Random,
    progress: Callable[[str], None] | None,
) -> Stats:  # fmt: skip
    stats = Stats()
    registry = _Registry()
    truth = _Truth()
    # Every test is created by some commit in the first 80% of the history.
    horizon = max(1, int(n_commits * 0.8))
    births: dict[int, int] = {}
    for _ in range(n_tests):
        slot = rng.randrange(horizon)
        births[slot] = births.get(slot, 0) + 1
    next_test = 0
    next_incident = 0
    review = "reviews/2022 Q1 revue trimestrielle é.yaml"
    main_tip: int | None = None
    reported = 0
    i = 0
    while i < n_commits:
        when = START + i * STEP
        # A pull request takes two commits: the branch commit and the merge.
        pull_request = main_tip is not None and i + 1 < n_commits and rng.random() < 0.08
        ops: list[bytes] = []
        message = "Update"
        truth.next_commit(when)
        for _ in range(births.get(i, 0) + (births.get(i + 1, 0) if pull_request else 0)):
            next_test += 1
            test = _Test(f"regression_INC_{next_test:05d}", "")
            test.path = f"regressions/{test.test_id}.yaml"
            registry.add(test)
            ops.append(put(test.path, regression_text(test)))
            truth.touch(test.path)
            stats.tests_created += 1
            message = f"Add {test.test_id}"
        roll = rng.random()
        live = registry.live
        if roll < 0.40 and live:
            test = rng.choice(live)
            test.revision += 1
            ops.append(put(test.path, regression_text(test)))
            truth.touch(test.path)
            stats.edits += 1
        elif roll < 0.42 and live:
            test = rng.choice(live)
            test.renames += 1
            new_path = f"regressions/{test.test_id}_r{test.renames}.yaml"
            ops.append(move(test.path, new_path))
            truth.rename(test.path, new_path)
            test.path = new_path
            stats.renames += 1
        elif roll < 0.45 and len(live) > 50:
            test = rng.choice(live)
            test.state = "RETIRED"
            test.revision += 1
            archived = f"regressions/archive/{test.path.rsplit('/', 1)[1]}"
            ops.append(move(test.path, archived))
            ops.append(put(archived, regression_text(test)))
            truth.rename(test.path, archived)
            registry.remove(test)
            stats.archived += 1
        elif roll < 0.50:
            next_incident += 1
            folder = f"incidents/INC_{next_incident:05d}"
            body = incident_text(next_incident, f"SEV-{rng.randrange(4)}", "open")
            ops.append(put(f"{folder}/incident.yaml", body))
            ops.append(put(f"{folder}/postmortem.md", b"---\nstatus: draft\n---\n## Summary\n"))
            truth.touch(f"{folder}/incident.yaml")
            truth.touch(f"{folder}/postmortem.md")
            registry.incidents.append(folder)
            stats.incidents += 1
        elif roll < 0.53 and registry.incidents:
            folder = rng.choice(registry.incidents)
            number = int(folder.rsplit("_", 1)[1])
            ops.append(put(f"{folder}/incident.yaml", incident_text(number, "SEV-3", "resolved", f"# seen {i}\n")))
            truth.touch(f"{folder}/incident.yaml")
        elif roll < 0.56:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when))
            entry = f"audit/{stamp}_KEEP_{i}.yaml"
            ops.append(put(entry, f"action: KEEP\ntimestamp: {stamp}\n".encode()))
            truth.touch(entry)
            stats.audit_entries += 1
        elif roll < 0.57:
            ops.append(put(review, f"quarter: {i}\n".encode()))
            truth.touch(review)
        else:
            # Code changes outside the registry folders: the log must skip them cheaply.
            ops.append(put(f"src/module_{rng.randrange(300)}.py", f"VALUE = {i}\n".encode()))
            stats.noise += 1
        if pull_request:
            # Committed on the branch, merged (landed) a quarter of an hour later.
            branch_tip = writer.commit("pr", when - STEP // 2, message, ops, parent=main_tip)
            main_tip = writer.commit(
                "main", when, "Merge pull request", ops, parent=main_tip, merge=branch_tip
            )
            stats.merges += 1
            i += 2
        else:
            main_tip = writer.commit("main", when, message, ops, parent=main_tip)
            i += 1
        if progress and i // 10_000 > reported:
            reported = i // 10_000
            progress(f"{reported * 10_000:,} commits written")
    stats.commits = i
    stats.truth = truth.result()
    return stats


def expected_history(
    tests: int = 10_000, commits: int = 50_000, seed: int = 7
) -> dict[str, tuple[int, int, int, tuple[str, ...]]]:
    """The ground truth for a repository generated with these arguments, without writing it."""
    return _write_history(_Writer(_Discard()), tests, commits, random.Random(seed), None).truth


class _Discard(io.RawIOBase):
    def write(self, data: Any) -> int:
        return len(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--commits", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-checkout", action="store_true")
    args = parser.parse_args(argv)
    stats = generate(
        args.dest, args.tests, args.commits, args.seed, not args.no_checkout,
        progress=lambda line: print(line, file=sys.stderr),
    )  # fmt: skip
    print(stats)
    return 0


if __name__ == "__main__":
    sys.exit(main())


def add_benchmark_arguments(parser: argparse.ArgumentParser, repeat: int) -> None:
    """The options every git-history benchmark takes (size, reuse, sampling, seed)."""
    parser.add_argument("--tests", type=int, default=None)
    parser.add_argument("--commits", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="1,000 tests and 5,000 commits")
    parser.add_argument(
        "--repo", type=Path,
        help="reuse this repository (created if missing; give the same --tests/--commits/--seed)",
    )  # fmt: skip
    parser.add_argument("--sample", type=int, default=50, help="files timed with per-file log")
    parser.add_argument("--repeat", type=int, default=repeat)
    parser.add_argument("--seed", type=int, default=7)


def benchmark_repository(args: argparse.Namespace, scratch: Path) -> tuple[Path, int, int]:
    """The repository a benchmark measures: ``--repo`` when given, else one generated in ``scratch``."""
    tests = args.tests or (1_000 if args.quick else 10_000)
    commits = args.commits or (5_000 if args.quick else 50_000)
    repo = args.repo or scratch / "registry"
    if not repo.exists():
        print(f"generating {tests:,} tests / {commits:,} commits in {repo} ...", flush=True)
        stats = generate(repo, tests, commits, args.seed)
        print(
            f"  done in {stats.seconds:.1f} s: {stats.commits:,} commits ({stats.merges:,} merged"
            f" pull requests), {stats.tests_created:,} tests, {stats.edits:,} edits,"
            f" {stats.renames:,} renames, {stats.archived:,} archived, {stats.incidents:,}"
            f" incidents, {stats.audit_entries:,} audit entries, {stats.noise:,} code-only"
        )
    return repo, tests, commits
