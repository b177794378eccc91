"""JUnit XML results (pytest ``--junitxml``, Surefire, most CI runners).

The file is parsed with the standard library's expat parser driven directly,
not with ``xml.etree``: that way one pass both keeps the line of every element
(for ``path:line`` sources) and refuses any DOCTYPE. Without a DOCTYPE there
can be no entity declarations, so entity-expansion ("billion laughs") and
external-entity attacks have nothing to work with; this is the protection
defusedxml would add, without a dependency.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

from incidentops.errors import IncidentOpsError
from incidentops.gate.testresult import (
    ERROR,
    FAIL,
    OUTCOME_RANK,
    PASS,
    REGRESSION_ID,
    SKIP,
    TestResult,
    short_message,
)

_OUTCOME_TAGS = {"failure": FAIL, "error": ERROR, "skipped": SKIP}
# Surefire (and pytest plugins imitating it) record earlier attempts of a rerun test.
_RERUN_TAGS = frozenset({"flakyFailure", "flakyError", "rerunFailure", "rerunError"})
_INT_PROPERTIES = ("blocked_at_turn", "runs", "passes")

HINT_XML = "the run may have been cut short; re-run the suite so the runner writes a complete report"


@dataclass
class _Element:
    tag: str
    attrib: dict[str, str]
    line: int
    col: int
    children: list[_Element] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


class _Forbidden(Exception):
    def __init__(self, what: str, where: str) -> None:
        super().__init__(what)
        self.what = what
        self.where = where


def parse_xml(data: bytes, path: str) -> _Element:
    """Parse ``data`` into a small element tree with line numbers; refuse DOCTYPE."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    roots: list[_Element] = []
    stack: list[_Element] = []

    def where() -> str:
        return f"{path}:{parser.CurrentLineNumber}:{parser.CurrentColumnNumber + 1}"

    def start(tag: str, attrib: dict[str, str]) -> None:
        element = _Element(tag, attrib, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)
        (stack[-1].children if stack else roots).append(element)
        stack.append(element)

    def end(_tag: str) -> None:
        stack.pop()

    def text(chunk: str) -> None:
        if stack:
            stack[-1].text.append(chunk)

    def doctype(*_args: object) -> None:
        raise _Forbidden("a DOCTYPE declaration", where())

    def entity(*_args: object) -> None:
        raise _Forbidden("an entity declaration", where())

    def external(*_args: object) -> int:
        raise _Forbidden("an external entity", where())

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.ExternalEntityRefHandler = external
    try:
        parser.Parse(data, True)
    except _Forbidden as exc:
        raise IncidentOpsError(
            f"{exc.where}: the results file contains {exc.what}",
            "JUnit reports never need a DOCTYPE or entities; they are refused because they can "
            "expand without bound or read local files. Use the report exactly as the runner wrote it.",
        ) from None
    except expat.ExpatError as exc:
        raise IncidentOpsError(
            f"{path}:{exc.lineno}:{exc.offset + 1}: not well-formed XML: {expat.ErrorString(exc.code)}",
            HINT_XML,
        ) from None
    return roots[0]


def _property_values(case: _Element) -> dict[str, tuple[str, str]]:
    """name -> (value, "line:col" of the property)."""
    values: dict[str, tuple[str, str]] = {}
    for child in case.children:
        if child.tag != "properties":
            continue
        for prop in child.children:
            if prop.tag == "property" and "name" in prop.attrib:
                value = prop.attrib.get("value", "".join(prop.text).strip())
                values[prop.attrib["name"]] = (value, f"{prop.line}:{prop.col}")
    return values


def _int_property(name: str, value: str, line_col: str, path: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        number = -1
    minimum = 0 if name == "passes" else 1
    if number < minimum:
        raise IncidentOpsError(
            f"{path}:{line_col}: property {name}={value!r} is not a whole number >= {minimum}",
            "blocked_at_turn is the 1-based user turn the model refused at; runs and passes count repeated runs",
        )
    return number


def _test_id(case: _Element, properties: dict[str, tuple[str, str]], path: str) -> str:
    if "test_id" in properties and properties["test_id"][0].strip():
        return properties["test_id"][0].strip()
    name = case.attrib.get("name", "").strip()
    if not name:
        raise IncidentOpsError(
            f"{path}:{case.line}:{case.col}: <testcase> has no name and no test_id property",
            'name the test after its regression id (test_regression_INC_001) or add <property name="test_id" value="...">',
        )
    match = REGRESSION_ID.search(name)
    if match:
        return match.group(0)
    # Not a regression test by name: keep the runner's full id so the warning is findable.
    classname = case.attrib.get("classname", "").strip()
    return f"{classname}.{name}" if classname else name


def _case_result(case: _Element, path: str) -> TestResult:
    properties = _property_values(case)
    test_id = _test_id(case, properties, path)
    outcome = PASS
    message = ""
    reruns = 0
    for child in case.children:
        if child.tag in _RERUN_TAGS:
            reruns += 1
        found = _OUTCOME_TAGS.get(child.tag)
        if found is None:
            continue
        if OUTCOME_RANK[found] > OUTCOME_RANK[outcome]:
            # a runner may write several (a failure plus a teardown error): the worst wins
            outcome = found
            message = short_message(child.attrib.get("message", "") or "".join(child.text))
    numbers = {
        name: _int_property(name, *properties[name], path)
        for name in _INT_PROPERTIES
        if name in properties and properties[name][0].strip()
    }
    runs = numbers.get("runs")
    passes = numbers.get("passes")
    if runs is None and reruns:
        runs, passes = reruns + 1, (1 if outcome == PASS else 0)
    if (runs is None) != (passes is None) or (runs is not None and passes is not None and passes > runs):
        raise IncidentOpsError(
            f"{path}:{case.line}:{case.col}: test {test_id}: properties runs and passes must come together, passes <= runs",
            "record both counts of the repeated runs, or neither",
        )
    return TestResult(
        test_id=test_id,
        outcome=outcome,
        blocked_at_turn=numbers.get("blocked_at_turn"),
        runs=runs,
        passes=passes,
        source=f"{path}:{case.line}:{case.col}",
        message=message,
    )


def _testcases(element: _Element) -> Iterator[_Element]:
    for child in element.children:
        if child.tag == "testcase":
            yield child
        elif child.tag in ("testsuite", "testsuites"):
            yield from _testcases(child)


def parse_junit(data: bytes, path: str) -> list[TestResult]:
    """All testcases of a JUnit XML report, in document order."""
    root = parse_xml(data, path)
    if root.tag not in ("testsuites", "testsuite"):
        raise IncidentOpsError(
            f"{path}:{root.line}:{root.col}: <{root.tag}> is not a JUnit report",
            "expected <testsuites> or <testsuite> at the top, as `pytest --junitxml` writes",
        )
    return [_case_result(case, path) for case in _testcases(root)]
