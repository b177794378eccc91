"""Stakeholder notifications of lifecycle decisions: webhooks, a queue, and notices after merge.

Every notification is POSTed as JSON to each webhook of the policy's
``notifications.webhooks``. It is queued before it is sent, so a webhook that
cannot be reached, or a process interrupted while sending, never loses it: it
waits in ``.incidentops/pending-notifications.json`` (a local file, git-ignored)
until ``incidentops lifecycle notify --retry`` delivers it, and only to a
webhook the policy names.

A retirement's notice is sent when the retirement lands on the main branch, not
from the laptop that ran the ceremony: ``incidentops lifecycle notify --since REV``,
run by CI on main, sends one notice per RETIRE_REGRESSION audit entry added to
the registry between REV and HEAD (read from git objects: the trusted history),
plus those a previous run could not deliver. What was sent is remembered in a
state file kept by CI outside the checkout. That memory can only prevent a
duplicate: a state file git tracks (a pull request could have written it), a
symlink, something not a regular file, too large or unreadable is not believed,
and every notice due is sent again. A duplicate notice is better than a lost one.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from incidentops import __version__
from incidentops.records.errors import IncidentOpsError
from incidentops.records.fsio import write_text_atomic
from incidentops.records.model import Policy, build_as
from incidentops.records.validate import validate
from incidentops.records.yamlio import load_bytes

PENDING_DIR = ".incidentops"
PENDING_FILE = f"{PENDING_DIR}/pending-notifications.json"
DEFAULT_TIMEOUT = 10.0
#: a state file larger than this is not believed (it only ever holds a few keys per retirement)
MAX_STATE_BYTES = 4 * 1024 * 1024
AUDIT_ACTION = "RETIRE_REGRESSION"


class Interrupted(IncidentOpsError):
    """Ctrl-C: ``message`` says in what state the registry and the notices are left (exit 130)."""

    exit_code = 130

Poster = Callable[[str, bytes, float], None]
"""Sends ``body`` to ``url`` within ``timeout`` seconds; raises on failure."""


@dataclass(frozen=True, slots=True)
class Webhook:
    name: str
    url: str


@dataclass(frozen=True, slots=True)
class Notification:
    """What stakeholders are told: ``text`` for people, ``payload`` (JSON) for webhooks."""

    text: str
    payload: Mapping[str, Any]
    stakeholders: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one webhook call; ``error`` is empty when it was delivered."""

    webhook: Webhook
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def webhooks(policy: Policy) -> list[Webhook]:
    """The policy's ``notifications.webhooks``."""
    return [Webhook(item.name or item.url, item.url) for item in policy.notifications.webhooks]


def stakeholders(policy: Policy) -> tuple[str, ...]:
    """The policy's ``notifications.stakeholders``."""
    return policy.notifications.stakeholders


def post_json(url: str, body: bytes, timeout: float) -> None:
    """POST ``body`` as JSON with urllib; raises :class:`OSError` (or ValueError) on any failure."""
    import urllib.request  # here, not at the top: `check` imports this module and never posts

    if not url.startswith(("https://", "http://")):
        raise ValueError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": f"incidentops/{__version__}"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        status = getattr(response, "status", 200)
        if not 200 <= status < 300:
            raise OSError(f"HTTP {status}")


def deliver(
    notification: Notification,
    targets: Sequence[Webhook],
    timeout: float = DEFAULT_TIMEOUT,
    poster: Poster = post_json,
) -> list[Delivery]:
    """POST the notification to every webhook; one failure never stops the others."""
    body = json.dumps(notification.payload, ensure_ascii=False).encode("utf-8")
    return [_send(hook, body, timeout, poster) for hook in targets]


def _send(hook: Webhook, body: bytes, timeout: float, poster: Poster) -> Delivery:
    import urllib.error

    try:
        poster(hook.url, body, timeout)
    except urllib.error.HTTPError as exc:
        return Delivery(hook, f"HTTP {exc.code} {exc.reason}")
    except urllib.error.URLError as exc:
        return Delivery(hook, str(exc.reason))
    except (OSError, ValueError) as exc:
        return Delivery(hook, str(exc) or type(exc).__name__)
    return Delivery(hook)


# --- the local queue ---------------------------------------------------------------


def pending_path(root: Path) -> Path:
    return root / PENDING_FILE


