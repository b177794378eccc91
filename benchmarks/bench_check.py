"""Benchmark `incidentops check` against a bare YAML parse and check-jsonschema, in one run.

    python benchmarks/bench_check.py [--incidents 10000] [--out DIR] [--reuse]

On a synthetic registry of N incidents (each with a postmortem and a handoff) and N
regression tests (benchmarks/gen_registry.py), it measures and prints:

- a bare ``yaml.load(..., CSafeLoader)`` of every record file, in one process
  (postmortems: their front matter);
- ``incidentops check`` of the whole registry: cold (``--no-cache``), a first run
  that fills the result cache, and a warm run that reads it; peak memory of the check
  (every process of it);
- check-jsonschema on the incident, handoff and test files with the registry's own
  schemas, and ``incidentops check`` on exactly those files. check-jsonschema cannot
  read Markdown front matter, so postmortems are left out of both;
- ``incidentops check`` of one changed file, as pre-commit runs it, with the default
  options (the result cache on, filled by the whole checks before) and with
  ``--no-cache``: the best and the median of three runs each.

Targets: whole check <= 2x the bare parse; >= 3x faster than check-jsonschema; one
changed file < 0.5 s; peak memory < 1 GB. Wall times on a shared machine depend on
its load, so the load average is printed with the figures.

Every command runs as on a developer's machine: the ``CI`` variable is removed (under
CI the cache is off by default) and the result cache is kept in a folder of its own
next to ``--out`` (``<out>-user-cache``, as ``INCIDENTOPS_CACHE_DIR``), emptied first.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_registry import REPO, generate  # noqa: E402

BARE = """
import sys, yaml, pathlib
root = pathlib.Path(sys.argv[1])
n = 0
for p in sorted(root.rglob('*')):
    if p.suffix == '.yaml':
        yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader); n += 1
    elif p.suffix == '.md':
        text = p.read_text(); yaml.load(text.split('\\n---\\n', 1)[0][4:], Loader=yaml.CSafeLoader); n += 1
