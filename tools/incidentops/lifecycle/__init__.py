"""Lifecycle: what git history and the recorded decisions say about each regression test.

Holds the registry's git history read in one pass (history), decay and the
quarterly-review figures computed from it (decay), decisions read as effects
(decisions: a from -> to step, who approved it, when), the decision commands and
the retirement ceremony (ceremony), the quarterly review (review), the pull-request
check that judges a head against its trusted base (prcheck, with the git host's
approvals from approvals), retirement notices (notify) and the on-call summary
(status).

May use: records, policy.
"""
