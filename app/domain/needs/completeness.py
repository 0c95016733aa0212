"""The completeness check of a need (notice §三(一): "提高企业需求的完备性和准确性").

Findings are advice, not refusals: the enterprise may submit with them, and reviewers see them.
"""
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

SECTIONS = (
    ("background", _l("Background")),
    ("problem", _l("Technical problem")),
    ("targets", _l("Target indicators")),
    ("basis", _l("Existing basis")),
    ("cooperation_mode", _l("Expected cooperation mode")),
    ("timeline", _l("Timeline")),
)
MIN_DESCRIPTION = 60  # characters of background + problem: less rarely lets a researcher judge
NUMBER = re.compile(r"\d")


@dataclass(frozen=True)
class Finding:
    code: str
    message: str


def check_need(need) -> list[Finding]:
    """What is missing or vague in ``need``'s template, each explained for the enterprise."""
    findings = []
    for column, label in SECTIONS:
        if not (getattr(need, column) or "").strip():
            findings.append(Finding(f"missing_{column}", str(_l(
                "The section “%(section)s” is empty.", section=label))))
    targets = (need.targets or "").strip()
    if targets and not NUMBER.search(targets):
        findings.append(Finding("target_without_number", str(_l(
            "The target indicators name no number; state measurable targets such as a yield, "
            "a precision or a cost (e.g. “良品率由90%提高到98%”)."))))
    described = len((need.background or "").strip()) + len((need.problem or "").strip())
    if described < MIN_DESCRIPTION:
        findings.append(Finding("too_short", str(_l(
            "Background and technical problem together have %(count)d characters; describe the "
            "problem in at least %(minimum)d so that researchers can judge it.",
            count=described, minimum=MIN_DESCRIPTION))))
    if not (need.keywords or "").strip():
        findings.append(Finding("no_keywords", str(_l(
            "No keywords: they decide which researchers the need is pushed to."))))
    return findings
