"""Policy: what the severity rubric and the response rules of ``incidentops.yaml`` decide.

Holds the severity rubric (severity: levels, type -> severity -> escalation, the
assessment checklist), response SLAs with business hours and pauses (sla), and the
action items of postmortems (actions).

May use: records.
"""
