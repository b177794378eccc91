"""Inspect's entry point (``[project.entry-points.inspect_ai]``): importing registers the task."""

from incidentops.inspect.task import play_turns, refused_by_expected_turn, regression_suite  # noqa: F401
