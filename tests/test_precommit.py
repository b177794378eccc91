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


# --- a registry made by `incidentops init`: local hooks, no network ---------------------------

OFFLINE = {  # any attempt to reach the network fails at once
    "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "PIP_NO_INDEX": "1",
}
EDITOR = REPO / "tests" / "data" / "editors" / "fill_incident.py"


def _env(tmp_path: Path) -> dict[str, str]:
    bindir = str(Path(sys.executable).parent)
    return {**OFFLINE, "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
            "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "HOME": str(tmp_path / "home"),
            "EDITOR": f"{sys.executable} {EDITOR}", "NO_COLOR": "1", "CI": ""}


def readme_block(heading: str) -> list[str]:
    """The command lines of the first ```bash block under README heading ``## heading``."""
    section = (REPO / "README.md").read_text(encoding="utf-8").split(f"\n## {heading}\n", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_start_a_registry_of_your_own_exactly_as_the_readme_says(tmp_path: Path):
    """The README's "Start a registry of your own", line for line, in an empty folder, offline."""
    lines = readme_block("Start a registry of your own")
    assert lines[0].startswith("git init") and any("renumber" in line for line in lines)
    script = ["set -euo pipefail", "exec 2>&1"]  # git hooks print to stderr: one stream, in order
    for number, line in enumerate(lines):
        script += [f"echo '@@step {number}'", line.replace('"$EDITOR"', "$EDITOR")]
    (tmp_path / "home").mkdir()
    result = sh("bash", "-c", "\n".join(script), cwd=tmp_path, env=_env(tmp_path), check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    steps = dict(zip(lines, result.stdout.split("@@step ")[1:], strict=True))

    def out(prefix: str) -> str:
        return next(text for line, text in steps.items() if line.startswith(prefix))

    registry = tmp_path / "our-registry"
    assert "created .pre-commit-config.yaml" in out("incidentops init")
    assert "created .github/workflows/checks.yml" in out("incidentops init")
    assert "repo: local" in (registry / ".pre-commit-config.yaml").read_text()
    declared = out("git add -A && git commit -m \"Declare")
    assert re.search(r"^incidentops check \(changed records\)\.+Passed$", declared, re.M), declared
    assert re.search(r"^incidentops check \(whole registry\)\.+Passed$", declared, re.M), declared
    assert "0 error(s)" in out("incidentops pr-check")
    renumbered = re.search(r"(INC_NEW_[a-z0-9]+) -> INC_001", out("incidentops renumber"))
    assert renumbered, out("incidentops renumber")
    assert sorted(p.name for p in (registry / "incidents").iterdir()) == [".gitkeep", "INC_001"]
    assert "id: INC_001\n" in (registry / "incidents/INC_001/incident.yaml").read_text()
    moved = sh("git", "show", "--stat", "-M", "--format=%s", "HEAD", cwd=registry).stdout
    assert "Number the new incident" in moved and f"{renumbered.group(1)} => INC_001" in moved, moved
    assert sh("git", "status", "--porcelain", cwd=registry).stdout == ""
    status = out("incidentops status")
    assert re.search(r"^  INC_001 +SEV-3 +open +SLA pending", status, re.M), status
    assert "Nothing needs attention." in status
    shown = out("incidentops show INC_001")
    assert "INC_001: Refusals bypassed by a role-play framing on a support channel" in shown
    assert "escalations: Safety team at" in shown


def _init_hooks(tmp_path: Path) -> str:
    fresh = tmp_path / "fresh"
    assert sh(sys.executable, "-m", "incidentops", "init", str(fresh), cwd=tmp_path).returncode == 0
    return (fresh / ".pre-commit-config.yaml").read_text()


def test_the_two_hooks_never_print_a_finding_twice(example: Path, tmp_path: Path):
    env = _env(tmp_path)
    (tmp_path / "home").mkdir()
    (example / ".pre-commit-config.yaml").write_text(_init_hooks(tmp_path))
    sh("git", "init", "-q", "-b", "main", cwd=example)
    sh(*PRE_COMMIT, "install", cwd=example, env=env)
    sh("git", "add", "-A", cwd=example)
    first = sh("git", "commit", "-q", "-m", "Registry", cwd=example, env=env, check=False)
    assert first.returncode == 0, first.stdout + first.stderr

    incident = example / "incidents/INC_001/incident.yaml"
    incident.write_text(incident.read_text().replace("severity: SEV-2", "severity: SEV-1", 1))
    sh("git", "add", "-A", cwd=example)
    bad = sh("git", "commit", "-q", "-m", "Raise severity", cwd=example, env=env, check=False)
    output = bad.stdout + bad.stderr
    assert bad.returncode != 0, output
    findings = re.findall(r"^\S+:\d+:\d+: (?:error|warning) \[[^\]]+\].*$", output, re.M)
    assert findings and len(findings) == len(set(findings)), output
    own, others = output.split("incidentops check (whole registry)", 1)
    assert "incidents/INC_001/incident.yaml:" in own and "[escalation.missing]" in own
    # the handoff did not change: its finding comes from the whole-registry hook, once
    assert "incidents/INC_001/handoff.yaml:" in others and "[handoff.mismatch]" in others
    assert "incidents/INC_001/incident.yaml:" not in others


def test_hooks_refuse_another_incidentops_version_once(example: Path, tmp_path: Path):
    env = _env(tmp_path)
    (tmp_path / "home").mkdir()
    config = _init_hooks(tmp_path).replace("--require-version 0.", "--require-version 99.")
    (example / ".pre-commit-config.yaml").write_text(config)
    sh("git", "init", "-q", "-b", "main", cwd=example)
    sh(*PRE_COMMIT, "install", cwd=example, env=env)
    sh("git", "add", "-A", cwd=example)
    result = sh("git", "commit", "-q", "-m", "Registry", cwd=example, env=env, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert output.count("this registry is pinned to incidentops 99.") == 1, output
    assert "incidentops init --upgrade" in output
