"""Every model module, imported in one place so Alembic and FAB see all tables."""
from .audit import AuditChainHead, AuditLog
from .cache_token import CacheToken
from .contract import Contract, Project
from .enterprise import Enterprise, SmeWhitelistEntry
from .enums import (
    Channel,
    ContractState,
    EvaluationResult,
    EnterpriseState,
    InstitutionType,
    MatchDirection,
    NeedState,
    NotificationState,
    Position,
    ProjectState,
    ProposalState,
    ResearcherState,
    WhitelistStatus,
)
from .match import Match, MatchRun
from .need import PUBLIC_NEED_STATES, Need
from .notification import Notification
from .program_round import ProgramRound, RoundDates, RoundPhase
from .proposal import ComparisonCriterion, Message, Proposal, ProposalScore
from .reference import HighTechZone, NeedCategory, Region, TechDomain, TechField
from .researcher import Institution, Researcher
from .review import ReviewRecord
from .search import NeedSearchTerm
from .user import AppUser

__all__ = [name for name in dir() if not name.startswith("_")]
