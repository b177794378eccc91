"""The site: the registry published as pages people browse, with MkDocs or Zensical.

Collects what the pages show (collect, visibility and public_records for the public
edition), renders them (pages with urls, body, dashboard, responder, charts, feed,
reference, markup, sanitize), ties them to the engines (plugin for MkDocs,
zensical_engine), sets up hosting on a sub-path (hosting, settings) and scans the
built public edition for leaks (leaks).

May use: records, policy, lifecycle, checks.
"""
