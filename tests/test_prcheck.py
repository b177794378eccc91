"""pr-check end to end: each forbidden change on a branch of the scripted registry, with its rule and location."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import scripted_registry
from conftest import run_cli
from gitrepo import GitRepo
from scripted_registry import AUDIT_007_PATH, INCIDENTS, T007_ACTIVE, decision, regression_text

GIT_ENV = scripted_registry.ISOLATED_GIT
T001 = "regressions/regression_INC_001.yaml"
T004 = "regressions/regression_INC_004.yaml"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    return scripted_registry.build(tmp_path_factory.mktemp("prcheck") / "registry")


@pytest.fixture
def repo(template: GitRepo, tmp_path: Path) -> GitRepo:
    return scripted_registry.copy(template, tmp_path / "registry")


cli = scripted_registry.run


def pull_request(repo: GitRepo, change: Callable[[GitRepo], None], date: str = "2026-10-20T09:00:00Z",
                 *extra: str) -> list[tuple[str, int, int, str]]:
    """Make ``change`` on a branch, commit it, and return pr-check's findings against main."""
    repo.branch("change")
    change(repo)
    repo.git("add", "-A")
    repo.commit("The change under review", date=date)
    result = cli(repo, "pr-check", "--base", "main", "--format", "json", "--as-of", date, *extra)
    assert result.code in (0, 1), result.err
    data = result.json()
    found = [(f["path"], f["line"], f["col"], f["rule"]) for f in data["findings"]]
    assert result.code == (1 if found else 0)
    return found


def edit(repo: GitRepo, path: str, old: str, new: str) -> None:
    text = repo.read(path)
    assert old in text, old
    repo.write(path, text.replace(old, new, 1))


def test_a_clean_retirement_passes(repo: GitRepo) -> None:
    def retire(r: GitRepo) -> None:
        result = cli(r, "lifecycle", "retire", "regression_INC_003", "--reason", "Obsolete", "--reason-code",
                     "ATTACK_OBSOLETE", "--approver", "Safety council chair", "--as-of", "2026-10-20T08:00:00Z")
        assert result.code == 0, result.err

    assert pull_request(repo, retire) == []
    text = cli(repo, "pr-check", "--base", "main", "--as-of", "2026-10-20T09:00:00Z")
    assert (text.code, text.out, text.err) == (0, "", "pr-check main..HEAD: 1 test(s) changed, 0 error(s),"
                                                      " 0 warning(s). Approvers were taken as named (no --approvals).\n")


def test_a_deleted_test(repo: GitRepo) -> None:
    assert pull_request(repo, lambda r: r.rm(T001)) == [(T001, 3, 10, "pr.test-deleted")]


def test_a_deleted_archived_test(repo: GitRepo) -> None:
    archived = "regressions/archive/regression_INC_007.yaml"
    assert pull_request(repo, lambda r: r.rm(archived)) == [(archived, 3, 10, "pr.test-deleted")]
    result = cli(repo, "pr-check", "--base", "main")
    assert result.out.splitlines()[0] == (
        f"{archived}:3:10: error [pr.test-deleted] archived (RETIRED) test regression_INC_007 was deleted"
        " instead of archived")


def test_a_retirement_by_hand_without_audit_is_an_illegal_transition(repo: GitRepo) -> None:
    def change(r: GitRepo) -> None:
        edit(r, T001, "state: ACTIVE ", "state: RETIRED")
        r.write(T001, r.read(T001) + decision("2026-10-20T09:00:00Z", "RETIRE", "RETIRED", "Old", "Chair"))

    assert pull_request(repo, change) == [(T001, 11, 8, "pr.retire-audit"), (T001, 30, 15, "pr.transition")]


def test_a_state_change_without_a_decision(repo: GitRepo) -> None:
    found = pull_request(repo, lambda r: edit(r, T001, "state: ACTIVE    ", "state: MONITORING"))
    assert found == [(T001, 11, 8, "pr.decision-missing")]


def test_rewriting_the_decision_history(repo: GitRepo) -> None:
    found = pull_request(repo, lambda r: edit(r, T001, "reason: Born from INC_001", "reason: Born earlier"))
    assert found == [(T001, 17, 5, "pr.decision-history")]


