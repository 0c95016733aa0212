"""Enumerations stored as codes. Labels are translated lazily at display time."""
import enum

from flask_babel import lazy_gettext as _l


class LabelledEnum(str, enum.Enum):
    """A str enum whose members carry a translatable title (``__titles__``)."""

    @property
    def title(self):
        return self.__titles__[self.value]

    def __str__(self):
        return str(self.title)

    @classmethod
    def choices(cls):
        return [(m.value, m.title) for m in cls]


class RegionKind(LabelledEnum):
    prefecture_city = "prefecture_city"
    autonomous_prefecture = "autonomous_prefecture"
    direct_city = "direct_city"
    forestry_district = "forestry_district"


RegionKind.__titles__ = {
    "prefecture_city": _l("Prefecture-level city"),
    "autonomous_prefecture": _l("Autonomous prefecture"),
    "direct_city": _l("Directly administered city"),
    "forestry_district": _l("Forestry district"),
}


class ZoneLevel(LabelledEnum):
    national = "national"
    provincial = "provincial"


ZoneLevel.__titles__ = {"national": _l("National"), "provincial": _l("Provincial")}


class InstitutionType(LabelledEnum):
    university = "university"
    public_research_institute = "public_research_institute"
    provincial_lab = "provincial_lab"
    new_rd_institution = "new_rd_institution"
    other = "other"

    @property
    def eligible(self):
        """Notice §二(一): only these four institution types may dispatch researchers."""
        return self is not InstitutionType.other


InstitutionType.__titles__ = {
    "university": _l("Higher education institution"),
    "public_research_institute": _l("State-run public research institute"),
    "provincial_lab": _l("Provincial or higher-level laboratory"),
    "new_rd_institution": _l("New R&D institution recognised by the provincial authority"),
    "other": _l("Other organisation"),
}


class Position(LabelledEnum):
    staff_researcher = "staff_researcher"
    postdoc = "postdoc"
    phd_student = "phd_student"


Position.__titles__ = {
    "staff_researcher": _l("Employed researcher"),
    "postdoc": _l("Postdoctoral researcher"),
    "phd_student": _l("Full-time PhD student"),
}


class EnterpriseState(LabelledEnum):
    draft = "draft"
    submitted = "submitted"
    verified = "verified"
    returned = "returned"


EnterpriseState.__titles__ = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "verified": _l("Verified"),
    "returned": _l("Returned"),
}


class ResearcherState(LabelledEnum):
    submitted = "submitted"
    approved = "approved"
    returned = "returned"


ResearcherState.__titles__ = {
    "submitted": _l("Submitted"),
    "approved": _l("Approved"),
    "returned": _l("Returned"),
}


class NeedState(LabelledEnum):
    draft = "draft"
    submitted = "submitted"
    recommended = "recommended"
    returned_by_bureau = "returned_by_bureau"
    published = "published"
    returned_by_platform = "returned_by_platform"
    docking = "docking"
    contracted = "contracted"
    closed = "closed"
    withdrawn = "withdrawn"


NeedState.__titles__ = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "recommended": _l("Recommended by bureau"),
    "returned_by_bureau": _l("Returned by bureau"),
    "published": _l("Published"),
    "returned_by_platform": _l("Returned by platform"),
    "docking": _l("Docking"),
    "contracted": _l("Contracted"),
    "closed": _l("Closed"),
    "withdrawn": _l("Withdrawn"),
}


class ProposalState(LabelledEnum):
    draft = "draft"
    submitted = "submitted"
    shortlisted = "shortlisted"
    selected = "selected"
    declined = "declined"
    withdrawn = "withdrawn"


ProposalState.__titles__ = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "shortlisted": _l("Shortlisted"),
    "selected": _l("Selected"),
    "declined": _l("Declined"),
    "withdrawn": _l("Withdrawn"),
}


class ContractState(LabelledEnum):
    draft = "draft"  # saved by the enterprise, its cross-checks shown; not yet sent
    submitted = "submitted"
    approved = "approved"
    returned = "returned"


ContractState.__titles__ = {
    "draft": _l("Draft (not submitted)"),
    "submitted": _l("Submitted"),
    "approved": _l("Approved"),
    "returned": _l("Returned"),
}


