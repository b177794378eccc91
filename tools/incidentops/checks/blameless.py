"""Blameless-language lint for postmortems and incident narratives.

Implements the seed's "Blameless Postmortem Culture" anti-patterns as five rules:

- ``blameless.named-individual`` (error): a person (a personal name, a surname alone, an
  @handle, an e-mail address) as the subject of blame ("Alice didn't review the PR
  properly", "caused by @jdoe", "Bob's change broke the filter"), also set off by commas
  beside a role ("The release manager, Hannah Whitfield, skipped the sign-off"), next to
  a blame phrase ("Harrington should have known better", "Okafor was careless", "Brandt
  made a mistake", "blamed on Whitaker") or as the owner of a fault ("Fitzgerald's
  negligence", "Marcus's rushed merge broke ...").
- ``blameless.human-error`` (error): "human error", "operator error", "user error",
  "staff negligence", "the reviewer's mistake", "the engineer made a mistake", "careless
  handling by the analyst", "negligence" given as a cause.
- ``blameless.root-cause`` (warning): single "root cause" framing, "5 whys".
- ``blameless.counterfactual`` (warning): "should have", "should have known better",
  "failed to", "forgot to", "neglected", "was careless", "made a mistake" aimed at a
  person (a pronoun or a people role such as "the reviewer").
- ``blameless.why-question`` (warning): "why did <person> ...".

Decisions for borderline text:

- Teams, processes and systems are never blamed persons: "The Safety team should have
  caught this" and "The classifier failed to flag it" pass; so does collective "we".
- A counterfactual about what a person should have *had* or *been given* is about the
  system and passes: "The on-call engineer should have had an alert", "... should have
  been paged". About what they should have *done* is flagged: "... should have noticed".
- A role with a plain negative fact ("The on-call engineer did not escalate until 15:10")
  passes; the same sentence with a personal name or "he"/"she" is flagged.
- Plural "root causes" passes (it already admits several); negated framing ("not root
  cause", "no single root cause", "rather than human error") passes.
- A capitalised word is a personal name when it is in ``known_names`` or the shipped list
  of common given names; any other capitalised word (a surname, a name not on the list)
  counts only with phrases that only people earn ("forgot", "neglected", "was careless",
  "is to blame", "should have known better", "made a mistake", "'s negligence", "blamed
  on ..."), so "Kubernetes caused the outage" and "Aurora made a mistake" pass.
- A person and the role set off beside them ("The shift lead, @mbeck, didn't bother")
  are one finding, on the person.

Fenced code blocks, `inline code` and HTML comments are skipped, so a quote can be kept
in backticks; ``<!-- incidentops: allow blameless.<rule> -- reason -->`` silences one
rule on its line and the next one.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from incidentops.checks.allow import scan_allows
from incidentops.checks.first_names import FIRST_NAMES
from incidentops.checks.textscan import finditer_from, folded, has_any
from incidentops.records.findings import ERROR, WARNING, Finding

NAMED = "blameless.named-individual"
HUMAN_ERROR = "blameless.human-error"
ROOT_CAUSE = "blameless.root-cause"
COUNTERFACTUAL = "blameless.counterfactual"
WHY = "blameless.why-question"

RULES: dict[str, tuple[str, str]] = {
    NAMED: (
        ERROR,
        "Name roles and processes: write 'The review process didn't flag this pattern',"
        " not 'Alice didn't review the PR properly'",
    ),
    HUMAN_ERROR: (
        ERROR,
        "Identify the process gap: what made the mistake easy to make, and which check,"
        " guardrail or tool would have caught it?",
    ),
    ROOT_CAUSE: (
        WARNING,
        "Seek contributing factors, not root cause: complex systems fail for several"
        " reasons; list them under '## Contributing factors'",
    ),
    COUNTERFACTUAL: (
        WARNING,
        "Focus on systems, not individuals: say what the process or tooling did not"
        " provide (an alert, a check, a runbook step), not what a person should have done",
    ),
    WHY: (
        WARNING,
        "Ask what and how, not why (why implies fault): e.g. 'What did the on-call"
        " engineer see at 14:05, and how did the alert route?'",
    ),
}

A = r"['’]"  # straight or typographic apostrophe
NT = rf"n{A}t"
NEG = rf"(?:did{NT}|did\s+not|never)"

ROLE_NOUNS = (
    r"engineers?|developers?|analysts?|reviewers?|operators?|responders?|approvers?|authors?"
    r"|moderators?|annotators?|label+ers?|raters?|contractors?|interns?|employees?|staffers?"
    r"|person|people|individuals?|humans?|on-?call(?:ers?)?|commanders?|managers?|admins?"
    r"|administrators?|SREs?|testers?|red[- ]teamers?|researchers?|scientists?|assignees?"
    r"|teammates?|colleagues?|members?|designers?|PMs?|specialists?|officers?|coordinators?"
    r"|supervisors?|leads?|owners?|newcomers?|new\s+hires?"
)
ROLE_MODIFIERS = (
    r"on-?call|safety|security|trust|senior|junior|lead|primary|secondary|human|incident"
    r"|release|model|policy|duty|shift|night|weekend|responsible|assigned|responding|first"
    r"|second|backup|support|review|team|staff|data|ml|qa|ops|product|platform|new|&"
)
DETERMINERS = r"the|a|an|our|their|this|that|each|every|one|any|some|his|her"
# Modifiers are role words or capitalised names of teams ("the Safety on-call engineer").
MODIFIER = rf"(?:(?i:{ROLE_MODIFIERS})|[A-Z][\w&-]*)"
ROLE_RE = re.compile(
    rf"(?:(?i:{DETERMINERS})\s+)?(?:{MODIFIER}\s+){{0,3}}(?i:{ROLE_NOUNS})\b"
)
ROLE_NOUN_RE = re.compile(rf"\b(?:{ROLE_NOUNS})\b", re.IGNORECASE)
ROLE_LOOKBACK_RE = re.compile(rf"\b(?i:{DETERMINERS})\s+(?:{MODIFIER}\s+){{0,3}}$")

PRONOUN_RE = re.compile(
    r"(?i:\b(?:he|she|they|you|someone|somebody|anyone|anybody|everyone|everybody)\b)|\bI\b"
)
HANDLE_RE = re.compile(r"(?<![\w@./])@[A-Za-z0-9][A-Za-z0-9-]{0,38}\b")
EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
TITLED_RE = re.compile(r"\b(?:Mr|Mrs|Ms|Mx|Dr|Prof)\.?\s+[A-Z][\w'’-]+")
# The word-start checks come after the first capital (looking back over it) so that the
# regex engine can skip ahead to the next capital letter: same matches, far fewer tries.
INITIAL_RE = re.compile(r"[A-Z](?<!\w[A-Z])\.\s?[A-Z][a-z]+\b")
CAPWORD_RE = re.compile(
    r"[A-Z](?<![\w@.'’-][A-Z])(?:[a-z]+|(?=['’][A-Z]))(?:['’-](?!s\b)[A-Z]?[a-z]+)*(?![\w@])"
)
LOWER = r"[^\W\d_A-Z]"  # a letter that is not an ASCII capital (ó, ü and the like included)
SURNAME = rf"(?:\s+[A-Z]{LOWER}+(?:['’-](?!s\b)[A-Z]?{LOWER}+)*)?"

# Capitalised words that are never a person: teams, functions, systems, pronouns.
_NOT_PEOPLE = """
    the this that these those it its we our they their he she his her you your i someone
    somebody anyone anybody everyone everybody nobody none no one all each every some
    team teams process system systems pipeline classifier filter monitor monitoring alert
    alerting model models safety trust legal security product executive executives pr
    review policy council support engineering ops operations infra infrastructure platform
    sre qa staging production prod deploy release gate suite runbook dashboard guardrail
    detector moderation escalation rotation config tooling bot service api compliance
    research comms communications marketing sales finance hr it leadership management
    aurora claude gemini gpt llama mistral copilot siri alexa grok sonnet opus haiku
    monday tuesday wednesday thursday friday saturday sunday nothing everything then
    yesterday today tomorrow tonight week month quarter year one nobody other others
    also but and so because however although while when after before during
