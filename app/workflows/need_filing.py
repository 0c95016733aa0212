"""Rules of writing a need, shared by the back-office form and the REST API."""
from flask_babel import gettext as _

from ..extensions import db
from ..models import Enterprise, EnterpriseState, NeedState
from ..rounds import round_for_filing
from .engine import WorkflowError

EDITABLE_STATES = (NeedState.draft, NeedState.returned_by_bureau, NeedState.returned_by_platform)


class NeedRuleError(WorkflowError):
    pass


def prepare_new_need(need, user):
    """Make ``need`` a draft of ``user``'s own enterprise in the round open for filing.

    Whatever enterprise the request named is replaced: the relationship is set, not only the
    column, because a relationship set from a form or JSON would win at flush. No flush.
    """
    if getattr(user, "enterprise_id", None) is None:
        raise NeedRuleError(_("Only an enterprise account can write a need."))
    with db.session.no_autoflush:
        program_round = round_for_filing()
        if program_round is None:
            raise NeedRuleError(_("No program round is open for filing needs."))
        enterprise = db.session.get(Enterprise, user.enterprise_id)
        if enterprise.state is not EnterpriseState.verified:
            raise NeedRuleError(_("Your registration must be verified before you publish needs; "
                                  "it is now “%(state)s”.", state=enterprise.state.title))
        need.enterprise = enterprise
        need.round = program_round
    need.state = NeedState.draft


def check_editable(need):
    if need.state not in EDITABLE_STATES:
        raise NeedRuleError(_("A need can only be changed while it is a draft or returned."))


def check_deletable(need):
    if need.state is not NeedState.draft:
        raise NeedRuleError(_("Only a draft can be deleted; withdraw the need instead."))
