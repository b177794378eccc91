"""Findings: what every check returns, located at path:line:col."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in one file, with the rule that found it and a hint to fix it."""

    path: str
    line: int
    col: int
    level: str
    rule: str
    message: str
    hint: str = ""

    @property
    def is_error(self) -> bool:
        return self.level == ERROR

    def location(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        # the message breaks ties, so findings of one rule at one place keep a stable order
        return (self.path, self.line, self.col, self.rule, self.message)
