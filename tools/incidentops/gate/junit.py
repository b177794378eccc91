"""JUnit XML results (pytest ``--junitxml``, Surefire, jest-junit, most CI runners).

The file is parsed as a stream with the standard library's expat parser driven
directly: memory stays bounded by one ``<testcase>`` whatever the file's size,
every element keeps its line (for ``path:line:col`` sources), and any DOCTYPE is
refused. Without a DOCTYPE there can be no entity declarations, so entity
expansion ("billion laughs") and external entities have nothing to work with:
the protection defusedxml would add, without a dependency.

Only the shape the gate positively understands is read; everything else is an
error naming its line, never a silent pass:

- ``<testsuites>`` holds ``<testsuite>``; a ``<testsuite>`` holds ``<testcase>``,
  ``<testsuite>``, ``<properties>``, ``<system-out>`` and ``<system-err>``;
- a ``<testcase>`` holds ``<failure>``, ``<error>``, ``<skipped>``,
  ``<properties>``, ``<system-out>``, ``<system-err>`` and Surefire's records of
  earlier attempts (``<flakyFailure>``, ``<rerunFailure>``...);
- element names are exact (``<Failure>``, ``<j:failure>`` are refused), attributes
  come from a known list, googletest's ``status``/``result`` take their known values;
- a suite's ``tests``, ``failures``, ``errors`` and ``skipped`` counts, when given,
  must equal what its ``<testcase>`` elements show, with one exception: the empty
  ``<testcase>`` pytest-rerunfailures writes for each failed attempt before a rerun
  (same classname and name, left out of ``tests``) is read as a failed run.

Each test case is one run of the check ``classname::name`` (a pytest-repeat suffix
such as ``[3-10]`` removed, so its runs are repeats of one check); a ``model``
property names the model it tested. In promptfoo's JUnit output the classname
``[provider] prompt N`` gives the model (the provider) and the check (the prompt).
``<flakyFailure>``/``<rerunFailure>`` records count as failed runs.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from xml.parsers import expat

from incidentops.gate.testresult import (
    ERROR,
    FAIL,
    MAX_RESULTS,
    OUTCOME_RANK,
    PASS,
    REGRESSION_ID,
    SKIP,
    Reader,
    ResultsSource,
    TestResult,
    short_message,
)
from incidentops.records.errors import IncidentOpsError

HINT_XML = "the run may have been cut short; re-run the suite so the runner writes a complete report"
HINT_SHAPE = (
    "the gate reads JUnit reports as test runners write them and refuses anything else, "
    "so that no failure can hide in a shape it does not understand; use the report exactly as the runner wrote it"
)

_OUTCOME_TAGS = {"failure": FAIL, "error": ERROR, "skipped": SKIP}
# Surefire (and pytest plugins imitating it) record earlier attempts of a rerun test.
_RERUN_TAGS = frozenset({"flakyFailure", "flakyError", "rerunFailure", "rerunError"})
_SUITES = frozenset({"testsuites", "testsuite"})
_OUTPUT = frozenset({"system-out", "system-err"})
_INT_PROPERTIES = ("blocked_at_turn", "runs", "passes")
_READ_PROPERTIES = frozenset({"test_id", "model", *_INT_PROPERTIES})
# pytest-repeat names the runs of one test test_x[1-5], test_x[2-5] (or test_x[param-1-5])
_REPEAT_SUFFIX = re.compile(r"(?:\[(\d+)-(\d+)\]|-(\d+)-(\d+)\])$")
# promptfoo's JUnit output (-o results.junit.xml): <testsuites name="promptfoo">, classname "[provider] prompt N"
_PROMPTFOO_CLASS = re.compile(r"^\[(?P<model>.+)\] (?P<check>prompt \d+)$")
_RERUN_NOTE = "a failed attempt, rerun (pytest-rerunfailures writes it as an empty <testcase>)"

#: element -> the elements it may hold
_CHILDREN: dict[str, frozenset[str]] = {
    "testsuites": frozenset({"testsuite", "properties"}),
    "testsuite": frozenset({"testsuite", "testcase", "properties", *_OUTPUT}),
    "testcase": frozenset({*_OUTCOME_TAGS, *_RERUN_TAGS, "properties", *_OUTPUT}),
    "properties": frozenset({"property"}),
    **{tag: frozenset({"stackTrace", *_OUTPUT}) for tag in _RERUN_TAGS},
}
#: elements whose text the gate reads or may ignore; in every other element only whitespace is allowed
_TEXT = frozenset({*_OUTCOME_TAGS, *_RERUN_TAGS, "property", "stackTrace", *_OUTPUT})

_XSI = ("xmlns:xsi", "xsi:noNamespaceSchemaLocation", "xsi:schemaLocation")
_COUNTS = ("tests", "failures", "errors", "skipped", "skips")
_ATTRIBUTES: dict[str, frozenset[str]] = {
    "testsuites": frozenset({"name", "time", "timestamp", "id", "disabled", "version", *_COUNTS, *_XSI}),
    "testsuite": frozenset({
        "name", "time", "timestamp", "hostname", "id", "package", "file", "assertions", "group",
        "disabled", "version", *_COUNTS, *_XSI,
    }),
    "testcase": frozenset({
        "name", "classname", "file", "line", "time", "timestamp", "assertions", "id", "group",
        "value_param", "type_param", "status", "result",
    }),
    "failure": frozenset({"message", "type"}),
    "error": frozenset({"message", "type"}),
    "skipped": frozenset({"message", "type"}),
    "properties": frozenset(),
    "property": frozenset({"name", "value"}),
    "system-out": frozenset(),
    "system-err": frozenset(),
    "stackTrace": frozenset(),
    **{tag: frozenset({"message", "type", "time"}) for tag in _RERUN_TAGS},
}
# googletest writes status="run|notrun" and result="completed|skipped|suppressed".
_STATUS = {"status": {"run": PASS, "notrun": SKIP}, "result": {"completed": PASS, "skipped": SKIP, "suppressed": SKIP}}

MAX_SUITE_DEPTH = 64
_MAX_TEXT = 4096


@dataclass
class _Suite:
    tag: str
    attrib: dict[str, str]
    where: str
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    #: indexes of results that look like pytest-rerunfailures' empty records of failed attempts
    reruns: list[int] = field(default_factory=list)
    last_key: tuple[str, str] | None = None
    last_index: int = -1
    last_empty: bool = False


@dataclass
class _Case:
    attrib: dict[str, str]
    line: int
    col: int
    outcome: str = PASS
    message: str = ""
    reruns: int = 0
    tags: set[str] = field(default_factory=set)
    properties: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class _Open:
    """An element being read: its tag, where it starts, and its text when the gate reads it."""

    tag: str
    attrib: dict[str, str]
    line: int
    col: int
    text: list[str] = field(default_factory=list)
    size: int = 0


class _Stream:
    """Expat handlers that check the shape and build one result per ``<testcase>``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.parser = expat.ParserCreate()
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.stack: list[_Open] = []
        self.suites: list[_Suite] = []
        self.case: _Case | None = None
        self.results: list[TestResult] = []
        self.root_seen = False
        self.promptfoo = False
        p = self.parser
        p.StartElementHandler = self.start
        p.EndElementHandler = self.end
        p.CharacterDataHandler = self.text
        p.StartDoctypeDeclHandler = self.forbidden("a DOCTYPE declaration")
        p.EntityDeclHandler = self.forbidden("an entity declaration")
        p.ExternalEntityRefHandler = self.forbidden("an external entity")

    # ---- locations and errors -------------------------------------------------------------

    def here(self) -> tuple[int, int]:
        return self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1

    def at(self, line: int, col: int) -> str:
        return f"{self.path}:{line}:{col}"

    def refuse(self, line: int, col: int, message: str, hint: str = HINT_SHAPE) -> IncidentOpsError:
        return IncidentOpsError(f"{self.at(line, col)}: {message}", hint)

    def forbidden(self, what: str) -> Callable[..., int]:
        def handler(*_args: object) -> int:
            raise self.refuse(
                *self.here(), f"the results file contains {what}",
                "JUnit reports never need a DOCTYPE or entities; they are refused because they can "
                "expand without bound or read local files. Use the report exactly as the runner wrote it.",
            )

        return handler

    # ---- shape -------------------------------------------------------------------------------

    def check_element(self, tag: str, attrib: dict[str, str], line: int, col: int) -> None:
        if not self.stack:
            if tag == "promptfoo":
                raise self.refuse(
                    line, col, "this is promptfoo's own XML output (<promptfoo>), not a JUnit report",
                    "write promptfoo's results as JSON (promptfoo eval -o results.json), which the gate reads "
                    "with every result's reason, or as JUnit (-o results.junit.xml)",
                )
            if tag not in _SUITES:
                raise self.refuse(
                    line, col, f"<{tag}> is not a JUnit report",
                    "expected <testsuites> or <testsuite> at the top, as `pytest --junitxml` writes",
                )
            self.promptfoo = tag == "testsuites" and attrib.get("name") == "promptfoo"
        else:
            parent = self.stack[-1].tag
            allowed = _CHILDREN.get(parent, frozenset())
            if tag not in allowed:
                raise self.refuse(line, col, *self.unknown_element(tag, parent, allowed))
        known = _ATTRIBUTES[tag]
        for name, value in attrib.items():
            if name not in known and (name == "xmlns" or name.startswith("xmlns:")):
                raise self.refuse(
                    line, col, f"<{tag}> declares an XML namespace ({name}={_quote(value)}), which the gate does not read",
                    "write the report without namespaces, as test runners do: a namespaced <failure> "
                    "would otherwise be a failure the gate cannot see",
                )
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                guess = f"did you mean {close[0]}? " if close else ""
                raise self.refuse(
                    line, col, f"<{tag}> has attribute {name}={_quote(value)}, which the gate does not read",
                    f"{guess}a test's outcome is a <failure>, <error> or <skipped> element inside its <testcase>; "
                    f"the attributes of <{tag}> the gate knows are: {', '.join(sorted(known)) or 'none'}",
                )
            values = _STATUS.get(name) if tag == "testcase" else None
            if values is not None and value not in values:
                raise self.refuse(
                    line, col, f"<testcase> has {name}={_quote(value)}, not a {name} the gate understands",
                    f"{name} is one of: {', '.join(values)}; a failed test is a <testcase> holding a <failure> element",
                )

    def unknown_element(self, tag: str, parent: str, allowed: frozenset[str]) -> tuple[str, str]:
        expected = ", ".join(f"<{t}>" for t in sorted(allowed)) or "no elements"
        if tag == "testcase" and parent in {"testcase", *_OUTCOME_TAGS, *_RERUN_TAGS}:
            return (f"<testcase> nested inside <{parent}>: a test case cannot hold another",
                    f"inside <{parent}> the gate reads {expected}; {HINT_SHAPE}")
        if ":" in tag:
            local = tag.split(":", 1)[1]
            return (f"<{tag}> inside <{parent}> is a namespaced element the gate does not read",
                    f"write <{local}> without a namespace prefix; inside <{parent}> the gate reads {expected}")
        folded = {t.lower(): t for t in allowed}
        close = [folded[tag.lower()]] if tag.lower() in folded else difflib.get_close_matches(tag, sorted(allowed), n=1)
        guess = f"did you mean <{close[0]}>? (names are case-sensitive) " if close else ""
        return (f"<{tag}> inside <{parent}> is not part of a JUnit report the gate reads",
                f"{guess}inside <{parent}> the gate reads {expected}")

    # ---- handlers ----------------------------------------------------------------------------

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        line, col = self.here()
        self.check_element(tag, attrib, line, col)
        self.stack.append(_Open(tag, attrib, line, col))
        if tag == "property" and not attrib.get("name", "").strip():
            raise self.refuse(line, col, "<property> has no name", '<property name="..." value="..."/>')
        if tag in _SUITES:
            if len(self.suites) >= MAX_SUITE_DEPTH:
                raise self.refuse(line, col, f"test suites nested more than {MAX_SUITE_DEPTH} deep")
            self.suites.append(_Suite(tag, attrib, self.at(line, col)))
        elif tag == "testcase":
            if len(self.results) >= MAX_RESULTS:
                raise self.refuse(line, col, f"more than {MAX_RESULTS:,} test cases in one report",
                                  "split the results into several files")
            self.case = _Case(attrib, line, col)
            for name, values in _STATUS.items():
                if name in attrib:
                    self.worsen(values[attrib[name]], "")

    def text(self, chunk: str) -> None:
        if not self.stack:
            return
        top = self.stack[-1]
        if top.tag not in _TEXT:
            if chunk.strip():
                line, col = self.here()
                raise self.refuse(line, col, f"text {_quote(chunk.strip()[:40])} directly inside <{top.tag}>")
            return
        if (top.tag in _OUTCOME_TAGS or top.tag == "property") and top.size < _MAX_TEXT:
            top.text.append(chunk)
            top.size += len(chunk)

    def end(self, tag: str) -> None:
        element = self.stack.pop()
        if tag in _SUITES:
            self.end_suite(self.suites.pop())
        elif tag == "testcase":
            self.end_case()
        elif self.case is not None and tag in _OUTCOME_TAGS:
            self.case.tags.add(tag)
            text = element.attrib.get("message", "") or "".join(element.text)
            self.worsen(_OUTCOME_TAGS[tag], text)
        elif self.case is not None and tag in _RERUN_TAGS:
            self.case.reruns += 1
        elif tag == "property" and self.case is not None:
            self.add_property(element)

    def worsen(self, outcome: str, text: str) -> None:
        case = self.case
        assert case is not None
        if OUTCOME_RANK[outcome] > OUTCOME_RANK[case.outcome]:
            # a runner may write several (a failure plus a teardown error): the worst wins
            case.outcome = outcome
            case.message = short_message(text)

    def add_property(self, element: _Open) -> None:
        case = self.case
        assert case is not None
        name = element.attrib["name"].strip()
        value = element.attrib.get("value", "".join(element.text).strip())
        if name in _READ_PROPERTIES and name in case.properties and case.properties[name][0] != value:
            raise self.refuse(
                element.line, element.col,
                f"property {name} is given twice in one test case, as {_quote(case.properties[name][0])} and {_quote(value)}",
                "record each property once per test case",
            )
        case.properties[name] = (value, f"{element.line}:{element.col}")

    def end_case(self) -> None:
        case = self.case
        assert case is not None
        self.case = None
        result = _case_result(case, self.path, self.promptfoo)
        self.results.append(result)
        if self.suites:
            suite = self.suites[-1]
            key = (case.attrib.get("classname", ""), case.attrib.get("name", ""))
            if key == suite.last_key and suite.last_empty:
                suite.reruns.append(suite.last_index)
            suite.last_key, suite.last_index = key, len(self.results) - 1
            suite.last_empty = not case.tags and not case.reruns and case.outcome == PASS
            suite.tests += 1
            suite.failures += "failure" in case.tags
            suite.errors += "error" in case.tags
            suite.skipped += "skipped" in case.tags

    def end_suite(self, suite: _Suite) -> None:
        declared = suite.attrib.get("tests", "").strip()
        if suite.reruns and declared.isdigit() and suite.tests - int(declared) == len(suite.reruns):
            # pytest-rerunfailures: every failed attempt is an empty <testcase> before the rerun,
            # left out of the suite's count. They are failed runs, never passes.
            for index in suite.reruns:
                self.results[index] = replace(self.results[index], outcome=FAIL, message=_RERUN_NOTE)
            suite.tests = int(declared)
        found = {"tests": suite.tests, "failures": suite.failures, "errors": suite.errors,
                 "skipped": suite.skipped, "skips": suite.skipped}
        what = {"tests": "<testcase> elements", "failures": "test cases with a <failure>",
                "errors": "test cases with an <error>", "skipped": "test cases with <skipped>",
                "skips": "test cases with <skipped>"}
        for name in _COUNTS:
            if name not in suite.attrib:
                continue
            raw = suite.attrib[name].strip()
            if not raw.isdigit():
                raise IncidentOpsError(f"{suite.where}: <{suite.tag}> {name}={_quote(raw)} is not a count", HINT_SHAPE)
            if int(raw) != found[name]:
                raise IncidentOpsError(
                    f"{suite.where}: <{suite.tag}> says {name}=\"{raw}\" but holds {found[name]} {what[name]}",
                    "a suite's counts must agree with its test cases: a count the cases do not back "
                    "(a failure with no failing <testcase>) is not trusted; " + HINT_SHAPE,
                )
        if self.suites:
            parent = self.suites[-1]
            parent.tests += suite.tests
            parent.failures += suite.failures
            parent.errors += suite.errors
            parent.skipped += suite.skipped

    # ---- driving -----------------------------------------------------------------------------

    def feed(self, chunks: Iterable[bytes]) -> list[TestResult]:
        try:
            for chunk in chunks:
                self.parser.Parse(chunk, False)
            self.parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise IncidentOpsError(
                f"{self.at(exc.lineno, exc.offset + 1)}: not well-formed XML: {expat.ErrorString(exc.code)}",
                HINT_XML,
            ) from None
        return self.results


