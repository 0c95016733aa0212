"""What each printed document states, who may print it and when.

A ``Sheet`` is the document as data: its heading, the record it is for, the sections of rows
(label, value) and texts, and the key facts whose SHA-256 goes with the verification code.
Labels are in the reader's language; the facts are raw values (codes, amounts, ISO dates), the
same whoever prints the document, so that its code does not depend on the reader.

Kinds (``KINDS``):

* ``recommendation`` 推荐表 — a need with the bureau's recommendation: staff who see the need
  and the owning enterprise, once the bureau has recommended it.
* ``approval`` 立项审批表 — a funded project's contract, parties, amounts and the province's
  decision: staff who see the project and both of its parties.
* ``record`` 项目档案 — the project with its contract, report, co-signature, self-acceptance,
  evaluation and history: staff who see the project and both of its parties.
* ``certificate`` 服务企业证明 — for the researcher, once the project has been evaluated: the
  project's researcher and staff who see the project.
"""
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app.core.access import jurisdiction, masking
from app.core.display import amount, local_date, local_time, money
from app.extensions import db
from app.models import (
    Action,
    Need,
    NeedState,
    Project,
    ProjectState,
    ReviewRecord,
)
from app.models.enums import state_title

# A need the bureau has recommended and nobody has returned since (a need returned by the
# platform and submitted again waits for a new recommendation).
RECOMMENDED_STATES = (NeedState.recommended, NeedState.published, NeedState.docking,
                      NeedState.contracted, NeedState.closed)
NEED_SECTIONS = (("background", _l("Background")), ("problem", _l("Technical problem")),
                 ("targets", _l("Target indicators")), ("basis", _l("Existing basis")),
                 ("cooperation_mode", _l("Expected cooperation mode")),
                 ("timeline", _l("Timeline")))


@dataclass(frozen=True)
class Kind:
    code: str
    model: type
    title: object  # the document's name, translated when read
    file_stem: str  # the ASCII part of the download's file name


KINDS = {kind.code: kind for kind in (
    Kind("recommendation", Need, _l("Technical need recommendation form"), "recommendation"),
    Kind("approval", Project, _l("Project approval form"), "approval"),
    Kind("record", Project, _l("Project record"), "project-record"),
    Kind("certificate", Project, _l("Certificate of service to an enterprise"), "certificate"),
)}


@dataclass
class Section:
    heading: str
    rows: list = field(default_factory=list)  # (label, value): short values, in a table
    texts: list = field(default_factory=list)  # (label, text): long texts, as paragraphs
    table: list = field(default_factory=list)  # a plain table: header row, then rows
    widths: tuple = ()  # the plain table's column widths, as fractions of the line


@dataclass
class Sheet:
    kind: Kind
    record: object
    title: str  # what the document is about (the need's title, the project's number and need)
    enterprise_name: str
    facts: dict
    sections: list
    statement: str = ""  # a certificate's sentence above its table


class DocumentRefused(Exception):
    """The document cannot be printed for this user now. ``not_found``: the user may not see
    the record at all (answered as a missing record, 404)."""

    def __init__(self, message="", not_found=False):
        super().__init__(message)
        self.not_found = not_found


# --- who may print what --------------------------------------------------------------------

def _staff_sees(model, record, user) -> bool:
    roles = jurisdiction.role_names(user)
    return bool(roles & jurisdiction.STAFF_ROLES) and (
        jurisdiction.visible(db.session, model, record.id, user) is not None)


def _owner_enterprise(record, user) -> bool:
    return ("Enterprise" in jurisdiction.role_names(user)
            and getattr(user, "enterprise_id", None) is not None
            and user.enterprise_id == record.enterprise_id)


def _owner_researcher(record, user) -> bool:
    return ("Researcher" in jurisdiction.role_names(user)
            and getattr(user, "researcher_id", None) is not None
            and user.researcher_id == record.researcher_id)


