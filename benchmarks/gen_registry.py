"""Generate a synthetic registry of N incidents (with postmortems and handoffs) and N tests.

Records are the example registry's own incidents, cycled, with fresh ids, so
every generated file is a realistic, valid record.

    python benchmarks/gen_registry.py OUT_DIR --incidents 10000
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _templates() -> list[dict[str, str]]:
    out = []
    for folder in sorted((REPO / "incidents").iterdir()):
        files = {name: (folder / name).read_text() for name in ("incident.yaml", "postmortem.md", "handoff.yaml")
                 if (folder / name).is_file()}
        test = REPO / "regressions" / f"regression_{folder.name}.yaml"
        if test.is_file() and len(files) == 3:
            files["test"] = test.read_text()
            files["id"] = folder.name
            out.append(files)
    if not out:
        raise SystemExit("the example registry has no incident with postmortem, handoff and an active test")
    return out


def generate(out: Path, incidents: int) -> Path:
    """Write the registry into ``out`` (emptied first); returns ``out``."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in ("incidentops.yaml", "models.yaml"):
        shutil.copy2(REPO / name, out / name)
    (out / "regressions").mkdir()
    (out / "audit").mkdir()
    templates = _templates()
    width = max(3, len(str(incidents)))
    for number in range(1, incidents + 1):
        template = templates[(number - 1) % len(templates)]
        old = template["id"]
        new = f"INC_{number:0{width}d}"
        swap = re.compile(rf"(?<![0-9A-Za-z]){old}(?![0-9])")
        folder = out / "incidents" / new
        folder.mkdir(parents=True)
        for name in ("incident.yaml", "postmortem.md", "handoff.yaml"):
            (folder / name).write_text(swap.sub(new, template[name]))
        (out / "regressions" / f"regression_{new}.yaml").write_text(swap.sub(new, template["test"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--incidents", type=int, default=10_000)
    args = parser.parse_args()
    generate(args.out, args.incidents)
    print(f"wrote {args.incidents} incidents, postmortems, handoffs and tests to {args.out}")


if __name__ == "__main__":
    main()
