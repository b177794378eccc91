"""Pull requests that try to weaken the suite or rewrite history, next to the legitimate changes they imitate.

Each attack is a real branch of the scripted registry (tests/scripted_registry.py),
judged by the real `incidentops pr-check`; the CI clock is given as --as-of, as
the workflow's clock would be. Trusted: the base branch, that clock, and the git
host's reviews (fixtures in the shape GitHub's REST API returns).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

import scripted_registry
from gitrepo import GitRepo
from scripted_registry import decision

cli = scripted_registry.run
T001 = "regressions/regression_INC_001.yaml"  # SEV-2, in the suite since 2024-03-10
T004 = "regressions/regression_INC_004.yaml"  # SEV-0, since 2025-12-01
T005 = "regressions/regression_INC_005.yaml"  # SEV-2, since 2026-05-10
INC_004 = "incidents/INC_004/incident.yaml"
NOW = "2026-10-20T09:00:00Z"
CHAIR = "Safety council chair"
CHAIR_LOGIN = "safety-council-chair"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    return scripted_registry.build(tmp_path_factory.mktemp("weakening") / "registry")


@pytest.fixture
def repo(template: GitRepo, tmp_path: Path) -> GitRepo:
    return scripted_registry.copy(template, tmp_path / "registry")


def edit(repo: GitRepo, path: str, old: str, new: str) -> None:
    text = repo.read(path)
    assert old in text, old
    repo.write(path, text.replace(old, new, 1))


def line(repo: GitRepo, path: str, start: str, nth: int = -1) -> int:
    """The number of the ``nth`` line of ``path`` that starts (after indentation) with ``start``."""
    numbers = [n for n, text in enumerate(repo.read(path).splitlines(), start=1)
               if text.lstrip(" -").startswith(start)]
    return numbers[nth]


def reviews(path: Path, *items: tuple[str, str, str, str]) -> Path:
    """A reviews file as `gh api repos/o/r/pulls/n/reviews` writes it: (login, state, commit, submitted_at)."""
    path.write_text(json.dumps([
        {"id": n, "node_id": f"PRR_{n}", "user": {"login": login, "id": 1000 + n, "type": "User"},
         "body": "", "state": state, "html_url": f"https://github.com/o/r/pull/7#pullrequestreview-{n}",
         "author_association": "MEMBER", "submitted_at": when, "commit_id": commit}
        for n, (login, state, commit, when) in enumerate(items, start=1)
    ], indent=2))
    return path


def propose(repo: GitRepo, change: Callable[[GitRepo], None], date: str = NOW) -> str:
    """Make ``change`` on a branch and commit it; return the head commit."""
    repo.branch("change")
    change(repo)
    repo.git("add", "-A")
    repo.commit("The change under review", date=date)
    return repo.head()


def judge(repo: GitRepo, *extra: str, as_of: str = NOW) -> list[tuple[str, int, int, str]]:
    args = ["pr-check", "--base", "main", "--format", "json", *(["--as-of", as_of] if as_of else []), *extra]
    result = cli(repo, *args)
    assert result.code in (0, 1), result.err
    found = [(f["path"], f["line"], f["col"], f["rule"]) for f in result.json()["findings"]]
    assert result.code == (1 if any(f["level"] == "error" for f in result.json()["findings"]) else 0)
    return found


def messages(repo: GitRepo, *extra: str) -> list[str]:
    result = cli(repo, "pr-check", "--base", "main", "--format", "json", "--as-of", NOW, *extra)
    return [f"{f['rule']}: {f['message']}" for f in result.json()["findings"]]


def move(path: str, to_state: str, label: str, approver: str | None = None, at: str = "2026-10-20T08:00:00Z",
         from_state: str = "ACTIVE") -> Callable[[GitRepo], None]:
    def change(r: GitRepo) -> None:
        edit(r, path, f"state: {from_state}", f"state: {to_state}")
        entry = decision(at, label, to_state, "Reviewed", approver)
        r.write(path, r.read(path) + entry.replace(f"    to_state: {to_state}\n",
                                                   f"    from_state: {from_state}\n    to_state: {to_state}\n"))
    return change


# --- 2. weakening judged by its effect, not its label ------------------------------------


@pytest.mark.parametrize("label", ["KEEP", "CREATE"])
def test_a_keep_or_create_that_moves_a_sev0_test_out_of_the_blocking_set(repo: GitRepo, label: str) -> None:
    propose(repo, move(T004, "MONITORING", label))
    at = line(repo, T004, "decision:")
    assert judge(repo) == [(T004, at, 15, "pr.approver"), (T004, at, 15, "pr.decision-label")]
    assert any("ACTIVE -> MONITORING weakens the test's hold on releases" in m for m in messages(repo))
    # `check` on the branch says the same about the record itself
    check = cli(repo, "check", "--format", "json", "--as-of", NOW)
    assert check.code == 1
    assert [(f["path"], f["line"], f["rule"]) for f in check.json() if f["rule"].startswith("lifecycle.")] == [
        (T004, at, "lifecycle.decision-label")]


def test_a_real_keep_and_an_approved_monitor_pass(repo: GitRepo) -> None:
    def keep(r: GitRepo) -> None:
        r.write(T004, r.read(T004) + decision("2026-10-20T08:00:00Z", "KEEP", "ACTIVE",
                                              "Still seen on aurora-2.1 in October"))
    propose(repo, keep)
    assert judge(repo) == []
    repo.checkout("main")
    repo.git("branch", "-D", "change")
    propose(repo, move(T004, "MONITORING", "MONITOR", CHAIR))
    assert judge(repo) == []


@pytest.mark.parametrize("breakage", [
    ("severity_weight: 1.0", "severity_weight: heavy"),      # a value of the wrong type
    ("owner:", "reviewed_by: Safety team\nowner:"),            # a field the schema does not know
])
def test_a_weakening_inside_a_record_that_fails_its_schema_is_refused_as_a_whole(repo: GitRepo, breakage) -> None:
    """A record that fails its schema has no typed form: pr-check refuses the change as a whole."""
    old, new = breakage
    assert old in repo.read(T004)

    def change(r: GitRepo) -> None:
        move(T004, "MONITORING", "KEEP")(r)
        edit(r, T004, old, new)
    propose(repo, change)
    found = [(path, rule) for path, _l, _c, rule in judge(repo)]
    assert found == [(T004, "pr.invalid-record")]
    assert any("fails its schema at the head" in m for m in messages(repo))
    check = cli(repo, "check", "--format", "json", "--as-of", NOW)
    assert check.code == 1
    assert any(f["path"] == T004 and f["rule"].startswith("schema.") for f in check.json())


def test_a_decision_that_does_not_start_where_the_last_one_ended(repo: GitRepo) -> None:
    propose(repo, _chain_break)
    assert (T004, line(repo, T004, "from_state:"), 17, "pr.decision-chain") in judge(repo)


def _chain_break(r: GitRepo) -> None:
    edit(r, T004, "state: ACTIVE", "state: MONITORING")
    r.write(T004, r.read(T004) + '  - at: "2026-10-20T08:00:00Z"\n    decision: MONITOR\n'
            "    from_state: DEPRECATED\n    to_state: MONITORING\n    reason: Reviewed\n"
            f"    by: Safety team\n    approver: {CHAIR}\n")


# --- 3. lowering a protection in the same pull request that uses it ----------------------


def _lower_and_deprecate(r: GitRepo) -> None:
    edit(r, INC_004, "severity: SEV-0", "severity: SEV-2")
    r.write(INC_004, r.read(INC_004) + "severity_override:\n  reason: On reflection only one tenant\n"
            f"  approver: {CHAIR}\n")
    move(T004, "DEPRECATED", "DEPRECATE", CHAIR)(r)


def test_lowering_the_severity_and_deprecating_in_one_pull_request(repo: GitRepo) -> None:
    head = propose(repo, _lower_and_deprecate)
    found = judge(repo, as_of="2027-02-01T00:00:00Z")  # old enough by then: only the severity protects it
    assert found == [(T004, 11, 8, "pr.override-required")]
    assert "it is a SEV-0 test (SEV-0/1 tests stay)" in cli(
        repo, "pr-check", "--base", "main", "--as-of", "2027-02-01T00:00:00Z").out
    # the git host shows nobody approved: the self-written severity override does not count either
    evidence = reviews(repo.path.parent / "reviews.json", ("mallory", "COMMENTED", head, "2027-01-31T10:00:00Z"))
    found = judge(repo, "--approvals", str(evidence), as_of="2027-02-01T00:00:00Z")
    assert (INC_004, 35, 13, "pr.severity-lowered") in found
    assert (T004, 11, 8, "pr.override-required") in found


def test_a_severity_lowered_inside_an_incident_that_fails_its_schema_is_refused(repo: GitRepo) -> None:
    def lower_and_break(r: GitRepo) -> None:
        _lower_and_deprecate(r)
        r.write(INC_004, r.read(INC_004) + "blast_radius: one tenant\n")  # a field the schema does not know
    propose(repo, lower_and_break)
    found = judge(repo, as_of="2027-02-01T00:00:00Z")
    assert (INC_004, "pr.invalid-record") in [(path, rule) for path, _l, _c, rule in found]
    # the test keeps the protection of the severity the base records: still SEV-0
    assert (T004, 11, 8, "pr.override-required") in found


def test_an_approved_severity_change_passes_and_protects_from_then_on(repo: GitRepo) -> None:
    def lower(r: GitRepo) -> None:
        edit(r, INC_004, "severity: SEV-0", "severity: SEV-2")
        r.write(INC_004, r.read(INC_004) + f"severity_override:\n  reason: One tenant only\n  approver: {CHAIR}\n")
    head = propose(repo, lower)
    evidence = reviews(repo.path.parent / "reviews.json", (CHAIR_LOGIN, "APPROVED", head, "2026-10-20T10:00:00Z"))
    assert judge(repo, "--approvals", str(evidence)) == []


# --- 4. leaving the gate by renaming ----------------------------------------------------


def test_a_misspelt_suite_takes_a_blocking_test_out_of_the_gate(repo: GitRepo) -> None:
    propose(repo, lambda r: edit(r, T001, "suite: model-safety-regression-suite", "suite: model-safety-regresion-suite"))
    assert judge(repo) == [(T001, 5, 8, "pr.weakening")]
    assert any("a suite the policy does not know" in m for m in messages(repo))


def test_moving_a_test_to_a_declared_suite_with_an_approval_passes(repo: GitRepo) -> None:
    def change(r: GitRepo) -> None:
        edit(r, "incidentops.yaml", "  suites: [model-safety-regression-suite]",
             "  suites: [model-safety-regression-suite, tenant-isolation]")
        edit(r, T001, "suite: model-safety-regression-suite", "suite: tenant-isolation")
    head = propose(repo, change)
    assert sorted(rule for *_, rule in judge(repo)) == ["pr.policy-change", "pr.weakening"]
    evidence = reviews(repo.path.parent / "reviews.json", (CHAIR_LOGIN, "APPROVED", head, "2026-10-20T10:00:00Z"))
    assert judge(repo, "--approvals", str(evidence)) == []


@pytest.mark.parametrize(("old", "new", "where"), [
    ("  blocking_states: [ACTIVE]", "  blocking_states: []", (173, 3)),
    ("  flaky_pass_rate: {min: 0.2, max: 0.95}", "  flaky_pass_rate: {min: 0.0, max: 0.01}", (None, None)),
    ("    ACTIVE: [MONITORING, DEPRECATED]", "    ACTIVE: [MONITORING, DEPRECATED, RETIRED]", (None, None)),
])
def test_a_policy_change_needs_an_approval_on_the_host(repo: GitRepo, old: str, new: str, where: tuple) -> None:
    head = propose(repo, lambda r: edit(r, "incidentops.yaml", old, new))
    found = judge(repo)
    assert [(path, rule) for path, _, _, rule in found] == [("incidentops.yaml", "pr.policy-change")]
    line = next(n for n, text in enumerate(repo.read("incidentops.yaml").splitlines(), start=1) if text == new)
    assert found[0][1] == line
    # approved by an account the base's policy names: it passes
    evidence = reviews(repo.path.parent / "ok.json", (CHAIR_LOGIN, "APPROVED", head, "2026-10-20T10:00:00Z"))
    assert judge(repo, "--approvals", str(evidence)) == []


def test_a_pull_request_cannot_name_its_own_approvers(repo: GitRepo) -> None:
    """The accounts behind approver names come from the base's policy, never the head's."""
    def change(r: GitRepo) -> None:
        edit(r, "incidentops.yaml", f"  {CHAIR}: {CHAIR_LOGIN}", f"  {CHAIR}: mallory")
        move(T004, "MONITORING", "MONITOR", CHAIR)(r)
    head = propose(repo, change)
    evidence = reviews(repo.path.parent / "reviews.json", ("mallory", "APPROVED", head, "2026-10-20T10:00:00Z"))
    found = judge(repo, "--approvals", str(evidence))
    assert found == [("incidentops.yaml", line(repo, "incidentops.yaml", CHAIR), 25, "pr.policy-change"),
                     (T004, line(repo, T004, "decision:"), 15, "pr.approver")]


# --- 5. the author's clock --------------------------------------------------------------


def test_a_commit_from_the_future_does_not_make_a_young_test_old(repo: GitRepo) -> None:
    head = propose(repo, move(T005, "DEPRECATED", "DEPRECATE", CHAIR, at="2028-06-01T08:00:00Z"),
                   date="2028-06-01T09:00:00Z")
    found = judge(repo)  # the CI clock says 2026-10-20
    assert found == [
        (f"commit {head[:12]}", 1, 1, "pr.commit-date"),
        (T005, 11, 8, "pr.override-required"),
        (T005, line(repo, T005, "at:"), 9, "pr.decision-date"),
    ]
    assert any("it is 163 days old" in m for m in messages(repo))


def test_without_as_of_the_real_clock_judges(repo: GitRepo) -> None:
    head = propose(repo, move(T001, "MONITORING", "MONITOR", CHAIR, at="2099-01-01T00:00:00Z"),
                   date="2099-01-01T00:00:00Z")
    found = judge(repo, as_of="")
    assert (f"commit {head[:12]}", 1, 1, "pr.commit-date") in found
    assert (T001, line(repo, T001, "at:"), 9, "pr.decision-date") in found


def test_a_backdated_new_test_is_still_new(repo: GitRepo) -> None:
    """A test added by the pull request is 0 days old, whatever date its commit claims."""
    def add(r: GitRepo) -> None:
        inc = scripted_registry.INCIDENTS["INC_005"]
        other = inc.__class__(**{**inc.__dict__, "id": "INC_006", "scenario": "reframing_again"})
        r.write("incidents/INC_006/incident.yaml", scripted_registry.incident_text(other))
        r.write("incidents/INC_006/handoff.yaml", scripted_registry.handoff_text(other))
        r.write("regressions/regression_INC_006.yaml", scripted_registry.regression_text(
            other, "ACTIVE", "viable", "aurora-2.0", [scripted_registry.created("2020-01-01T09:00:00Z", "INC_006")]))
        r.commit("Add INC_006 long ago", date="2020-01-01T09:00:00Z")
        move("regressions/regression_INC_006.yaml", "DEPRECATED", "DEPRECATE", CHAIR)(r)
    propose(repo, add)
    found = judge(repo)
    assert ("regressions/regression_INC_006.yaml", 11, 8, "pr.override-required") in found
    assert any("it is 0 days old" in m for m in messages(repo))


def test_decisions_out_of_order(repo: GitRepo) -> None:
    propose(repo, move(T001, "MONITORING", "MONITOR", CHAIR, at="2026-01-01T00:00:00Z"))
    assert judge(repo) == [(T001, line(repo, T001, "at:"), 9, "pr.decision-date")]
    assert any("before decision 2 (2026-04-15T10:00:00Z)" in m for m in messages(repo))


# --- 6. history that can be rewritten ---------------------------------------------------


RELEASE = """\
# yaml-language-server: $schema=../schemas/release.schema.json
release: aurora-2.1
decision: BLOCK
"""


def test_a_recorded_gate_decision_edited_or_deleted(repo: GitRepo) -> None:
    repo.write("releases/aurora-2.1.yaml", RELEASE)
    repo.commit("Record the aurora-2.1 gate", date="2026-10-01T09:00:00Z")
    propose(repo, lambda r: edit(r, "releases/aurora-2.1.yaml", "decision: BLOCK", "decision: PASS"))
    assert judge(repo) == [("releases/aurora-2.1.yaml", 3, 1, "pr.release-modified")]
    repo.checkout("main")
    repo.git("branch", "-D", "change")
    propose(repo, lambda r: r.rm("releases/aurora-2.1.yaml"))
    assert judge(repo) == [("releases/aurora-2.1.yaml", 1, 1, "pr.release-deleted")]


def test_a_new_release_record_passes(repo: GitRepo) -> None:
    propose(repo, lambda r: r.write("releases/aurora-2.2.yaml", RELEASE.replace("2.1", "2.2")))
    assert judge(repo) == []


def test_code_owners_review_the_records_that_are_history() -> None:
    owners = (Path(__file__).resolve().parents[2] / ".github/CODEOWNERS").read_text()
    covered = {line.split()[0] for line in owners.splitlines() if line.strip() and not line.startswith("#")}
    assert {"/releases/", "/audit/", "/regressions/", "/incidentops.yaml", "/.github/"} <= covered


# --- distinct approvers, checked against the git host -----------------------------------


def test_the_approver_must_have_approved_the_head_commit(repo: GitRepo) -> None:
    head = propose(repo, move(T004, "MONITORING", "MONITOR", CHAIR))
    folder = repo.path.parent
    stale = reviews(folder / "stale.json", (CHAIR_LOGIN, "APPROVED", "0" * 40, "2026-10-19T10:00:00Z"))
    at = line(repo, T004, "decision:")
    assert judge(repo, "--approvals", str(stale)) == [(T004, at, 15, "pr.approver")]
    assert any("approved an earlier commit" in m for m in messages(repo, "--approvals", str(stale)))
    withdrawn = reviews(folder / "withdrawn.json", (CHAIR_LOGIN, "APPROVED", head, "2026-10-20T10:00:00Z"),
                        (CHAIR_LOGIN, "CHANGES_REQUESTED", head, "2026-10-20T11:00:00Z"))
    assert judge(repo, "--approvals", str(withdrawn)) == [(T004, at, 15, "pr.approver")]
    other = reviews(folder / "other.json", ("someone-else", "APPROVED", head, "2026-10-20T10:00:00Z"))
    assert judge(repo, "--approvals", str(other)) == [(T004, at, 15, "pr.approver")]
    # legitimate: approved, then a comment (a comment does not undo an approval)
    good = reviews(folder / "good.json", (CHAIR_LOGIN, "APPROVED", head, "2026-10-20T10:00:00Z"),
                   (CHAIR_LOGIN, "COMMENTED", head, "2026-10-20T12:00:00Z"))
    assert judge(repo, "--approvals", str(good)) == []
    # pages as `gh api --paginate` prints them, one JSON array after the other
    (folder / "pages.json").write_text("[]\n" + (folder / "good.json").read_text())
    assert judge(repo, "--approvals", str(folder / "pages.json")) == []


def test_an_approver_who_is_the_requester(repo: GitRepo) -> None:
    propose(repo, move(T004, "MONITORING", "MONITOR", "Safety Team"))
    assert judge(repo) == [(T004, line(repo, T004, "decision:"), 15, "pr.approver")]
    assert any("is the person who made the change" in m for m in messages(repo))


def test_a_name_the_policy_does_not_map_is_not_an_approval(repo: GitRepo) -> None:
    head = propose(repo, move(T004, "MONITORING", "MONITOR", "Head of safety"))
    evidence = reviews(repo.path.parent / "reviews.json", ("head-of-safety", "APPROVED", head, "2026-10-20T10:00:00Z"))
    assert judge(repo, "--approvals", str(evidence)) == [(T004, line(repo, T004, "decision:"), 15, "pr.approver")]
    assert any("is not one of the policy's approvers" in m for m in messages(repo, "--approvals", str(evidence)))


def test_an_approvals_file_that_is_not_the_hosts_json_is_a_usage_error(repo: GitRepo, tmp_path: Path) -> None:
    propose(repo, move(T004, "MONITORING", "MONITOR", CHAIR))
    bad = tmp_path / "bad.json"
    bad.write_text('{"message": "Bad credentials"}')
    result = cli(repo, "pr-check", "--base", "main", "--approvals", str(bad))
    assert result.code == 2
    assert "expected a list of reviews" in result.err
    bad.write_text('[{"user": {"login": "x"}, "state": "LGTM", "commit_id": "a", "submitted_at": "b"}]')
    result = cli(repo, "pr-check", "--base", "main", "--approvals", str(bad))
    assert (result.code, "unknown state 'LGTM'" in result.err) == (2, True)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    result = cli(repo, "pr-check", "--base", "main", "--approvals", str(fifo))
    assert (result.code, "not a regular file" in result.err) == (2, True)


# --- the quarterly review's RETIRE, applied in one pull request -------------------------


AUDIT_001 = """\
# yaml-language-server: $schema=../schemas/audit.schema.json
action: RETIRE_REGRESSION
test_id: regression_INC_001
original_incident: INC_001
reason_code: ATTACK_PATCHED
reason: The reframing attack is patched on every model in use.
approver: Safety council chair
requested_by: Safety team
timestamp: "2026-10-20T08:05:00Z"
"""


def _review_retire(r: GitRepo, *, both_steps: bool = True) -> None:
    archived = "regressions/archive/regression_INC_001.yaml"
    r.mv(T001, archived)
    text = r.read(archived).replace("$schema=../schemas", "$schema=../../schemas").replace(
        "state: ACTIVE    ", "state: RETIRED   ")
    steps = ""
    if both_steps:
        steps += ('  - at: "2026-10-20T08:00:00Z"\n    decision: DEPRECATE\n    from_state: ACTIVE\n'
                  f"    to_state: DEPRECATED\n    reason: Quarterly review 2026-Q4\n    by: Safety team\n"
                  f"    approver: {CHAIR}\n")
    steps += ('  - at: "2026-10-20T08:05:00Z"\n    decision: RETIRE\n'
              f"    from_state: {'DEPRECATED' if both_steps else 'ACTIVE'}\n"
              f"    to_state: RETIRED\n    reason: ATTACK_PATCHED - patched everywhere\n    by: Safety team\n"
              f"    approver: {CHAIR}\n")
    r.write(archived, text + steps)
    r.write("audit/20261020T080500Z_RETIRE_REGRESSION_regression_INC_001.yaml", AUDIT_001)


def test_a_quarterly_review_retires_an_active_test_in_one_pull_request(repo: GitRepo) -> None:
    propose(repo, _review_retire)
    assert judge(repo) == []


def test_a_direct_jump_from_active_to_retired_is_still_refused(repo: GitRepo) -> None:
    propose(repo, lambda r: _review_retire(r, both_steps=False))
    archived = "regressions/archive/regression_INC_001.yaml"
    assert judge(repo) == [(archived, line(repo, archived, "to_state:"), 15, "pr.transition")]


# --- links in the pull request's tree ---------------------------------------------------


def test_a_symlinked_record_in_the_pull_request(repo: GitRepo) -> None:
    def change(r: GitRepo) -> None:
        os.symlink("/etc/passwd", r.path / "regressions/regression_INC_008.yaml")
        os.symlink("../../../outside", r.path / "incidents/INC_008")
    propose(repo, change)
    assert judge(repo) == [("incidents/INC_008", 1, 1, "pr.link"),
                           ("regressions/regression_INC_008.yaml", 1, 1, "pr.link")]
