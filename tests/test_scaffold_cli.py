"""`incidentops init` and `incidentops new`: a new registry passes `check`; scaffolds are complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO, run_cli
from incidentops.records.kinds import FILES_REGEX


def test_init_makes_a_registry_that_passes_check(tmp_path: Path):
    target = tmp_path / "reg"
    result = run_cli("init", str(target))
    assert result.code == 0, result.err
    for rel in ("incidentops.yaml", "models.yaml", "mkdocs.yml", ".pre-commit-config.yaml",
                "schemas/incident.schema.json", "regressions/archive", "audit"):
        assert (target / rel).exists(), rel
    assert "incidentops-check" in (target / ".pre-commit-config.yaml").read_text()
    check = run_cli("check", cwd=target)
    assert check.code == 0, check.out + check.err
    again = run_cli("init", str(target))
    assert again.code == 2 and "already" in again.err


@pytest.mark.parametrize(("packaged", "source"), [
    ("incidentops.yaml", "incidentops.yaml"), ("mkdocs.yml", "mkdocs.yml"), ("contributing.md", "docs/contributing.md"),
])
def test_what_init_writes_is_what_this_registry_uses(packaged, source):
    used = (REPO / source).read_text()
    if packaged == "incidentops.yaml":  # the example registry declares its import and publishes one test's turns
        for example, default in EXAMPLE_ONLY:
            assert example in used
            used = used.replace(example, default)
    if packaged == "contributing.md":  # this repository's guide ends with the tool's own code layout
        used, tool_section, _ = used.partition("\n## Working on incidentops itself\n")
        assert tool_section
    assert (REPO / "tools/incidentops/scaffold" / packaged).read_text() == used


EXAMPLE_ONLY = (
    ('''  # This example registry was migrated into git on 2026-11-27, in one commit.
  imported_before: "2026-11-28T00:00:00Z"''', '''  imported_before: null               # e.g. "2026-11-28T00:00:00Z"'''),
    ('''  publish:
    # obsolete since aurora-3.0 normalises encoded text: kept public as a teaching example
    regression_INC_004: [regression.turns]''', "  publish: {}"),
)


@pytest.mark.slow
def test_a_new_registry_builds_its_site(tmp_path: Path):
    target = tmp_path / "reg"
    assert run_cli("init", str(target)).code == 0
    result = run_cli("site", "build", cwd=target)
    assert result.code == 0, result.out + result.err
    assert (target / "site" / "index.html").is_file()
    assert (target / "site" / "contributing.html").is_file()


def test_new_incident_uses_next_id_modeline_and_guides(example: Path):
    result = run_cli("new", "incident", "--as-of", "2026-11-20T10:00:00Z", cwd=example)
    assert result.code == 0, result.err
    ids = sorted(p.name for p in (example / "incidents").iterdir())
    newest = ids[-1]
    text = (example / "incidents" / newest / "incident.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../../schemas/incident.schema.json")
    assert f"id: {newest}" in text and 'detected_at: "2026-11-20T10:00:00Z"' in text
    items = run_cli("check", "--format", "json", f"incidents/{newest}", cwd=example).json()
    assert not [f for f in items if f["rule"].startswith(("schema.", "yaml."))], items


def test_new_postmortem_prepares_the_meeting(example: Path):
    inc = sorted(p.name for p in (example / "incidents").iterdir()
                 if not (p / "postmortem.md").exists())
    assert inc, "the example registry has an incident without postmortem"
    result = run_cli("new", "postmortem", inc[0], "--as-of", "2026-11-20T10:00:00Z", cwd=example)
    assert result.code == 0, result.err
    text = (example / "incidents" / inc[0] / "postmortem.md").read_text()
    assert "Ground rules" in text
    assert "## Summary" in text
    assert "attendees:" in text and "Incident commander" in text
    items = run_cli("check", "--format", "json", f"incidents/{inc[0]}/postmortem.md", cwd=example).json()
    assert not [f for f in items if f["rule"].startswith(("schema.", "yaml.", "frontmatter."))], items


def test_new_postmortem_for_unknown_incident(example: Path):
    result = run_cli("new", "postmortem", "INC_0001", cwd=example)
    assert result.code == 2 and "INC_001" in result.err


def test_hook_manifest_files_regex_is_generated_from_the_kinds():
    import re

    manifest = (REPO / ".pre-commit-hooks.yaml").read_text()
    assert manifest.count(f"files: '{FILES_REGEX}'") == 2
    pattern = re.compile(FILES_REGEX)
    for path in ("incidents/INC_001/incident.yaml", "incidents/INC_001/postmortem.md",
                 "regressions/archive/regression_INC_004.yaml", "audit/x.yaml", "incidentops.yaml"):
        assert pattern.search(path), path
    for path in ("README.md", "tools/incidentops/cli/check.py", "incidents/INC_001/notes.txt", "mkdocs.yml"):
        assert not pattern.search(path), path


def test_editor_settings_are_generated_from_the_kinds():
    from incidentops.records.kinds import editor_settings

    assert (REPO / ".vscode/settings.json").read_text() == editor_settings()


def test_init_never_writes_through_a_link_in_the_target(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "reg"
    target.mkdir()
    (target / "incidents").symlink_to(outside, target_is_directory=True)
    result = run_cli("init", str(target))
    assert result.code == 2, result.out + result.err
    assert "refusing to write" in result.err and "symbolic link" in result.err
    assert list(outside.iterdir()) == []


def test_init_through_a_linked_parent_works(tmp_path: Path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    result = run_cli("init", str(tmp_path / "link" / "reg"))
    assert result.code == 0, result.err
    assert (tmp_path / "real" / "reg" / "incidents" / ".gitkeep").is_file()
    assert (tmp_path / "real" / "reg" / "schemas" / "incident.schema.json").is_file()