def _quote(value: str) -> str:
    return '"' + value.replace('"', '\\"') + '"'


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


def _stated_id(case: _Case) -> str | None:
    value = case.properties.get("test_id", ("", ""))[0].strip()
    return value or None


def _test_id(case: _Case, path: str) -> str:
    stated = _stated_id(case)
    if stated is not None:
        return stated
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


def _check_and_model(case: _Case, promptfoo: bool) -> tuple[str, str | None]:
    classname = case.attrib.get("classname", "").strip()
    name = _REPEAT_SUFFIX.sub(lambda m: "]" if m.group(3) else "", case.attrib.get("name", "").strip())
    stated = case.properties.get("model", ("", ""))[0].strip() or None
    found = _PROMPTFOO_CLASS.match(classname) if promptfoo else None
    if found is not None:
        # promptfoo names the test "test N: <description>": N counts repeats, so it is no part of the check
        return found.group("check"), stated or found.group("model")
    return f"{classname}::{name}" if classname else name, stated


def _case_result(case: _Case, path: str, promptfoo: bool = False) -> TestResult:
    test_id = _test_id(case, path)
    check, model = _check_and_model(case, promptfoo)
    names = () if _stated_id(case) else tuple(
        n for n in (case.attrib.get("name", "").strip(), case.attrib.get("classname", "").strip()) if n
    )
    numbers = {
        name: _int_property(name, *case.properties[name], path)
        for name in _INT_PROPERTIES
        if name in case.properties and case.properties[name][0].strip()
    }
    runs = numbers.get("runs")
    passes = numbers.get("passes")
    if runs is None and case.reruns:
        runs, passes = case.reruns + 1, (1 if case.outcome == PASS else 0)
    if (runs is None) != (passes is None) or (runs is not None and passes is not None and passes > runs):
        raise IncidentOpsError(
            f"{path}:{case.line}:{case.col}: test {test_id}: properties runs and passes must come together, passes <= runs",
            "record both counts of the repeated runs, or neither",
        )
    return TestResult(
        test_id=test_id,
        outcome=case.outcome,
        blocked_at_turn=numbers.get("blocked_at_turn"),
        runs=runs,
        passes=passes,
        source=f"{path}:{case.line}:{case.col}",
        message=case.message,
        model=model,
        check=check,
        names=names,
    )


def parse_junit(source: ResultsSource) -> list[TestResult]:
    """All testcases of a JUnit XML report, in document order."""
    return _Stream(source.label).feed(source.chunks())


READER = Reader(
    name="JUnit XML",
    suffixes=frozenset({".xml"}),
    sniff=lambda head: head.startswith(b"<"),
    parse=parse_junit,
    writers="pytest --junitxml, jest-junit, mocha-junit-reporter, promptfoo -o *.junit.xml, Surefire",
)