def _tracked(root: Path, path: Path) -> bool:
    """Whether git tracks ``path`` (then a pull request may have written it)."""
    try:
        proc = subprocess.run(["git", "--literal-pathspecs", "ls-files", "--error-unmatch", "--", str(path)],
                              cwd=root, stdin=subprocess.DEVNULL, capture_output=True,
                              env={**os.environ, "LC_ALL": "C"}, check=False)
    except (FileNotFoundError, NotADirectoryError):
        return False
    return proc.returncode == 0


def _distrust(root: Path, path: Path) -> str | None:
    """Why a state file must not be believed; None when it may be (or does not exist)."""
    if path.is_symlink():
        return "it is a symbolic link"
    if not path.exists():
        return None
    if not path.is_file():
        return "it is not a regular file"
    if path.stat().st_size > MAX_STATE_BYTES:
        return f"it is larger than {MAX_STATE_BYTES:,} bytes"
    if _tracked(root, path):
        return "git tracks it, so a pull request could have written it"
    return None


def load_pending(root: Path) -> list[dict[str, Any]]:
    """The queued deliveries, oldest first."""
    path = pending_path(root)
    why = _distrust(root, path)
    if why:
        raise IncidentOpsError(
            f"{PENDING_FILE}: the queue of pending notifications is not trusted: {why}",
            "delete it (`git rm --cached` it if tracked); the notices of retirements are sent after merge anyway",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise IncidentOpsError(
            f"{PENDING_FILE}: cannot read the queue of pending notifications ({exc})",
            "fix or delete the file; its messages are also printed when a decision is taken",
        ) from None
    items = data.get("pending") if isinstance(data, dict) else None
    return [i for i in items or [] if isinstance(i, dict)]


def _ignored_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        write_text_atomic(ignore, "# local state of incidentops: never committed\n*\n")


def save_pending(root: Path, items: Sequence[Mapping[str, Any]]) -> None:
    _ignored_folder(root / PENDING_DIR)
    text = json.dumps({"pending": list(items)}, indent=2, ensure_ascii=False) + "\n"
    write_text_atomic(pending_path(root), text)


def enqueue(root: Path, notification: Notification, targets: Sequence[Webhook], when: datetime) -> list[str]:
    """Queue one delivery per webhook, before anything is sent; returns their ids."""
    items = load_pending(root)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    ids = []
    for hook in targets:
        ids.append(uuid.uuid4().hex)
        items.append({
            "id": ids[-1],
            "webhook": {"name": hook.name, "url": hook.url},
            "payload": dict(notification.payload),
            "text": notification.text,
            "queued_at": stamp,
            "attempts": 0,
            "last_error": "",
        })  # fmt: skip
    save_pending(root, items)
    return ids


def settle(root: Path, results: Mapping[str, Delivery]) -> None:
    """Record attempts: a delivered item leaves the queue, a failed one keeps its error."""
    keep = []
    for item in load_pending(root):
        result = results.get(str(item.get("id")))
        if result is None:
            keep.append(item)
        elif not result.ok:
            keep.append({**item, "attempts": int(item.get("attempts") or 0) + 1, "last_error": result.error})
    save_pending(root, keep)


@dataclass(frozen=True, slots=True)
class RetryResult:
    sent: tuple[Delivery, ...]
    failed: tuple[Delivery, ...]


def retry_pending(
    root: Path, targets: Sequence[Webhook] | None = None, timeout: float = DEFAULT_TIMEOUT,
    poster: Poster = post_json,
) -> RetryResult:
    """Send every queued notification again; keep the ones that still fail.

    With ``targets`` (the policy's webhooks), an item is only sent to a URL among
    them: the queue is a local file, and never decides where a message goes.
    """
    allowed = {t.url for t in targets} if targets is not None else None
    items = load_pending(root)
    if any(not item.get("id") for item in items):  # queued by an older version
        for item in items:
            item["id"] = item.get("id") or uuid.uuid4().hex
        save_pending(root, items)
    sent: list[Delivery] = []
    failed: list[Delivery] = []
    for item in items:
        raw = item.get("webhook")
        hook = Webhook(str(raw.get("name", "")), str(raw.get("url", ""))) if isinstance(raw, dict) else Webhook("", "")
        if allowed is not None and hook.url not in allowed:
            result = Delivery(hook, "not a webhook of the policy (notifications.webhooks): not sent")
        else:
            body = json.dumps(item.get("payload", {}), ensure_ascii=False).encode("utf-8")
            result = _send(hook, body, timeout, poster)
        settle(root, {str(item["id"]): result})
        (sent if result.ok else failed).append(result)
    return RetryResult(tuple(sent), tuple(failed))


# --- notices after merge ---------------------------------------------------------------


#: the fields of a RETIRE_REGRESSION audit entry a notice carries
AUDIT_FIELDS = ("test_id", "original_incident", "reason_code", "reason", "requested_by", "approver", "timestamp")


def retirement_notice(audit_path: str, entry: Mapping[str, str | None], severity: str | None,
                      policy: Policy, commit: str | None = None) -> Notification:
    """The notice of one retirement, built from its audit entry (its fields as text, None when absent)."""
    test_id = str(entry.get("test_id") or "")
    code, reason = str(entry.get("reason_code") or ""), str(entry.get("reason") or "")
    text = f"Regression test {test_id} retired: {code} - {reason}"
    people = stakeholders(policy)
    payload: dict[str, Any] = {
        "event": "regression_test.retire",
        "text": text,
        "test_id": test_id,
        "incident_id": entry.get("original_incident") or None,
        "severity": severity,
        "decision": "RETIRE",
        "from_state": "DEPRECATED",
        "to_state": "RETIRED",
        "reason": reason,
        "reason_code": code,
        "requested_by": entry.get("requested_by"),
        "approver": entry.get("approver"),
        "at": entry.get("timestamp"),
        "path": f"regressions/archive/{test_id}.yaml",
        "audit_entry": audit_path,
        "stakeholders": list(people),
    }
    if commit:
        payload["commit"] = commit
    return Notification(text, payload, people)


@dataclass(frozen=True, slots=True)
class Due:
    """A notice due: ``key`` (the audit entry's path) is what the state remembers."""

    key: str
    notification: Notification


def due_retirements(root: Path, since: str, pending: Sequence[str] = ()) -> tuple[list[Due], list[str]]:
    """The retirement notices due at HEAD: audit entries added since ``since``, and ``pending`` keys.

    Everything is read from git objects at HEAD and ``since`` (never the working
    tree). Returns the notices and warnings (a pending key HEAD no longer has).
    """
    from incidentops.lifecycle.history import read_tree_files

    head = _rev_parse(root, "HEAD")
    base = _rev_parse(root, since)
    now_files = read_tree_files(root, head, ("audit", "incidents", "incidentops.yaml"))
    before = set(read_tree_files(root, base, ("audit",)))
    policy = _policy_of(now_files.get("incidentops.yaml", b""), base)
    warnings: list[str] = []
    keys = [p for p in sorted(now_files) if p.startswith("audit/") and p.endswith(".yaml") and p not in before]
    for key in pending:
        if key not in keys:
            if key in now_files:
                keys.append(key)
            else:
                warnings.append(f"{key}: a notice was pending for it, but HEAD has no such audit entry")
    dues = []
    for key in keys:
        doc = load_bytes(now_files[key], key)
        if doc.data is None:  # when in doubt, send
            entry: dict[str, str | None] = {"test_id": "?", "reason_code": "?", "reason": f"unreadable audit entry {key}"}
        elif doc.string(("action",)) != AUDIT_ACTION:
            continue
        else:
            entry = {name: doc.scalar((name,)) for name in AUDIT_FIELDS}
        incident = now_files.get(f"incidents/{entry.get('original_incident')}/incident.yaml")
        severity = load_bytes(incident, "incident.yaml").string(("severity",)) if incident is not None else None
        dues.append(Due(key, retirement_notice(key, entry, severity, policy, head)))
    return dues, warnings


def policy_at_head(root: Path) -> Policy:
    """The policy committed at HEAD (its webhooks are those a notice after merge goes to)."""
    from incidentops.lifecycle.history import read_tree_files

    return _policy_of(read_tree_files(root, "HEAD", ("incidentops.yaml",)).get("incidentops.yaml", b""))


def _policy_of(raw: bytes, since: str | None = None) -> Policy:
    """The committed policy, typed; refused when it fails its schema (its webhooks are not known then)."""
    doc = load_bytes(raw, "incidentops.yaml")
    if doc.data is not None:
        doc.findings.extend(validate(doc, "policy"))
    found = build_as(Policy, doc)
    if found is None:
        raise IncidentOpsError(
            "incidentops.yaml at HEAD has errors, so the stakeholders and webhooks to notify are not known:"
            " no notice is sent",
            "run `incidentops check incidentops.yaml` and land the fix"
            + (f"; then `incidentops lifecycle notify --since {since}` sends the notices due since this run's"
               " revision" if since else ""),
        )
    return found


def _rev_parse(root: Path, rev: str) -> str:
    if not rev or rev.startswith("-") or "\0" in rev or set(rev) == {"0"}:
        raise IncidentOpsError(f"invalid git revision {rev!r} for --since",
                               "give the commit main was at before the push (GitHub: github.event.before)")
    try:
        proc = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=root,
                              stdin=subprocess.DEVNULL, capture_output=True, env={**os.environ, "LC_ALL": "C"},
                              check=False)
    except FileNotFoundError:
        raise IncidentOpsError("git is not installed or not on PATH", "install git") from None
    if proc.returncode != 0:
        raise IncidentOpsError(f"{root}: git revision {rev!r} not found",
                               "fetch the full history (actions/checkout with fetch-depth: 0)")
    return proc.stdout.decode().strip()


