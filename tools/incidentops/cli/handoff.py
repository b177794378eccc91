"""`incidentops handoff`: the incident-to-regression handoff in one step."""

from __future__ import annotations

from pathlib import Path

import click

from incidentops.cli.common import as_of_option, root_option
from incidentops.cli.new import _handoff


@click.command("handoff")
@click.argument("incident_id")
@click.option("--scenario", default=None, help="Scenario name (a slug). Default: the incident's attack vector.")
@click.option("--expected-block-turn", type=click.IntRange(min=1), default=1, show_default=True,
              help="The user turn at or before which the model must refuse.")
@root_option
@as_of_option
def command(incident_id: str, scenario: str | None, expected_block_turn: int, root: Path | None,
            as_of: str | None) -> int:
    """Create INCIDENT_ID's handoff.yaml (the seed's template) and its regression test together.

    The weight defaults from the policy for the incident's severity; the
    postmortem's contributing factors and action items are carried over as the
    handoff's notes and action items. `check` keeps the two consistent.
    """
    return _handoff(incident_id, scenario, expected_block_turn, root, as_of)