"""
NOT_PEOPLE = frozenset(_NOT_PEOPLE.split())

ADVERBS = (
    r"also|simply|just|apparently|clearly|obviously|again|then|still|really|evidently"
    r"|unfortunately|completely|totally|somehow|probably|allegedly|reportedly|once|both|all"
    r"|each|together|himself|herself|themselves|personally"
)
# between a subject and its verb: an apposition set off by commas ("Emma, the reviewer on
# duty, ...") or the comma that closes one opened before the name ("The release manager,
# Hannah Whitfield, ..."), and adverbs
GAP = rf"(?:\s*,[^,.;:!?\n]{{1,60}},|\s*,(?=\s+[a-z]))?(?:\s+(?:{ADVERBS}))*\s+"
# What a person should have *had* or *been given*: a system gap, not blame.
SYSTEM_FOCUS = (
    r"(?:had|have\s+had|been\s+(?:given|paged|alerted|notified|warned|told|shown|offered"
    r"|provided|trained|supported|able|equipped|informed|sent|routed|assigned|included"
    r"|consulted|looped\s+in|escalated\s+to)|received|got|gotten|access|a|an|the|more"
    r"|better|enough|some|clear|tools?|no)\b"
)
COUNTERFACTUAL_VERBS = (
    rf"(?:should|ought\s+to)(?:\s+not|{NT})?\s+have\s+(?!{SYSTEM_FOCUS})\w+"
    rf"|should{A}ve\s+(?!{SYSTEM_FOCUS})\w+"
    r"|could\s+(?:easily\s+)?have\s+(?:prevented|caught|avoided|noticed|stopped|spotted"
    r"|checked|seen|escalated|flagged|reviewed)"
    r"|failed\s+to\s+(?!receive|get\b|be\b)\w+"
    r"|forgot\b|forget\s+to\b|neglected\b"
    rf"|{NEG}\s+bother(?:ed)?\b"
    r"|(?:was|were)\s+(?:careless|negligent|sloppy|lazy|inattentive|reckless)\b"
)
DUTIES = (
    r"review|check|test|read|notice|follow|escalate|verify|validate|look|catch|listen"
    r"|respond|flag|report|update|monitor|investigate|double-check|confirm|ask|tell|warn"
    r"|inform|think|consider|care|pay\s+attention"
)
HUMAN_ONLY_VERBS = (
    rf"forgot\b|forget\s+to\b|neglected\b|{NEG}\s+bother(?:ed)?\b|messed\s+up|screwed\s+up"
    r"|dropped\s+the\s+ball|(?:was|were)\s+(?:(?:so|very|too|really|being|just)\s+)?(?:careless|negligent"
    r"|sloppy|lazy|inattentive|reckless)\b|(?:is|was)\s+(?:to\s+blame|at\s+fault)"
    r"|was\s+asleep\s+at\s+the\s+wheel|made\s+(?:a|an|the|another)\s+(?:\w+\s+)?(?:mistake|blunder)\b"
    rf"|(?:should|ought\s+to)(?:{NT})?\s+have\s+known\s+better\b|should{A}ve\s+known\s+better\b"
    r"|knew\s+better\b|carelessly\s+[a-z]+"
)
NAMED_VERBS = (
    rf"{COUNTERFACTUAL_VERBS}|{HUMAN_ONLY_VERBS}"
    rf"|{NEG}\s+(?!have\b|receive|get\b|know\b|hear\b)[a-z]+"
    r"|(?:missed|ignored|overlooked|broke|caused|misconfigured|misread|misjudged"
    r"|misunderstood|mishandled|skipped|delayed|leaked|exposed|botched|bungled|rushed)\b"
    r"|introduced\s+(?:the|a|an|this)\s+(?:\w+\s+)?(?:bug|regression|error|issue|problem"
    r"|outage|vulnerability|flaw)\b"
    r"|made\s+(?:a|an|the|another)\s+(?:\w+\s+)?error\b"
    r"|(?:is|was)\s+responsible\s+for\s+(?:the\s+|this\s+)?(?:outage|incident|failure"
    r"|breach|leak|bug|regression|mistake|error|problem)\b"
    r"|(?:mistakenly|accidentally|carelessly|wrongly|incorrectly|negligently|recklessly)"
    r"\s+[a-z]+"
    r"|let\s+(?:it|this|that|the\s+\w+)\s+(?:through|slip)\b"
)
# "Alice joined the call and missed the page": a blame verb later in the same clause.
AND_THEN = r"(?:[^.;:!?\n]{0,60}?\s+(?:and|but)\s+(?:then\s+)?)?"
NAMED_AFTER_RE = re.compile(
    rf"(?P<surname>{SURNAME}){GAP}{AND_THEN}(?P<verb>{NAMED_VERBS})"
)
HUMAN_ONLY_AFTER_RE = re.compile(rf"(?P<surname>{SURNAME}){GAP}(?P<verb>{HUMAN_ONLY_VERBS})")
# Blame carried by what was acted on, tried only in texts holding one of the words:
# "signed off on the wrong threshold", "approved the change without running the suite".
FLAWED = r"wrong|unsafe|bad|broken|faulty|incorrect|buggy|unreviewed|untested|dangerous"
WITHOUT = (
    r"running|testing|checking|reviewing|reading|asking|waiting|telling|notifying|looking"
    r"|verifying|validating|confirming|consulting"
)
NAMED_OBJECT_AFTER_RE = re.compile(
    rf"(?P<surname>{SURNAME}){GAP}(?P<verb>[a-z]+(?:ed|t)(?:\s+(?:off\s+)?on)?\s+(?:the|a|an|this)\s+(?:{FLAWED})\b"
    rf"|[a-z]+ed\b[^.;:!?\n]{{0,50}}?\bwithout\s+(?:first\s+)?(?:{WITHOUT})\b)"
)
FLAWED_WORDS = (*FLAWED.split("|"), "without")
COUNTERFACTUAL_AFTER_RE = re.compile(rf"{GAP}(?P<verb>{COUNTERFACTUAL_VERBS})")
PRONOUN_HUMAN_ONLY_AFTER_RE = re.compile(rf"{GAP}(?P<verb>{HUMAN_ONLY_VERBS})")
PRONOUN_DUTY_AFTER_RE = re.compile(rf"{GAP}(?P<verb>{NEG}\s+(?:{DUTIES})\b)")
POSSESSIVE_BLAME = (
    r"(?:(?:[\w-]+\s+)?(?:mistake|fault|oversight|negligence|carelessness|blunder|sloppiness"
    r"|incompetence|recklessness|laziness)\b|(?:[\w-]+\s+)?error\b(?!\s+(?:budget|rate|message|handling))"
    r"|(?:careless|reckless|sloppy|negligent|rushed|botched|hasty|lazy|bungled)\s+[\w-]+"
    r"|(?:[\w-]+\s+){0,2}?(?:change|commit|PR|pull\s+request|deploy|deployment|push|edit"
    r"|config|configuration|patch|merge|code|script|query|refactor|rollout|migration|update)\s+(?:caused"
    r"|broke|introduced|led\s+to|triggered|took\s+down|disabled|deleted|exposed|leaked|corrupted|wiped)\b)"
)
POSSESSIVE_AFTER_RE = re.compile(rf"(?P<surname>{SURNAME}){A}s\s+{POSSESSIVE_BLAME}")
POSSESSIVE_BLAME_RE = re.compile(rf"{A}s\s+{POSSESSIVE_BLAME}")
BLAME_BEFORE_RE = re.compile(
    r"(?:\b(?:caused|introduced|broken|missed|overlooked|triggered|mishandled|leaked|exposed"
    r"|disabled|deleted|misconfigured|botched|corrupted|wiped)\s+by"
    r"|\bblame[ds]?|\bblaming|\bblam(?:e[ds]?|ing)\s+(?:\w+\s+){0,4}?on"
    rf"|\b(?:this|that|it)(?:{A}s|\s+is|\s+was)\s+(?:all\s+)?on"
    r"|\b(?:fault|mistake|error|negligence)\s+(?:of|by)"
    r"|\b(?:blame|fault|responsibility)\s+(?:\w+\s+){0,4}?(?:lies|lay|rests|rested)\s+with)\s+$",
    re.IGNORECASE,
)
# Before an unknown capitalised word, only phrases that blame a person (not "caused by",
# which as often names a system).
BLAME_PERSON_BEFORE_RE = re.compile(
    r"(?:\bblam(?:e[ds]?|ing)\s+(?:\w+\s+){0,4}?on"
    rf"|\b(?:this|that|it)(?:{A}s|\s+is|\s+was)\s+(?:all\s+)?on"
    r"|\b(?:fault|mistake|negligence|carelessness)\s+of"
    r"|\b(?:blame|fault|responsibility)\s+(?:\w+\s+){0,4}?(?:lies|lay|rests|rested)\s+with)\s+$",
    re.IGNORECASE,
)
BLAME_PERSON_WORDS = ("blam", "fault", "responsib", "’s on", "'s on", " is on ", " was on ", "mistake of", "negligence of")
# "If Sofia had read the runbook ..." / "Had the reviewer read ...": a counterfactual.
IF_BEFORE_RE = re.compile(r"(?:\b[Ii]f|(?:^|[.!?]\s+|\n\s*)Had)\s+$")
NOT_DONE = (
    r"(?!been\s+(?:given|told|paged|alerted|notified|warned|shown|informed|able|trained"
    r"|sent|included)|access|the\b|a\b|an\b|more\b|better\b|enough\b|any\b|no\b|had\b)"
)
IF_AFTER_RE = re.compile(
    rf"(?P<surname>{SURNAME})\s+(?P<verb>(?:had\s+)?(?:not\s+|n{A}t\s+)?{NOT_DONE}[a-z]+)"
)
BECAUSE_BEFORE_RE = re.compile(r"\b(?:because\s+of|due\s+to)\s+$", re.IGNORECASE)
POSSESSIVE_RE = re.compile(rf"{SURNAME}{A}s\b")

# The lower-case letters every match of each alternative of ROLE_NOUNS starts with.
ROLE_NOUN_STARTS = (
    "engineer", "developer", "analyst", "reviewer", "operator", "responder", "approver", "author",
    "moderator", "annotator", "labe", "rater", "contractor", "intern", "employee", "staffer",
    "person", "people", "individual", "human", "on", "commander", "manager", "admin", "sre",
    "tester", "red", "researcher", "scientist", "assignee", "teammate", "colleague", "member",
    "designer", "pm", "specialist", "officer", "coordinator", "supervisor", "lead", "owner",
    "newcomer", "new",
)
_HUMAN_HEADS = (
    "human", "operator", "user", "engineer", "analyst", "reviewer", "personnel", "staff", "pilot",
    "people", "individual", "manual",
)
# The forms HUMAN_ERROR_RE is the alternation of, each as (pattern, word lists a match holds
# one word of each of, words a match starts with): a text lacking a form's words cannot
# match that form, and the others are tried only where their first word occurs.
HUMAN_ERROR_FORMS: tuple[tuple[str, tuple[tuple[str, ...], ...], tuple[str, ...]], ...] = (
    (
        r"\b(?:human|operator|user|engineer|engineering|analyst|reviewer|personnel|staff|pilot"
        r"|people|individual|manual)[\s-]+(?:error|mistake|failure|fault|slip|negligence|carelessness)s?\b"
        r"(?!\s+(?:rate|rates|message|messages|code|codes|page|pages|count|counts|handling|log"
        r"|logs|dialog|budget|metric|metrics|report|reports|field|state|path|case|cases))",
        (("error", "mistake", "failure", "fault", "slip", "negligence", "carelessness"), _HUMAN_HEADS),
        _HUMAN_HEADS,
    ),
    (
        rf"\b(?:{ROLE_NOUNS}){A}s?\s+(?:fault|mistake|error|negligence|carelessness|oversight"
        r"|blunder)\b(?!\s+(?:budget|rate|message|handling))",
        (("fault", "mistake", "error", "negligence", "carelessness", "oversight", "blunder"), ("'", "’")),
        ROLE_NOUN_STARTS,
    ),
    (
        r"\b(?:his|her|their)\s+(?:own\s+)?(?:fault|mistake|negligence|carelessness|blunder)\b",
        (("fault", "mistake", "negligence", "carelessness", "blunder"), ("his", "her", "their")),
        ("his", "her", "their"),
    ),
    (
        r"\b(?:fault|mistake|negligence)\s+of\s+(?:the|an?|our)\s+(?:[\w&-]+\s+){0,2}?"
        rf"(?:{ROLE_NOUNS})\b",
        (("fault", "mistake", "negligence"), ("of",)),
        ("fault", "mistake", "negligence"),
    ),
    (
        r"\b(?:caused\s+by|due\s+to|because\s+of|result\s+of|blamed?\s+on|causes?\s*:|reason\s*:)\s*(?:\w+\s+)?"
        r"(?:negligence|carelessness|inattention|sloppiness|laziness|complacency|incompetence)\b",
        (
            ("negligence", "carelessness", "inattention", "sloppiness", "laziness", "complacency", "incompetence"),
            ("caused", "due", "because", "result", "blame", "cause", "reason"),
        ),
        ("caused", "due", "because", "result", "blame", "cause", "reason"),
    ),
    (
        # "the engineer made a mistake": a person's mistake given as what happened
        rf"\b(?:{ROLE_NOUNS})\s+(?:(?:{ADVERBS})\s+)?made\s+(?:a|an|the|another|several|some|two|three)\s+(?:\w+\s+)?"
        r"(?:mistakes?|errors?|blunders?)\b",
        (("made",), ("mistake", "error", "blunder")),
        ROLE_NOUN_STARTS,
    ),
    (
        # "careless handling by the analyst"
        r"\bcareless(?:ly)?\s+(?:\w+\s+){1,2}?by\s+(?:the|an?|our|one)\s+(?:[\w&-]+\s+){0,2}?"
        rf"(?:{ROLE_NOUNS})\b",
        (("careless",), ("by",)),
        ("careless",),
    ),
)
HUMAN_ERROR_RE = re.compile("|".join(form for form, _, _ in HUMAN_ERROR_FORMS), re.IGNORECASE)
ROOT_CAUSE_RE = re.compile(r"\broot[\s-]+caus(?:e|ed|ing)\b|\b(?:5|five)\s+whys\b", re.IGNORECASE)
NEGATED_BEFORE_RE = re.compile(
    rf"\b(?:not|no|never|without|rather\s+than|instead\s+of|beyond|avoid(?:s|ed|ing)?|than"
    rf"|isn{A}t|wasn{A}t|aren{A}t|weren{A}t)\s+(?:(?:blaming|citing|calling\s+it|looking\s+for"
    r"|hunting\s+for|searching\s+for|seeking|chasing|one|a|an|the|any|single|just|simply"
    r"|merely|mere|a\s+single)\s+)*[\"'“‘]?$",
    re.IGNORECASE,
)
# "reduce the chance of human error" names a risk the fix removes, not a cause.
RISK_BEFORE_RE = re.compile(
    r"\b(?:chance|risk|likelihood|possibility|room|potential|opportunit(?:y|ies)|scope|source)"
    r"\s+(?:of|for)\s+(?:\w+\s+)?[\"'“‘]?$"
    r"|\b(?:reduces?|reducing|prevents?|preventing|eliminates?|eliminating|removes?|removing"
    r"|minimi[sz]es?|minimi[sz]ing|catch(?:es)?|catching|tolerates?|tolerating|guards?\s+against)"
    r"\s+(?:\w+\s+){0,2}[\"'“‘]?$",
    re.IGNORECASE,
)
WHY_RE = re.compile(
    r"\bwhy\s+(?:(?:did|does|do|was|were|would|had|has|could|is|are)(?:n['’]t)?\s+(?:not\s+)?)?",
    re.IGNORECASE,
)
WHY_PRONOUN_RE = re.compile(
    r"(?i:(?:he|she|they|you|someone|somebody|anyone|anybody|nobody|no\s+one)\b)|I\b"
)
QUESTION_BEFORE_RE = re.compile(
    r"\b(?:ask(?:s|ed|ing)?|wonder(?:s|ed|ing)?|question(?:s|ed|ing)?|explain(?:s|ed|ing)?"
    r"|understand|know)\s+(?:\w+\s+)?$",
    re.IGNORECASE,
)
WHY_SYSTEM_AFTER_RE = re.compile(
    r"\s+(?:(?:not|never)\s+)?(?:paged|alerted|notified|given|told|warned|shown|informed"
    r"|able|sent|included|trained|consulted)\b",
    re.IGNORECASE,
)


# Literal gates. Each rule's regexes cannot match a text that holds none of the words
# listed for it, so such a text skips them (most narrative strings hold none).
# Case-sensitive where the regex is; the IGNORECASE ones are looked up in ``folded``.
HUMAN_ERROR_WORDS = (
    "error", "mistake", "failure", "fault", "slip", "negligence", "carelessness", "oversight",
    "blunder", "inattention", "sloppiness", "laziness", "complacency", "incompetence",
    "careless",
)
ROOT_CAUSE_WORDS = ("root", "whys")
COUNTERFACTUAL_WORDS = (
    "should", "ought", "could", "failed", "forgot", "forget", "neglected", "bother",
    "careless", "negligent", "sloppy", "lazy", "inattentive", "reckless",
)
DUTY_WORDS = ("did", "never")
HUMAN_ONLY_WORDS = (
    "forgot", "forget", "neglected", "bother", "messed", "screwed", "dropped", "careless",
    "negligent", "sloppy", "lazy", "inattentive", "reckless", "blame", "fault", "asleep",
    "mistake", "blunder", "known better", "knew better", "carelessly",
)
TITLE_WORDS = ("Mr", "Ms", "Mx", "Dr", "Prof")
IF_RE = re.compile(r"[Ii]f\s")
# The verbs alone: when none occurs anywhere in a text, no subject can be followed by one.
COUNTERFACTUAL_VERB_RE = re.compile(COUNTERFACTUAL_VERBS)
COUNTERFACTUAL_VERB_STARTS = (
    "should", "ought", "could", "failed", "forgot", "forget", "neglected", "did", "never", "was", "were",
)
DUTY_VERB_RE = re.compile(rf"{NEG}\s+(?:{DUTIES})\b")
HUMAN_ONLY_VERB_RE = re.compile(HUMAN_ONLY_VERBS)


@dataclass(frozen=True)
class _Gates:
    """What can match at all in one (masked) text."""

    folded: str
    counterfactual: bool
    duty: bool
    conditional: bool
    human_only: bool
    possessive: bool
    blame_person: bool

    @classmethod
    def of(cls, text: str) -> _Gates:
        low = folded(text)
        # A conditional needs "If ... had" or "Had ..." (see _conditional).
        conditional = "Had" in text or ("had" in text and IF_RE.search(text) is not None)
        counterfactual = has_any(text, COUNTERFACTUAL_WORDS) and (
            next(finditer_from(COUNTERFACTUAL_VERB_RE, text, low, COUNTERFACTUAL_VERB_STARTS), None) is not None
        )
        duty = has_any(text, DUTY_WORDS) and DUTY_VERB_RE.search(text) is not None
        human_only = has_any(text, HUMAN_ONLY_WORDS) and HUMAN_ONLY_VERB_RE.search(text) is not None
        possessive = ("'" in text or "’" in text) and POSSESSIVE_BLAME_RE.search(text) is not None
        blame_person = has_any(low, BLAME_PERSON_WORDS)
        return cls(low, counterfactual, duty, conditional, human_only, possessive, blame_person)


@dataclass(frozen=True)
class _Hit:
    offset: int
    rule: str
    message: str
    verb_end: int = -1  # where the blamed action ends, for subject rules


def lint_text(
    text: str, path: str, first_line: int = 1, known_names: Iterable[str] = ()
) -> list[Finding]:
    """Blameless-language findings in a Markdown body or a narrative string.

    ``first_line`` is the line of ``text`` in its file (e.g. after front matter);
    ``known_names`` adds personal names (e.g. the team roster) to the shipped list.
    """
    masked = _mask(text)
    names = _Names(known_names)
    gates = _Gates.of(masked)
    hits = [
        *_human_error(masked, gates),
        *_root_cause(masked, gates),
        *_subjects(masked, names, gates),
        *_why_questions(masked, names, gates),
    ]
    if not hits and "incidentops" not in text:
        return []  # no hit and no allow comment: nothing to report
    # "The shift lead, @mbeck, didn't bother ...": the person named, not also their role
    named_ends = {hit.verb_end for hit in hits if hit.rule == NAMED and hit.verb_end >= 0}
    if named_ends:
        hits = [hit for hit in hits if hit.rule != COUNTERFACTUAL or hit.verb_end not in named_ends]
    line_starts = [0] + [match.end() for match in _NEWLINE_RE.finditer(text)]
    allows = scan_allows(text.split("\n"), path, first_line, "blameless", RULES, WARNING)
    findings = list(allows.findings)
    seen: set[tuple[int, str]] = set()
    for hit in sorted(hits, key=lambda h: (h.offset, h.rule)):
        if (hit.offset, hit.rule) in seen:
            continue
        seen.add((hit.offset, hit.rule))
        index = bisect.bisect_right(line_starts, hit.offset) - 1
        line = first_line + index
        if allows.allowed(line, hit.rule):
            continue
        level, hint = RULES[hit.rule]
        col = hit.offset - line_starts[index] + 1
        findings.append(Finding(path, line, col, level, hit.rule, hit.message, hint))
    return sorted(findings, key=Finding.sort_key)


_NEWLINE_RE = re.compile("\n")
_SPACES_RE = re.compile(r"\s+")


class _Names:
    """Decides whether a capitalised word is a personal name."""

    def __init__(self, known: Iterable[str]) -> None:
        self.known = {part for name in known for part in re.split(r"[\s,]+", name) if part}

    def kind(self, word: str) -> str:
        """'person', 'maybe' (an unknown capitalised word) or 'no'."""
        first = _SPACES_RE.split(word, maxsplit=1)[0]
        if first in self.known:
            return "person"
        if first.lower() in NOT_PEOPLE:
            return "no"
        return "person" if first in FIRST_NAMES else "maybe"


def _mask(text: str) -> str:
    """Blank out code (fenced and inline) and HTML comments, keeping every offset."""
    if "`" not in text and "~~~" not in text and "<!--" not in text:
        return text  # no fence, inline code or comment
    out: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        opener = (
            _FENCE_RE.match(stripped)
            if len(line) - len(stripped) <= 3 and stripped.startswith(("```", "~~~"))
            else None
        )
        if fence is not None:
            if opener and opener.group()[0] == fence[0] and len(opener.group()) >= len(fence):
                fence = None
            out.append(_blank(line))
            continue
        if opener:
            fence = opener.group()
            out.append(_blank(line))
            continue
        out.append(_INLINE_CODE_RE.sub(_blank_match, line) if "`" in line else line)
    masked = "\n".join(out)
    return _COMMENT_RE.sub(_blank_match, masked) if "<!--" in masked else masked


_FENCE_RE = re.compile(r"`{3,}|~{3,}")
_INLINE_CODE_RE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)")
_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
_NOT_NEWLINE_RE = re.compile(r"[^\n]")


def _blank(segment: str) -> str:
    return " " * len(segment) if "\n" not in segment else _NOT_NEWLINE_RE.sub(" ", segment)


def _blank_match(match: re.Match[str]) -> str:
    return _blank(match.group())


@functools.cache
def _human_error_re(forms: tuple[int, ...]) -> re.Pattern[str]:
    """HUMAN_ERROR_RE without the forms a text cannot match (same matches in that text)."""
    return re.compile("|".join(HUMAN_ERROR_FORMS[i][0] for i in forms), re.IGNORECASE)


def _human_error(text: str, gates: _Gates) -> Iterator[_Hit]:
    low = gates.folded
    if not has_any(low, HUMAN_ERROR_WORDS):
        return
    forms = tuple(
        index for index, (_, needs, _) in enumerate(HUMAN_ERROR_FORMS)
        if all(has_any(low, words) for words in needs)
    )
    if not forms:
        return
    starts = {word for index in forms for word in HUMAN_ERROR_FORMS[index][2]}
    for match in finditer_from(_human_error_re(forms), text, low, starts):
        before = text[max(0, match.start() - 60) : match.start()]
        if NEGATED_BEFORE_RE.search(before) or RISK_BEFORE_RE.search(before):
            continue
        phrase = " ".join(match.group().split())
        yield _Hit(
            match.start(), HUMAN_ERROR,
            f"'{phrase}' given as a cause: too vague to act on and it blames people",
        )


def _root_cause(text: str, gates: _Gates) -> Iterator[_Hit]:
    if not has_any(gates.folded, ROOT_CAUSE_WORDS):
        return
    for match in ROOT_CAUSE_RE.finditer(text):
        before = text[max(0, match.start() - 60) : match.start()]
        if NEGATED_BEFORE_RE.search(before):
            continue
        phrase = " ".join(match.group().split())
        if "why" in phrase.lower():
            message = f"'{phrase}' looks for one cause; it often oversimplifies"
        else:
            message = f"single '{phrase}' framing: complex systems fail for several reasons"
        yield _Hit(match.start(), ROOT_CAUSE, message)


def _subjects(text: str, names: _Names, gates: _Gates) -> Iterator[_Hit]:
    yield from _named(text, names, gates)
    yield from _counterfactuals(text, gates)


def _named(text: str, names: _Names, gates: _Gates) -> Iterator[_Hit]:
    """Personal names, @handles and e-mail addresses as the subject of blame."""
    candidates: list[tuple[int, int, str, str]] = []  # start, end, shown, kind
    regexes = [HANDLE_RE, EMAIL_RE] if "@" in text else []
    if has_any(text, TITLE_WORDS):
        regexes.append(TITLED_RE)
    regexes.append(INITIAL_RE)
    for regex in regexes:
        candidates.extend((m.start(), m.end(), m.group(), "person") for m in regex.finditer(text))
    known = names.known
    for match in CAPWORD_RE.finditer(text):
        word = match.group()  # names.kind(word), inlined: a capitalised word holds no space
        if word in known:
            kind = "person"
        elif word.lower() in NOT_PEOPLE:
            continue
        elif word in FIRST_NAMES:
            kind = "person"
        elif gates.human_only or gates.possessive or gates.blame_person:
            # an unknown capitalised word counts only before a verb only people do, or as
            # the owner of a mistake ("Okonkwo's negligence")
            kind = "maybe"
        else:
            continue
        candidates.append((match.start(), match.end(), word, kind))
    taken: list[tuple[int, int]] = []
    flawed: bool | None = None
    for start, end, shown, kind in sorted(candidates, key=lambda c: (c[0], -c[1])):
        if taken and any(lo <= start < hi for lo, hi in taken):
            continue
        verb_re = NAMED_AFTER_RE if kind == "person" else HUMAN_ONLY_AFTER_RE
        after = verb_re.match(text, end)
        if after is None and kind == "person":
            if flawed is None:  # looked up once, and only for a text that names someone
                flawed = has_any(gates.folded, FLAWED_WORDS)
            if flawed:
                after = NAMED_OBJECT_AFTER_RE.match(text, end)
        if after:
            taken.append((start, after.end()))
            who = shown + after.group("surname")
            verb = " ".join(after.group("verb").split())
            yield _Hit(start, NAMED, f"{who!r} is named as the one who {_short(verb)}", after.end())
            continue
        if kind != "person":
            possessive = POSSESSIVE_AFTER_RE.match(text, end) if gates.possessive else None
            if possessive:
                taken.append((start, possessive.end()))
                yield _Hit(start, NAMED, f"{shown + possessive.group('surname')!r} is named as the one at fault")
            elif gates.blame_person and BLAME_PERSON_BEFORE_RE.search(text[max(0, start - 40) : start]):
                taken.append((start, end))
                yield _Hit(start, NAMED, f"{shown!r} is named as the cause")
            continue
        conditional = _conditional(text, start, end) if gates.conditional else None
        if conditional:
            taken.append((start, end))
            yield _Hit(start, NAMED, f"{shown!r} is named in a counterfactual: '{conditional}'")
            continue
        possessive = POSSESSIVE_AFTER_RE.match(text, end)
        if possessive:
            taken.append((start, possessive.end()))
            who = shown + possessive.group("surname")
            yield _Hit(start, NAMED, f"{who!r} is named as the one at fault")
            continue
        before = text[max(0, start - 40) : start]
        if BLAME_BEFORE_RE.search(before) or (
            BECAUSE_BEFORE_RE.search(before) and not POSSESSIVE_RE.match(text, end)
        ):
            taken.append((start, end))
            yield _Hit(start, NAMED, f"{shown!r} is named as the cause")


def _counterfactuals(text: str, gates: _Gates) -> Iterator[_Hit]:
    """'should have' / 'failed to' / 'forgot' aimed at a pronoun or a people role."""
    if gates.counterfactual or gates.duty or gates.conditional or gates.human_only:
        yield from _pronoun_counterfactuals(text, gates)
    if gates.counterfactual or gates.conditional:
        yield from _role_counterfactuals(text, gates)


def _pronoun_counterfactuals(text: str, gates: _Gates) -> Iterator[_Hit]:
    for match in PRONOUN_RE.finditer(text):
        word = match.group()
        after = COUNTERFACTUAL_AFTER_RE.match(text, match.end()) if gates.counterfactual else None
        if after and word.lower() == "they" and "failed" in after.group("verb"):
            continue  # "they failed to fire" is as often about alerts as about people
        if not after and gates.duty and word.lower() not in ("they",):
            after = PRONOUN_DUTY_AFTER_RE.match(text, match.end())
        if not after and gates.human_only:
            after = PRONOUN_HUMAN_ONLY_AFTER_RE.match(text, match.end())
        conditional = (
            None if after or not gates.conditional else _conditional(text, match.start(), match.end())
        )
        if conditional:
            yield _Hit(
                match.start(), COUNTERFACTUAL,
                f"counterfactual aimed at a person: '{conditional}'",
            )
        if after:
            verb = " ".join(after.group("verb").split())
            yield _Hit(
                match.start(), COUNTERFACTUAL,
                f"counterfactual aimed at a person: '{word} {_short(verb)}'", after.end(),
            )


def _role_counterfactuals(text: str, gates: _Gates) -> Iterator[_Hit]:
    for match in ROLE_NOUN_RE.finditer(text):
        after = COUNTERFACTUAL_AFTER_RE.match(text, match.end()) if gates.counterfactual else None
        if not after and not gates.conditional:
            continue
        lookback = ROLE_LOOKBACK_RE.search(text[max(0, match.start() - 80) : match.start()])
        start = match.start() - len(lookback.group()) if lookback else match.start()
        if not after:
            conditional = _conditional(text, start, match.end())
            if conditional:
                yield _Hit(
                    start, COUNTERFACTUAL,
                    f"counterfactual aimed at a person: '{conditional}'",
                )
            continue
        subject = " ".join(text[start : match.end()].split())
        verb = " ".join(after.group("verb").split())
        yield _Hit(
            start, COUNTERFACTUAL,
            f"counterfactual aimed at a person: '{subject} {_short(verb)}'", after.end(),
        )


def _conditional(text: str, start: int, end: int) -> str | None:
    """'If <subject> had read ...' around the subject at start..end, as display text."""
    before = IF_BEFORE_RE.search(text[max(0, start - 20) : start])
    if not before:
        return None
    after = IF_AFTER_RE.match(text, end)
    if not after or ("had" not in before.group().lower() and "had" not in after.group()):
        return None
    begin = start - len(before.group())
    return _short(" ".join(text[begin : after.end()].split()))


def _why_questions(text: str, names: _Names, gates: _Gates) -> Iterator[_Hit]:
    if "why" not in gates.folded:
        return
    for match in WHY_RE.finditer(text):
        end = match.end()
        if not _is_question(text, match):
            continue
        subject = _person_at(text, end, names)
        if subject is None or WHY_SYSTEM_AFTER_RE.match(text, end + len(subject)):
            continue
        phrase = " ".join(text[match.start() : end + len(subject)].split())
        yield _Hit(match.start(), WHY, f"'why' aimed at a person ('{phrase} ...') implies fault")


def _is_question(text: str, match: re.Match[str]) -> bool:
    """A direct or reported question, not an explanation ("that is why ...")."""
    rest = re.match(r"[^.!?\n]*[.!?\n]?", text[match.start() :])
    if rest and rest.group().endswith("?"):
        return True
    before = text[max(0, match.start() - 40) : match.start()]
    has_aux = match.group().strip().lower() != "why"
    if has_aux and re.search(r"(?:^|[.!?:\n]|^\W*#+)\s*[-*>]?\s*[\"'“‘]?$", before):
        return True
    return bool(QUESTION_BEFORE_RE.search(before))


def _person_at(text: str, pos: int, names: _Names) -> str | None:
    """The person-subject starting exactly at ``pos``, if there is one."""
    for regex in (HANDLE_RE, EMAIL_RE, TITLED_RE, INITIAL_RE, WHY_PRONOUN_RE):
        match = regex.match(text, pos)
        if match:
            return match.group()
    match = CAPWORD_RE.match(text, pos)
    if match and names.kind(match.group()) == "person":
        return match.group()
    match = ROLE_RE.match(text, pos)
    return match.group() if match else None


def _short(verb: str) -> str:
    words = verb.split()
    return " ".join(words[:6]) + (" ..." if len(words) > 6 else "")
