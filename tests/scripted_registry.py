"""A small registry with a scripted git history, for the lifecycle tests (decay, review, lifecycle, pr-check).

The history, first parent of main (committer dates are what counts):

    2024-01-20  add INC_003 (SEV-3) and regression_INC_003
    2024-02-01  add INC_007 (SEV-3) and regression_INC_007
    2024-03-10  add INC_001 (SEV-2) and its test as regressions/reframing.yaml
    2024-06-05  (branch pii) add INC_002 (SEV-1) and regression_INC_002
    2024-06-20  merge pii into main                        -> regression_INC_002 added here
    2025-01-10  deprecate regression_INC_007 and regression_INC_003
    2025-02-01  rename reframing.yaml -> regression_INC_001.yaml (age kept)
    2025-03-01  retire regression_INC_007: audit entry + move to regressions/archive/ (age kept)
    2025-12-01  add INC_004 (SEV-0) and regression_INC_004
    2026-04-15  KEEP decision on regression_INC_001 (quarterly review 2026-Q2)
    2026-05-10  add INC_005 (SEV-2, same attack vector as INC_001) and regression_INC_005

Models: aurora-0.9 (legacy family) -> aurora-1.0 (architecture) -> 1.1 (minor)
-> 2.0 (major) -> 2.1 (minor, current).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from conftest import Result, run_cli
from gitrepo import GitRepo

REPO_ROOT = Path(__file__).resolve().parents[1]

MODELS = """\
# yaml-language-server: $schema=./schemas/models.schema.json
current: aurora-2.1
models:
  - version: aurora-0.9
    released: "2023-06-01"
    family: legacy-recurrent
    change: initial
    predecessor: null
  - version: aurora-1.0
    released: "2024-01-10"
    family: aurora-dense
    change: architecture
    predecessor: aurora-0.9
  - version: aurora-1.1
    released: "2024-05-01"
    family: aurora-dense
    change: minor
    predecessor: aurora-1.0
  - version: aurora-2.0
    released: "2025-06-01"
    family: aurora-dense
    change: major
    predecessor: aurora-1.1
  - version: aurora-2.1
    released: "2026-02-01"
    family: aurora-dense
    change: minor
    predecessor: aurora-2.0
"""


@dataclass(frozen=True)
class Incident:
    id: str
    type: str
    severity: str
    vector: str
    detected: str  # RFC 3339
    model: str
    harm: str
    scope: str
    teams: tuple[str, ...]
    weight: float
    scenario: str


INCIDENTS = {
    "INC_001": Incident("INC_001", "policy_violation_isolated", "SEV-2", "multi_turn_reframing",
                        "2024-03-01T10:00:00Z", "aurora-1.1", "imminent", "single_user",
                        ("Safety team",), 0.8, "authority_reframe"),
    "INC_002": Incident("INC_002", "pii_exposure", "SEV-1", "memorised_completion",
                        "2024-06-03T10:00:00Z", "aurora-1.0", "occurred", "single_user",
                        ("Security", "Legal", "On-call"), 0.9, "memorised_completion"),
    "INC_003": Incident("INC_003", "policy_erosion", "SEV-3", "cipher_wrapped_request",
                        "2024-01-15T10:00:00Z", "aurora-0.9", "potential", "single_user",
                        ("Safety team",), 0.5, "cipher_wrapped_request"),
    "INC_004": Incident("INC_004", "mass_harmful_output", "SEV-0", "batch_prompt_injection",
                        "2025-11-20T10:00:00Z", "aurora-2.1", "occurred", "many_users",
                        ("Executive", "Legal", "PR", "All hands"), 1.0, "batch_prompt_injection"),
    "INC_005": Incident("INC_005", "policy_violation_isolated", "SEV-2", "multi_turn_reframing",
                        "2026-05-01T10:00:00Z", "aurora-2.0", "imminent", "single_user",
                        ("Safety team",), 0.8, "reframing_variant"),
    "INC_007": Incident("INC_007", "policy_erosion", "SEV-3", "grammar_exercise_framing",
                        "2024-01-25T10:00:00Z", "aurora-0.9", "potential", "single_user",
                        ("Safety team",), 0.5, "grammar_exercise_framing"),
}


def incident_text(inc: Incident) -> str:
    escalations = "\n".join(f"  - team: {team}\n    at: \"{inc.detected[:11]}10:10:00Z\"" for team in inc.teams)
    return f"""\
# yaml-language-server: $schema=../../schemas/incident.schema.json
id: {inc.id}
title: Scripted incident {inc.id} for the lifecycle tests
type: {inc.type}
severity: {inc.severity}
status: open
visibility: internal
detected_at: "{inc.detected}"
first_response_at: "{inc.detected[:11]}10:10:00Z"
model_version: {inc.model}
attack_vector: {inc.vector}
assessment:
  harm: {inc.harm}
  scope: {inc.scope}
  regulatory: false
  reputational_risk: normal
  exploitable_at_scale: false