@dataclass
class SentState:
    """What CI already sent (``sent``: key -> webhook name -> when) and what it still owes (``pending``)."""

    path: Path
    sent: dict[str, dict[str, str]]
    pending: dict[str, dict[str, Any]]
    warning: str = ""
    save_error: str = ""

    @classmethod
    def load(cls, root: Path, path: Path) -> SentState:
        """Read the state; one that cannot be believed is replaced by an empty one (send everything due)."""
        why = _distrust(root, path)
        if why is None and path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                sent, pending = data["sent"], data["pending"]
                if isinstance(sent, dict) and isinstance(pending, dict) and all(
                    isinstance(v, dict) for v in [*sent.values(), *pending.values()]
                ):
                    return cls(path, sent, pending)
                why = "it is not a state file of incidentops"
            except (OSError, ValueError, KeyError, TypeError) as exc:
                why = f"it cannot be read ({exc})"
        warning = f"{path}: not believed ({why}); every notice due is sent" if why else ""
        return cls(path, {}, {}, warning)

    def save(self) -> None:
        """Write the state; a failure never stops a notice from being sent (it is remembered in ``save_error``)."""
        text = json.dumps({"version": 1, "sent": self.sent, "pending": self.pending}, indent=2,
                          ensure_ascii=False, sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.path, text)
        except (OSError, IncidentOpsError) as exc:
            detail = exc.message if isinstance(exc, IncidentOpsError) else str(exc)
            self.save_error = f"cannot save {self.path} ({detail}): the next run may send these notices again"