print(n)
"""

CACHE_ENV = "INCIDENTOPS_CACHE_DIR"


class Run:
    """One command: wall and CPU time, exit code, output tail, and peak memory of its process tree."""

    def __init__(self, cmd: list[str], cwd: Path) -> None:
        self.cmd = cmd
        self.peak_total = 0  # KiB, resident memory summed over the process and its children
        self.peak_single = 0  # KiB, the largest single process
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        sampler = threading.Thread(target=self._sample, args=(proc,), daemon=True)
        sampler.start()
        out, err = proc.communicate()
        self.seconds = time.perf_counter() - start
        sampler.join()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU of the command and every process it waited for (the check's workers)
        self.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        self.code = proc.returncode
        self.tail = (out[-300:] + err[-300:]).strip()

    def _sample(self, proc: subprocess.Popen[str]) -> None:
        while proc.poll() is None:
            sizes = [_rss_kib(pid) for pid in _tree(proc.pid)]
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_single = max([self.peak_single, *sizes])
            time.sleep(0.1)


def _tree(root: int) -> list[int]:
    """``root`` and every process below it (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


ENV = {key: value for key, value in os.environ.items() if key != "CI"}


def _times(runs: list[Run]) -> str:
    seconds = sorted(run.seconds for run in runs)
    return f"{seconds[0]:7.2f} s best, {seconds[len(seconds) // 2]:.2f} s median of {len(seconds)}"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def _ratio(value: float, base: float) -> str:
    return f"{value / base:5.2f}x" if base else "  n/a"


def _cpu(run: Run, base: Run | None = None) -> str:
    return f"[CPU {run.cpu:6.2f} s" + (f", {_ratio(run.cpu, base.cpu).strip()} the bare parse's]" if base else "]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "check-registry")
    parser.add_argument("--reuse", action="store_true", help="keep a registry already generated in --out")
    args = parser.parse_args()

    incidents_dir = args.out / "incidents"
    if not (args.reuse and incidents_dir.is_dir() and len(os.listdir(incidents_dir)) == args.incidents):
        generate(args.out, args.incidents)
    root = args.out.resolve()
    user_cache = root.parent / f"{root.name}-user-cache"
    shutil.rmtree(user_cache, ignore_errors=True)
    ENV[CACHE_ENV] = str(user_cache)
    files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".md"))
    size = sum(p.stat().st_size for p in files)
    print(f"registry: {args.incidents} incidents with postmortems and handoffs, {args.incidents} tests: "
          f"{len(files)} files, {size / 1e6:.0f} MB")
    print(f"machine: {os.cpu_count()} CPUs, {_load()} before the runs")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("PYTHONDONTWRITEBYTECODE is set: every run compiles incidentops from source (an install has bytecode)")
    print()

    check = [sys.executable, "-m", "incidentops", "check"]
    bare = Run([sys.executable, "-c", BARE, str(root)], root)
    print(f"bare yaml.load(CSafeLoader), one process        : {bare.seconds:7.2f} s  {_cpu(bare)}")
    cold = Run([*check, "--no-cache"], root)
    print(f"incidentops check, whole registry, --no-cache   : {cold.seconds:7.2f} s  {_ratio(cold.seconds, bare.seconds)}"
          f" the bare parse (target <= 2x)  cold: every finding computed  {_cpu(cold, bare)}")
    first = Run(check, root)
    print(f"incidentops check, whole registry, first run    : {first.seconds:7.2f} s  {_ratio(first.seconds, bare.seconds)}"
          f"  cold: empty cache, computes and writes it  {_cpu(first, bare)}")
    warm = Run(check, root)
    print(f"incidentops check, whole registry, warm cache   : {warm.seconds:7.2f} s  {_ratio(warm.seconds, bare.seconds)}"
          f"  warm: no file changed since the first run  {_cpu(warm, bare)}")
    peak_total = max(cold.peak_total, first.peak_total, warm.peak_total)
    peak_single = max(cold.peak_single, first.peak_single, warm.peak_single)
    print(f"peak memory of a whole check                    : {peak_total / 1024:7.0f} MB summed over its processes"
          f" (target < 1024 MB); largest process {peak_single / 1024:.0f} MB")
    for run in (cold, first, warm):
        if run.code not in (0, 1):
            print(f"  warning: {' '.join(run.cmd[2:])} exited {run.code}: {run.tail}")
    if cold.tail.splitlines():
        print(f"  (check reports: {cold.tail.splitlines()[-1]})")
    print()

    schemas = REPO / "schemas"
    jobs = [
        ("incident", sorted(str(p.relative_to(root)) for p in root.glob("incidents/*/incident.yaml"))),
        ("handoff", sorted(str(p.relative_to(root)) for p in root.glob("incidents/*/handoff.yaml"))),
        ("regression", sorted(str(p.relative_to(root)) for p in root.glob("regressions/*.yaml"))),
    ]
    same = [path for _, paths in jobs for path in paths]
    tool = Path(sys.executable).with_name("check-jsonschema")
    if tool.is_file():
        cj_total = 0.0
        for schema, paths in jobs:
            run = Run([str(tool), "--schemafile", str(schemas / f"{schema}.schema.json"), *paths], root)
            if run.code not in (0, 1):
                print(f"  warning: check-jsonschema ({schema}) exited {run.code}: {run.tail}")
            cj_total += run.seconds
        print(f"check-jsonschema, same schemas, {len(same)} files     : {cj_total:7.2f} s"
              "  (incident, handoff and test files; it cannot read postmortem front matter)")
        ours_cold = Run([*check, "--no-cache", *same], root)
        ours_warm = Run([*check, *same], root)
        print(f"incidentops check, the same files, --no-cache   : {ours_cold.seconds:7.2f} s  "
              f"{cj_total / ours_cold.seconds:5.1f}x faster (target >= 3x)")
        print(f"incidentops check, the same files, warm cache   : {ours_warm.seconds:7.2f} s  "
              f"{cj_total / ours_warm.seconds:5.1f}x faster")
    else:
        print("check-jsonschema is not installed next to this Python: comparison skipped")
    print()

    width = max(3, len(str(args.incidents)))
    changed = root / "incidents" / f"INC_{args.incidents // 2:0{width}d}" / "incident.yaml"
    original = changed.read_text()
    try:
        with tempfile.NamedTemporaryFile("w", dir=changed.parent, delete=False) as handle:
            handle.write(original + "# reviewed again\n")
        os.replace(handle.name, changed)
        rel = str(changed.relative_to(root))
        one_cold = [Run([*check, "--no-cache", rel], root) for _ in range(3)]
        one = [Run([*check, rel], root) for _ in range(3)]
    finally:
        changed.write_text(original)
    print(f"incidentops check, one changed file, default    : {_times(one)}  (target < 0.5 s)"
          f"  cache on; peak {max(run.peak_total for run in one) / 1024:.0f} MB")
    print(f"incidentops check, one changed file, --no-cache : {_times(one_cold)}")
    for run in (*one, *one_cold):
        if run.code not in (0, 1) or "incidentops: warning: " in run.tail:
            print(f"  warning: {' '.join(run.cmd[2:])} exited {run.code}: {run.tail}")
    print()
    print(f"machine: {_load()} after the runs")


if __name__ == "__main__":
    main()