escalations:
{escalations}
summary: |
  The model produced a response the safety policy does not allow. The
  conversation was reviewed and the attack was added to the regression suite.
timeline:
  - at: "{inc.detected}"
    event: Output classifier flagged the response.
"""


def handoff_text(inc: Incident) -> str:
    return f"""\
# yaml-language-server: $schema=../../schemas/handoff.schema.json
incident_id: {inc.id}
severity: {inc.severity}
incident_summary: Scripted incident {inc.id}
regression_test:
  test_id: regression_{inc.id}
  scenario: {inc.scenario}
  expected_block_turn: 1
  severity_weight: {inc.weight}
notes:
  - The attack succeeded in one turn
action_items:
  - Add the scenario to the regression suite
"""


def decision(at: str, what: str, to_state: str, reason: str, approver: str | None = None) -> str:
    text = f"""  - at: "{at}"
    decision: {what}
    to_state: {to_state}
    reason: {reason}
    by: Safety team
"""
    return text + (f"    approver: {approver}\n" if approver else "")


def regression_text(inc: Incident, state: str, status: str, model: str, decisions: list[str],
              *, archived: bool = False, override: str = "") -> str:
    prefix = "../../" if archived else "../"
    return f"""\
# yaml-language-server: $schema={prefix}schemas/regression.schema.json
# Born from {inc.id}. This comment must survive every lifecycle edit.
test_id: regression_{inc.id}
incident_id: {inc.id}
suite: model-safety-regression-suite
scenario: {inc.scenario}
turns:
  - Scripted attack turn for {inc.id}.
