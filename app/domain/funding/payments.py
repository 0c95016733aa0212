"""拨付: the province pays a funded project's subsidy in batches (notice §四(二)), in one place.

- A payment is planned for a project whose funding is final (past its 公示), from the
  project's page; the project, its round and its enterprise come from the project, never from
  the form.
- The payments of a project that are planned or paid never add up to more than its funding; a
  payment returned to the fund no longer counts. Checked under the project's row lock, so two
  clerks planning at once cannot both take the last yuan.
- A planned payment is corrected until it is recorded as paid, which needs the date it was
  paid (not in the future) and the voucher (拨付凭证); a paid one may be recorded as returned,
  with the reason.
- Reconciliation per round: the quota and the projects funded, their funding, what is planned,
  paid and returned, and what remains to pay; an Excel export of every payment for the funder.

Plain rules: the caller commits. State changes go through ``app/workflows``.
"""
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from app.core.access import jurisdiction
from app.core.workbooks import Sheet, streamed
from app.domain.funding.projects import locked_project, project_in, refusal
from app.extensions import db
from app.models import (
    Enterprise,
    Payment,
    PaymentState,
    ProgramRound,
    Project,
    ProjectState,
)
from app.models.contract import FINAL_PROJECT_STATES
from app.utils import clock
from app.workflows.errors import RuleViolation

# Payments that hold part of the funding: all but those returned to the fund.
HOLDING = (PaymentState.planned, PaymentState.paid)


class PaymentRuleError(RuleViolation):
    pass


def _project_to_pay(user, project_id):
    return project_in(
        user, project_id, FINAL_PROJECT_STATES, PaymentRuleError,
        _("Open the funded project to plan its payment."),
        lambda project: _("Project %(number)s is “%(state)s”: only a project whose funding is "
                          "final (after its publicity) is paid.", number=project.number,
                          state=project.state.title))


def why_no_new_payment(user, project_id) -> str | None:
    """Why ``user`` may not plan a payment of this project now (shown above the form)."""
    return refusal(_project_to_pay, user, project_id)


def held_by_others(payment) -> Decimal:
    """What the project's other planned and paid payments hold of its funding."""
    stmt = select(func.coalesce(func.sum(Payment.amount), 0)).where(
        Payment.project_id == payment.project_id, Payment.state.in_(HOLDING))
    if payment.id is not None:
        stmt = stmt.where(Payment.id != payment.id)
    return Decimal(db.session.scalar(stmt))


def check_within_funding(payment):
    """Planned and paid payments of the project stay within its funding (under its row lock)."""
    project = locked_project(payment.project_id)
    if payment.amount is None or payment.amount <= 0:
        raise PaymentRuleError(_("Give the amount of the payment."))
    held = held_by_others(payment)
    if held + Decimal(payment.amount) > Decimal(project.funding):
        raise PaymentRuleError(_(
            "Project %(number)s is funded %(funding)s CNY and %(held)s CNY of it is already "
            "planned or paid: at most %(left)s CNY can be paid now.",
            number=project.number, funding=f"{project.funding:,.2f}", held=f"{held:,.2f}",
            left=f"{max(Decimal(project.funding) - held, Decimal(0)):,.2f}"))


def prepare_new_payment(payment, user, project_id):
    """Make ``payment`` a planned payment of the project ``project_id``; raises
    PaymentRuleError saying why not."""
    project = _project_to_pay(user, project_id)
    with db.session.no_autoflush:
        payment.project, payment.project_id = project, project.id
        payment.round_id = project.round_id
        payment.enterprise_id = project.enterprise_id
        payment.state = PaymentState.planned
        check_within_funding(payment)
    db.session.add(payment)
    db.session.flush()


def check_editable(payment):
    if payment.state is not PaymentState.planned:
        raise PaymentRuleError(_("Only a planned payment can be corrected; this one is "
                                 "“%(state)s”.", state=payment.state.title))
    check_within_funding(payment)


