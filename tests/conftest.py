"""Shared fixtures: the real command line, and the example registry shipped in this repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            input: str | None = None) -> Result:
    """Run `incidentops ARGS` as a user types it (a real process)."""
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "incidentops", *args],
        cwd=cwd or REPO, env=full_env, capture_output=True, text=True, input=input, timeout=300,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A private copy of the example registry (records only), safe to edit."""
    dest = tmp_path / "registry"
    dest.mkdir()
    for name in ("incidentops.yaml", "models.yaml"):
        shutil.copy2(REPO / name, dest / name)
    for folder in ("incidents", "regressions", "audit", "reviews", "releases", "scenarios"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, dest / folder)
    return dest


RULES_AS_OF = "2026-06-01"


def build_registry(root: Path, case: Path) -> Path:
    """A registry: the shipped policy and model lineage plus the example records of ``case``."""
    root.mkdir(parents=True)
    for name in ("incidentops.yaml", "models.yaml"):
        shutil.copy2(REPO / name, root / name)
    shutil.copytree(case, root, dirs_exist_ok=True)
    return root


def check_findings(root: Path, as_of: str = RULES_AS_OF) -> list[dict]:
    """`incidentops check --format json` on ``root``, as of a fixed date."""
    result = run_cli("check", "--format", "json", "--as-of", as_of, cwd=root)
    assert result.code in (0, 1), result.err
    return result.json()


# Tests run in parallel processes (pytest-xdist, `make test`). The site modules share the session's
# built sites (site_support), so they run in one process; every other module keeps its module
# fixtures in one process too.
_SITE_MODULES = frozenset({"test_site.py", "test_site_browser.py", "test_site_engines.py", "test_site_public.py"})


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = item.path.name
        group = "site" if name in _SITE_MODULES else str(item.path.relative_to(REPO))
        item.add_marker(pytest.mark.xdist_group(group))
