"""A scripted $EDITOR for the end-to-end test: fills in a scaffolded incident as a responder would."""

import re
import sys
from pathlib import Path

ANSWERS = {
    "harm": "potential", "scope": "single_user", "regulatory": "false",
    "reputational_risk": "normal", "exploitable_at_scale": "false",
}

for name in sys.argv[1:]:
    path = Path(name)
    text = path.read_text(encoding="utf-8")
    detected = re.search(r'^detected_at: "([^"]+)"', text, re.M).group(1)
    text = re.sub(r"^title: .*$", 'title: "Refusals bypassed by a role-play framing on a support channel"', text, flags=re.M)
    text = re.sub(r"^type: .*$", "type: policy_erosion", text, flags=re.M)
    text = re.sub(r"^severity: .*$", "severity: SEV-3", text, flags=re.M)
    text = re.sub(r"^attack_vector: .*$", "attack_vector: role_play_framing", text, flags=re.M)
    text = re.sub(r"^reported_by: .*$", 'reported_by: "Support lead"', text, flags=re.M)
    for key, answer in ANSWERS.items():
        text = re.sub(rf"^(  {key}:)[^\n]*$", rf"\g<1> {answer}", text, flags=re.M)
    text = re.sub(r"^escalations: \[\].*$", f'escalations:\n  - team: Safety team\n    at: "{detected}"', text,
                  flags=re.M)
    text = re.sub(r"^summary: \|\n(  .*\n)+", "summary: |\n  A role-play framing made the model answer a request it refuses when\n"
                  "  asked directly. Detected by the support channel's review queue.\n", text, flags=re.M)
    path.write_text(text, encoding="utf-8")
