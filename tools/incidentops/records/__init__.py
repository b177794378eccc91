"""Records: how a registry's files are found, read, validated and written.

Holds YAML reading with line and column for every value (yamlio), comment-keeping
edits (yamledit, yamlscalar), the record kinds and their ids (kinds), the shipped
JSON Schemas and their validation (schemas, validate), the registry that finds and
loads every record (registry), findings with ``path:line:col`` (findings), atomic
writes that never follow a link or leave the registry (fsio), git plumbing on
a registry (gitops), the trusted clock (clock), placeholder text in a new record
(placeholders), provisional ids (renumber), and the error every user mistake
raises (errors).

May use: nothing else of incidentops. Everything else stands on this package.
"""
