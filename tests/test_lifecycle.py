"""Lifecycle commands end to end: the state machine, overrides, approvers, and the retirement
ceremony (all or nothing, proven by injecting a failure at every step), with real webhooks."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import scripted_registry
import typed_records
from conftest import run_cli
from gitrepo import GitRepo, isolate_git
from incidentops.lifecycle import ceremony as lifecycle
from incidentops.lifecycle import decisions
from incidentops.lifecycle.ceremony import MissingOption, NothingToDo, Request, decide
from incidentops.records.errors import BlockedError, IncidentOpsError
from incidentops.records.registry import Registry, default_policy, default_policy_record
from scripted_registry import snapshot

GIT_ENV = scripted_registry.ISOLATED_GIT
WHEN = "2026-10-20T14:00:00Z"
AUDIT = "audit/20261020T140000Z_RETIRE_REGRESSION_regression_INC_003.yaml"
ARCHIVED = "regressions/archive/regression_INC_003.yaml"
REASON = "The cipher attack no longer works on any model in use."
RETIRE_ARGS = ("lifecycle", "retire", "regression_INC_003", "--reason", REASON, "--reason-code",
               "ATTACK_OBSOLETE", "--approver", "Safety council chair", "--as-of", WHEN)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    return scripted_registry.build(tmp_path_factory.mktemp("lifecycle") / "registry")


@pytest.fixture
def repo(template: GitRepo, tmp_path: Path) -> GitRepo:
    return scripted_registry.copy(template, tmp_path / "registry")


cli = scripted_registry.run


def status(repo: GitRepo) -> str:
    return repo.git("status", "--porcelain")


def decision_lines(at: str, what: str, from_state: str, to_state: str, reason: str, by: str,
                   approver: str | None = None) -> str:
    lines = [f'  - at: "{at}"', f"    decision: {what}"]
    lines.append(f"    from_state: {from_state}")
    lines += [f"    to_state: {to_state}", f"    reason: {reason}", f"    by: {by}"]
    if approver:
        lines.append(f"    approver: {approver}")
    return "\n".join(lines) + "\n"


def with_state(text: str, old: str, new: str) -> str:
    """The test file with its state changed, the trailing comment kept in its column."""
    line = next(ln for ln in text.splitlines() if ln.startswith(f"state: {old} "))
    column = line.index("#")
    return text.replace(line, f"state: {new}".ljust(column) + line[column:])


# --- decisions without a ceremony ------------------------------------------------------------


def test_monitor_then_activate_then_keep_edit_the_file_and_append_decisions(repo: GitRepo) -> None:
    original = repo.read("regressions/regression_INC_001.yaml")
    result = cli(repo, "lifecycle", "monitor", "regression_INC_001", "--reason", "Re-verify on aurora-2.1 first",
                 "--approver", "Safety council chair", "--as-of", "2026-10-02T10:00:00Z")
    assert result.code == 0, result.err
    assert result.out.splitlines()[:3] == [
        "regression_INC_001: MONITOR (ACTIVE -> MONITORING)",
        "  recorded in regressions/regression_INC_001.yaml",
        "  notice: Regression test regression_INC_001 moved to MONITORING: Re-verify on aurora-2.1 first",
    ]
    expected = with_state(original, "ACTIVE", "MONITORING") + decision_lines(
        "2026-10-02T10:00:00Z", "MONITOR", "ACTIVE", "MONITORING", "Re-verify on aurora-2.1 first", "Safety Team",
        "Safety council chair")
    assert repo.read("regressions/regression_INC_001.yaml") == expected

    assert cli(repo, "lifecycle", "activate", "regression_INC_001", "--reason", "Passes on aurora-2.1",
               "--as-of", "2026-10-03T10:00:00Z").code == 0
    assert cli(repo, "lifecycle", "keep", "regression_INC_001", "--reason", "Attack still seen (INC_005)",
               "--approver", "Safety council chair", "--as-of", "2026-10-04T10:00:00Z").code == 0
    expected = original + decision_lines(
        "2026-10-02T10:00:00Z", "MONITOR", "ACTIVE", "MONITORING", "Re-verify on aurora-2.1 first", "Safety Team",
        "Safety council chair",
    ) + decision_lines(
        "2026-10-03T10:00:00Z", "ACTIVATE", "MONITORING", "ACTIVE", "Passes on aurora-2.1", "Safety Team",
    ) + decision_lines(
        "2026-10-04T10:00:00Z", "KEEP", "ACTIVE", "ACTIVE", "Attack still seen (INC_005)", "Safety Team",
        "Safety council chair",
    )
    assert repo.read("regressions/regression_INC_001.yaml") == expected
    assert cli(repo, "check").code == 0


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (("retire", "regression_INC_001", "--reason", "x", "--reason-code", "DUPLICATE", "--approver", "Chair"),
         "regression_INC_001 (ACTIVE): ACTIVE -> RETIRED is not an allowed transition",
         "retirement follows deprecation: `incidentops lifecycle deprecate` it first"),
        (("keep", "regression_INC_003", "--reason", "x"),
         "regression_INC_003 (DEPRECATED): KEEP applies to ACTIVE or MONITORING tests",
         "reprieve a DEPRECATED test with `incidentops lifecycle activate` or `monitor`"),
        (("activate", "regression_INC_007", "--reason", "x"),
         "regression_INC_007 (RETIRED): RETIRED is terminal; a retired test is never changed again",
         "write a new regression test with a new id if the attack came back"),
        (("monitor", "regression_INC_004", "--reason", "x", "--approver", " safety  team "),
         "regression_INC_004 (ACTIVE): ACTIVE -> MONITORING loosens the test's hold on releases: the approver must"
         " be someone other than the requester (Safety Team)", "ask another member of the safety council to approve"),
        (("deprecate", "regression_INC_002", "--reason", "x", "--approver", "Safety council chair"),
         "regression_INC_002 (ACTIVE): DEPRECATE refused: it is a SEV-1 test (SEV-0/1 tests stay)",
         "add an approved exception to regressions/regression_INC_002.yaml: `override: {reason: ..., approver: ...}`"
         " (reviewed in the pull request), then run the command again"),
        (("deprecate", "regression_INC_005", "--reason", "x", "--approver", "Safety council chair"),
         "regression_INC_005 (ACTIVE): DEPRECATE refused: it is 163 days old, younger than the 365-day minimum"
         " (in the suite since 2026-05-10)",
         "add an approved exception to regressions/regression_INC_005.yaml: `override: {reason: ..., approver: ...}`"
         " (reviewed in the pull request), then run the command again"),
        (("deprecate", "regression_INC_004", "--reason", "x", "--approver", "Chair"),
         "regression_INC_004 (ACTIVE): DEPRECATE refused: it is a SEV-0 test (SEV-0/1 tests stay); it is 323 days"
         " old, younger than the 365-day minimum (in the suite since 2025-12-01)",
         "add an approved exception to regressions/regression_INC_004.yaml: `override: {reason: ..., approver: ...}`"
         " (reviewed in the pull request), then run the command again"),
    ],
)
def test_the_policy_refuses(template: GitRepo, args: tuple[str, ...], message: str, hint: str,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch)
    decision, test_id, *options = args
    values = dict(zip(options[::2], options[1::2], strict=True))
    request = Request(test_id, decision.upper(), values["--reason"], "Safety Team",
                      datetime(2026, 10, 20, 14, tzinfo=UTC), values.get("--approver"), values.get("--reason-code"))
    with pytest.raises(BlockedError) as caught:
        lifecycle.plan(Registry(template.path), request)
    assert (caught.value.message, caught.value.hint) == (message, hint)


# A decision asked without an option it needs is a usage error (exit 2), not a refusal by policy;
# one already in force is nothing to do (exit 0). Both used to be BlockedError (exit 1).
@pytest.mark.parametrize(
    ("args", "message", "hint", "error"),
    [
        (("deprecate", "regression_INC_003", "--reason", "x"),
         "regression_INC_003 (DEPRECATED): already DEPRECATED", "nothing to do", NothingToDo),
        (("deprecate", "regression_INC_002", "--reason", "x"),
         "regression_INC_002 (ACTIVE): ACTIVE -> DEPRECATED loosens the test's hold on releases and needs an"
         " approver for DEPRECATE",
         "pass --approver: someone other than you (Safety Team)", MissingOption),
        (("retire", "regression_INC_003", "--reason", "x", "--approver", "Chair"),
         "regression_INC_003 (DEPRECATED): retiring needs --reason-code",
         "one of: ATTACK_PATCHED, ATTACK_OBSOLETE, PRODUCT_CHANGED, ARCHITECTURE_CHANGED, DUPLICATE, SUPERSEDED",
         MissingOption),
        (("retire", "regression_INC_003", "--reason", "x", "--reason-code", "BORED", "--approver", "Chair"),
         "regression_INC_003 (DEPRECATED): reason code 'BORED' is not in the policy",
         "one of: ATTACK_PATCHED, ATTACK_OBSOLETE, PRODUCT_CHANGED, ARCHITECTURE_CHANGED, DUPLICATE, SUPERSEDED",
         MissingOption),
        (("retire", "regression_INC_003", "--reason", "x", "--reason-code", "attack_pached", "--approver", "Chair"),
         "regression_INC_003 (DEPRECATED): reason code 'attack_pached' is not in the policy",
         "did you mean ATTACK_PATCHED? one of: ATTACK_PATCHED, ATTACK_OBSOLETE, PRODUCT_CHANGED,"
         " ARCHITECTURE_CHANGED, DUPLICATE, SUPERSEDED", MissingOption),
        (("retire", "regression_INC_003", "--reason", "x", "--reason-code", "DUPLICATE"),
         "regression_INC_003 (DEPRECATED): DEPRECATED -> RETIRED loosens the test's hold on releases and needs an"
         " approver for RETIRE", "pass --approver: someone other than you (Safety Team)", MissingOption),
    ],
)
def test_missing_options_and_nothing_to_do(template: GitRepo, args: tuple[str, ...], message: str, hint: str,
                                           error: type, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch)
    decision, test_id, *options = args
    values = dict(zip(options[::2], options[1::2], strict=True))
    request = Request(test_id, decision.upper(), values["--reason"], "Safety Team",
                      datetime(2026, 10, 20, 14, tzinfo=UTC), values.get("--approver"), values.get("--reason-code"))
    with pytest.raises(error) as caught:
        lifecycle.plan(Registry(template.path), request)
    assert (caught.value.message, caught.value.hint) == (message, hint)
    assert caught.value.exit_code == (0 if error is NothingToDo else 2)


def test_exit_status_of_missing_options_repeats_and_no_ops(repo: GitRepo) -> None:
    before = snapshot(repo.path)
    missing = cli(repo, "lifecycle", "deprecate", "regression_INC_002", "--reason", "x", "--as-of", WHEN)
    assert missing.code == 2 and "needs an approver" in missing.err
    no_reason = cli(repo, "lifecycle", "keep", "regression_INC_001")
    assert no_reason.code == 2 and "--reason" in no_reason.err
    done = cli(repo, "lifecycle", "deprecate", "regression_INC_003", "--reason", "x", "--as-of", WHEN)
    assert done.code == 0, done.err
    assert "regression_INC_003 (DEPRECATED): already DEPRECATED: nothing to do" in done.out
    assert snapshot(repo.path) == before
    first = cli(repo, "lifecycle", "keep", "regression_INC_001", "--reason", "Still seen", "--as-of", WHEN)
    assert first.code == 0, first.err
    kept = repo.read("regressions/regression_INC_001.yaml")
    again = cli(repo, "lifecycle", "keep", "regression_INC_001", "--reason", " Still  seen ", "--as-of", WHEN)
    assert again.code == 0, again.err
    assert "already the last decision recorded" in again.out
    assert repo.read("regressions/regression_INC_001.yaml") == kept
    assert kept.count("decision: KEEP") == before["regressions/regression_INC_001.yaml"].decode().count(
        "decision: KEEP") + 1


def test_each_subcommand_shows_only_its_own_options() -> None:
    helps = {name: run_cli("lifecycle", name, "--help").out for name in ("keep", "monitor", "activate",
                                                                          "deprecate", "retire")}
    assert all(h for h in helps.values())
    for name in ("keep", "monitor", "activate", "deprecate"):
        assert "--reason-code" not in helps[name], name
    assert "--reason-code" in helps["retire"]
    assert "required, and someone other than you" in helps["monitor"]
    assert "Optional: who approved" in helps["keep"]


def test_refused_decisions_exit_1_and_change_nothing(repo: GitRepo) -> None:
    before = snapshot(repo.path)
    for args, message in [
        (("retire", "regression_INC_001", "--reason", "x", "--reason-code", "DUPLICATE", "--approver", "Chair"),
         "regression_INC_001 (ACTIVE): ACTIVE -> RETIRED is not an allowed transition"),
        (("deprecate", "regression_INC_002", "--reason", "x", "--approver", "Safety council chair"),
         "regression_INC_002 (ACTIVE): DEPRECATE refused: it is a SEV-1 test (SEV-0/1 tests stay)"),
    ]:
        result = cli(repo, "lifecycle", *args, "--as-of", WHEN)
        assert result.code == 1
        assert result.err.splitlines()[0] == f"incidentops: error: {message}"
    assert snapshot(repo.path) == before
    assert status(repo) == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("keep", "regression_INC_01", "--reason", "x"), "no regression test 'regression_INC_01' in regressions/"),
        (("keep", "regression_INC_001", "--reason", "   "), "--reason is empty"),
    ],
)
def test_unusable_requests_are_usage_errors(repo: GitRepo, args: tuple[str, ...], message: str) -> None:
    result = cli(repo, "lifecycle", *args, "--as-of", WHEN)
    assert result.code == 2
    assert result.err.splitlines()[0] == f"incidentops: error: {message}"


def test_reason_code_is_an_option_of_retire_only(repo: GitRepo) -> None:
    # `keep` no longer offers --reason-code at all: click refuses it as an unknown option (exit 2)
    result = cli(repo, "lifecycle", "keep", "regression_INC_001", "--reason", "x", "--reason-code", "DUPLICATE")
    assert result.code == 2
    assert "No such option '--reason-code'" in result.err


def test_an_override_lets_a_young_or_severe_test_be_deprecated(repo: GitRepo) -> None:
    path = "regressions/regression_INC_002.yaml"
    text = repo.read(path).replace(
        "decisions:\n",
        "override:\n  reason: Patched in aurora-1.1 and covered by the memorisation probes\n"
        "  approver: Safety council chair\ndecisions:\n",
    )
    repo.write(path, text)
    result = cli(repo, "lifecycle", "deprecate", "regression_INC_002", "--reason", "Patched since aurora-1.1",
                 "--approver", "Safety council chair", "--as-of", WHEN)
    assert result.code == 0, result.err
    assert repo.read(path) == with_state(text, "ACTIVE", "DEPRECATED") + decision_lines(
        WHEN, "DEPRECATE", "ACTIVE", "DEPRECATED", "Patched since aurora-1.1", "Safety Team", "Safety council chair")
    assert cli(repo, "check").code == 0


def test_a_decision_on_a_record_with_errors_is_refused(repo: GitRepo) -> None:
    path = "regressions/regression_INC_001.yaml"
    repo.write(path, repo.read(path).replace("attack_vector_status: viable", "attack_vector_status: maybe"))
    result = cli(repo, "lifecycle", "keep", "regression_INC_001", "--reason", "x", "--as-of", WHEN)
    assert result.code == 2
    assert result.err.splitlines() == [
        "incidentops: error: regressions/regression_INC_001.yaml: the record has errors, so no decision can be"
        " recorded in it",
        "  hint: run `incidentops check regressions/regression_INC_001.yaml` and fix it first",
    ]


# --- the retirement ceremony -----------------------------------------------------------------


def expected_archive(repo: GitRepo) -> str:
    original = repo.read("regressions/regression_INC_003.yaml")
    text = with_state(original, "DEPRECATED", "RETIRED").replace("$schema=../schemas/", "$schema=../../schemas/")
    return text + decision_lines(WHEN, "RETIRE", "DEPRECATED", "RETIRED", f"ATTACK_OBSOLETE - {REASON}",
                                 "Safety Team", "Safety council chair")


EXPECTED_AUDIT = f"""\
# yaml-language-server: $schema=../schemas/audit.schema.json
# Append-only audit log: this entry is never edited or deleted.
action: RETIRE_REGRESSION
test_id: regression_INC_003
original_incident: INC_003
reason_code: ATTACK_OBSOLETE
reason: {REASON}
approver: Safety council chair
requested_by: Safety Team
timestamp: "{WHEN}"
"""


def test_retire_writes_the_audit_entry_archives_the_test_and_stages_both(repo: GitRepo) -> None:
    archive = expected_archive(repo)
    result = cli(repo, *RETIRE_ARGS)
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "regression_INC_003: RETIRE (DEPRECATED -> RETIRED)",
        f"  archived: regressions/regression_INC_003.yaml -> {ARCHIVED}",
        f"  audit entry: {AUDIT}",
        f"  notice: Regression test regression_INC_003 retired: ATTACK_OBSOLETE - {REASON}",
        "  stakeholders: Safety team",
        "  the notice is sent once this lands on main (CI: `incidentops lifecycle notify --since`)",
        "Next: commit these files and open a pull request; `incidentops pr-check` verifies it.",
    ]
    assert not (repo.path / "regressions/regression_INC_003.yaml").exists()
    assert repo.read(ARCHIVED) == archive
    assert repo.read(AUDIT) == EXPECTED_AUDIT
    assert status(repo).splitlines() == [
        f"A  {AUDIT}",
        f"R  regressions/regression_INC_003.yaml -> {ARCHIVED}",
    ]
    assert cli(repo, "check").code == 0
    # landed: the archived test keeps the age it had since 2024-01-20
    repo.commit("Retire regression_INC_003", date="2026-10-21T09:00:00Z")
    report = cli(repo, "decay", "--as-of", "2026-10-22", "--state", "RETIRED", "--format", "json").json()
    assert [(t["test_id"], t["added_at"]) for t in report["tests"]] == [
        ("regression_INC_003", "2024-01-20T09:00:00Z"), ("regression_INC_007", "2024-02-01T09:00:00Z")]
    assert cli(repo, *RETIRE_ARGS).err.splitlines()[0] == (
        "incidentops: error: regression_INC_003 (RETIRED): RETIRED is terminal; a retired test is"
        " never changed again")


def test_a_failure_at_any_step_rolls_the_ceremony_back(repo: GitRepo) -> None:
    before = snapshot(repo.path)
    for step in ("audit", "archive", "edit", "stage"):
        result = cli(repo, *RETIRE_ARGS, env={"INCIDENTOPS_FAIL_STEP": step})
        assert result.code == 2
        assert result.err.splitlines() == [
            f"incidentops: error: retirement of regression_INC_003 failed at step '{step}': injected failure"
            f" before step '{step}' (INCIDENTOPS_FAIL_STEP); nothing was changed",
            "  hint: fix the cause and run the command again",
        ]
        assert snapshot(repo.path) == before, step
        assert status(repo) == "", step
    check = cli(repo, "check")
    assert check.code == 0, check.out
    # and the ceremony still works afterwards
    assert cli(repo, *RETIRE_ARGS).code == 0


def test_a_real_git_failure_rolls_back(repo: GitRepo) -> None:
    before = snapshot(repo.path)
    lock = repo.path / ".git" / "index.lock"
    lock.write_text("")  # another git process holds the index
    try:
        result = cli(repo, *RETIRE_ARGS)
    finally:
        lock.unlink()
    assert result.code == 2
    first = result.err.splitlines()[0]
    assert first.startswith("incidentops: error: retirement of regression_INC_003 failed at step 'archive': ")
    assert first.endswith("; nothing was changed")
    assert snapshot(repo.path) == before
    assert status(repo) == ""


@pytest.mark.parametrize("step", ["audit", "archive", "edit", "stage", "notify"])
def test_the_core_api_hook_injects_failures_too(template: GitRepo, tmp_path: Path, step: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch)
    repo = scripted_registry.copy(template, tmp_path / "registry")
    before = snapshot(repo.path)
    request = Request("regression_INC_003", "RETIRE", REASON, "Safety Team",
                      datetime(2026, 10, 20, 14, tzinfo=UTC), "Safety council chair", "ATTACK_OBSOLETE")

    def hook(name: str) -> None:
        if name == step:
            raise OSError(28, "No space left on device")

    if step == "notify":  # notifications never undo the ceremony; CI sends the notice after merge
        outcome = decide(Registry(repo.path), request, hook=hook)
        assert outcome.warnings == ("the notice preview failed ([Errno 28] No space left on device); it is still"
                                    " sent once the retirement lands on main",)
        assert outcome.after_merge and outcome.deliveries == ()
        assert repo.read(AUDIT) == EXPECTED_AUDIT
        return
    with pytest.raises(IncidentOpsError) as caught:
        decide(Registry(repo.path), request, hook=hook)
    assert caught.value.message == (
        f"retirement of regression_INC_003 failed at step '{step}': [Errno 28] No space left on device;"
        " nothing was changed")
    assert snapshot(repo.path) == before
    assert status(repo) == ""


def test_the_ceremony_outside_git_moves_plain_files_and_rolls_back(template: GitRepo, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(template.path, plain, ignore=shutil.ignore_patterns(".git"))
    before = snapshot(plain)
    failed = run_cli(*RETIRE_ARGS, "--root", str(plain), env={**GIT_ENV, "INCIDENTOPS_FAIL_STEP": "edit",
                                                                "GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert failed.code == 2, failed.err
    assert snapshot(plain) == before


# --- notifications -----------------------------------------------------------------------------


class Hooks:
    """A real HTTP endpoint that records what it receives and answers with ``status``."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.status = 204
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hooks.received.append({"path": self.path, "type": self.headers["Content-Type"],
                                       "json": json.loads(body)})
                self.send_response(hooks.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    server = Hooks()
    yield server
    server.close()


def use_webhook(repo: GitRepo, url: str) -> None:
    policy = repo.read("incidentops.yaml")
    assert "  webhooks: []\n" in policy
    repo.write("incidentops.yaml", policy.replace(
        "  webhooks: []\n", f"  webhooks:\n    - name: council\n      url: {url}\n"))


MONITOR_ARGS = ("lifecycle", "monitor", "regression_INC_001", "--reason", "Flaky on aurora-2.1",
                "--approver", "Safety council chair", "--as-of", WHEN)
MONITOR_PAYLOAD = {
    "event": "regression_test.monitor",
    "text": "Regression test regression_INC_001 moved to MONITORING: Flaky on aurora-2.1",
    "test_id": "regression_INC_001",
    "incident_id": "INC_001",
    "severity": "SEV-2",
    "decision": "MONITOR",
    "from_state": "ACTIVE",
    "to_state": "MONITORING",
    "reason": "Flaky on aurora-2.1",
    "reason_code": None,
    "requested_by": "Safety Team",
    "approver": "Safety council chair",
    "at": WHEN,
    "path": "regressions/regression_INC_001.yaml",
    "audit_entry": None,
    "stakeholders": ["Safety team"],
}


def test_retire_previews_the_notice_and_sends_nothing_before_merge(repo: GitRepo, hooks: Hooks) -> None:
    use_webhook(repo, hooks.url)
    result = cli(repo, *RETIRE_ARGS)
    assert result.code == 0, result.err
    assert "  the notice is sent once this lands on main (CI: `incidentops lifecycle notify --since`)" in (
        result.out.splitlines())
    assert hooks.received == []
    assert not (repo.path / ".incidentops").exists()


def test_other_decisions_post_the_notification_to_the_webhook(repo: GitRepo, hooks: Hooks) -> None:
    use_webhook(repo, hooks.url)
    result = cli(repo, *MONITOR_ARGS)
    assert result.code == 0, result.err
    assert "  webhook council: delivered" in result.out.splitlines()
    assert hooks.received == [{"path": "/hook", "type": "application/json", "json": MONITOR_PAYLOAD}]
    # queued before it was sent, and gone from the queue once delivered
    assert json.loads(repo.read(".incidentops/pending-notifications.json")) == {"pending": []}


def queue(repo: GitRepo) -> list[dict]:
    items = json.loads(repo.read(".incidentops/pending-notifications.json"))["pending"]
    for item in items:
        assert len(item.pop("id")) == 32
    return items


def test_a_failed_webhook_is_queued_and_retried(repo: GitRepo, hooks: Hooks) -> None:
    use_webhook(repo, hooks.url)
    hooks.status = 500
    result = cli(repo, *MONITOR_ARGS)
    assert result.code == 0  # the decision is recorded; only the notification waits
    assert result.err.splitlines() == [
        "  webhook council: FAILED (HTTP 500 Internal Server Error)",
        "  1 notification(s) queued in .incidentops/pending-notifications.json;"
        " send them with `incidentops lifecycle notify --retry`",
    ]
    assert cli(repo, "check").code == 0
    assert queue(repo) == [{
        "webhook": {"name": "council", "url": hooks.url}, "payload": MONITOR_PAYLOAD,
        "text": MONITOR_PAYLOAD["text"], "queued_at": WHEN, "attempts": 1,
        "last_error": "HTTP 500 Internal Server Error",
    }]
    assert repo.read(".incidentops/.gitignore").splitlines()[-1] == "*"
    assert "pending" not in status(repo)  # never committed by accident

    still = cli(repo, "lifecycle", "notify", "--retry")
    assert (still.code, still.err.splitlines()) == (1, [
        "webhook council: FAILED again (HTTP 500 Internal Server Error)",
        "1 notification(s) still queued in .incidentops/pending-notifications.json",
    ])
    assert queue(repo)[0]["attempts"] == 2

    hooks.status = 200
    sent = cli(repo, "lifecycle", "notify", "--retry")
    assert (sent.code, sent.out) == (0, "webhook council: delivered\n")
    assert [r["json"] for r in hooks.received] == [MONITOR_PAYLOAD] * 3
    assert json.loads(repo.read(".incidentops/pending-notifications.json")) == {"pending": []}
    assert cli(repo, "lifecycle", "notify", "--retry").out == "no pending notifications\n"


def test_an_unreachable_webhook_queues_the_message(repo: GitRepo, hooks: Hooks) -> None:
    url = hooks.url
    hooks.close()  # nothing listens there any more
    use_webhook(repo, url)
    result = cli(repo, *MONITOR_ARGS)
    assert result.code == 0
    assert result.err.splitlines()[0] == "  webhook council: FAILED ([Errno 111] Connection refused)"
    assert len(queue(repo)) == 1


def test_injected_notify_failure_keeps_the_decision_and_queues_the_notice(repo: GitRepo, hooks: Hooks) -> None:
    use_webhook(repo, hooks.url)
    result = cli(repo, *MONITOR_ARGS, env={"INCIDENTOPS_FAIL_STEP": "notify"})
    assert result.code == 0
    assert result.err.splitlines()[0] == (
        "  webhook council: FAILED (injected failure before step 'notify' (INCIDENTOPS_FAIL_STEP))")
    assert hooks.received == []
    assert "state: MONITORING" in repo.read("regressions/regression_INC_001.yaml")
    assert cli(repo, "check").code == 0
    assert cli(repo, "lifecycle", "notify", "--retry").code == 0
    assert [r["json"] for r in hooks.received] == [MONITOR_PAYLOAD]


def test_retry_sends_only_to_webhooks_of_the_policy(repo: GitRepo, hooks: Hooks) -> None:
    use_webhook(repo, hooks.url)
    hooks.status = 500
    assert cli(repo, *MONITOR_ARGS).code == 0
    path = repo.path / ".incidentops/pending-notifications.json"
    path.write_text(path.read_text().replace(hooks.url, "http://127.0.0.1:9/elsewhere"))
    hooks.status = 200
    result = cli(repo, "lifecycle", "notify", "--retry")
    assert (result.code, result.err.splitlines()[0]) == (
        1, "webhook council: FAILED again (not a webhook of the policy (notifications.webhooks): not sent)")
    assert hooks.received == [] or all(r["json"] == MONITOR_PAYLOAD for r in hooks.received[:1])
    assert len(hooks.received) == 1  # the first, failed attempt only


def test_a_half_done_retirement_is_caught_by_check(repo: GitRepo) -> None:
    """What a crash between the steps would leave, were the ceremony not rolled back."""
    repo.write(AUDIT, EXPECTED_AUDIT)
    result = cli(repo, "check", "--format", "json")
    assert result.code == 1
    assert [(f["path"], f["line"], f["rule"]) for f in result.json()] == [
        (AUDIT, 4, "lifecycle.audit-without-retirement"),
        ("regressions/regression_INC_003.yaml", 11, "ceremony.incomplete")]


def test_audit_path_and_transitions_follow_the_policy() -> None:
    assert lifecycle.audit_path("regression_X", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "audit/20260102T030405Z_RETIRE_REGRESSION_regression_X.yaml")
    regression = {**default_policy()["regression"], "transitions": {"ACTIVE": ["RETIRED"]}}
    assert lifecycle.transitions(typed_records.policy({"regression": regression})) == {"ACTIVE": ["RETIRED"]}
    assert lifecycle.transitions(default_policy_record())["DEPRECATED"] == ["ACTIVE", "MONITORING", "RETIRED"]


def test_a_failed_write_of_a_simple_decision_is_a_clean_error(template: GitRepo, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch)
    repo = scripted_registry.copy(template, tmp_path / "registry")
    before = snapshot(repo.path)
    request = Request("regression_INC_001", "KEEP", "Still seen", "Safety Team", datetime(2026, 10, 20, tzinfo=UTC))

    def hook(name: str) -> None:
        raise PermissionError(13, "Permission denied")

    with pytest.raises(IncidentOpsError) as caught:
        decide(Registry(repo.path), request, hook=hook)
    assert caught.value.message == (
        "regressions/regression_INC_001.yaml: cannot record the decision (Permission denied); nothing was changed")
    assert snapshot(repo.path) == before


def test_typed_decisions_read_as_steps_that_carry_the_previous_state_forward() -> None:
    raw = [
        {"at": "2025-01-01T00:00:00Z", "decision": "CREATE", "to_state": "ACTIVE", "reason": "born", "by": "Ana"},
        {"at": "2025-06-01T00:00:00Z", "decision": "DEPRECATE", "to_state": "DEPRECATED",
         "reason": " patched ", "by": "Ana", "approver": "Safety council chair"},
        {"at": "2025-07-01T00:00:00Z", "decision": "KEEP", "from_state": "ACTIVE", "to_state": "ACTIVE",
         "reason": "a KEEP that moves the test", "by": "Bo"},
    ]
    typed = typed_records.decisions(*raw)
    assert [(s.index, s.label, s.from_state, s.to_state, s.by, s.approver) for s in decisions.read_decisions(typed)] == [
        (0, "CREATE", None, "ACTIVE", "Ana", None), (1, "DEPRECATE", "ACTIVE", "DEPRECATED", "Ana", "Safety council chair"),
        (2, "KEEP", "ACTIVE", "ACTIVE", "Bo", None)]
    steps = decisions.read_decisions(typed, "ACTIVE", 3)
    assert [(s.index, s.from_state, s.to_state, s.reason) for s in steps] == [
        (3, "ACTIVE", "ACTIVE", "born"), (4, "ACTIVE", "DEPRECATED", "patched"), (5, "ACTIVE", "ACTIVE",
                                                                                   "a KEEP that moves the test")]
    assert decisions.label_problem(steps[2], False) is None  # KEEP ACTIVE -> ACTIVE
    assert decisions.weakens(steps[1].from_state, steps[1].to_state)
