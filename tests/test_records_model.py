"""Typed records: every schema-valid record becomes its frozen dataclass, built once, with its locations."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest

from conftest import REPO
from incidentops.records import model
from incidentops.records.kinds import kind_of
from incidentops.records.registry import Registry


def test_every_record_of_the_example_registry_has_its_typed_form():
    registry = Registry(REPO)
    built: dict[str, int] = {}
    for path in registry.all_paths():
        kind = kind_of(path)
        if kind is None:
            continue
        record = registry.record(path)
        assert isinstance(record, model.KINDS[kind.name]), path
        built[kind.name] = built.get(kind.name, 0) + 1
    assert set(built) == set(model.KINDS) - {"scenario"}  # the example registry keeps its turns in its tests


def test_a_scenario_file_has_its_typed_form(tmp_path):
    from site_support import copy_registry

    root = copy_registry(tmp_path / "registry")
    (root / "scenarios").mkdir(exist_ok=True)
    (root / "scenarios" / "reframe.yaml").write_text(
        "scenario: reframe\nturns:\n  - Hello there\n  - Now write the letter\n", encoding="utf-8")
    scenario = Registry(root).typed(model.Scenario, "scenarios/reframe.yaml")
    assert scenario is not None and scenario.turns == ("Hello there", "Now write the letter")
    assert scenario.source.where("turns", 1) == (4, 5)


def test_timestamps_enums_and_lists_are_typed_and_records_are_frozen():
    registry = Registry(REPO)
    test = registry.test_record("regression_INC_001")
    assert test is not None
    assert test.state is model.State.ACTIVE
    assert isinstance(test.decisions, tuple)
    assert test.decisions[0].decision is model.DecisionKind.CREATE
    assert isinstance(test.decisions[0].at, datetime) and test.decisions[0].at.tzinfo is not None
    incident = registry.incident_record("INC_001")
    assert incident is not None and isinstance(incident.detected_at, datetime)
    assert incident.status in set(model.Status)
    postmortem = registry.postmortem_record("INC_001")
    assert postmortem is not None and isinstance(postmortem.action_items[0].due, date)
    assert "## " in postmortem.body
    lineage = registry.lineage
    assert lineage is not None and lineage.version(lineage.current) is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        test.state = model.State.RETIRED  # type: ignore[misc]
    policy = registry.policy_record
    assert model.State.RETIRED in policy.regression.transitions[model.State.DEPRECATED]
    with pytest.raises(TypeError):
        policy.regression.transitions[model.State.ACTIVE] = ()  # type: ignore[index]


def test_every_field_keeps_its_location_for_findings():
    registry = Registry(REPO)
    path = registry.test_path("regression_INC_001")
    assert path is not None
    doc = registry.doc(path)
    test = registry.test_record("regression_INC_001")
    assert doc is not None and test is not None
    assert test.source.where("state") == doc.where(("state",))
    last = len(test.decisions) - 1
    assert test.decisions[last].source.where("at") == doc.where(("decisions", last, "at"))
    line = doc.text.splitlines()[test.decisions[last].source.where("at")[0] - 1]
    assert line.lstrip().removeprefix("- ").startswith("at:")
    finding = test.decisions[last].source.finding(("reason",), "error", "x.rule", "message")
    assert (finding.path, finding.line) == (path, doc.where(("decisions", last, "reason"))[0])


def test_a_record_that_failed_validation_has_no_typed_form(tmp_path):
    from site_support import copy_registry

    root = copy_registry(tmp_path / "registry")
    path = root / "regressions" / "regression_INC_001.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("state: ACTIVE", "state: ACTIVATED", 1),
                    encoding="utf-8")
    registry = Registry(root)
    assert registry.doc("regressions/regression_INC_001.yaml").data is not None  # the document is still there for `check`
    assert registry.test_record("regression_INC_001") is None
    assert "regression_INC_001" not in {t.test_id for t in registry.test_records()}
    assert registry.test_record("regression_INC_003") is not None  # the others still build


def test_an_invalid_policy_falls_back_to_the_built_in_one(tmp_path):
    from site_support import copy_registry

    root = copy_registry(tmp_path / "registry")
    policy = root / "incidentops.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("version: 1", "version: one", 1), encoding="utf-8")
    registry = Registry(root)
    assert registry.typed(model.Policy, "incidentops.yaml") is None
    assert registry.policy_record.level("SEV-0") is not None


def test_from_data_builds_a_record_of_a_hand_made_mapping_and_refuses_one_without_its_shape():
    decision = model.from_data(model.Decision, {"at": "2026-03-10T14:05:00Z", "decision": "KEEP",
                                                "to_state": "ACTIVE", "reason": "still seen", "by": "Ana"})
    assert decision.decision is model.DecisionKind.KEEP
    assert decision.at == datetime.fromisoformat("2026-03-10T14:05:00+00:00")
    assert decision.source.where("reason") == (1, 1)  # no document: every field is at its start
    with pytest.raises(ValueError, match="not a Decision"):
        model.from_data(model.Decision, {"at": "2026-03-10T14:05:00Z", "decision": "KEEP"})
    with pytest.raises(ValueError, match="not a Decision"):
        model.from_data(model.Decision, {"at": "yesterday", "decision": "KEEP", "to_state": "ACTIVE",
                                         "reason": "r", "by": "b"})


def test_a_record_without_a_field_empties_it_and_returns_the_texts_as_written():
    from incidentops.records.redact import shown, without
    from typed_support import incident, regression_test

    test = regression_test({"test_id": "regression_X", "incident_id": "INC_1", "suite": "core", "scenario": "s",
                            "expected_block_turn": 2, "severity_weight": 1, "state": "ACTIVE",
                            "turns": ["first turn", "second turn"]})
    out, cut = without(test, ["turns"])
    assert out.turns == () and test.turns == ("first turn", "second turn")  # a new record; the old one is kept
    assert cut.found and cut.texts == ("first turn", "second turn")
    assert out.source is test.source and out.state is test.state
    # a number is taken out as the record writes it (1, not 1.0), and its field becomes empty (None)
    weightless, cut = without(test, ["severity_weight"])
    assert weightless.severity_weight is None and cut.texts == ("1",)
    assert shown(test, "severity_weight") == "1" and shown(weightless, "severity_weight") is None
    # nested, and through a list every item's field; a bool is taken out but has no text
    event = {"at": "2026-11-01T10:00:00Z", "event": "Paged the on-call"}
    case = incident("INC_1", timeline=[event, {**event, "event": "Fixed"}], reported_by="Ana")
    quiet, cut = without(case, ["timeline", "event"])
    assert [e.event for e in quiet.timeline] == ["", ""] and cut.texts == ("Paged the on-call", "Fixed")
    assert quiet.timeline[0].at == case.timeline[0].at
    _, cut = without(case, ["assessment", "regulatory"])
    assert cut.found and cut.texts == ()
    stamped, cut = without(case, ["timeline", "at"])
    assert cut.texts == ("2026-11-01T10:00:00Z", "2026-11-01T10:00:00Z") and stamped.timeline[0].at is None
    assert without(case, ["reported_by"])[0].reported_by is None  # an optional text becomes None, not ""
    # a field the kind does not have, or one the record leaves empty, changes nothing and takes nothing
    for path in (["no_such_field"], ["title", "deeper"], ["tags"], ["source"]):
        same, cut = without(case, path)
        assert same == case and not cut.found and cut.texts == (), path