def test_an_audit_entry_modified_or_deleted(repo: GitRepo) -> None:
    found = pull_request(repo, lambda r: edit(r, AUDIT_007_PATH, "reason: The grammar", "reason: A grammar"))
    assert found == [(AUDIT_007_PATH, 6, 1, "pr.audit-modified")]
    repo.checkout("main")
    repo.git("branch", "-D", "change")
    assert pull_request(repo, lambda r: r.rm(AUDIT_007_PATH)) == [(AUDIT_007_PATH, 1, 1, "pr.audit-deleted")]


def deprecate_004(approver: str, override: bool = False) -> Callable[[GitRepo], None]:
    def change(r: GitRepo) -> None:
        edit(r, T004, "state: ACTIVE    ", "state: DEPRECATED")
        if override:
            edit(r, T004, "decisions:\n", "override:\n  reason: Covered by the batch injection suite\n"
                                          "  approver: Safety council chair\ndecisions:\n")
        r.write(T004, r.read(T004) + decision("2026-06-01T09:00:00Z", "DEPRECATE", "DEPRECATED",
                                              "Covered elsewhere", approver))
    return change


def test_a_sev0_test_deprecated_within_a_year_needs_an_override(repo: GitRepo) -> None:
    # added 2025-12-01 09:00, changed 2026-06-01 09:00: 182 days, judged at the head commit's date
    found = pull_request(repo, deprecate_004("Safety council chair"), "2026-06-01T09:00:00Z")
    assert found == [(T004, 11, 8, "pr.override-required")]
    result = cli(repo, "pr-check", "--base", "main", "--as-of", "2026-06-01T09:00:00Z")
    assert result.out.splitlines()[0] == (
        f"{T004}:11:8: error [pr.override-required] regression_INC_004 DEPRECATED without an approved override:"
        " it is a SEV-0 test (SEV-0/1 tests stay); it is 182 days old, younger than the 365-day minimum"
        " (in the suite since 2025-12-01, from the base's git history)")
    # --as-of judges the age at another date
    later = cli(repo, "pr-check", "--base", "main", "--as-of", "2027-01-01", "--format", "json").json()
    assert [f["message"].split(": ", 1)[1] for f in later["findings"]] == [
        "it is a SEV-0 test (SEV-0/1 tests stay)"]


def test_with_an_override_and_a_distinct_approver_it_passes(repo: GitRepo) -> None:
    assert pull_request(repo, deprecate_004("Safety council chair", override=True), "2026-06-01T09:00:00Z") == []


def test_the_approver_of_a_sev0_decision_must_not_be_the_requester(repo: GitRepo) -> None:
    found = pull_request(repo, deprecate_004("Safety Team", override=True), "2026-06-01T09:00:00Z")
    assert found == [(T004, 26, 15, "pr.approver")]


def test_a_retired_id_reused(repo: GitRepo) -> None:
    path = "regressions/regression_INC_007.yaml"
    assert pull_request(repo, lambda r: r.write(path, T007_ACTIVE())) == [(path, 3, 10, "pr.id-reused")]


def test_a_new_test_needs_its_incident_and_handoff(repo: GitRepo) -> None:
    path = "regressions/regression_INC_099.yaml"
    stray = INCIDENTS["INC_001"].__class__(**{**INCIDENTS["INC_001"].__dict__, "id": "INC_099"})
    created = [decision("2026-05-30T09:00:00Z", "CREATE", "ACTIVE", "Born from INC_099")]
    found = pull_request(repo, lambda r: r.write(path, regression_text(stray, "ACTIVE", "viable", "aurora-2.1", created)))
    assert found == [(path, 4, 14, "pr.new-test-handoff"), (path, 4, 14, "pr.new-test-incident")]


def test_an_incident_or_its_handoff_deleted(repo: GitRepo) -> None:
    def change(r: GitRepo) -> None:
        r.rm("incidents/INC_005/incident.yaml")
        r.rm("incidents/INC_005/handoff.yaml")

    assert pull_request(repo, change) == [
        ("incidents/INC_005/handoff.yaml", 2, 1, "pr.handoff-deleted"),
        ("incidents/INC_005/incident.yaml", 2, 1, "pr.incident-deleted"),
    ]


