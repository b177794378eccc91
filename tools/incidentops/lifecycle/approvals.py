"""Who approved a pull request, as the git host records it.

``pr-check --approvals FILE`` reads the reviews of the pull request in the shape
GitHub's REST API returns them (``GET /repos/{owner}/{repo}/pulls/{n}/reviews``,
fetched by the workflow with ``gh api --paginate``): a list of
``{user: {login}, state, commit_id, submitted_at}``. Only the latest review of each
user counts (a later COMMENTED review does not undo an approval, as on GitHub; a
CHANGES_REQUESTED or DISMISSED one does), and only an approval of the head commit:
an approval of an earlier commit does not cover what was pushed after it.

The policy's ``approvers`` maps the names written in records (``approver: Safety
council chair``) to host accounts, so a name in a record is only as good as the
approval of the account behind it.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from incidentops.records.errors import IncidentOpsError
from incidentops.records.model import Policy

STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING")
MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Approvals:
    """The latest review state of each account, and the commit it was given on."""

    head: str
    latest: Mapping[str, tuple[str, str]]  # login (case-folded) -> (state, commit_id)

    def approved(self, login: str) -> bool:
        state, commit = self.latest.get(login.casefold(), ("", ""))
        return state == "APPROVED" and commit == self.head

    def why_not(self, login: str) -> str:
        state, commit = self.latest.get(login.casefold(), ("", ""))
        if not state:
            return f"@{login} has not reviewed this pull request"
        if state == "APPROVED":
            return f"@{login} approved an earlier commit ({commit[:12]}), not the head {self.head[:12]}"
        return f"@{login}'s latest review is {state}, not APPROVED"

    def approvers(self) -> list[str]:
        return sorted(login for login in self.latest if self.approved(login))


def _read(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise IncidentOpsError(f"{path}: cannot open the approvals file: {exc.strerror}",
                               "fetch it with `gh api --paginate repos/OWNER/REPO/pulls/N/reviews > FILE`") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise IncidentOpsError(f"{path}: the approvals file is not a regular file", "give the JSON file itself")
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise IncidentOpsError(f"{path}: the approvals file is larger than {MAX_BYTES // (1024 * 1024)} MB",
                               "give the reviews of one pull request")
    return data


def _documents(text: str, path: Path) -> list[Any]:
    """One JSON document, or several one after the other (``gh api --paginate`` prints a page each)."""
    decoder = json.JSONDecoder()
    docs: list[Any] = []
    index = 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            break
        try:
            doc, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError as exc:
            raise IncidentOpsError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}",
                                   "give the output of `gh api --paginate .../pulls/N/reviews`") from None
        docs.append(doc)
    return docs


def _reviews(docs: list[Any], path: Path) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    for doc in docs:
        pages = doc if isinstance(doc, list) and all(isinstance(p, list) for p in doc) and doc else [doc]
        for page in pages:
            if not isinstance(page, list):
                raise IncidentOpsError(f"{path}: expected a list of reviews, found {type(page).__name__}",
                                       "give the JSON of GET /repos/{owner}/{repo}/pulls/{n}/reviews")
            for number, review in enumerate(page, start=1):
                if not isinstance(review, dict):
                    raise IncidentOpsError(f"{path}: review {number} is not an object", "give the API's JSON as it is")
                out.append(review)
    return out


def load_approvals(path: Path, head: str) -> Approvals:
    """The reviews in ``path`` (the git host's JSON) for the pull request whose head commit is ``head``."""
    raw = _read(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise IncidentOpsError(f"{path}: the approvals file is not UTF-8 JSON", "give the API's JSON as it is") from None
    latest: dict[str, tuple[str, str, str]] = {}
    for number, review in enumerate(_reviews(_documents(text, path), path), start=1):
        user = review.get("user")
        login = user.get("login") if isinstance(user, dict) else None
        state = review.get("state")
        commit = review.get("commit_id")
        when = review.get("submitted_at")
        if not isinstance(login, str) or not login:
            raise IncidentOpsError(f"{path}: review {number} has no user.login", "give the API's JSON as it is")
        if state not in STATES:
            raise IncidentOpsError(f"{path}: review {number} has an unknown state {state!r}",
                                   f"a review state is one of {', '.join(STATES)}")
        if state == "PENDING":
            continue  # not submitted: it does not count
        if not isinstance(commit, str) or not isinstance(when, str):
            raise IncidentOpsError(f"{path}: review {number} has no commit_id or submitted_at",
                                   "give the API's JSON as it is")
        key = login.casefold()
        earlier = latest.get(key)
        if state == "COMMENTED" and earlier is not None:
            continue  # a comment does not change a review's verdict on GitHub
        if earlier is None or when >= earlier[2]:
            latest[key] = (str(state), commit, when)
    return Approvals(head, {login: (state, commit) for login, (state, commit, _) in latest.items()})


def accounts(policy: Policy) -> dict[str, str]:
    """The policy's ``approvers``: a name as records write it (case-folded, spaces collapsed) -> host login."""
    return {" ".join(name.split()).casefold(): login for name, login in policy.approvers.items() if login.strip()}


def account_of(policy: Policy, name: str) -> str | None:
    return accounts(policy).get(" ".join(name.split()).casefold())