class ProjectState(LabelledEnum):
    # 立项 (the contract's approval) proposes a project; it is funded once its 公示 closes with
    # no objection upheld against it (app/domain/funding/publicity.py).
    proposed = "proposed"
    funded = "funded"
    suspended = "suspended"  # by a supervision case; resumed or revoked
    revoked = "revoked"
    terminated = "terminated"  # by an approved termination request: funded what was paid
    reported = "reported"
    accepted = "accepted"
    evaluated = "evaluated"
    withdrawn = "withdrawn"


ProjectState.__titles__ = {
    "proposed": _l("Proposed for funding (publicity)"),
    "funded": _l("Funded"),
    "reported": _l("Summary report submitted"),
    "accepted": _l("Self-accepted"),
    "evaluated": _l("Evaluated"),
    "withdrawn": _l("Funding withdrawn (objection upheld)"),
    "suspended": _l("Suspended (supervision)"),
    "revoked": _l("Funding revoked (violation)"),
    "terminated": _l("Terminated early (request approved)"),
}


class EvaluationResult(LabelledEnum):
    """绩效评价结果 (notice §四): derived from the score sheet's total, see app/domain/funding/execution.py."""
    excellent = "excellent"
    good = "good"
    qualified = "qualified"
    unqualified = "unqualified"


EvaluationResult.__titles__ = {
    "excellent": _l("Excellent"),
    "good": _l("Good"),
    "qualified": _l("Qualified"),
    "unqualified": _l("Unqualified"),
}


class MatchDirection(LabelledEnum):
    need_to_researcher = "need_to_researcher"
    researcher_to_need = "researcher_to_need"


MatchDirection.__titles__ = {
    "need_to_researcher": _l("Researchers for a need"),
    "researcher_to_need": _l("Needs for a researcher"),
}


class Channel(LabelledEnum):
    site = "site"
    email = "email"
    sms = "sms"


Channel.__titles__ = {"site": _l("In-site message"), "email": _l("E-mail"), "sms": _l("SMS")}


class NotificationState(LabelledEnum):
    pending = "pending"
    sending = "sending"  # claimed by one job; stops a second job delivering it again
    sent = "sent"
    failed = "failed"


