"""Check speed-ups never change findings: the result cache between runs, and the parallel check."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import incidentops.checks as checks
from conftest import run_cli
from incidentops.checks import check_registry
from incidentops.checks.cache import CACHE_DIR, CACHE_FILE
from incidentops.registry import Registry

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


def run(root: Path, *, cache: bool = True, paths: list[str] | None = None):
    return check_registry(Registry(root), AS_OF, paths, cache=cache)


def cache_file(root: Path) -> Path:
    return root / CACHE_DIR / CACHE_FILE


def entries(root: Path) -> dict:
    return json.loads(cache_file(root).read_text())["entries"]


def rules_at(findings, rule):
    return [(f.path, f.line, f.col, f.level) for f in findings if f.rule == rule]


def test_cached_run_gives_the_same_findings_and_keeps_the_folder_out_of_git(example: Path) -> None:
    uncached = run(example, cache=False)
    assert not (example / CACHE_DIR).exists()
    first = run(example)
    assert (example / CACHE_DIR / ".gitignore").read_text().splitlines()[-1] == "*"
    assert "pii\0incidents/INC_001/postmortem.md" in entries(example)
    second = run(example)
    assert uncached == first == second


def test_an_entry_is_read_back_only_for_the_same_text(example: Path) -> None:
    run(example)
    data = json.loads(cache_file(example).read_text())
    key = "blameless-postmortem\0incidents/INC_001/postmortem.md"
    data["entries"][key][2] = [[3, 1, "warning", "blameless.root-cause", "from the cache", ""]]
    cache_file(example).write_text(json.dumps(data))
    assert [f.message for f in run(example) if f.path.endswith("INC_001/postmortem.md")] == ["from the cache"]

    postmortem = example / "incidents/INC_001/postmortem.md"
    postmortem.write_text(postmortem.read_text() + "\nThe root cause was a missing check.\n")
    last = len(postmortem.read_text().splitlines())
    assert rules_at(run(example), "blameless.root-cause") == [
        ("incidents/INC_001/postmortem.md", last, 5, "warning")
    ]


@pytest.mark.parametrize(
    "damage",
    [
        "not json {",
        json.dumps([1, 2]),
        json.dumps({"format": 1, "salt": "x", "entries": {}}),
        "SALT",  # right salt, malformed entries
    ],
)
def test_a_corrupt_or_foreign_cache_is_ignored_and_rewritten(example: Path, damage: str) -> None:
    expected = run(example, cache=False)
    run(example)
    if damage == "SALT":
        salt = json.loads(cache_file(example).read_text())["salt"]
        damage = json.dumps({"format": 1, "salt": salt, "entries": {
            "pii\0incidents/INC_001/incident.yaml": ["d", "public", [["1", 1, "error", "pii.email", "m", ""]]],
            "pii\0incidents/INC_002/incident.yaml": "nonsense",
            "no separator": ["d", "", []],
        }})
    cache_file(example).write_text(damage)
    assert run(example) == expected
    assert json.loads(cache_file(example).read_text())["format"] == 1


def test_a_policy_change_empties_the_cache(example: Path) -> None:
    run(example)
    salt = json.loads(cache_file(example).read_text())["salt"]
    policy = example / "incidentops.yaml"
    policy.write_text(policy.read_text() + "\n# reviewed\n")
    run(example)  # the policy text changed but not its content: same salt
    assert json.loads(cache_file(example).read_text())["salt"] == salt
    policy.write_text(policy.read_text().replace("Widespread harm,", "Widespread harm to users,", 1))
    run(example)
    assert json.loads(cache_file(example).read_text())["salt"] != salt


def test_pii_level_follows_the_incident_visibility_even_when_cached(example: Path) -> None:
    postmortem = example / "incidents/INC_001/postmortem.md"
    postmortem.write_text(postmortem.read_text() + "\nContact: jane.roe@acme-corp.com\n")
    line = len(postmortem.read_text().splitlines())
    assert rules_at(run(example), "pii.email") == [("incidents/INC_001/postmortem.md", line, 10, "error")]
    incident = example / "incidents/INC_001/incident.yaml"
    text = incident.read_text()
    assert "visibility: public" in text
    incident.write_text(text.replace("visibility: public", "visibility: internal"))
    assert rules_at(run(example), "pii.email") == [("incidents/INC_001/postmortem.md", line, 10, "warning")]


def test_checking_some_files_keeps_the_entries_of_the_others(example: Path) -> None:
    run(example)
    before = set(entries(example))
    run(example, paths=["incidents/INC_001/incident.yaml"])
    assert set(entries(example)) == before


def test_a_whole_check_drops_entries_of_deleted_files(example: Path) -> None:
    run(example)
    assert [key for key in entries(example) if key.endswith("INC_007/postmortem.md")]
    (example / "incidents/INC_007/postmortem.md").unlink()
    run(example)
    assert not [key for key in entries(example) if key.endswith("INC_007/postmortem.md")]


def test_cli_no_cache_neither_reads_nor_writes(example: Path) -> None:
    result = run_cli("check", "--no-cache", "--format", "json", "--as-of", "2026-06-01", cwd=example)
    assert result.code in (0, 1), result.err
    assert not (example / CACHE_DIR).exists()
    cached = run_cli("check", "--format", "json", "--as-of", "2026-06-01", cwd=example)
    assert cached.json() == result.json()
    assert cache_file(example).is_file()


def test_parallel_check_finds_what_one_process_finds(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    postmortem = example / "incidents/INC_003/postmortem.md"
    postmortem.write_text(postmortem.read_text() + "\nAlice forgot to rotate the key.\n")
    one = run(example, cache=False)
    monkeypatch.setattr(checks, "PARALLEL_THRESHOLD", 1)
    many = run(example, cache=False)
    assert many == one
    assert ("blameless.named-individual", "incidents/INC_003/postmortem.md") in {(f.rule, f.path) for f in many}
    assert run(example) == one  # parallel, filling the cache
    assert run(example) == one  # parallel, reading it