def test_a_postmortem_deleted(repo: GitRepo) -> None:
    repo.write("incidents/INC_005/postmortem.md", "---\nincident: INC_005\nstatus: draft\n---\n## Summary\n")
    repo.commit("Draft the INC_005 postmortem", date="2026-10-01T09:00:00Z")
    found = pull_request(repo, lambda r: r.rm("incidents/INC_005/postmortem.md"))
    assert found == [("incidents/INC_005/postmortem.md", 2, 1, "pr.postmortem-deleted")]


def test_keep_without_justification(repo: GitRepo) -> None:
    def change(r: GitRepo) -> None:
        r.write(T001, r.read(T001) + decision("2026-10-20T09:00:00Z", "KEEP", "ACTIVE", '" "'))
        r.write("reviews/2026-Q4.yaml", "quarter: 2026-Q4\nstatus: open\ntests:\n"
                "  - test_id: regression_INC_001\n    decision: KEEP\n    justification: null\n")

    assert pull_request(repo, change) == [
        ("regressions/regression_INC_001.yaml", 29, 15, "pr.keep-justification"),
        ("reviews/2026-Q4.yaml", 5, 15, "pr.keep-justification"),
    ]


def test_the_policy_of_the_base_decides(repo: GitRepo) -> None:
    """A pull request cannot relax the state machine and use the relaxed rule in the same change."""
    def change(r: GitRepo) -> None:
        edit(r, "incidentops.yaml", "    ACTIVE: [MONITORING, DEPRECATED]", "    ACTIVE: [MONITORING, DEPRECATED, RETIRED]")
        test_text_now = r.read(T001)
        r.write(T001, test_text_now.replace("state: ACTIVE ", "state: RETIRED") + decision(
            "2026-10-20T09:00:00Z", "RETIRE", "RETIRED", "Old", "Chair"))

    assert (T001, 30, 15, "pr.transition") in pull_request(repo, change)


def test_a_revert_of_a_retirement_is_judged_like_any_change(repo: GitRepo) -> None:
    result = cli(repo, "lifecycle", "retire", "regression_INC_003", "--reason", "Obsolete", "--reason-code",
                 "ATTACK_OBSOLETE", "--approver", "Safety council chair", "--as-of", "2026-10-20T08:00:00Z")
    assert result.code == 0
    repo.commit("Retire regression_INC_003", date="2026-10-20T09:00:00Z")
    audit = "audit/20261020T080000Z_RETIRE_REGRESSION_regression_INC_003.yaml"
    found = pull_request(repo, lambda r: r.git("revert", "--no-commit", "HEAD"), "2026-10-21T09:00:00Z")
    assert found == [
        (audit, 1, 1, "pr.audit-deleted"),
        ("regressions/regression_INC_003.yaml", 11, 8, "pr.transition"),
        ("regressions/regression_INC_003.yaml", 17, 3, "pr.decision-history"),
    ]


def test_github_annotations(repo: GitRepo) -> None:
    pull_request(repo, lambda r: r.rm(T001))
    result = cli(repo, "pr-check", "--base", "main", "--head", "change", "--format", "github")
    assert result.code == 1
    assert result.out == (
        f"::error file={T001},line=3,col=10,title=pr.test-deleted::regression test regression_INC_001 was deleted"
        " instead of archived (hint: retire it with `incidentops lifecycle retire`, which moves it to"
        " regressions/archive/ with an audit entry)\n")


def test_unknown_revisions_and_shallow_clones_are_usage_errors(repo: GitRepo, tmp_path: Path) -> None:
    missing = cli(repo, "pr-check", "--base", "origin/main")
    assert missing.code == 2
    assert missing.err.splitlines()[0].endswith("git revision 'origin/main' not found")
    shallow = GitRepo.clone(repo, tmp_path / "shallow", depth=2)
    result = run_cli("pr-check", "--base", "HEAD~1", "--root", str(shallow.path), env=GIT_ENV)
    assert result.code == 2
    assert "shallow clone" in result.err


