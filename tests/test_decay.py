"""Decay assessment: pure factors and recommendations, then `incidentops decay` on a scripted history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

import scripted_registry
import typed_records
from conftest import run_cli
from gitrepo import GitRepo
from incidentops.lifecycle.decay import (
    ARCHITECTURE_CHANGE,
    MAJOR_UPDATE,
    MINOR_UPDATE,
    SAME_VERSION,
    UNKNOWN,
    Factors,
    ModelChange,
    Thresholds,
    days_in_suite,
    entered_suite,
    last_review_at,
    model_change,
    recommend,
    reverified_at,
    review_due_at,
    similar_incidents,
)
from incidentops.lifecycle.history import FileHistory
from incidentops.records.registry import default_policy

GIT_ENV = scripted_registry.ISOLATED_GIT
AS_OF = datetime(2026, 10, 1, tzinfo=UTC)

LINEAGE_DATA = {
    "m-0.9": {"family": "legacy", "change": "initial", "predecessor": None},
    "m-1.0": {"family": "dense", "change": "architecture", "predecessor": "m-0.9"},
    "m-1.1": {"family": "dense", "change": "minor", "predecessor": "m-1.0"},
    "m-2.0": {"family": "dense", "change": "major", "predecessor": "m-1.1"},
    "m-2.1": {"family": "dense", "change": "minor", "predecessor": "m-2.0"},
    "m-2.0-lite": {"family": "dense", "change": "minor", "predecessor": "m-2.0"},
    "m-x": {"family": "moe", "change": "minor", "predecessor": "m-2.1"},  # family change, mislabelled
}
LINEAGE = typed_records.models(LINEAGE_DATA)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    return scripted_registry.build(tmp_path_factory.mktemp("decay") / "registry")


# --- model relevance: walk the lineage from the test's version to current ---------------


@pytest.mark.parametrize(
    ("version", "current", "kind", "path"),
    [
        ("m-2.1", "m-2.1", SAME_VERSION, ()),
        ("m-2.0", "m-2.1", MINOR_UPDATE, ("m-2.1",)),
        ("m-1.1", "m-2.1", MAJOR_UPDATE, ("m-2.0", "m-2.1")),
        ("m-1.0", "m-1.1", MINOR_UPDATE, ("m-1.1",)),
        ("m-0.9", "m-2.1", ARCHITECTURE_CHANGE, ("m-1.0", "m-1.1", "m-2.0", "m-2.1")),
        ("m-2.1", "m-x", ARCHITECTURE_CHANGE, ("m-x",)),  # the family changed: architecture, whatever the label
        ("m-2.0-lite", "m-2.1", UNKNOWN, ()),  # a sibling, not an ancestor
        ("m-9.9", "m-2.1", UNKNOWN, ()),
        (None, "m-2.1", UNKNOWN, ()),
    ],
)
def test_model_change(version: str | None, current: str, kind: str, path: tuple[str, ...]) -> None:
    assert model_change(LINEAGE, version, current) == ModelChange(kind, path)


def test_model_change_survives_a_cycle() -> None:
    looped = typed_records.models({"a": {"family": "f", "change": "minor", "predecessor": "b"},
                                   "b": {"family": "f", "change": "minor", "predecessor": "a"},
                                   "c": {"family": "f", "change": "initial", "predecessor": None}})
    assert model_change(looped, "c", "a") == ModelChange(UNKNOWN)


def test_similar_incidents_same_vector_or_type_within_the_window() -> None:
    incidents = {incident_id: typed_records.incident(id=incident_id, **fields) for incident_id, fields in {
        "INC_001": {"attack_vector": "reframe", "type": "t1", "detected_at": "2026-03-01T00:00:00Z"},
        "INC_002": {"attack_vector": "reframe", "type": "t2", "detected_at": "2025-10-01T00:00:00Z"},  # window edge: out
        "INC_003": {"attack_vector": "other", "type": "t1", "detected_at": "2025-10-01T00:00:01Z"},
        "INC_004": {"attack_vector": "other", "type": "t9", "detected_at": "2026-09-01T00:00:00Z"},
        "INC_005": {"attack_vector": "reframe", "type": "t1", "detected_at": "2026-10-02T00:00:00Z"},  # after as_of
    }.items()}  # an incident whose detected_at is not a date has no typed form: it is never a candidate
    found = similar_incidents(incidents, "INC_001", "reframe", "t1", AS_OF, 365)
    assert found == ("INC_003",)
    assert similar_incidents(incidents, "INC_004", "other", "t9", AS_OF, 365) == ("INC_003",)


def test_last_review_ignores_create_and_the_future() -> None:
    decisions = typed_records.decisions(
        {"at": "2024-01-01T00:00:00Z", "decision": "CREATE"},
        {"at": "2025-05-01T00:00:00Z", "decision": "KEEP"},
        {"at": "2026-11-01T00:00:00Z", "decision": "DEPRECATE", "to_state": "DEPRECATED"},
    )
    assert last_review_at(decisions, AS_OF) == datetime(2025, 5, 1, tzinfo=UTC)
    assert last_review_at(decisions[:1], AS_OF) is None
    assert last_review_at((), AS_OF) is None


# --- the recommendation ---------------------------------------------------------------


def factors(**changes: object) -> Factors:
    base: dict[str, object] = dict(
        test_id="regression_X", state="ACTIVE", age=500, uncommitted=False, severity="SEV-2",
        since_incident=500, status="viable", relevant=True, version="m-2.1", current="m-2.1",
        change=ModelChange(SAME_VERSION), similar=(), since_review=100, review_due=False,
    )
    base.update(changes)
    return Factors(**base)  # type: ignore[arg-type]


T = Thresholds()
ARCH = ModelChange(ARCHITECTURE_CHANGE, ("m-3.0",))


def test_a_viable_test_on_the_same_model_is_kept() -> None:
    assert recommend(factors(), T) == ("KEEP", ("attack still viable", "same model version"))


def test_a_young_test_is_kept_even_when_everything_else_says_retire() -> None:
    result = recommend(factors(age=200, severity="SEV-3", since_incident=900, relevant=True), T)
    assert result == ("KEEP", (
        "in the suite for 200 days (< 365): keep active for a year", "attack still viable", "same model version",
    ))


def test_a_young_test_with_a_patched_attack_may_be_deprecated_not_retired() -> None:
    result = recommend(factors(age=100, status="patched", change=ARCH, version="m-2.1"), T)
    assert result == ("CONSIDER_DEPRECATION", (
        "attack vector patched",
        "model architecture changed since m-2.1 (m-3.0)",
        "in the suite for 100 days (< 365): too young to retire",
    ))


def test_an_old_obsolete_sev3_test_is_a_retirement_candidate() -> None:
    result = recommend(factors(severity="SEV-3", status="obsolete", since_incident=800), T)
    assert result == ("CONSIDER_RETIREMENT", ("attack vector obsolete", "SEV-3 incident", "incident 800 days ago (> 730)"))


def test_one_signal_of_decay_means_deprecation() -> None:
    assert recommend(factors(relevant=False), T) == (
        "CONSIDER_DEPRECATION", ("scenario no longer relevant (product changed)",))


def test_an_old_sev3_test_of_an_old_incident_is_a_deprecation_candidate_even_if_viable() -> None:
    assert recommend(factors(severity="SEV-3", since_incident=731), T) == (
        "CONSIDER_DEPRECATION", ("SEV-3 incident", "incident 731 days ago (> 730)"))


def test_similar_incidents_turn_removal_into_review() -> None:
    result = recommend(factors(severity="SEV-3", status="obsolete", since_incident=800, similar=("INC_009",)), T)
    assert result == ("REVIEW", (
        "attack vector obsolete", "SEV-3 incident", "incident 800 days ago (> 730)",
        "1 similar incident(s) in the last 365 days (INC_009): the threat is still seen",
    ))


@pytest.mark.parametrize("severity", ["SEV-0", "SEV-1"])
def test_sev01_tests_stay_unless_patched_and_the_architecture_changed(severity: str) -> None:
    patched_only = recommend(factors(severity=severity, status="patched", since_incident=900), T)
    assert patched_only == ("REVIEW", (
        "attack vector patched", "incident 900 days ago (> 730)",
        f"{severity} test: SEV-0/1 tests stay unless the attack is patched and the model architecture changed",
    ))
    both = recommend(factors(severity=severity, status="patched", change=ARCH), T)
    assert both == ("CONSIDER_RETIREMENT", ("attack vector patched", "model architecture changed since m-2.1 (m-3.0)"))


def test_model_changes_and_stale_reviews_ask_for_a_review() -> None:
    major = ModelChange(MAJOR_UPDATE, ("m-2.0", "m-2.1"))
    assert recommend(factors(change=major, version="m-1.1"), T) == (
        "REVIEW", ("major model update since m-1.1 (m-2.0 -> m-2.1): re-verify the test",))
    assert recommend(factors(review_due=True, since_review=None), T) == (
        "REVIEW", ("in the suite for 500 days, never reviewed: due for its review (every 365 days)",))
    assert recommend(factors(change=ModelChange(UNKNOWN), version="m-2.0-lite"), T) == (
        "REVIEW", ("model version m-2.0-lite is not in the lineage of the current model m-2.1: check the test still applies",))


def test_a_keep_after_the_model_change_is_the_re_verification() -> None:
    major = ModelChange(MAJOR_UPDATE, ("m-2.0", "m-2.1"))
    models = typed_records.models({**LINEAGE_DATA, "m-2.0": {**LINEAGE_DATA["m-2.0"], "released": "2026-01-10"},
                                   "m-2.1": {**LINEAGE_DATA["m-2.1"], "released": "2026-05-01"}})
    before = typed_records.decisions({"decision": "CREATE", "at": "2025-01-01T00:00:00Z"},
                                     {"decision": "KEEP", "at": "2026-01-09T00:00:00Z"})
    after = (*before, *typed_records.decisions({"decision": "KEEP", "at": "2026-02-01T12:00:00Z"}))
    assert reverified_at(before, major, models, AS_OF) is None  # the KEEP came before m-2.0 was released
    when = reverified_at(after, major, models, AS_OF)
    assert when == datetime(2026, 2, 1, 12, tzinfo=UTC)  # m-2.1 is a minor step: m-2.0's release counts
    assert reverified_at(after, major, models, datetime(2026, 1, 20, tzinfo=UTC)) is None  # not yet taken then
    assert recommend(factors(change=major, version="m-1.1", reverified_at=when), T) == (
        "KEEP", ("attack still viable",
                 "re-verified after the major model update (m-2.0 -> m-2.1): KEEP decision of 2026-02-01"))
    # a model released after the KEEP: that KEEP did not re-verify the test against it, still a review
    assert reverified_at(after, major, typed_records.models(LINEAGE_DATA, released="2026-03-01"), AS_OF) is None
    assert reverified_at(after, ModelChange(MINOR_UPDATE, ("m-2.1",)), models, AS_OF) is None


def test_time_in_suite_and_review_due_date_have_one_definition() -> None:
    imported = FileHistory("regressions/t.yaml", datetime(2026, 11, 27, tzinfo=UTC),
                           datetime(2026, 11, 27, tzinfo=UTC), 1, ("regressions/t.yaml",), imported=True)
    create = {"decision": "CREATE", "at": "2025-10-17T09:00:00Z"}
    data = typed_records.regression(state="ACTIVE", decisions=[create])
    assert entered_suite(data, imported) == datetime(2025, 10, 17, 9, tzinfo=UTC)
    assert days_in_suite(data, imported, datetime(2026, 11, 30, tzinfo=UTC)) == 408
    # without the declaration git is authoritative, and a CREATE later than git's date never makes a test younger
    assert entered_suite(data, replace(imported, imported=False)) == datetime(2026, 11, 27, tzinfo=UTC)
    late = typed_records.regression(decisions=[{"decision": "CREATE", "at": "2026-11-29T00:00:00Z"}])
    assert entered_suite(late, imported) == datetime(2026, 11, 27, tzinfo=UTC)
    retired = typed_records.regression(state="RETIRED", decisions=[
        create, {"decision": "RETIRE", "to_state": "RETIRED", "at": "2026-09-01T10:00:00Z"}])
    assert days_in_suite(retired, imported, datetime(2026, 11, 30, tzinfo=UTC)) == 319  # until it retired
    entered = entered_suite(data, imported)
    assert review_due_at(entered, None, 365) == datetime(2026, 10, 17, 9, tzinfo=UTC)
    assert review_due_at(entered, datetime(2026, 10, 20, tzinfo=UTC), 365) == datetime(2027, 10, 20, tzinfo=UTC)


def test_thresholds_come_from_the_policy() -> None:
    regression = {**default_policy()["regression"], "protected_severities": ["SEV-0"]}
    policy = typed_records.policy({
        "decay": {"keep_if_younger_than_days": 90, "consider_retiring_after_days": 180,
                  "similar_incidents_window_days": 30, "review_stale_after_days": 60,
                  "model_relevance": {"same_version": "Same", "minor_update": "Minor",
                                      "major_update": "Major", "architecture_change": "Arch"}},
        "regression": regression,
        "severity_levels": [{"id": "SEV-0"}, {"id": "SEV-1"}, {"id": "SEV-2"}],
    })
    t = Thresholds.from_policy(policy)
    assert (t.keep_if_younger_than_days, t.consider_retiring_after_days, t.similar_incidents_window_days,
            t.review_stale_after_days) == (90, 180, 30, 60)
    assert t.protected_severities == ("SEV-0",)
    assert t.lowest_severity == "SEV-2"
    assert t.relevance["architecture_change"] == "Arch"
    # SEV-1 is not protected under this policy, and 100 days is old enough
    result = recommend(factors(age=100, severity="SEV-1", status="patched", since_incident=200), t)
    assert result == ("CONSIDER_RETIREMENT", ("attack vector patched", "incident 200 days ago (> 180)"))


# --- `incidentops decay` on the scripted history -----------------------------------------


def decay_json(repo: GitRepo, *args: str) -> dict:
    result = run_cli("decay", "--root", str(repo.path), "--format", "json", *args, env=GIT_ENV)
    assert result.code == 0, result.err
    return result.json()


def test_decay_json_gives_the_figures_the_history_implies(repo: GitRepo) -> None:
    report = decay_json(repo, "--as-of", "2026-10-01")
    assert report["as_of"] == "2026-10-01T00:00:00Z"
    assert report["current_model"] == "aurora-2.1"
    assert report["counts"] == {"KEEP": 2, "REVIEW": 1, "CONSIDER_DEPRECATION": 1, "CONSIDER_RETIREMENT": 1}
    rows = {t["test_id"]: t for t in report["tests"]}
    assert list(rows) == ["regression_INC_001", "regression_INC_002", "regression_INC_003",
                          "regression_INC_004", "regression_INC_005"]  # the RETIRED one is left out
    keys = ("state", "added_at", "age_days", "incident_id", "incident_severity", "model_change",
            "model_relevance", "attack_vector_status", "similar_incidents_12m", "recommendation")
    table = {tid: tuple(row[k] for k in keys) for tid, row in rows.items()}
    assert table == {
        # added 2024-03-10 as reframing.yaml: the 2025 rename keeps its age; the KEEP of 2026-04-15
        # came after aurora-2.0 was released: it re-verified the test
        "regression_INC_001": ("ACTIVE", "2024-03-10T09:00:00Z", 934, "INC_001", "SEV-2", "major_update",
                               "Re-verify, may need adjustment", "viable", 1, "KEEP"),
        # committed on a branch on 2024-06-05, landed with the merge on 2024-06-20
        "regression_INC_002": ("ACTIVE", "2024-06-20T09:00:00Z", 832, "INC_002", "SEV-1", "major_update",
                               "Re-verify, may need adjustment", "patched", 0, "REVIEW"),
        "regression_INC_003": ("DEPRECATED", "2024-01-20T09:00:00Z", 984, "INC_003", "SEV-3", "architecture_change",
                               "Test may not apply, review", "obsolete", 0, "CONSIDER_RETIREMENT"),
        "regression_INC_004": ("ACTIVE", "2025-12-01T09:00:00Z", 303, "INC_004", "SEV-0", "same_version",
                               "Definitely relevant", "viable", 0, "KEEP"),
        "regression_INC_005": ("ACTIVE", "2026-05-10T09:00:00Z", 143, "INC_005", "SEV-2", "minor_update",
                               "Likely relevant", "patched", 0, "CONSIDER_DEPRECATION"),
    }
    assert rows["regression_INC_001"]["similar_incident_ids"] == ["INC_005"]
    assert rows["regression_INC_001"]["last_review_at"] == "2026-04-15T10:00:00Z"
    assert rows["regression_INC_001"]["days_since_review"] == 168
    assert rows["regression_INC_001"]["reverified_at"] == "2026-04-15T10:00:00Z"
    # due a year after it entered the suite, then a year after its last review
    assert rows["regression_INC_001"]["review_due_at"] == "2027-04-15T10:00:00Z"
    assert rows["regression_INC_002"]["review_due_at"] == "2025-06-20T09:00:00Z"
    assert [row["review_due"] for row in rows.values()] == [False, True, True, False, False]
    assert rows["regression_INC_002"]["days_since_incident"] == 849
    assert {tid: row["reasons"] for tid, row in rows.items()} == {
        "regression_INC_001": ["attack still viable", "1 similar incident(s) in the last 365 days",
                               "re-verified after the major model update (aurora-2.0 -> aurora-2.1): KEEP decision"
                               " of 2026-04-15"],
        "regression_INC_002": [
            "attack vector patched", "incident 849 days ago (> 730)",
            "SEV-1 test: SEV-0/1 tests stay unless the attack is patched and the model architecture changed",
        ],
        "regression_INC_003": [
            "attack vector obsolete",
            "model architecture changed since aurora-0.9 (aurora-1.0 -> aurora-1.1 -> aurora-2.0 -> aurora-2.1)",
            "SEV-3 incident", "incident 989 days ago (> 730)",
        ],
        "regression_INC_004": [
            "in the suite for 303 days (< 365): keep active for a year", "SEV-0 test: SEV-0/1 tests stay",
            "attack still viable", "same model version",
        ],
        "regression_INC_005": ["attack vector patched", "in the suite for 143 days (< 365): too young to retire"],
    }


def test_retired_tests_only_on_request_and_archiving_keeps_their_age(repo: GitRepo) -> None:
    report = decay_json(repo, "--as-of", "2026-10-01", "--state", "RETIRED")
    # in the suite from 2024-02-01 until its RETIRE decision of 2025-03-01: 394 days, whatever the date today
    assert [(t["test_id"], t["path"], t["added_at"], t["age_days"], t["recommendation"], t["review_due_at"])
            for t in report["tests"]] == [
        ("regression_INC_007", "regressions/archive/regression_INC_007.yaml", "2024-02-01T09:00:00Z", 394, None,
         None),
    ]
    both = decay_json(repo, "--as-of", "2026-10-01", "--state", "DEPRECATED", "--state", "RETIRED")
    assert [t["test_id"] for t in both["tests"]] == ["regression_INC_003", "regression_INC_007"]


def test_decay_as_of_an_earlier_date_sees_the_history_of_that_day(repo: GitRepo) -> None:
    report = decay_json(repo, "--as-of", "2025-01-15", "--state", "ACTIVE", "--state", "DEPRECATED")
    rows = {t["test_id"]: t for t in report["tests"]}
    # On 2025-01-15 regression_INC_001 was still reframing.yaml: git follows the later rename
    assert (rows["regression_INC_001"]["added_at"], rows["regression_INC_001"]["age_days"]) == ("2024-03-10T09:00:00Z", 310)
    assert rows["regression_INC_001"]["last_review_at"] is None
    # regression_INC_004 did not exist yet: no history as of that day
    assert (rows["regression_INC_004"]["uncommitted"], rows["regression_INC_004"]["age_days"]) == (True, 0)
    assert rows["regression_INC_001"]["similar_incidents_12m"] == 0


def test_decay_table_and_markdown(repo: GitRepo) -> None:
    table = run_cli("decay", "--root", str(repo.path), "--as-of", "2026-10-01", env=GIT_ENV)
    assert table.code == 0
    lines = table.out.splitlines()
    assert lines[0].split() == ["TEST", "STATE", "DAYS", "INCIDENT", "SEV", "MODEL", "ATTACK", "SIMILAR",
                                "RECOMMENDATION", "REASONS"]
    assert lines[4].split()[:9] == ["regression_INC_004", "ACTIVE", "303", "INC_004", "SEV-0", "same", "viable",
                                    "0", "KEEP"]
    assert table.err.strip() == ("5 test(s) assessed as of 2026-10-01: KEEP 2, REVIEW 1, CONSIDER_DEPRECATION 1,"
                                 " CONSIDER_RETIREMENT 1.")
    md = run_cli("decay", "--root", str(repo.path), "--as-of", "2026-10-01", "--format", "markdown", env=GIT_ENV)
    assert md.code == 0
    assert md.out.splitlines()[0] == "## Decay assessment as of 2026-10-01"
    assert ("| `regression_INC_005` | ACTIVE | 143 | INC_005 | SEV-2 | Likely relevant | patched | 0 |"
            " **CONSIDER_DEPRECATION** | attack vector patched<br>in the suite for 143 days (&lt; 365):"
            " too young to retire |") in md.out


def test_an_uncommitted_test_has_no_time_in_the_suite(repo: GitRepo, tmp_path: Path) -> None:
    copy = scripted_registry.copy(repo, tmp_path / "copy")
    text = copy.read("regressions/regression_INC_004.yaml").replace("regression_INC_004", "regression_INC_004_b")
    copy.write("regressions/regression_INC_004_b.yaml", text, add=False)
    rows = {t["test_id"]: t for t in decay_json(copy, "--as-of", "2026-10-01")["tests"]}
    new = rows["regression_INC_004_b"]
    assert (new["uncommitted"], new["age_days"], new["added_at"], new["recommendation"]) == (
        True, 0, "2026-10-01T00:00:00Z", "KEEP")
    assert new["reasons"][0] == "no git history yet: no time in the suite (< 365): keep active for a year"


def test_decay_refuses_a_shallow_clone(repo: GitRepo, tmp_path: Path) -> None:
    shallow = GitRepo.clone(repo, tmp_path / "shallow", depth=1)
    result = run_cli("decay", "--root", str(shallow.path), "--as-of", "2026-10-01", env=GIT_ENV)
    assert result.code == 2
    assert "shallow clone" in result.err
    assert "fetch-depth: 0" in result.err


def test_decay_outside_a_registry_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("decay", "--root", str(tmp_path), env=GIT_ENV)
    assert result.code == 2
    assert "is not a registry" in result.err
