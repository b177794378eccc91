"""`incidentops handoff`: the incident-to-regression handoff in one step (also `new handoff`)."""

from incidentops.cli.new import handoff as command

__all__ = ["command"]