def test_a_running_test_with_a_placeholder_turn(repo: GitRepo) -> None:
    path = "regressions/regression_INC_001.yaml"
    found = pull_request(repo, lambda r: edit(r, path, "  - Scripted attack turn for INC_001.",
                                              '  - "TODO: user turn 1 of the attack"'))
    # rewriting a blocking test's attack needs approval too; a placeholder never passes, approved or not
    assert found == [(path, 8, 3, "pr.weakening"), (path, 8, 5, "pr.placeholder-turn")]


def test_a_deprecated_test_with_a_placeholder_turn_passes(repo: GitRepo) -> None:
    path = "regressions/regression_INC_003.yaml"
    assert "state: DEPRECATED" in repo.read(path)
    assert pull_request(repo, lambda r: edit(r, path, "  - Scripted attack turn for INC_003.",
                                             '  - "TODO: user turn 1 of the attack"')) == []


# --- an import declared in the policy is judged at the base -----------------------------------

T005 = "regressions/regression_INC_005.yaml"
NO_IMPORT = 'imported_before: null               # e.g. "2026-11-28T00:00:00Z"'


def migrate_on_main(repo: GitRepo, declare: bool) -> None:
    """On main: regression_INC_005's record says it was created in 2024 (it predates its git history)."""
    edit(repo, T005, 'at: "2026-05-10T09:00:00Z"', 'at: "2024-01-05T09:00:00Z"')
    if declare:
        edit(repo, "incidentops.yaml", NO_IMPORT, 'imported_before: "2026-06-01T00:00:00Z"')
    repo.git("add", "-A")
    repo.commit("Records migrated from the old tracker", date="2026-06-01T10:00:00Z")


def deprecate_005(r: GitRepo) -> None:
    edit(r, T005, "state: ACTIVE    ", "state: DEPRECATED")
    r.write(T005, r.read(T005) + decision("2026-10-20T08:00:00Z", "DEPRECATE", "DEPRECATED", "Patched",
                                          "Safety council chair"))


def test_a_test_imported_as_the_base_declares_is_as_old_as_its_create_decision(repo: GitRepo) -> None:
    migrate_on_main(repo, declare=True)
    # git dates the file 2026-05-10 (163 days); the base declares the import, so its CREATE of 2024 counts
    assert pull_request(repo, deprecate_005) == []


def test_without_the_declaration_git_alone_dates_the_test(repo: GitRepo) -> None:
    migrate_on_main(repo, declare=False)
    assert pull_request(repo, deprecate_005) == [(T005, 11, 8, "pr.override-required")]
    result = cli(repo, "pr-check", "--base", "main", "--as-of", "2026-10-20T09:00:00Z")
    assert "it is 163 days old, younger than the 365-day minimum (in the suite since 2026-05-10, from the base's" \
           " git history)" in result.out


def test_a_pull_request_cannot_declare_the_import_that_would_age_its_own_test(repo: GitRepo) -> None:
    migrate_on_main(repo, declare=False)

    def declare_and_deprecate(r: GitRepo) -> None:
        edit(r, "incidentops.yaml", NO_IMPORT, 'imported_before: "2026-06-01T00:00:00Z"')
        deprecate_005(r)

    found = pull_request(repo, declare_and_deprecate)
    assert (T005, 11, 8, "pr.override-required") in found  # judged by the base's policy: no import
    assert any(rule == "pr.policy-change" for *_, rule in found)


def test_a_test_added_after_the_import_is_dated_by_git_whatever_its_create_says(repo: GitRepo) -> None:
    migrate_on_main(repo, declare=True)
    repo.write("regressions/regression_INC_009.yaml", repo.read(T005).replace("regression_INC_005",
                                                                               "regression_INC_009"))
    repo.git("add", "-A")
    repo.commit("A new test with a backdated CREATE", date="2026-07-01T10:00:00Z")

    def deprecate_009(r: GitRepo) -> None:
        path = "regressions/regression_INC_009.yaml"
        edit(r, path, "state: ACTIVE    ", "state: DEPRECATED")
        r.write(path, r.read(path) + decision("2026-10-20T08:00:00Z", "DEPRECATE", "DEPRECATED", "Patched",
                                              "Safety council chair"))

    found = pull_request(repo, deprecate_009)
    assert ("regressions/regression_INC_009.yaml", 11, 8, "pr.override-required") in found
