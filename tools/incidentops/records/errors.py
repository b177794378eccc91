"""The one user-facing error type; the CLI maps it to exit code 2."""

from __future__ import annotations


class IncidentOpsError(Exception):
    """A mistake the user can fix: bad input, a missing file, an illegal request.

    ``message`` says what is wrong and where; ``hint`` says what to do.
    """

    exit_code = 2

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class BlockedError(IncidentOpsError):
    """A request refused by policy (illegal transition, missing approver...): exit 1."""

    exit_code = 1
