"""The hooks for real: a consumer repository runs them through pre-commit on commit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow

PRE_COMMIT = (sys.executable, "-m", "pre_commit")

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Safety engineer", "GIT_AUTHOR_EMAIL": "safety@example.invalid",
    "GIT_COMMITTER_NAME": "Safety engineer", "GIT_COMMITTER_EMAIL": "safety@example.invalid",
    "GIT_AUTHOR_DATE": "2026-11-20T10:00:00Z", "GIT_COMMITTER_DATE": "2026-11-20T10:00:00Z",
}


def sh(*args: str, cwd: Path, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, cwd=cwd, env={**os.environ, **GIT_ENV, **(env or {})},
                          capture_output=True, text=True, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> tuple[Path, str]:
    """This repository's current files (tracked and new) as a git repository pre-commit can clone."""
    dest = tmp_path_factory.mktemp("hooks")
    listed = sh("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO).stdout
    for rel in filter(None, listed.split("\0")):
        src = REPO / rel
        if src.is_symlink():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.readlink(src), dest / rel)
        elif src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    sh("git", "init", "-q", "-b", "main", cwd=dest)
    sh("git", "add", "-A", cwd=dest)
    sh("git", "commit", "-q", "-m", "snapshot", cwd=dest)
    return dest, sh("git", "rev-parse", "HEAD", cwd=dest).stdout.strip()


def test_manifest_is_valid():
    sh(*PRE_COMMIT, "validate-manifest", ".pre-commit-hooks.yaml", cwd=REPO)
    sh(*PRE_COMMIT, "validate-config", ".pre-commit-config.yaml", cwd=REPO)


def test_consumer_repository_gets_line_accurate_errors(example: Path, hook_repo, tmp_path_factory):
    repo, rev = hook_repo
    consumer = example
    (consumer / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {repo}\n    rev: {rev}\n    hooks:\n      - id: incidentops-check\n"
        "      - id: incidentops-registry\n"
    )
    home = {"PRE_COMMIT_HOME": str(tmp_path_factory.getbasetemp() / "pre-commit-home")}
    sh("git", "init", "-q", "-b", "main", cwd=consumer)
    sh(*PRE_COMMIT, "install", cwd=consumer, env=home)
    sh("git", "add", "-A", cwd=consumer)
    first = sh("git", "commit", "-q", "-m", "Registry", cwd=consumer, env=home, check=False)
    assert first.returncode == 0, first.stdout + first.stderr

    incident = consumer / "incidents/INC_001/incident.yaml"
    original = incident.read_text()
    lines = original.splitlines()
    number = next(i for i, line in enumerate(lines, start=1) if line.startswith("severity: "))
    incident.write_text(incident.read_text().replace("severity: SEV-2", "severity: SEV-5", 1))
    sh("git", "add", "-A", cwd=consumer)
    bad = sh("git", "commit", "-q", "-m", "Raise severity", cwd=consumer, env=home, check=False)
    output = bad.stdout + bad.stderr
    assert bad.returncode != 0, output
    assert (f"incidents/INC_001/incident.yaml:{number}:11: error [schema.enum] "
            "severity: 'SEV-5' is not one of SEV-0, SEV-1, SEV-2, SEV-3") in output

    incident.write_text(original.replace("title:", "# reviewed by the safety council\ntitle:", 1))
    sh("git", "add", "-A", cwd=consumer)
    good = sh("git", "commit", "-q", "-m", "Note the review", cwd=consumer, env=home, check=False)
    assert good.returncode == 0, good.stdout + good.stderr


def test_this_repository_runs_its_own_hooks(hook_repo):
    """The repository's own config: ruff, mypy and the incidentops hooks on the example registry."""
    repo, _ = hook_repo
    bindir = str(Path(sys.executable).parent)
    env = {"PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
           "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home-own")}
    result = sh(*PRE_COMMIT, "run", "--all-files", cwd=repo, env=env, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for hook in ("ruff", "mypy (strict, the incidentops package)", "incidentops check (changed records)", "incidentops check (whole registry)"):
        assert re.search(rf"^{re.escape(hook)}\.+Passed$", output, re.M), (hook, output)
