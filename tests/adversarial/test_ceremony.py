"""The retirement ceremony killed at every step, Ctrl-C at every step and during a slow webhook,
notices sent after merge (and never suppressed by a pull request), and decision dates.

Every run is the real CLI in its own process; a kill is a real SIGKILL the process sends
itself before the step (INCIDENTOPS_FAULT_INJECTION=1 with INCIDENTOPS_KILL_STEP), an
interrupt a real SIGINT sent while it sleeps before the step (INCIDENTOPS_PAUSE_STEP) or
while a webhook is slow to answer.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import scripted_registry
from gitrepo import GitRepo
from scripted_registry import snapshot

WHEN = "2026-10-20T14:00:00Z"
TEST = "regression_INC_003"
HOME = f"regressions/{TEST}.yaml"
ARCHIVED = f"regressions/archive/{TEST}.yaml"
AUDIT = f"audit/20261020T140000Z_RETIRE_REGRESSION_{TEST}.yaml"
RETIRE = ("lifecycle", "retire", TEST, "--reason", "The cipher attack no longer works", "--reason-code",
          "ATTACK_OBSOLETE", "--approver", "Safety council chair", "--as-of", WHEN)
RESUME = f"incidentops lifecycle retire --resume {TEST}"
INJECT = {"INCIDENTOPS_FAULT_INJECTION": "1"}
NOTICE = f"Regression test {TEST} retired: ATTACK_OBSOLETE - The cipher attack no longer works"

cli = scripted_registry.run


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    return scripted_registry.build(tmp_path_factory.mktemp("ceremony") / "registry")


@pytest.fixture
def repo(template: GitRepo, tmp_path: Path) -> GitRepo:
    return scripted_registry.copy(template, tmp_path / "registry")


class Webhook:
    """A real HTTP endpoint. A delivery counts once it is acknowledged (2xx); while ``slow``,
    a request is held without an answer until the test lets it go, and never acknowledged."""

    def __init__(self) -> None:
        self.acknowledged: list[dict] = []
        self.slow = False
        self.arrived = threading.Event()
        self.release = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.arrived.set()
                if hook.slow:
                    hook.release.wait(60)
                    return  # never answered: the sender cannot know it arrived
                hook.acknowledged.append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    server = Webhook()
    yield server
    server.close()


def use_webhook(repo: GitRepo, url: str) -> None:
    """The policy names the webhook, committed on main (the registry as it stands before the change)."""
    policy = repo.read("incidentops.yaml")
    assert "  webhooks: []\n" in policy
    repo.write("incidentops.yaml", policy.replace("  webhooks: []\n", f"  webhooks:\n    - name: council\n      url: {url}\n"))
    repo.commit("Notify the council", date="2026-06-01T09:00:00Z")


def findings(repo: GitRepo) -> tuple[int, list[tuple[str, int, str, str]]]:
    result = cli(repo, "check", "--format", "json", "--as-of", "2026-11-01")
    assert result.code in (0, 1), result.err
    return result.code, [(f["path"], f["line"], f["rule"], f["hint"]) for f in result.json()]


def ceremony_findings(repo: GitRepo) -> list[tuple[str, int, str]]:
    return [(p, line, rule) for p, line, rule, _ in findings(repo)[1] if rule.startswith("ceremony.")]


def audit_entries_for(repo: GitRepo, test_id: str) -> list[str]:
    return sorted(p.name for p in (repo.path / "audit").glob(f"*_RETIRE_REGRESSION_{test_id}.yaml"))


def assert_retired_and_staged(repo: GitRepo) -> None:
    code, found = findings(repo)
    assert (code, found) == (0, [])
    assert "state: RETIRED" in repo.read(ARCHIVED)
    assert not (repo.path / HOME).exists()
    assert audit_entries_for(repo, TEST) == [AUDIT.removeprefix("audit/")]
    assert sorted(repo.git("status", "--porcelain").splitlines()) == [f"A  {AUDIT}", f"R  {HOME} -> {ARCHIVED}"]
    assert repo.read(ARCHIVED).count("decision: RETIRE") == 1


def merge_and_notify(repo: GitRepo, state: Path) -> list[str]:
    """Land what is staged on main (a reviewed pull request) and run what CI runs on main, twice."""
    before = repo.head()
    repo.commit("Retire regression_INC_003", date="2026-10-21T09:00:00Z")
    outputs = []
    for _ in range(2):
        result = cli(repo, "lifecycle", "notify", "--since", before, "--state", str(state))
        assert result.code == 0, result.err
        outputs.append(result.out)
    return outputs


# --- SIGKILL at every step -----------------------------------------------------------------------

#: the ceremony killed before each step: what `check` says (ceremony.* findings) and what fixes it
KILLED = {
    "audit": [],  # nothing was done
    "archive": [(HOME, 11, "ceremony.incomplete")],
    "edit": [(AUDIT, 4, "ceremony.unstaged"), (ARCHIVED, 11, "ceremony.incomplete")],
    "stage": [(AUDIT, 4, "ceremony.unstaged"), (ARCHIVED, 11, "ceremony.unstaged")],
    "notify": [],  # the retirement is complete; the notice is due after merge
}


@pytest.mark.parametrize("step", list(KILLED))
def test_killed_at_each_step_check_explains_and_resume_finishes(repo: GitRepo, webhook: Webhook,
                                                                 tmp_path: Path, step: str) -> None:
    use_webhook(repo, webhook.url)
    before = snapshot(repo.path)
    killed = cli(repo, *RETIRE, env={**INJECT, "INCIDENTOPS_KILL_STEP": step})
    assert killed.code == -signal.SIGKILL  # the process really died
    assert webhook.acknowledged == []  # nothing is sent from the laptop
    code, found = findings(repo)
    assert ceremony_findings(repo) == KILLED[step]
    if step == "audit":
        assert (code, found) == (0, [])
        assert snapshot(repo.path) == before  # consistent: the retirement did not start
        assert cli(repo, *RETIRE).code == 0
    elif step == "notify":
        assert_retired_and_staged(repo)
    else:
        assert code == 1
        hints = {hint for _, _, rule, hint in found if rule.startswith("ceremony.")}
        assert all(RESUME in hint for hint in hints), hints
        command = shlex.split(re.search(r"`(incidentops lifecycle retire --resume [^`]+)`", hints.pop()).group(1))
        resumed = cli(repo, *command[1:])
        assert resumed.code == 0, resumed.err
        assert resumed.out.startswith(f"{TEST}: retirement resumed (")
    assert_retired_and_staged(repo)
    assert cli(repo, "lifecycle", "retire", "--resume", TEST).out == (
        f"{TEST}: the retirement is complete; nothing to resume\n")
    first, second = merge_and_notify(repo, tmp_path / "ci-state" / "sent.json")
    assert [n["text"] for n in webhook.acknowledged] == [NOTICE]  # exactly once, after merge
    assert f"{AUDIT} -> webhook council: delivered" in first
    assert f"{AUDIT} -> webhook council: already sent" in second


@pytest.mark.parametrize("step", ["archive", "edit", "stage", "notify"])
def test_killed_at_each_step_undo_takes_it_back_exactly(repo: GitRepo, step: str) -> None:
    before = snapshot(repo.path)
    assert cli(repo, *RETIRE, env={**INJECT, "INCIDENTOPS_KILL_STEP": step}).code == -signal.SIGKILL
    undone = cli(repo, "lifecycle", "retire", "--undo", TEST)
    assert undone.code == 0, undone.err
    assert undone.out.splitlines()[0] == f"{TEST}: retirement taken back"
    assert snapshot(repo.path) == before
    assert repo.git("status", "--porcelain") == ""
    assert findings(repo) == (0, [])


def test_retire_again_while_half_done_is_refused_so_no_second_audit_entry(repo: GitRepo) -> None:
    assert cli(repo, *RETIRE, env={**INJECT, "INCIDENTOPS_KILL_STEP": "archive"}).code == -signal.SIGKILL
    again = cli(repo, *RETIRE[:-1], "2026-10-21T10:00:00Z")
    assert again.code == 2
    assert again.err.splitlines() == [
        f"incidentops: error: {AUDIT} already retires {TEST}: its retirement ceremony was started and not finished",
        f"  hint: finish it with `{RESUME}` (or take it back with `incidentops lifecycle retire --undo {TEST}`)",
    ]
    assert audit_entries_for(repo, TEST) == [AUDIT.removeprefix("audit/")]


def test_a_committed_half_done_retirement_cannot_be_undone_only_finished(repo: GitRepo) -> None:
    assert cli(repo, *RETIRE, env={**INJECT, "INCIDENTOPS_KILL_STEP": "archive"}).code == -signal.SIGKILL
    repo.add(AUDIT)
    repo.commit("An orphan audit entry landed", date="2026-10-21T09:00:00Z")
    undone = cli(repo, "lifecycle", "retire", "--undo", TEST)
    assert (undone.code, undone.err.splitlines()[0]) == (
        1, f"incidentops: error: {AUDIT} is committed: a retirement that was committed is not taken back")
    assert cli(repo, "lifecycle", "retire", "--resume", TEST).code == 0
    assert findings(repo) == (0, [])


def test_a_retired_test_without_its_audit_entry_gets_it_back_from_its_decision(repo: GitRepo) -> None:
    assert cli(repo, *RETIRE).code == 0
    expected = repo.read(AUDIT)
    repo.git("rm", "--cached", "--quiet", AUDIT)
    (repo.path / AUDIT).unlink()
    assert ceremony_findings(repo) == [(ARCHIVED, 11, "ceremony.incomplete")]
    assert cli(repo, "lifecycle", "retire", "--resume", TEST).code == 0
    assert repo.read(AUDIT) == expected
    assert_retired_and_staged(repo)


# --- Ctrl-C at every step, and during a slow webhook ----------------------------------------------


def start(repo: GitRepo, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "incidentops", *args, "--root", str(repo.path)],
        env={**os.environ, **scripted_registry.ISOLATED_GIT, "NO_COLOR": "1", **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def interrupt_when(proc: subprocess.Popen[str], ready: threading.Event | None = None) -> tuple[int, str, str]:
    """SIGINT ``proc`` once it paused (its stderr says so) or once ``ready`` is set."""
    assert proc.stderr is not None
    if ready is None:
        line = proc.stderr.readline()
        assert line.startswith("paused before step"), line
    else:
        assert ready.wait(60)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


@pytest.mark.parametrize("step", ["audit", "archive", "edit", "stage"])
def test_ctrl_c_before_the_ceremony_completes_rolls_back_and_says_so(repo: GitRepo, step: str) -> None:
    before = snapshot(repo.path)
    code, _, err = interrupt_when(start(repo, *RETIRE, env={**INJECT, "INCIDENTOPS_PAUSE_STEP": step}))
    assert code == 130
    assert err.splitlines() == [
        f"incidentops: error: retirement of {TEST} interrupted at step '{step}': every step was rolled back;"
        " nothing was changed",
        "  hint: run the command again",
    ]
    assert snapshot(repo.path) == before
    assert repo.git("status", "--porcelain") == ""


def test_ctrl_c_after_the_ceremony_completed_says_it_is_complete_not_aborted(repo: GitRepo) -> None:
    code, _, err = interrupt_when(start(repo, *RETIRE, env={**INJECT, "INCIDENTOPS_PAUSE_STEP": "notify"}))
    assert code == 130
    assert "Aborted." not in err
    assert err.splitlines() == [
        f"incidentops: error: interrupted after the retirement of {TEST} was complete: {ARCHIVED} is RETIRED"
        f" and {AUDIT} written, both staged",
        "  hint: commit them and open a pull request; the notice is sent once the retirement lands on main",
    ]
    assert_retired_and_staged(repo)


def test_ctrl_c_during_a_slow_webhook_after_merge_keeps_the_notice_pending(repo: GitRepo, webhook: Webhook,
                                                                             tmp_path: Path) -> None:
    use_webhook(repo, webhook.url)
    assert cli(repo, *RETIRE).code == 0
    before = repo.head()
    repo.commit("Retire regression_INC_003", date="2026-10-21T09:00:00Z")
    state = tmp_path / "ci" / "sent.json"
    webhook.slow = True
    code, _, err = interrupt_when(
        start(repo, "lifecycle", "notify", "--since", before, "--state", str(state), env={}), webhook.arrived)
    assert code == 130
    assert "Aborted." not in err
    assert err.splitlines() == [
        f"incidentops: error: interrupted while sending: every notice not yet acknowledged is kept pending in {state}",
        "  hint: run the same command again to send them",
    ]
    saved = json.loads(state.read_text())
    assert (list(saved["pending"]), saved["sent"]) == ([AUDIT], {AUDIT: {}})  # queued before it was sent
    assert webhook.acknowledged == []
    webhook.slow = False
    webhook.release.set()
    # the next push's range does not hold the entry: the pending notice is sent all the same
    repo.commit("Something else", date="2026-10-22T09:00:00Z", allow_empty=True)
    later = cli(repo, "lifecycle", "notify", "--since", "HEAD~1", "--state", str(state))
    assert later.code == 0, later.err
    assert f"{AUDIT} -> webhook council: delivered" in later.out
    again = cli(repo, "lifecycle", "notify", "--since", before, "--state", str(state))
    assert f"{AUDIT} -> webhook council: already sent" in again.out
    assert [n["text"] for n in webhook.acknowledged] == [NOTICE]
    assert json.loads(state.read_text())["pending"] == {}


def test_a_policy_at_head_with_errors_sends_nothing_until_it_is_fixed(repo: GitRepo, webhook: Webhook,
                                                                     tmp_path: Path) -> None:
    """Its webhooks and stakeholders are not known: nothing is sent, and the same --since sends them after the fix."""
    use_webhook(repo, webhook.url)
    assert cli(repo, *RETIRE).code == 0
    before = repo.head()
    policy = repo.read("incidentops.yaml")
    repo.write("incidentops.yaml", policy + "webhook_of_the_month: http://example.invalid/\n")
    repo.commit("Retire regression_INC_003", date="2026-10-21T09:00:00Z")
    state = tmp_path / "ci" / "sent.json"
    broken = cli(repo, "lifecycle", "notify", "--since", before, "--state", str(state))
    assert broken.code == 2
    assert broken.err.splitlines() == [
        "incidentops: error: incidentops.yaml at HEAD has errors, so the stakeholders and webhooks to notify are"
        " not known: no notice is sent",
        "  hint: run `incidentops check incidentops.yaml` and land the fix; then `incidentops lifecycle notify"
        f" --since {before}` sends the notices due since this run's revision",
    ]
    assert webhook.acknowledged == []
    repo.write("incidentops.yaml", policy)
    repo.commit("Policy: back to its schema", date="2026-10-22T09:00:00Z")
    fixed = cli(repo, "lifecycle", "notify", "--since", before, "--state", str(state))
    assert fixed.code == 0, fixed.err
    assert [n["text"] for n in webhook.acknowledged] == [NOTICE]


def test_ctrl_c_during_a_slow_webhook_of_a_local_decision_keeps_it_queued(repo: GitRepo, webhook: Webhook) -> None:
    use_webhook(repo, webhook.url)
    webhook.slow = True
    code, _, err = interrupt_when(
        start(repo, "lifecycle", "monitor", "regression_INC_001", "--reason", "Flaky", "--approver",
              "Safety council chair", "--as-of", WHEN, env={}),
        webhook.arrived)
    assert code == 130
    assert err.splitlines() == [
        "incidentops: error: interrupted while sending the notice: the MONITOR decision on regression_INC_001 is"
        " recorded in regressions/regression_INC_001.yaml; the notice is queued in"
        " .incidentops/pending-notifications.json",
        "  hint: send it with `incidentops lifecycle notify --retry`",
    ]
    assert "state: MONITORING" in repo.read("regressions/regression_INC_001.yaml")
    assert len(json.loads(repo.read(".incidentops/pending-notifications.json"))["pending"]) == 1
    webhook.release.set()
    webhook.release, webhook.arrived = threading.Event(), threading.Event()
    code, _, err = interrupt_when(start(repo, "lifecycle", "notify", "--retry", env={}), webhook.arrived)
    assert (code, err.splitlines()) == (130, [
        "incidentops: error: interrupted while sending: every notice not yet delivered stays queued in"
        " .incidentops/pending-notifications.json",
        "  hint: run `incidentops lifecycle notify --retry` again",
    ])
    assert len(json.loads(repo.read(".incidentops/pending-notifications.json"))["pending"]) == 1
    webhook.slow = False
    webhook.release.set()
    assert cli(repo, "lifecycle", "notify", "--retry").code == 0
    assert cli(repo, "lifecycle", "notify", "--retry").out == "no pending notifications\n"
    assert [n["decision"] for n in webhook.acknowledged] == ["MONITOR"]


# --- legitimate look-alikes ----------------------------------------------------------------------


def test_an_uninterrupted_retirement_is_clean_and_notifies_once_after_merge(repo: GitRepo, webhook: Webhook,
                                                                          tmp_path: Path) -> None:
    use_webhook(repo, webhook.url)
    result = cli(repo, *RETIRE)
    assert result.code == 0, result.err
    assert webhook.acknowledged == []  # previewed, not sent, before review
    assert f"  notice: {NOTICE}" in result.out.splitlines()
    assert_retired_and_staged(repo)
    merge_and_notify(repo, tmp_path / "ci" / "sent.json")
    assert len(webhook.acknowledged) == 1
    notice = webhook.acknowledged[0]
    assert (notice["event"], notice["test_id"], notice["audit_entry"], notice["commit"]) == (
        "regression_test.retire", TEST, AUDIT, repo.head())


def test_resuming_a_completed_retirement_is_a_no_op(repo: GitRepo) -> None:
    assert cli(repo, *RETIRE).code == 0
    before = snapshot(repo.path)
    for _ in range(2):
        result = cli(repo, "lifecycle", "retire", "--resume", TEST)
        assert (result.code, result.out) == (0, f"{TEST}: the retirement is complete; nothing to resume\n")
    assert snapshot(repo.path) == before
    repo.commit("Retire regression_INC_003", date="2026-10-21T09:00:00Z")
    assert cli(repo, "lifecycle", "retire", "--resume", TEST).code == 0
    assert repo.git("status", "--porcelain") == ""


def test_resume_of_nothing_and_options_with_resume_are_usage_errors(repo: GitRepo) -> None:
    nothing = cli(repo, "lifecycle", "retire", "--resume", TEST)
    assert (nothing.code, nothing.err.splitlines()[0]) == (
        2, f"incidentops: error: {TEST}: no retirement to resume (no audit entry retires it; it is DEPRECATED in"
           f" {HOME})")
    mixed = cli(repo, "lifecycle", "retire", "--resume", TEST, "--reason", "x")
    assert (mixed.code, mixed.err.splitlines()[0]) == (
        2, "incidentops: error: --resume takes only the test id, not --reason")


# --- a second RETIRE audit entry -----------------------------------------------------------------

SECOND_007 = "audit/20261020T090000Z_RETIRE_REGRESSION_regression_INC_007.yaml"


def test_a_second_retire_audit_entry_for_one_test_is_an_error(repo: GitRepo) -> None:
    repo.branch("retire-again")
    first = repo.read(scripted_registry.AUDIT_007_PATH)
    repo.write(SECOND_007, first.replace('"2025-03-01T10:00:00Z"', '"2026-10-20T09:00:00Z"'))
    repo.commit("Retire regression_INC_007 once more", date="2026-10-20T09:00:00Z")
    code, found = findings(repo)
    assert code == 1
    assert [(p, line, rule) for p, line, rule, _ in found] == [(SECOND_007, 3, "ceremony.duplicate-audit")]
    assert found[0][3].startswith("a test is retired once: delete this entry if it was never merged")


def test_one_retire_audit_entry_per_test_is_fine(repo: GitRepo) -> None:
    repo.branch("retire-003")
    assert cli(repo, *RETIRE).code == 0
    repo.commit("Retire regression_INC_003", date="2026-10-21T09:00:00Z")
    assert findings(repo) == (0, [])  # regression_INC_007 and regression_INC_003: one entry each


# --- notices after merge: the memory of what was sent cannot be forged --------------------------


def forged_state(repo: GitRepo) -> dict:
    return {"version": 1, "sent": {AUDIT: {"council": "2026-10-20T15:00:00Z"}}, "pending": {}}


@pytest.mark.parametrize("forgery", ["tracked", "symlink", "garbage"])
def test_a_state_file_a_pull_request_could_write_does_not_suppress_the_notice(
        repo: GitRepo, webhook: Webhook, tmp_path: Path, forgery: str) -> None:
    use_webhook(repo, webhook.url)
    before = repo.head()
    repo.branch("retire")
    assert cli(repo, *RETIRE).code == 0
    state = repo.path / ".incidentops" / "notices-sent.json"
    if forgery == "tracked":  # committed in the pull request, next to the retirement
        repo.write(".incidentops/notices-sent.json", json.dumps(forged_state(repo)))
    elif forgery == "symlink":
        outside = tmp_path / "elsewhere.json"
        outside.write_text(json.dumps(forged_state(repo)))
        state.parent.mkdir(exist_ok=True)
        state.symlink_to(outside)
    else:
        repo.write(".incidentops/notices-sent.json", "{not json", add=False)
    repo.commit("Retire regression_INC_003", date="2026-10-21T09:00:00Z")
    repo.checkout("main")
    repo.merge("retire", date="2026-10-21T10:00:00Z")
    result = cli(repo, "lifecycle", "notify", "--since", before)  # the default state: inside the checkout
    assert result.code == 0, result.err
    reason = {"tracked": "git tracks it, so a pull request could have written it",
              "symlink": "it is a symbolic link"}.get(forgery, "it cannot be read")
    assert result.err.splitlines()[0].startswith(
        f"warning: {state}: not believed ({reason}"), result.err
    assert [n["text"] for n in webhook.acknowledged] == [NOTICE]


def test_a_state_file_ci_wrote_prevents_a_duplicate(repo: GitRepo, webhook: Webhook, tmp_path: Path) -> None:
    use_webhook(repo, webhook.url)
    assert cli(repo, *RETIRE).code == 0
    state = tmp_path / "ci" / "sent.json"
    first, second = merge_and_notify(repo, state)
    assert "delivered" in first and "already sent" in second
    assert len(webhook.acknowledged) == 1


def test_a_queue_file_committed_in_a_pull_request_is_not_sent(repo: GitRepo, webhook: Webhook) -> None:
    use_webhook(repo, webhook.url)
    item = {"id": "0" * 32, "webhook": {"name": "council", "url": webhook.url}, "payload": {"text": "forged"},
            "text": "forged", "queued_at": WHEN, "attempts": 1, "last_error": ""}
    repo.write(".incidentops/pending-notifications.json", json.dumps({"pending": [item]}))
    repo.commit("A queue file", date="2026-10-20T09:00:00Z")
    result = cli(repo, "lifecycle", "notify", "--retry")
    assert result.code == 2
    assert result.err.splitlines()[0] == (
        "incidentops: error: .incidentops/pending-notifications.json: the queue of pending notifications is not"
        " trusted: git tracks it, so a pull request could have written it")
    assert webhook.acknowledged == []


def test_notify_since_an_unknown_revision_is_a_usage_error(repo: GitRepo) -> None:
    for rev, message in [("0" * 40, f"invalid git revision '{'0' * 40}' for --since"),
                         ("no-such-branch", f"{repo.path}: git revision 'no-such-branch' not found")]:
        result = cli(repo, "lifecycle", "notify", "--since", rev)
        assert (result.code, result.err.splitlines()[0]) == (2, f"incidentops: error: {message}")


# --- decision dates (class 5, lifecycle half) ----------------------------------------------------


def at_values(repo: GitRepo, path: str) -> list[str]:
    return re.findall(r'^  - at: "([^"]+)"$', repo.read(path), re.MULTILINE)


def test_a_decision_dated_in_the_future_is_refused(repo: GitRepo) -> None:
    before = snapshot(repo.path)
    for args in (("keep", "regression_INC_001", "--reason", "Still seen"),
                 RETIRE[1:-2]):
        result = cli(repo, "lifecycle", *args, "--as-of", "2099-01-01T00:00:00Z")
        assert result.code == 2
        first, hint = result.err.splitlines()
        assert re.fullmatch(r"incidentops: error: regression_INC_00[13] \((ACTIVE|DEPRECATED)\): --as-of"
                            r" 2099-01-01T00:00:00Z is in the future \(this machine's clock says"
                            r" \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)", first), first
        assert hint == "  hint: a decision is dated when it is taken: drop --as-of (or give a moment that has passed)"
    assert snapshot(repo.path) == before


def test_a_decision_dated_before_the_last_one_is_refused(repo: GitRepo) -> None:
    result = cli(repo, "lifecycle", "keep", "regression_INC_001", "--reason", "Still seen", "--as-of", "2026-04-01")
    assert result.code == 2
    assert result.err.splitlines() == [
        "incidentops: error: regression_INC_001 (ACTIVE): --as-of 2026-04-01T00:00:00Z is before the test's last"
        " recorded decision (2026-04-15T10:00:00Z)",
        "  hint: decisions are recorded in order: drop --as-of, or give a moment on or after 2026-04-15T10:00:00Z",
    ]


def test_decisions_dated_now_or_in_order_are_recorded_in_chronological_order(repo: GitRepo) -> None:
    path = "regressions/regression_INC_001.yaml"
    assert cli(repo, "lifecycle", "monitor", "regression_INC_001", "--reason", "Flaky", "--approver",
               "Safety council chair", "--as-of", "2026-04-15T10:00:00Z").code == 0  # the same moment as the last decision
    start = datetime.now(UTC).replace(microsecond=0)
    assert cli(repo, "lifecycle", "activate", "regression_INC_001", "--reason", "Stable again").code == 0
    end = datetime.now(UTC)
    soon = (datetime.now(UTC) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")  # within the clock skew
    assert cli(repo, "lifecycle", "keep", "regression_INC_001", "--reason", "Still seen", "--as-of", soon).code == 0
    moments = at_values(repo, path)
    assert moments == sorted(moments, key=lambda m: datetime.fromisoformat(m))
    dated_now = datetime.fromisoformat(moments[-2])
    assert start <= dated_now <= end
    assert cli(repo, "check").code == 0  # judged by the real clock, like the decisions
