"""Rules of writing a need, shared by the back-office form and the REST API."""
from flask_babel import gettext as _

from app.domain.rounds import current_round, round_for_filing
from app.extensions import db
from app.models import Enterprise, EnterpriseState, NeedState
from app.workflows.errors import RuleViolation

EDITABLE_STATES = (NeedState.draft, NeedState.returned_by_bureau, NeedState.returned_by_platform)


class NeedRuleError(RuleViolation):
    pass


def _filing_round_and_enterprise(user):
    """The round open for filing and the user's enterprise, or NeedRuleError saying why the
    user may not write a need now. No flush."""
    if getattr(user, "enterprise_id", None) is None:
        raise NeedRuleError(_("Only an enterprise account can write a need."))
    program_round = round_for_filing()
    if program_round is None:
        latest = current_round()
        if latest is None:
            raise NeedRuleError(_("No program round is open for filing needs."))
        raise NeedRuleError(_("Needs of “%(round)s” could be filed from %(start)s to %(end)s; "
                              "no round is open for filing today.", round=latest.label,
                              start=latest.needs_filing_start, end=latest.needs_filing_end))
    enterprise = db.session.get(Enterprise, user.enterprise_id)
    if enterprise.state is not EnterpriseState.verified:
        raise NeedRuleError(_("Your registration must be verified before you publish needs; "
                              "it is now “%(state)s”.", state=enterprise.state.title))
    return program_round, enterprise


def why_no_new_need(user) -> str | None:
    """Why ``user`` may not write a need now (shown above the empty form), or None."""
    try:
        with db.session.no_autoflush:
            _filing_round_and_enterprise(user)
    except NeedRuleError as refusal:
        return str(refusal)
    return None


def prepare_new_need(need, user):
    """Make ``need`` a draft of ``user``'s own enterprise in the round open for filing.

    Whatever enterprise the request named is replaced: the relationship is set, not only the
    column, because a relationship set from a form or JSON would win at flush. No flush.
    """
    with db.session.no_autoflush:
        program_round, enterprise = _filing_round_and_enterprise(user)
        need.enterprise = enterprise
        need.round = program_round
    need.state = NeedState.draft


def check_editable(need):
    if need.state not in EDITABLE_STATES:
        raise NeedRuleError(_("A need can only be changed while it is a draft or returned."))


def check_deletable(need):
    if need.state is not NeedState.draft:
        raise NeedRuleError(_("Only a draft can be deleted; withdraw the need instead."))


def check_submittable(need):
    """Hard rules at submission (completeness findings are only advice): the amount must reach
    the round's minimum (notice §一(一): 单个需求金额不低于10万元)."""
    minimum = need.round.min_need_amount
    if need.amount is None or need.amount < minimum:
        raise NeedRuleError(_("The intended amount must be at least %(minimum)s CNY in this round.",
                              minimum="{:,.0f}".format(minimum)))