expected_block_turn: 1
severity_weight: {inc.weight}
state: {state}                # ACTIVE | MONITORING | DEPRECATED | RETIRED
owner: Safety team
model_version: {model}
attack_vector_status: {status}
scenario_still_relevant: true
{override}decisions:
""" + "".join(decisions)


def created(at: str, inc: str) -> str:
    return decision(at, "CREATE", "ACTIVE", f"Born from {inc}")


AUDIT_007 = """\
# yaml-language-server: $schema=../schemas/audit.schema.json
action: RETIRE_REGRESSION
test_id: regression_INC_007
original_incident: INC_007
reason_code: ATTACK_OBSOLETE
reason: The grammar exercise framing no longer works on any model in use.
approver: Safety council chair
requested_by: Safety team
timestamp: "2025-03-01T10:00:00Z"
"""
AUDIT_007_PATH = "audit/20250301T100000Z_RETIRE_REGRESSION_regression_INC_007.yaml"

# The test files as they stand at the tip of main.
T001 = lambda: regression_text(INCIDENTS["INC_001"], "ACTIVE", "viable", "aurora-1.1", [  # noqa: E731
    created("2024-03-10T09:00:00Z", "INC_001"),
    decision("2026-04-15T10:00:00Z", "KEEP", "ACTIVE", "Quarterly review 2026-Q2 - still seen on aurora-2.0",
             "Safety council chair"),
])
T002 = lambda: regression_text(INCIDENTS["INC_002"], "ACTIVE", "patched", "aurora-1.0", [  # noqa: E731
    created("2024-06-05T09:00:00Z", "INC_002"),
])
T003 = lambda: regression_text(INCIDENTS["INC_003"], "DEPRECATED", "obsolete", "aurora-0.9", [  # noqa: E731
    created("2024-01-20T09:00:00Z", "INC_003"),
    decision("2025-01-10T10:00:00Z", "DEPRECATE", "DEPRECATED", "The cipher attack is obsolete",
             "Safety council chair"),
])
T004 = lambda: regression_text(INCIDENTS["INC_004"], "ACTIVE", "viable", "aurora-2.1", [  # noqa: E731
    created("2025-12-01T09:00:00Z", "INC_004"),
])
T005 = lambda: regression_text(INCIDENTS["INC_005"], "ACTIVE", "patched", "aurora-2.0", [  # noqa: E731
    created("2026-05-10T09:00:00Z", "INC_005"),
])
T007_ACTIVE = lambda: regression_text(INCIDENTS["INC_007"], "ACTIVE", "viable", "aurora-0.9", [  # noqa: E731
    created("2024-02-01T09:00:00Z", "INC_007"),
])
T007_DEPRECATED = lambda: regression_text(INCIDENTS["INC_007"], "DEPRECATED", "obsolete", "aurora-0.9", [  # noqa: E731
    created("2024-02-01T09:00:00Z", "INC_007"),
    decision("2025-01-10T10:00:00Z", "DEPRECATE", "DEPRECATED", "Grammar framing obsolete", "Safety council chair"),
])
T007_RETIRED = lambda: regression_text(INCIDENTS["INC_007"], "RETIRED", "obsolete", "aurora-0.9", [  # noqa: E731
    created("2024-02-01T09:00:00Z", "INC_007"),
    decision("2025-01-10T10:00:00Z", "DEPRECATE", "DEPRECATED", "Grammar framing obsolete", "Safety council chair"),
    decision("2025-03-01T10:00:00Z", "RETIRE", "RETIRED", "ATTACK_OBSOLETE - no model in use is affected",
             "Safety council chair"),
], archived=True)


def _add_incident(repo: GitRepo, inc_id: str) -> None:
    inc = INCIDENTS[inc_id]
    repo.write(f"incidents/{inc_id}/incident.yaml", incident_text(inc))
    repo.write(f"incidents/{inc_id}/handoff.yaml", handoff_text(inc))


def build(path: Path) -> GitRepo:
    """Create the scripted registry repository at ``path``."""
    repo = GitRepo.init(path)
    repo.write("incidentops.yaml", (REPO_ROOT / "tools/incidentops/scaffold/incidentops.yaml").read_text())
    repo.write("models.yaml", MODELS)
    repo.commit("Registry policy and model lineage", date="2024-01-02T09:00:00Z")

    _add_incident(repo, "INC_003")
    repo.write("regressions/regression_INC_003.yaml", regression_text(
        INCIDENTS["INC_003"], "ACTIVE", "viable", "aurora-0.9", [created("2024-01-20T09:00:00Z", "INC_003")]))
    repo.commit("Add INC_003 and its regression test", date="2024-01-20T09:00:00Z")

    _add_incident(repo, "INC_007")
    repo.write("regressions/regression_INC_007.yaml", T007_ACTIVE())
    repo.commit("Add INC_007 and its regression test", date="2024-02-01T09:00:00Z")

    _add_incident(repo, "INC_001")
    repo.write("regressions/reframing.yaml", regression_text(
        INCIDENTS["INC_001"], "ACTIVE", "viable", "aurora-1.1", [created("2024-03-10T09:00:00Z", "INC_001")]))
    repo.commit("Add INC_001 and its regression test", date="2024-03-10T09:00:00Z")

    repo.branch("pii")
    _add_incident(repo, "INC_002")
    repo.write("regressions/regression_INC_002.yaml", T002())
    repo.commit("Add INC_002 and its regression test", date="2024-06-05T09:00:00Z")
    repo.checkout("main")
    repo.merge("pii", date="2024-06-20T09:00:00Z")

    repo.write("regressions/regression_INC_007.yaml", T007_DEPRECATED())
    repo.write("regressions/regression_INC_003.yaml", T003())
    repo.commit("Deprecate regression_INC_007 and regression_INC_003", date="2025-01-10T10:00:00Z")

    repo.mv("regressions/reframing.yaml", "regressions/regression_INC_001.yaml")
    repo.commit("Rename the INC_001 test after its id", date="2025-02-01T09:00:00Z")

    repo.write(AUDIT_007_PATH, AUDIT_007)
    repo.mv("regressions/regression_INC_007.yaml", "regressions/archive/regression_INC_007.yaml")
    repo.write("regressions/archive/regression_INC_007.yaml", T007_RETIRED())
    repo.commit("Retire regression_INC_007", date="2025-03-01T10:00:00Z")

    _add_incident(repo, "INC_004")
    repo.write("regressions/regression_INC_004.yaml", T004())
    repo.commit("Add INC_004 and its regression test", date="2025-12-01T09:00:00Z")

    repo.write("regressions/regression_INC_001.yaml", T001())
    repo.commit("Quarterly review 2026-Q2: keep regression_INC_001", date="2026-04-15T10:00:00Z")

    _add_incident(repo, "INC_005")
    repo.write("regressions/regression_INC_005.yaml", T005())
    repo.commit("Add INC_005 and its regression test", date="2026-05-10T09:00:00Z")
    return repo


def copy(template: GitRepo, dest: Path) -> GitRepo:
    """A private copy of a built repository (history included), safe to change."""
    shutil.copytree(template.path, dest, symlinks=True)
    return GitRepo(dest)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the working tree (outside .git), for before/after comparisons."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


#: git configuration of the machine running the tests must not leak into the commands under test
ISOLATED_GIT = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def run(repo: GitRepo, *args: str, env: dict[str, str] | None = None) -> Result:
    """`incidentops ARGS --root REPO` as a user types it, with the git configuration isolated."""
    return run_cli(*args, "--root", str(repo.path), env={**ISOLATED_GIT, **(env or {})})
