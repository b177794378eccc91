"""The example that ends every command's ``--help``: one table, so no command is left without one."""

from __future__ import annotations

import click

#: command path -> example lines (shown under "Example:" at the end of its --help)
EXAMPLES: dict[str, tuple[str, ...]] = {
    "": ("incidentops init && incidentops new incident --provisional && incidentops check",),
    "actions": ('incidentops actions --owner "Safety team" --overdue --as-of 2027-02-01',),
    "assess": ("incidentops assess --write INC_001",),
    "check": ("incidentops check incidents/INC_001 --format github",),
    "decay": ("incidentops decay --as-of 2026-10-01 --format markdown",),
    "gate": ("incidentops gate --results results.xml --suite model-safety-regression-suite",),
    "handoff": ("incidentops handoff INC_001 --scenario authority_reframe_phishing --expected-block-turn 3",),
    "init": ("incidentops init --ci github",),
    "lifecycle": ('incidentops lifecycle keep regression_INC_001 --reason "Similar attack seen again"',),
    "lifecycle activate": ('incidentops lifecycle activate regression_INC_007 --reason "Stable again on aurora-3.1"',),
    "lifecycle deprecate": ('incidentops lifecycle deprecate regression_INC_005 --reason "Patched by aurora-2.0"'
                            ' --approver "Safety council chair"',),
    "lifecycle keep": ('incidentops lifecycle keep regression_INC_001 --reason "Similar attack seen again in INC_005"',),
    "lifecycle monitor": ('incidentops lifecycle monitor regression_INC_007 --reason "Flaky on aurora-3.0"'
                          ' --approver "Safety council chair"',),
    "lifecycle notify": ('incidentops lifecycle notify --since "$BEFORE" --state ~/.incidentops-notify/sent.json',),
    "lifecycle retire": ('incidentops lifecycle retire regression_INC_003 --reason "No model in use is vulnerable"'
                         ' --reason-code ATTACK_OBSOLETE --approver "Safety council chair"',),
    "list": ("incidentops list tests --format json",),
    "new": ("incidentops new incident --provisional",),
    "new handoff": ("incidentops new handoff INC_001 --expected-block-turn 3",),
    "new incident": ("incidentops new incident --provisional",),
    "new postmortem": ("incidentops new postmortem INC_001",),
    "new regression": ("incidentops new regression INC_001 --scenario multi_turn_reframing",),
    "pr-check": ('incidentops pr-check --base origin/main --head "$PR_HEAD_SHA" --approvals reviews.json',),
    "renumber": ("incidentops renumber && git commit -m 'Number the new records'",),
    "review": ("incidentops review start 2026-Q4",),
    "review start": ("incidentops review start 2026-Q4",),
    "review summary": ("incidentops review summary 2026-Q4 --format json",),
    "schemas": ("incidentops schemas sync",),
    "schemas sync": ("incidentops schemas sync && git add schemas",),
    "show": ("incidentops show INC_001 --format json",),
    "site": ("incidentops site build --public",),
    "site build": ("incidentops site build --public --strict",),
    "site generate": ("incidentops site generate --out generated",),
    "site serve": ("incidentops site serve",),
    "sla": ("incidentops sla --as-of 2026-11-27 --format json",),
    "status": ("incidentops status --format json",),
    "suite": ("incidentops suite export --format jsonl --out suite.jsonl",),
    "suite export": ("incidentops suite export --suite model-safety-regression-suite --format promptfoo --out suite.yaml",),
}


def with_example(command: click.Command, path: str) -> None:
    """Give ``command`` (and its sub-commands) the example of the table as its epilog."""
    lines = EXAMPLES.get(path)
    if lines and not command.epilog:
        command.epilog = "\b\nExample:\n" + "\n".join(f"  {line}" for line in lines)
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            with_example(sub, f"{path} {name}".strip())
