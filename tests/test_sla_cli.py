"""`incidentops sla`: per-incident response against the SLA, attainment, MTTA and MTTR."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import REPO, run_cli

AS_OF = "2026-06-01T12:00:00Z"

# id: (severity, detected_at, first_response_at, resolved_at)
INCIDENTS = {
    "INC_001": ("SEV-1", "2026-05-04T10:00:00Z", "2026-05-04T10:45:00Z", "2026-05-04T12:00:00Z"),  # met
    "INC_002": ("SEV-1", "2026-05-05T10:00:00Z", "2026-05-05T11:30:00Z", "2026-05-05T14:00:00Z"),  # breached
    # Friday 16:00 to Monday 11:00 London (GMT): 60 + 120 business minutes, met
    "INC_003": ("SEV-2", "2026-03-06T16:00:00Z", "2026-03-09T11:00:00Z", None),
    "INC_004": ("SEV-3", "2026-06-01T10:00:00Z", None, None),  # pending, 120 minutes so far
    "INC_005": ("SEV-0", "2026-06-01T11:00:00Z", None, None),  # breached: 60 minutes, no response
    "INC_006": ("SEV-2", "2026-06-02T09:00:00Z", None, None),  # detected after --as-of: left out
}


def incident_yaml(incident_id: str, severity: str, detected: str, response: str | None,
                  resolved: str | None) -> str:
    def stamp(value: str | None) -> str:
        return f'"{value}"' if value else "null"

    return f"""# yaml-language-server: $schema=../../schemas/incident.schema.json
id: {incident_id}
title: Safety caveats missing in long role-play conversations
type: policy_erosion
severity: {severity}
status: open
visibility: internal
detected_at: "{detected}"
first_response_at: {stamp(response)}
resolved_at: {stamp(resolved)}
model_version: aurora-2.0
attack_vector: long_conversation_drift
assessment:
  harm: potential
  scope: single_user
  regulatory: false
  reputational_risk: normal
  exploitable_at_scale: false
escalations: []
summary: Safety caveats went missing in long role-play conversations.
timeline:
  - at: "{detected}"
    event: Weekly evaluation flagged the pattern.
"""


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    for incident_id, (severity, detected, response, resolved) in INCIDENTS.items():
        folder = root / "incidents" / incident_id
        folder.mkdir(parents=True)
        (folder / "incident.yaml").write_text(incident_yaml(incident_id, severity, detected, response, resolved))
    for name in ("incidentops.yaml", "models.yaml"):
        shutil.copy2(REPO / name, root / name)
    return root


def test_json_report(registry: Path) -> None:
    result = run_cli("sla", "--as-of", AS_OF, "--format", "json", cwd=registry)
    assert result.code == 0, result.err
    data = result.json()
    assert data["as_of"] == AS_OF
    rows = {r["id"]: (r["severity"], r["clock"], r["response_minutes"], r["elapsed_minutes"],
                      r["sla_minutes"], r["status"]) for r in data["incidents"]}
    assert rows == {
        "INC_001": ("SEV-1", "wall", 45, 45, 60, "met"),
        "INC_002": ("SEV-1", "wall", 90, 90, 60, "breached"),
        "INC_003": ("SEV-2", "business", 180, 180, 240, "met"),
        "INC_004": ("SEV-3", "wall", None, 120, 1440, "pending"),
        "INC_005": ("SEV-0", "wall", None, 60, 15, "breached"),
    }
    assert data["attainment"] == {
        "SEV-0": {"met": 0, "breached": 1, "pending": 0, "attainment": 0.0},
        "SEV-1": {"met": 1, "breached": 1, "pending": 0, "attainment": 0.5},
        "SEV-2": {"met": 1, "breached": 0, "pending": 0, "attainment": 1.0},
        "SEV-3": {"met": 0, "breached": 0, "pending": 1, "attainment": None},
    }
    # wall-clock means: (45 + 90 + 4020) / 3 and (120 + 240) / 2
    assert data["mtta_minutes"] == pytest.approx(1385.0)
    assert data["mttr_minutes"] == pytest.approx(180.0)
    assert data["skipped"] == []


def test_text_report(registry: Path) -> None:
    result = run_cli("sla", "--as-of", AS_OF, cwd=registry)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == f"Response SLA as of {AS_OF}"
    row = next(line for line in lines if line.startswith("INC_003"))
    assert row.split() == ["INC_003", "SEV-2", "180", "240", "business", "met"]
    row = next(line for line in lines if line.startswith("INC_004"))
    assert row.split() == ["INC_004", "SEV-3", "(120)", "1440", "wall", "pending"]
    assert not any(line.startswith("INC_006") for line in lines)
    assert "  SEV-1    50%  met 1, breached 1, pending 0" in lines
    assert "  SEV-3      -  met 0, breached 0, pending 1" in lines
    assert "MTTA (detection to first response): 23 h 05 min" in lines
    assert "MTTR (detection to resolution):     3 h 00 min" in lines


def test_as_of_before_the_response_makes_it_pending(registry: Path) -> None:
    result = run_cli("sla", "--as-of", "2026-05-04T10:30:00Z", "--format", "json", cwd=registry)
    assert result.code == 0, result.err
    data = result.json()
    assert [(r["id"], r["response_minutes"], r["status"]) for r in data["incidents"]] == [
        ("INC_001", None, "pending"), ("INC_003", 180, "met"),
    ]
    assert data["mttr_minutes"] is None


def test_broken_record_is_skipped_with_a_message(registry: Path) -> None:
    path = registry / "incidents/INC_002/incident.yaml"
    path.write_text(path.read_text().replace("severity: SEV-1", "severity: SEV-9"))
    bad_order = registry / "incidents/INC_001/incident.yaml"
    bad_order.write_text(bad_order.read_text().replace('first_response_at: "2026-05-04T10:45:00Z"',
                                                       'first_response_at: "2026-05-04T09:45:00Z"'))
    result = run_cli("sla", "--as-of", AS_OF, "--format", "json", cwd=registry)
    assert result.code == 0, result.err
    assert "skipped incidents/INC_002/incident.yaml: it has errors" in result.err
    assert "skipped incidents/INC_001/incident.yaml: INC_001: first_response_at is before detected_at" in result.err
    data = result.json()
    assert data["skipped"] == ["incidents/INC_001/incident.yaml", "incidents/INC_002/incident.yaml"]
    assert [r["id"] for r in data["incidents"]] == ["INC_003", "INC_004", "INC_005"]


def test_outside_a_registry(tmp_path: Path) -> None:
    result = run_cli("sla", cwd=tmp_path)
    assert result.code == 2
    assert "no incidentops.yaml" in result.err
