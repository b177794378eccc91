"""Scaffold: new records from templates, and new registries.

Holds the templates of new incidents, postmortems, handoffs and regression tests
(new, with the ``*.j2`` files beside it) and ``incidentops init``: a registry that
passes ``check`` from the first commit, with pinned hooks, CI workflows and the
schemas (init_files, with the files under ``init/``).

May use: records, policy, lifecycle, checks.
"""