def check_paid(payment, today: dt.date | None = None):
    """Guard of ``pay``: the payment date (not in the future) and the voucher are recorded."""
    if payment.paid_on is None or not payment.voucher:
        raise PaymentRuleError(_("Record the payment date and upload the voucher (拨付凭证) "
                                 "first: correct the payment, then record it as paid."))
    project = locked_project(payment.project_id)
    if project.state not in FINAL_PROJECT_STATES:
        raise PaymentRuleError(_("Project %(number)s is “%(state)s”: it is paid nothing now.",
                                 number=project.number,
                                 state=project.state.title))
    if payment.paid_on > (today or clock.today()):
        raise PaymentRuleError(_("The payment date %(date)s lies in the future.",
                                 date=payment.paid_on))
    check_within_funding(payment)


# --- reconciliation -------------------------------------------------------------------------

@dataclass(frozen=True)
class Reconciliation:
    quota: int
    projects: int
    funding: Decimal
    planned: Decimal
    paid: Decimal
    returned: Decimal

    @property
    def to_pay(self) -> Decimal:
        """Funding not yet paid (planned payments included); never below nothing."""
        return max(self.funding - self.paid, Decimal(0))


# The projects the reconciliation sets against their payments: funded and not taken back
# (under way, completed, suspended; terminated ones with the funding they were paid).
RECONCILED = FINAL_PROJECT_STATES + (ProjectState.suspended, ProjectState.terminated)


def _sum(condition):
    return func.coalesce(func.sum(case((condition, Payment.amount), else_=0)), 0)


def reconcile(program_round, user=None) -> Reconciliation:
    """The round's payments against its funded projects (a bureau: its region's), counted on
    the same projects on both sides: what a withdrawn or revoked project was paid is in
    "returned" once it came back, and a planned payment a project can no longer receive is
    not "planned". Two statements whatever the rows."""
    terminated = Project.state == ProjectState.terminated
    projects = jurisdiction.scoped(
        select(func.count(Project.id),
               func.coalesce(func.sum(case((terminated, 0), else_=Project.funding)), 0))
        .where(Project.round_id == program_round.id, Project.state.in_(RECONCILED)),
        Project, user)
    count, funding = db.session.execute(projects).one()
    reconciled = Project.state.in_(RECONCILED)
    payments = jurisdiction.scoped(
        select(_sum((Payment.state == PaymentState.planned)
                    & Project.state.in_(FINAL_PROJECT_STATES + (ProjectState.suspended,))),
               _sum((Payment.state == PaymentState.paid) & reconciled),
               _sum(Payment.state == PaymentState.returned),
               _sum((Payment.state == PaymentState.paid) & terminated))
        .join(Project, Payment.project_id == Project.id)
        .where(Payment.round_id == program_round.id), Payment, user)
    planned, paid, returned, paid_terminated = db.session.execute(payments).one()
    # A terminated project's funding is what it was paid (app/domain/funding/progress.py).
    return Reconciliation(program_round.project_quota, int(count),
                          Decimal(funding) + Decimal(paid_terminated), Decimal(planned),
                          Decimal(paid), Decimal(returned))


def payments_sheet(program_round, user) -> Sheet:
    """Every payment of the round the user may see, by project, as one sheet (streamed)."""
    stmt = jurisdiction.scoped(
        select(Project.number, Enterprise.name, Project.funding, Payment.batch, Payment.amount,
               Payment.planned_on, Payment.paid_on, Payment.state, Payment.payer)
        .join(Project, Payment.project_id == Project.id)
        .join(Enterprise, Payment.enterprise_id == Enterprise.id)
        .where(Payment.round_id == program_round.id)
        .order_by(Project.number, Payment.planned_on, Payment.id), Payment, user)

    def rows():
        for number, enterprise, funding, batch, amount, planned_on, paid_on, state, payer in (
                streamed(stmt)):
            yield [number, enterprise, float(funding), batch, float(amount),
                   planned_on.isoformat(), paid_on.isoformat() if paid_on else "",
                   str(PaymentState(state).title), payer]

    headers = [_("Project number"), _("Enterprise"), _("Funding (CNY)"), _("Batch"),
               _("Amount (CNY)"), _("Planned on"), _("Paid on"), _("State"), _("Payer")]
    return Sheet(_("Payments"), headers, rows(), (14, 32, 14, 16, 14, 12, 12, 14, 24))


def rounds_with_projects():
    return db.session.scalars(select(ProgramRound)
                              .order_by(ProgramRound.needs_filing_start.desc())).all()