def readers_of(kind: str, record, user) -> bool:
    """Whether ``user`` is among those who may print this kind of document of ``record``
    (whatever the record's state)."""
    if record is None:
        return False
    if _staff_sees(KINDS[kind].model, record, user):
        return True
    if kind == "recommendation":
        return _owner_enterprise(record, user)
    if kind == "certificate":
        return _owner_researcher(record, user)
    return _owner_enterprise(record, user) or _owner_researcher(record, user)


def why_not_yet(kind: str, record) -> str | None:
    """Why the document cannot be printed in the record's present state, or None."""
    if kind == "recommendation" and (record.state not in RECOMMENDED_STATES
                                     or recommendation_of(record) is None):
        return _("The recommendation form exists once the science bureau has recommended "
                 "the need.")
    if kind == "certificate" and record.state is not ProjectState.evaluated:
        return _("The certificate of service is issued once the project has been evaluated.")
    return None


def check_printable(kind: str, record, user):
    """Raises ``DocumentRefused`` unless ``user`` may print the document now."""
    if not readers_of(kind, record, user):
        raise DocumentRefused(not_found=True)
    reason = why_not_yet(kind, record)
    if reason:
        raise DocumentRefused(reason)


def may_print(kind: str, record, user) -> bool:
    """For the record's page: whether to offer the document's button."""
    return readers_of(kind, record, user) and why_not_yet(kind, record) is None


# --- the review records they quote ---------------------------------------------------------

def _reviews(table: str, record_id: int):
    return select(ReviewRecord).where(ReviewRecord.subject_type == table,
                                      ReviewRecord.subject_id == record_id)


def recommendation_of(need) -> ReviewRecord | None:
    """The bureau's last recommendation of the need."""
    return db.session.scalars(_reviews("needs", need.id)
                              .where(ReviewRecord.action == Action.recommend.value)
                              .order_by(ReviewRecord.created_at.desc(),
                                        ReviewRecord.id.desc())).first()


def approval_of(project) -> ReviewRecord | None:
    """The province's approval of the project's contract (立项)."""
    return db.session.scalars(_reviews("contracts", project.contract_id)
                              .where(ReviewRecord.action == Action.approve.value)
                              .order_by(ReviewRecord.created_at.desc(),
                                        ReviewRecord.id.desc())).first()


def history_of(project) -> list:
    """The review records of the project and of its contract, oldest first."""
    stmt = select(ReviewRecord).where(or_(
        (ReviewRecord.subject_type == "projects") & (ReviewRecord.subject_id == project.id),
        (ReviewRecord.subject_type == "contracts")
        & (ReviewRecord.subject_id == project.contract_id),
    )).order_by(ReviewRecord.created_at, ReviewRecord.id)
    return db.session.scalars(stmt).all()


def _action_title(code):
    return str(Action(code).title) if code in Action._value2member_map_ else code


def _bureau_of(review) -> str:
    """The recommending bureau, named by its region (no person's name)."""
    region = getattr(getattr(review, "actor", None), "region", None)
    if region is None:
        return _("Science bureau")
    return _("Science bureau of %(region)s", region=region)


def _text(value) -> str:
    return "" if value is None else str(value)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# --- the documents -------------------------------------------------------------------------

def _enterprise_rows(enterprise):
    return [
        (_("Enterprise"), enterprise.name),
        (_("Unified social credit code"),
         _text(masking.shown("enterprises", "credit_code", enterprise.credit_code))),
        (_("Region"), _text(enterprise.region)),
        (_("High-tech zone"), _text(enterprise.zone)),
        (_("Address"), _text(enterprise.address)),
    ]


