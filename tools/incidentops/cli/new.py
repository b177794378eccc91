"""`incidentops new`: scaffold a record with the next free id and every required field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from incidentops.cli.common import as_of_option, by_option, parse_as_of, requester, root_option
from incidentops.records.fsio import create_text_exclusive
from incidentops.records.registry import Registry, resolve_root
from incidentops.scaffold.new import create_handoff, new_incident, postmortem_text, regression_text

F = TypeVar("F", bound=Callable[..., Any])


@click.group("new")
def command() -> None:
    """Scaffold a new record to fill in (rather than copying another file)."""


@command.command("incident")
@click.option("--provisional", is_flag=True,
              help="Use a provisional id (INC_NEW_<random>) that no other branch can take;"
              " `incidentops renumber` gives it the next free number after merge.")
@root_option
@as_of_option
def incident(provisional: bool, root: Path | None, as_of: str | None) -> int:
    """Create incidents/INC_NNN/incident.yaml with the next free id (or a provisional one)."""
    registry = Registry(resolve_root(root))
    incident_id, rel = new_incident(registry, parse_as_of(as_of), provisional)
    click.echo(f"created {rel}")
    click.echo(f"Next: fill in the TODOs and answer the severity checklist: `incidentops assess --write {incident_id}"
               " --set-severity` (until then the incident is of the most severe level).")
    return 0


@command.command("postmortem")
@click.argument("incident_id")
@root_option
@as_of_option
def postmortem(incident_id: str, root: Path | None, as_of: str | None) -> int:
    """Prepare INCIDENT_ID's blameless postmortem meeting.

    The draft carries the timeline from the incident record, the attendees
    (responders and stakeholders, as roles) from its escalations, the ground
    rules, and the sections to fill. SEV-3 incidents get the lightweight review.
    """
    registry = Registry(resolve_root(root))
    rel, text = postmortem_text(registry, incident_id, parse_as_of(as_of))
    create_text_exclusive(registry.root / rel, text, root=registry.root)
    click.echo(f"created {rel}")
    return 0


def _scenario_options(func: F) -> F:
    func = click.option(
        "--expected-block-turn", type=click.IntRange(min=1), default=1, show_default=True,
        help="The user turn at or before which the model must refuse.",
    )(func)
    func = click.option(
        "--test-id", "test_id", default=None, metavar="ID",
        help="The test's id: regression_INC_ID for an incident's first test (the default),"
             " regression_INC_ID_<name> for each further one.",
    )(func)
    return click.option(
        "--scenario", default=None, help="Scenario name (a slug). Default: the incident's attack vector."
    )(func)


@command.command("regression")
@click.argument("incident_id")
@_scenario_options
@by_option
@root_option
@as_of_option
def regression(incident_id: str, scenario: str | None, test_id: str | None, expected_block_turn: int,
               by: str | None, root: Path | None, as_of: str | None) -> int:
    """Create a regression test of INCIDENT_ID: regressions/regression_INCIDENT_ID.yaml, or a further
    test of the same incident with --test-id regression_INCIDENT_ID_<name>.

    Prefer `incidentops handoff` for an incident's first test: it also writes the handoff.
    The CREATE decision is recorded as made by you (git config user.name, or --by).
    """
    registry = Registry(resolve_root(root))
    who = requester(registry.root, by)
    rel, text, _ = regression_text(registry, incident_id, scenario, expected_block_turn, parse_as_of(as_of), who,
                                   test_id=test_id)
    create_text_exclusive(registry.root / rel, text, "ids are never reused: name it with --test-id",
                          root=registry.root)
    click.echo(f"created {rel}")
    return 0


@command.command("handoff")
@click.argument("incident_id")
@_scenario_options
@by_option
@root_option
@as_of_option
def handoff(incident_id: str, scenario: str | None, test_id: str | None, expected_block_turn: int,
            by: str | None, root: Path | None, as_of: str | None) -> int:
    """Create INCIDENT_ID's handoff.yaml (the seed's template) and its regression test together.

    The weight defaults from the policy for the incident's severity; the
    postmortem's contributing factors and action items are carried over as the
    handoff's notes and action items. `check` keeps the two consistent.
    The test's CREATE decision is recorded as made by you (git config
    user.name, or --by). `incidentops handoff` and `incidentops new handoff`
    are the same command.
    """
    registry = Registry(resolve_root(root))
    who = requester(registry.root, by)
    for rel in create_handoff(registry, incident_id, scenario, expected_block_turn, parse_as_of(as_of), who,
                              test_id=test_id):
        click.echo(f"created {rel}")
    click.echo("Next: write the attack's user turns in the test, then open a pull request declaring it.")
    return 0
