"""Every model module, imported in one place so Alembic and FAB see all tables."""
from app.models.audit import AuditChainHead, AuditCheck, AuditLog
from app.models.cache_token import CacheToken
from app.models.contract import Contract, Project
from app.models.document import DocumentCode
from app.models.enterprise import Enterprise, SmeWhitelistEntry
from app.models.enums import (
    Action,
    Channel,
    ContractState,
    EnterpriseState,
    EvaluationResult,
    InstitutionType,
    MatchDirection,
    NeedState,
    NotificationState,
    CaseSource,
    CaseState,
    MidtermResult,
    RequestState,
    MilestoneState,
    ServiceLogState,
    ObjectionState,
    PaymentState,
    Position,
    ProjectState,
    ProposalState,
    ResearcherState,
    WhitelistStatus,
)
from app.models.match import Match, MatchRun, MatchRunBlock, PushRound, PushRoundBlock
from app.models.need import PUBLIC_NEED_STATES, Need
from app.models.notification import Notification
from app.models.password_reset import PasswordReset
from app.models.program_round import ProgramRound, RoundDates, RoundPhase
from app.models.execution import (
    ChangeRequest,
    MidtermCheck,
    Milestone,
    SatisfactionRating,
    ServiceLog,
)
from app.models.payment import Payment
from app.models.publicity import Objection, Publicity, WorkingDayAdjustment
from app.models.proposal import ComparisonCriterion, Message, Proposal, ProposalScore
from app.models.reference import (
    HighTechZone,
    NeedCategory,
    Region,
    TechDomain,
    TechField,
)
from app.models.researcher import Institution, Researcher
from app.models.review import ReviewRecord
from app.models.search import NeedSearchTerm
from app.models.supervision import CreditRecord, SupervisionCase
from app.models.user import AppUser

__all__ = [name for name in dir() if not name.startswith("_")]
