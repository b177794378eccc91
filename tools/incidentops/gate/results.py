"""Read a regression suite's results files and combine repeated results per test.

Duplicates are combined, never rejected: the same test id appearing several
times (in one file or across files) means repeated runs, e.g. ``pytest
--count=5`` or one report per run. The combination keeps the worst outcome
(fail > error > skip > pass, so any failure wins), the latest
``blocked_at_turn`` (the worst case), and sums the run counts so a pass rate
across runs can be judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from incidentops.errors import IncidentOpsError
from incidentops.gate.jsonl import parse_jsonl
from incidentops.gate.junit import parse_junit
from incidentops.gate.testresult import OUTCOME_RANK, TestResult

MAX_BYTES = 64 * 1024 * 1024

_XML_SUFFIXES = frozenset({".xml"})
_JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise IncidentOpsError(
                f"{path}:1: the results file is {size:,} bytes, over the {MAX_BYTES:,}-byte cap",
                "split the results into several files",
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise IncidentOpsError(
            f"{path}: no such results file",
            "check the path; the suite may not have run or may write its report elsewhere",
        ) from None
    except IsADirectoryError:
        raise IncidentOpsError(f"{path}: is a folder, not a results file", "pass the report file itself") from None
    except OSError as exc:
        raise IncidentOpsError(f"{path}: cannot read: {exc.strerror}", "check the file's permissions") from None


def load_results_file(path: Path) -> list[TestResult]:
    """Every result in one JUnit XML (``.xml``) or JSONL (``.jsonl``/``.ndjson``) file.

    Other extensions are recognised by content (``<`` starts XML). Raises
    :class:`IncidentOpsError` naming ``path:line`` for an empty, truncated or malformed file.
    """
    data = _read(path)
    label = str(path)
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise IncidentOpsError(
            f"{label}:1: the results file is empty",
            "the suite may have crashed before writing its report; re-run it",
        )
    suffix = path.suffix.lower()
    if suffix in _XML_SUFFIXES or (suffix not in _JSONL_SUFFIXES and stripped.startswith(b"<")):
        return parse_junit(data, label)
    return parse_jsonl(data, label)


def load_results(paths: Sequence[Path]) -> list[TestResult]:
    """Every result of every file, in order (not combined: see :func:`combine_results`)."""
    results: list[TestResult] = []
    for path in paths:
        results.extend(load_results_file(Path(path)))
    return results


def _joined(values: Iterable[str], keep: int = 5) -> str:
    unique = list(dict.fromkeys(v for v in values if v))
    more = f" (+{len(unique) - keep} more)" if len(unique) > keep else ""
    return "; ".join(unique[:keep]) + more


def combine_results(results: Iterable[TestResult]) -> list[TestResult]:
    """One result per test id, in order of first appearance; repeated results combined."""
    grouped: dict[str, list[TestResult]] = {}
    for result in results:
        grouped.setdefault(result.test_id, []).append(result)
    combined: list[TestResult] = []
    for test_id, group in grouped.items():
        if len(group) == 1:
            combined.append(group[0])
            continue
        turns = [r.blocked_at_turn for r in group if r.blocked_at_turn is not None]
        combined.append(
            TestResult(
                test_id=test_id,
                outcome=max((r.outcome for r in group), key=OUTCOME_RANK.__getitem__),
                blocked_at_turn=max(turns) if turns else None,
                runs=sum(r.counted_runs for r in group),
                passes=sum(r.counted_passes for r in group),
                source=_joined(r.source for r in group),
                message=_joined(r.message for r in group),
            )
        )
    return combined
