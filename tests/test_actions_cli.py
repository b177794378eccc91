"""`incidentops actions`: open postmortem action items by owner, overdue ones flagged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import REPO, run_cli

AS_OF = "2026-06-01"

# incident: [(id, owner, due, status)]
ACTIONS = {
    "INC_001": [
        ("A1", "Safety team", "2026-05-01", "open"),  # 31 days overdue
        ("A2", "Safety team", "2026-04-01", "done"),
        ("A3", "Release engineering", "2026-07-01", "in_progress"),
        ("A4", "Safety team", "2026-01-01", "deferred"),
    ],
    "INC_002": [
        ("A1", "safety  team", "2026-06-01", "open"),  # due today: not overdue
        ("A2", "Product team", "2026-05-31", "in_progress"),  # 1 day overdue
    ],
}


def postmortem_md(incident_id: str, actions: list[tuple[str, str, str, str]]) -> str:
    lines = [
        "---", f"incident: {incident_id}", "status: published", "review_type: full",
        'meeting_at: "2026-03-13T10:00:00Z"', 'published_at: "2026-03-14T09:00:00Z"',
        "attendees: [Incident commander]",
        "contributing_factors:", "  - The classifier scored each message on its own.",
        "action_items:",
    ]
    for action_id, owner, due, status in actions:
        lines += [f"  - id: {action_id}", f"    description: Follow-up {action_id} of {incident_id}",
                  f"    owner: {owner}", f'    due: "{due}"', f"    status: {status}"]
        if status == "deferred":
            lines.append("    deferred_reason: Waiting for the classifier rewrite.")
    lines += ["---", "", "## Summary", ""]
    return "\n".join(lines) + "\n"


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    for incident_id, actions in ACTIONS.items():
        folder = root / "incidents" / incident_id
        folder.mkdir(parents=True)
        (folder / "postmortem.md").write_text(postmortem_md(incident_id, actions))
    for name in ("incidentops.yaml", "models.yaml"):
        shutil.copy2(REPO / name, root / name)
    return root


def listed(data: dict) -> list[tuple[str, str, str, bool]]:
    return [(group["owner"], item["incident"], item["id"], item["overdue"])
            for group in data["owners"] for item in group["items"]]


def test_json_groups_open_items_by_owner(registry: Path) -> None:
    result = run_cli("actions", "--as-of", AS_OF, "--format", "json", cwd=registry)
    assert result.code == 0, result.err
    data = result.json()
    assert listed(data) == [
        ("Product team", "INC_002", "A2", True),
        ("Release engineering", "INC_001", "A3", False),
        ("Safety team", "INC_001", "A1", True),
        ("Safety team", "INC_002", "A1", False),  # "safety  team" is the same owner
    ]
    assert (data["total"], data["overdue"]) == (4, 2)
    first = data["owners"][2]["items"][0]
    assert first == {
        "incident": "INC_001", "id": "A1", "description": "Follow-up A1 of INC_001",
        "owner": "Safety team", "due": "2026-05-01", "status": "open", "overdue": True,
        "days_overdue": 31, "path": "incidents/INC_001/postmortem.md", "line": 11, "tracker": None,
    }


def test_owner_filter_ignores_case_and_spacing(registry: Path) -> None:
    result = run_cli("actions", "--owner", "SAFETY TEAM", "--as-of", AS_OF, "--format", "json", cwd=registry)
    assert result.code == 0, result.err
    assert listed(result.json()) == [("Safety team", "INC_001", "A1", True), ("Safety team", "INC_002", "A1", False)]


def test_overdue_only(registry: Path) -> None:
    result = run_cli("actions", "--overdue", "--as-of", AS_OF, "--format", "json", cwd=registry)
    assert result.code == 0, result.err
    assert listed(result.json()) == [("Product team", "INC_002", "A2", True), ("Safety team", "INC_001", "A1", True)]


def test_text_output(registry: Path) -> None:
    result = run_cli("actions", "--as-of", AS_OF, cwd=registry)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert "Safety team: 2 open, 1 overdue" in lines
    assert "Release engineering: 1 open" in lines
    row = next(line for line in lines if "INC_001 A1" in line)
    assert "due 2026-05-01" in row and row.endswith("OVERDUE by 31 days")
    row = next(line for line in lines if "INC_002 A2" in line)
    assert row.endswith("OVERDUE by 1 day")
    assert "      incidents/INC_001/postmortem.md:11" in lines
    assert lines[-1] == "4 open action item(s), 2 overdue, as of 2026-06-01."


def test_nothing_open(registry: Path) -> None:
    result = run_cli("actions", "--owner", "Legal", "--as-of", AS_OF, cwd=registry)
    assert result.code == 0, result.err
    assert result.out.strip() == "No open action items as of 2026-06-01."


def test_broken_postmortem_is_skipped_with_a_message(registry: Path) -> None:
    path = registry / "incidents/INC_002/postmortem.md"
    path.write_text(path.read_text().replace('due: "2026-05-31"', 'due: "31/05/2026"'))
    result = run_cli("actions", "--as-of", AS_OF, "--format", "json", cwd=registry)
    assert result.code == 0, result.err
    assert "skipped incidents/INC_002/postmortem.md: it has errors" in result.err
    data = result.json()
    assert data["skipped"] == ["incidents/INC_002/postmortem.md"]
    assert [item[1] for item in listed(data)] == ["INC_001", "INC_001"]


def test_bad_as_of_is_a_usage_error(registry: Path) -> None:
    result = run_cli("actions", "--as-of", "tomorrow", cwd=registry)
    assert result.code == 2
    assert "--as-of 'tomorrow' is not a date or timestamp" in result.err