def recommendation_sheet(need) -> Sheet:
    review = recommendation_of(need)
    enterprise = need.enterprise
    facts = {
        "need": need.id, "title": need.title, "enterprise": enterprise.name,
        "credit_code": enterprise.credit_code, "category": getattr(need.category, "code", None),
        "field": getattr(need.field, "code", None), "amount": _text(need.amount),
        "keywords": need.keywords,
        **{name: getattr(need, name) for name, _label in NEED_SECTIONS},
        "recommendation": review.id if review else None,
        "opinion": review.opinion if review else need.recommendation,
        "recommended_at": _iso(review.created_at) if review else None,
    }
    sections = [
        Section(_("Technical need"), rows=[
            (_("Title"), need.title),
            (_("Program round"), _text(need.round.name if need.round else "")),
            (_("Category"), _text(need.category)),
            (_("Technical field"), _text(need.field)),
            (_("Keywords"), need.keywords or ""),
            (_("Intended amount (CNY)"), amount(need.amount)),
            (_("Submitted"), local_time(need.submitted_at)),
        ]),
        Section(_("Enterprise"), rows=_enterprise_rows(enterprise)),
        Section(_("Content of the need"),
                texts=[(str(label), getattr(need, name) or "") for name, label in NEED_SECTIONS]),
        Section(_("Recommendation of the science bureau"), rows=[
            (_("Decision"), _text(Action.recommend.title)),
            (_("Recommended by"), _bureau_of(review)),
            (_("Date"), local_date(review.created_at) if review else ""),
        ], texts=[(_("Recommendation opinion"),
                   (review.opinion if review else None) or need.recommendation or "")]),
    ]
    return Sheet(KINDS["recommendation"], need, need.title, enterprise.name, facts, sections)


def _project_facts(project) -> dict:
    contract = project.contract
    return {
        "project": project.id, "number": project.number, "funding": _text(project.funding),
        "enterprise": project.enterprise.name, "researcher": project.researcher.name,
        "institution": _text(contract.institution.name if contract.institution else ""),
        "need": contract.need.title if contract.need else "",
        "contract": contract.id, "amount": _text(contract.amount),
        "signed_on": _iso(contract.signed_on),
    }


def _contract_rows(project):
    contract = project.contract
    return [
        (_("Project number"), project.number),
        (_("Program round"), _text(project.round.name if project.round else "")),
        (_("Technical need"), _text(contract.need.title if contract.need else "")),
        (_("Enterprise"), project.enterprise.name),
        (_("Researcher"), project.researcher.name),
        (_("Institution (contract party)"), _text(contract.institution)),
        (_("Contract amount"), money(contract.amount)),
        (_("Signing date"), local_date(contract.signed_on)),
        (_("Registration number"), contract.registration_number or ""),
        (_("Funding"), money(project.funding)),
        (_("Deadline (execution end)"), local_date(project.deadline)),
    ]


def _project_title(project) -> str:
    need = project.contract.need if project.contract else None
    return f"{project.number} {need.title}" if need is not None else project.number


def approval_sheet(project) -> Sheet:
    review = approval_of(project)
    facts = {**_project_facts(project), "approval": review.id if review else None,
             "approved_at": _iso(review.created_at) if review else None,
             "opinion": review.opinion if review else None}
    sections = [
        Section(_("Contract and parties"), rows=_contract_rows(project)),
        Section(_("Decision of the provincial department"), rows=[
            (_("Decision"), _("Approved (funded project)")),
            (_("Date"), local_date(review.created_at) if review else
             local_date(project.created_at)),
        ], texts=[(_("Opinion"), review.opinion or "")] if review and review.opinion else []),
    ]
    return Sheet(KINDS["approval"], project, _project_title(project), project.enterprise.name,
                 facts, sections)


def _evaluation_rows(project):
    if project.evaluation_result is None:
        return [(_("Evaluation result"), _("Not evaluated yet"))]
    return [
        (_("Evaluation score"), _text(project.evaluation_score)),
        (_("Evaluation result"), _text(project.evaluation_result.title)),
        (_("Evaluated on"), local_date(project.evaluated_at)),
    ]