@dataclass(frozen=True, slots=True)
class Sent:
    due: Due
    webhook: Webhook
    error: str = ""
    skipped: bool = False  # already sent by an earlier run

    @property
    def ok(self) -> bool:
        return not self.error


def send_due(state: SentState, dues: Sequence[Due], targets: Sequence[Webhook], when: datetime,
             timeout: float = DEFAULT_TIMEOUT, poster: Poster = post_json,
             report: Callable[[Sent], None] | None = None) -> list[Sent]:
    """Send each notice due to each webhook not yet sent to; the state is saved before every send.

    The state says a notice is pending before it is POSTed, and sent only after
    the webhook acknowledged it: a run killed in between sends it again next time.
    """
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    out: list[Sent] = []
    for due in dues:
        done = state.sent.setdefault(due.key, {})
        todo = [t for t in targets if t.name not in done]
        for hook in targets:
            if hook.name in done:
                out.append(Sent(due, hook, skipped=True))
                if report:
                    report(out[-1])
        if not todo:
            state.pending.pop(due.key, None)
            if not done:
                state.sent.pop(due.key, None)
            continue
        entry = state.pending.setdefault(due.key, {"first_due": stamp, "attempts": 0})
        entry["attempts"] = int(entry.get("attempts") or 0) + 1
        state.save()
        body = json.dumps(due.notification.payload, ensure_ascii=False).encode("utf-8")
        for hook in todo:
            result = _send(hook, body, timeout, poster)
            if result.ok:
                done[hook.name] = stamp
            else:
                entry["last_error"] = f"{hook.name}: {result.error}"
            state.save()
            out.append(Sent(due, hook, result.error))
            if report:
                report(out[-1])
        if all(t.name in done for t in targets):
            state.pending.pop(due.key, None)
            state.save()
    return out