NotificationState.__titles__ = {
    "pending": _l("Pending"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
}


# What a person does to a record (review records store the code; app/domain/transitions.py
# says which action leads from which state to which, and for whom).
class Action(LabelledEnum):
    submit = "submit"
    verify = "verify"
    approve = "approve"
    return_ = "return"
    recommend = "recommend"
    publish = "publish"
    withdraw = "withdraw"
    start_docking = "start_docking"
    contract = "contract"
    close = "close"
    shortlist = "shortlist"
    select = "select"
    decline = "decline"
    report = "report"
    accept = "accept"
    confirm = "confirm"
    evaluate = "evaluate"
    fund = "fund"
    uphold = "uphold"
    dismiss = "dismiss"
    pay = "pay"
    refund = "refund"
    investigate = "investigate"
    clear = "clear"
    find_violation = "find_violation"
    suspend = "suspend"
    resume = "resume"
    revoke = "revoke"
    reach = "reach"
    reject = "reject"
    terminate = "terminate"
    confirm_service = "confirm_service"
    dispute = "dispute"


Action.__titles__ = {
    "submit": _l("Submit"),
    "verify": _l("Verify"),
    "approve": _l("Approve"),
    "return": _l("Return"),
    "recommend": _l("Recommend"),
    "publish": _l("Publish"),
    "withdraw": _l("Withdraw"),
    "start_docking": _l("Start docking"),
    "contract": _l("Mark contracted"),
    "close": _l("Close"),
    "shortlist": _l("Shortlist"),
    "select": _l("Select"),
    "decline": _l("Decline"),
    "report": _l("Submit summary report"),
    "accept": _l("Self-accept"),
    "confirm": _l("Co-sign the summary report"),
    "evaluate": _l("Record evaluation"),
    "fund": _l("Confirm the funding after the publicity"),
    "uphold": _l("Uphold the objection"),
    "dismiss": _l("Dismiss the objection"),
    "pay": _l("Record as paid"),
    "refund": _l("Record the money returned"),
    "investigate": _l("Start the investigation"),
    "clear": _l("Close: no issue found"),
    "find_violation": _l("Close: violation found"),
    "suspend": _l("Suspend the project"),
    "resume": _l("Resume the project"),
    "revoke": _l("Revoke the funding"),
    "reach": _l("Record the milestone reached"),
    "reject": _l("Reject"),
    "terminate": _l("Terminate the project"),
    "confirm_service": _l("Confirm the service"),
    "dispute": _l("Dispute the entry"),
}


class MilestoneState(LabelledEnum):
    planned = "planned"
    reached = "reached"


MilestoneState.__titles__ = {"planned": _l("Not reached yet"), "reached": _l("Reached")}


class ServiceLogState(LabelledEnum):
    """服务记录: the researcher's entry, confirmed or disputed by the enterprise."""
    submitted = "submitted"
    confirmed = "confirmed"
    disputed = "disputed"


ServiceLogState.__titles__ = {
    "submitted": _l("Awaiting the enterprise's confirmation"),
    "confirmed": _l("Confirmed by the enterprise"),
    "disputed": _l("Disputed by the enterprise"),
}


class RequestState(LabelledEnum):
    """A change or termination request of a contract under way."""
    submitted = "submitted"
    approved = "approved"
    rejected = "rejected"


RequestState.__titles__ = {
    "submitted": _l("Awaiting the province's decision"),
    "approved": _l("Approved by the province"),
    "rejected": _l("Rejected by the province"),
}


class MidtermResult(LabelledEnum):
    on_track = "on_track"
    behind = "behind"
    problem = "problem"


MidtermResult.__titles__ = {
    "on_track": _l("On track"),
    "behind": _l("Behind schedule"),
    "problem": _l("Serious problems"),
}


class CaseState(LabelledEnum):
    """监督 cases (疑点): app/domain/funding/supervision.py."""
    open = "open"
    investigating = "investigating"
    cleared = "cleared"
    violation = "violation"


CaseState.__titles__ = {
    "open": _l("Open, not investigated yet"),
    "investigating": _l("Under investigation"),
    "cleared": _l("Closed: no issue"),
    "violation": _l("Closed: violation"),
}


class CaseSource(LabelledEnum):
    cross_check = "cross_check"
    objection = "objection"
    audit = "audit"
    manual = "manual"


CaseSource.__titles__ = {
    "cross_check": _l("A failed cross-check"),
    "objection": _l("An objection"),
    "audit": _l("The audit log"),
    "manual": _l("Opened by hand"),
}


class PaymentState(LabelledEnum):
    """拨付 of a project's subsidy (app/domain/funding/payments.py)."""
    planned = "planned"
    paid = "paid"
    returned = "returned"


PaymentState.__titles__ = {
    "planned": _l("Planned"),
    "paid": _l("Paid"),
    "returned": _l("Returned to the fund"),
}


class ObjectionState(LabelledEnum):
    """异议 lodged against a project during its 公示 (app/domain/funding/publicity.py)."""
    lodged = "lodged"
    upheld = "upheld"
    dismissed = "dismissed"


ObjectionState.__titles__ = {
    "lodged": _l("Lodged, awaiting a decision"),
    "upheld": _l("Upheld"),
    "dismissed": _l("Dismissed: objection unfounded"),
}


# The state enum of each record type, by table name (review records and notifications store the
# table name and a state code; this turns the code back into its translated title).
STATE_ENUMS = {
    "enterprises": EnterpriseState,
    "researchers": ResearcherState,
    "needs": NeedState,
    "proposals": ProposalState,
    "contracts": ContractState,
    "projects": ProjectState,
    "objections": ObjectionState,
    "payments": PaymentState,
    "supervision_cases": CaseState,
    "milestones": MilestoneState,
    "service_logs": ServiceLogState,
    "change_requests": RequestState,
}


def state_title(subject_type: str, code: str):
    """The translated title of ``code`` for a record of table ``subject_type``."""
    enum_cls = STATE_ENUMS.get(subject_type)
    if enum_cls is None or code not in enum_cls._value2member_map_:
        return code
    return enum_cls(code).title


class WhitelistStatus(LabelledEnum):
    unchecked = "unchecked"
    found = "found"
    not_found = "not_found"
    name_mismatch = "name_mismatch"


WhitelistStatus.__titles__ = {
    "unchecked": _l("Not checked yet"),
    "found": _l("Found in the tech-SME database"),
    "not_found": _l("Not found in the tech-SME database"),
    "name_mismatch": _l("Found, but under another name"),
}
