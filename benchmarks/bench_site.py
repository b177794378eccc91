"""Benchmark `incidentops site build` against a plain `mkdocs build` of the same pages, in one run.

On a generated registry (default: 2,000 incidents with postmortems, handoffs
and regression tests, committed to git), it measures:

* baseline: the pages pre-rendered by `incidentops site generate --out`, built
  by `mkdocs build` with the same theme and plugins but without the incidentops
  plugin (no record loading, no checks, no sanitizing);
* incidentops: `incidentops site build`: every record checked, git history
  read, the pages rendered and sanitized, the same MkDocs build.

With ``--zensical`` it also times ``incidentops site build --engine zensical``
(the same pages built by Zensical, search included) and a plain ``zensical
build`` of the pre-rendered pages with the site's assets linked, which shows
what Zensical does with a list page too large for its search index.

The target is incidentops <= 1.5 x baseline in wall-clock time. CPU time
(the command and every process it ran) is printed too: on a busy machine it
is the steadier figure. Progress of the incidentops build is shown on stderr
while it runs.

    python benchmarks/bench_site.py [--incidents 2000] [--repeat 2] [--keep DIR] [--zensical]

Each build is timed ``--repeat`` times, alternating baseline and incidentops,
and the fastest run of each counts (the machine may be busy with other work).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_registry import REPO, generate

TARGET = 1.5
AS_OF = "2027-01-15T12:00:00Z"
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "GIT_CONFIG_NOSYSTEM": "1"}


def git(root: Path, *args: str) -> None:
    env = {**ENV, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.org",
           "GIT_AUTHOR_DATE": "2026-06-01T10:00:00Z", "GIT_COMMITTER_DATE": "2026-06-01T10:00:00Z"}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def prepare(root: Path, incidents: int) -> None:
    generate(root, incidents)
    shutil.copy2(REPO / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(REPO / "docs", root / "docs")
    git(root, "init", "-q", "--initial-branch=main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-verify", "-m", "Generated registry")


def baseline_config(root: Path) -> Path:
    text = (root / "mkdocs.yml").read_text(encoding="utf-8")
    text = text.replace("docs_dir: docs", "docs_dir: generated")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("  - incidentops"))
    # the plugin adds the worker shim for offline search; the plain build gets it from the config
    text += "\nextra:\n  polyfills: [assets/incidentops/iframe-worker-shim.js]\n"
    path = root / "mkdocs-baseline.yml"
    path.write_text(text, encoding="utf-8")
    return path


def plain_zensical_config(root: Path) -> Path:
    """The pre-rendered pages built by Zensical as they are: no page left out of search."""
    import yaml

    from incidentops.site import settings, zensical_engine

    config = settings.read_mkdocs_config(root / "mkdocs.yml")
    data = zensical_engine.project_config(config, None)
    data["docs_dir"], data["site_dir"] = "generated", "site-zensical-plain"
    path = root / "zensical-plain.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def attempt(argv: list[str], cwd: Path) -> tuple[float, str | None]:
    """Wall-clock seconds of a command that may fail, and the last line it printed when it did."""
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode == 0:
        return elapsed, None
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    return elapsed, lines[-1] if lines else f"exit {proc.returncode}"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], cwd: Path, quiet: bool) -> tuple[float, float]:
    """Wall-clock and CPU seconds (the process and everything it ran) of one command."""
    cpu = _cpu()
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=ENV, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE if quiet else None, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr or ''}")
    return elapsed, _cpu() - cpu


def cold_cache(work: Path) -> None:
    """An empty result cache for the next build (the cache lives outside the registry: point it at one)."""
    folder = work / "result-cache"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    ENV["INCIDENTOPS_CACHE_DIR"] = str(folder)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=2000)
    parser.add_argument("--keep", type=Path, default=None, help="build in DIR and keep it")
    parser.add_argument("--repeat", type=int, default=2,
                        help="time each build this many times, alternating, and keep the fastest (default 2)")
    parser.add_argument("--zensical", action="store_true",
                        help="also time the Zensical engine and a plain Zensical build of the same pages")
    args = parser.parse_args()
    zensical_runs: list[tuple[float, float]] = []
    plain: tuple[float, str | None] | None = None
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-site-"))
    root = work / "registry"
    try:
        started = time.perf_counter()
        prepare(root, args.incidents)
        print(f"registry: {args.incidents} incidents, postmortems, handoffs and tests "
              f"({time.perf_counter() - started:.1f} s to generate and commit)", file=sys.stderr)
        python = sys.executable
        generate_s, _ = timed([python, "-m", "incidentops", "site", "generate", "--out", "generated",
                            "--as-of", AS_OF], root, quiet=True)
        pages = sum(1 for _ in (root / "generated").rglob("*.md"))
        print(f"site generate: {pages} Markdown pages in {generate_s:.1f} s", file=sys.stderr)
        baseline_runs: list[tuple[float, float]] = []
        ours_runs: list[tuple[float, float]] = []
        for run in range(1, args.repeat + 1):
            print(f"[{run}/{args.repeat}] baseline: mkdocs build of the pre-rendered pages...", file=sys.stderr)
            baseline_runs.append(timed([python, "-m", "mkdocs", "build", "-q", "-f", str(baseline_config(root)),
                                        "-d", str(work / "site-baseline")], root, quiet=True))
            print(f"[{run}/{args.repeat}] baseline: {baseline_runs[-1][0]:.1f} s", file=sys.stderr)
            print(f"[{run}/{args.repeat}] incidentops site build (progress below)...", file=sys.stderr)
            cold_cache(work)  # every run checks cold
            ours_runs.append(timed([python, "-m", "incidentops", "site", "build", "--as-of", AS_OF,
                                    "--site-dir", str(work / "site")], root, quiet=False))
            if args.zensical:
                print(f"[{run}/{args.repeat}] incidentops site build --engine zensical...", file=sys.stderr)
                cold_cache(work)
                zensical_runs.append(timed([python, "-m", "incidentops", "site", "build", "--engine", "zensical",
                                            "--as-of", AS_OF, "--site-dir", str(work / "site-zensical")],
                                           root, quiet=False))
                print(f"[{run}/{args.repeat}] zensical engine: {zensical_runs[-1][0]:.1f} s", file=sys.stderr)
        if args.zensical:
            print("plain zensical build of the pre-rendered pages...", file=sys.stderr)
            plain = attempt([python, "-m", "zensical", "build", "--clean", "-f", str(plain_zensical_config(root))],
                            root)
        baseline_s, baseline_cpu = min(r[0] for r in baseline_runs), min(r[1] for r in baseline_runs)
        ours_s, ours_cpu = min(r[0] for r in ours_runs), min(r[1] for r in ours_runs)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    ratio = ours_s / baseline_s
    cpu_ratio = ours_cpu / baseline_cpu
    print(f"pages:                      {pages}  (fastest of {args.repeat} runs each)")
    print(f"mkdocs build (plain pages): {baseline_s:7.1f} s wall {baseline_cpu:7.1f} s CPU")
    print(f"incidentops site build:     {ours_s:7.1f} s wall {ours_cpu:7.1f} s CPU"
          "  (checks + history + render + sanitize + build)")
    print(f"ratio:                      {ratio:7.2f} wall  {cpu_ratio:7.2f} CPU  (target <= {TARGET})")
    if zensical_runs:
        z_s, z_cpu = min(r[0] for r in zensical_runs), min(r[1] for r in zensical_runs)
        print(f"site build --engine zensical: {z_s:5.1f} s wall {z_cpu:7.1f} s CPU"
              f"  ({z_s / ours_s:.2f} x the MkDocs engine; checks + history + render + Zensical + sanitize)")
    if plain is not None:
        outcome = "built" if plain[1] is None else f"failed: {plain[1]}"
        print(f"plain zensical build:       {plain[0]:7.1f} s wall  {outcome}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
