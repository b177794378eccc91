"""Benchmark `incidentops check` against a bare YAML parse and check-jsonschema, in one run.

    python benchmarks/bench_check.py [--incidents 10000]

Targets (registry foundation): whole check <= 2x the bare CSafeLoader parse;
>= 3x faster than check-jsonschema; one changed file <= 1 s; peak memory < 1 GB.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_registry import generate  # noqa: E402

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


def timed(cmd: list[str], cwd: Path) -> tuple[float, int, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before), proc.stdout[-300:] + proc.stderr[-300:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "check-registry")
    args = parser.parse_args()
    root = generate(args.out, args.incidents)
    files = sum(1 for p in root.rglob("*") if p.suffix in (".yaml", ".md"))
    print(f"registry: {args.incidents} incidents + postmortems + handoffs, {args.incidents} tests ({files} files)")

    bare, _, _ = timed([sys.executable, "-c", BARE, str(root)], root)
    check, check_rss, tail = timed([sys.executable, "-m", "incidentops", "check"], root)
    print(f"bare yaml.load(CSafeLoader), one process : {bare:7.2f} s")
    print(f"incidentops check (whole registry)      : {check:7.2f} s   ratio {check / bare:.2f}x (target <= 2x)"
          f"   peak RSS {check_rss / 1024:.0f} MB (target < 1024)")
    if "no problems" not in tail:
        print("  note: check reported findings:", tail.strip().splitlines()[-1])

    schemas = Path(sys.modules["gen_registry"].REPO) / "schemas"
    jobs = [
        ("incident", "incidents/*/incident.yaml"), ("handoff", "incidents/*/handoff.yaml"),
        ("regression", "regressions/*.yaml"),
    ]
    cj_total = 0.0
    for schema, pattern in jobs:
        targets = [str(p.relative_to(root)) for p in sorted(root.glob(pattern))]
        elapsed, _, _ = timed([str(Path(sys.executable).with_name("check-jsonschema")), "--schemafile", str(schemas / f"{schema}.schema.json"), *targets], root)
        cj_total += elapsed
    ours_same = timed([sys.executable, "-m", "incidentops", "check", "incidents", "regressions"], root)[0]
    print(f"check-jsonschema (incident+handoff+test) : {cj_total:7.2f} s   (no front matter support: postmortems left out)")
    print(f"incidentops check, same + postmortems    : {ours_same:7.2f} s   {cj_total / ours_same:.1f}x faster (target >= 3x)")

    one = root / "incidents" / f"INC_{args.incidents // 2:0{max(3, len(str(args.incidents)))}d}" / "incident.yaml"
    single, _, _ = timed([sys.executable, "-m", "incidentops", "check", str(one.relative_to(root))], root)
    print(f"incidentops check one changed file       : {single:7.2f} s   (target <= 1 s)")


if __name__ == "__main__":
    main()