def record_sheet(project) -> Sheet:
    history = history_of(project)
    facts = {**_project_facts(project), "state": project.state.value,
             "report": project.summary_report,
             "reported_at": _iso(project.summary_submitted_at),
             "confirmed_at": _iso(project.researcher_confirmed_at),
             "accepted_at": _iso(project.self_accepted_at),
             "score": _text(project.evaluation_score),
             "result": project.evaluation_result.value if project.evaluation_result else None,
             "evaluated_at": _iso(project.evaluated_at),
             "history": [r.id for r in history]}
    rows = [(_("State"), _text(project.state.title)),
            (_("Summary report"), _("Submitted") if project.summary_submitted_at else
             (_("Uploaded, not submitted") if project.summary_report else _("Not yet"))),
            (_("Report submitted"), local_time(project.summary_submitted_at)),
            (_("Co-signed by the researcher"), local_time(project.researcher_confirmed_at)),
            (_("Self-accepted on"), local_time(project.self_accepted_at))]
    evaluation = Section(_("Performance evaluation"), rows=_evaluation_rows(project))
    if project.evaluation_opinion:
        evaluation.texts.append((_("Evaluation opinion"), project.evaluation_opinion))
    timeline = Section(_("History"), table=[[_("Time"), _("Action"), _("Change"), _("Opinion")]],
                       widths=(0.2, 0.18, 0.27, 0.35))
    for review in history:
        timeline.table.append([
            local_time(review.created_at), _action_title(review.action),
            f"{state_title(review.subject_type, review.from_state)} → "
            f"{state_title(review.subject_type, review.to_state)}", review.opinion or ""])
    sections = [Section(_("Contract and parties"), rows=_contract_rows(project)),
                Section(_("Execution"), rows=rows), evaluation]
    if history:
        sections.append(timeline)
    return Sheet(KINDS["record"], project, _project_title(project), project.enterprise.name,
                 facts, sections)


def certificate_sheet(project) -> Sheet:
    contract = project.contract
    researcher = project.researcher
    institution = contract.institution if contract else researcher.institution
    facts = {**_project_facts(project),
             "result": project.evaluation_result.value if project.evaluation_result else None,
             "score": _text(project.evaluation_score),
             "evaluated_at": _iso(project.evaluated_at)}
    rows = [
        (_("Researcher"), researcher.name),
        (_("Institution"), _text(institution)),
        (_("Enterprise"), project.enterprise.name),
        (_("Technical need"), _text(contract.need.title if contract and contract.need else "")),
        (_("Project number"), project.number),
        (_("Program round"), _text(project.round.name if project.round else "")),
        (_("Contract amount"), money(contract.amount) if contract else ""),
        (_("Funding"), money(project.funding)),
        (_("Signing date"), local_date(contract.signed_on) if contract else ""),
        (_("Self-accepted on"), local_date(project.self_accepted_at)),
        *_evaluation_rows(project),
    ]
    statement = _("This is to certify that the researcher named below served the enterprise "
                  "named below under the funded project below, which has been evaluated by "
                  "the provincial department.")
    return Sheet(KINDS["certificate"], project, _project_title(project),
                 project.enterprise.name, facts,
                 [Section(_("Service to an enterprise"), rows=rows)], statement=statement)


BUILDERS = {"recommendation": recommendation_sheet, "approval": approval_sheet,
            "record": record_sheet, "certificate": certificate_sheet}


def sheet_of(kind: str, record) -> Sheet:
    return BUILDERS[kind](record)


def holder_of(kind: str, record) -> str | None:
    """Whom a certificate is for, as the public check may name them: the surname, the given
    name masked (张**)."""
    if kind != "certificate" or record is None or record.researcher is None:
        return None
    name = record.researcher.name or ""
    return name[:1] + "*" * max(len(name) - 1, 1)


def record_of(kind: str, record_id: int):
    """The record a code was issued for (it may have been removed since)."""
    return db.session.get(KINDS[kind].model, record_id)

