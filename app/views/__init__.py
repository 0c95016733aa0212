"""Every back-office view and API, registered in one place and grouped by menu.

Menu item names are the view class names without "ModelView" (stable permission names for
ROLE_DEFINITIONS; equal to the class name they would clash with the view's own permissions);
what people read are the translated labels.
"""
from flask_babel import lazy_gettext as _l

from app.views.dashboard import DashboardView
from app.views.docking import (
    MatchModelView,
    MessageApi,
    MessageModelView,
    ProposalApi,
    ProposalModelView,
)
from app.views.docking_desk import DockingDeskView, DockingProgressView
from app.views.funding import (
    ContractApi,
    ContractModelView,
    FundingSimulationView,
    ProjectApi,
    ProjectModelView,
)
from app.views.inbox import InboxView
from app.views.need_export import NeedListExportView
from app.views.needs import NeedApi, NeedModelView
from app.views.payments import PaymentModelView
from app.views.supervision import CreditRecordModelView, SupervisionCaseModelView
from app.views.progress import (
    ChangeRequestModelView,
    MidtermCheckModelView,
    MilestoneModelView,
    SatisfactionRatingModelView,
    ServiceLogModelView,
)
from app.views.publicity import (
    ObjectionModelView,
    PublicityModelView,
    WorkingDayAdjustmentModelView,
)
from app.views.recommendations import MatchingView, RecommendationView
from app.views.records import (
    AuditLogModelView,
    FailedNotificationModelView,
    NotificationModelView,
    ReviewRecordModelView,
)
from app.views.reference import (
    HighTechZoneModelView,
    InstitutionModelView,
    NeedCategoryModelView,
    ProgramRoundModelView,
    RegionModelView,
    TechDomainModelView,
    TechFieldModelView,
)
from app.views.registration import (
    EnterpriseApi,
    EnterpriseModelView,
    ResearcherApi,
    ResearcherModelView,
)
from app.views.whitelist import SmeWhitelistView

MENUS = [
    ("Registrations", _l("Registrations"), "fa-id-card", [
        (EnterpriseModelView, _l("Enterprises"), "fa-building"),
        (ResearcherModelView, _l("Researchers"), "fa-user-graduate"),
        (SmeWhitelistView, _l("Tech-SME database"), "fa-database"),
    ]),
    ("Needs", _l("Needs"), "fa-list", [
        (NeedModelView, _l("Technical needs"), "fa-lightbulb"),
        (NeedListExportView, _l("Export the need list (Excel)"), "fa-file-excel"),
    ]),
    ("Docking", _l("Supply and demand docking"), "fa-handshake", [
        (DockingDeskView, _l("My docking"), "fa-briefcase"),
        (DockingProgressView, _l("Docking progress"), "fa-tasks"),
        (RecommendationView, _l("Recommended for me"), "fa-star"),
        (MatchModelView, _l("Matches"), "fa-link"),
        (MatchingView, _l("Re-match runs"), "fa-sync"),
        (ProposalModelView, _l("Proposals"), "fa-file-alt"),
        (MessageModelView, _l("Messages"), "fa-comments"),
    ]),
    ("Funding", _l("Funding"), "fa-yen-sign", [
        (ContractModelView, _l("Contracts"), "fa-file-signature"),
        (ProjectModelView, _l("Funded projects"), "fa-award"),
        (PublicityModelView, _l("Publicity of funded projects"), "fa-bullhorn"),
        (ObjectionModelView, _l("Objections"), "fa-hand-paper"),
        (MilestoneModelView, _l("Milestones"), "fa-flag-checkered"),
        (ServiceLogModelView, _l("Service log"), "fa-clipboard-list"),
        (MidtermCheckModelView, _l("Mid-term checks"), "fa-clipboard-check"),
        (SatisfactionRatingModelView, _l("Satisfaction ratings"), "fa-smile"),
        (ChangeRequestModelView, _l("Change and termination requests"), "fa-exchange-alt"),
        (PaymentModelView, _l("Subsidy payments"), "fa-money-check"),
        (SupervisionCaseModelView, _l("Supervision cases"), "fa-search"),
        (CreditRecordModelView, _l("Credit records"), "fa-user-slash"),
        (FundingSimulationView, _l("Funding simulation"), "fa-calculator"),
        (DashboardView, _l("Round dashboard"), "fa-chart-bar"),
    ]),
    ("Reference data", _l("Reference data"), "fa-book", [
        (ProgramRoundModelView, _l("Program rounds"), "fa-calendar"),
        (RegionModelView, _l("Regions"), "fa-map"),
        (HighTechZoneModelView, _l("High-tech zones"), "fa-industry"),
        (TechDomainModelView, _l("Technical domains"), "fa-sitemap"),
        (TechFieldModelView, _l("Technical fields"), "fa-tags"),
        (NeedCategoryModelView, _l("Need categories"), "fa-th-list"),
        (InstitutionModelView, _l("Institutions"), "fa-university"),
        (WorkingDayAdjustmentModelView, _l("Working-day calendar"), "fa-calendar-day"),
    ]),
    ("Records", _l("Records"), "fa-history", [
        (ReviewRecordModelView, _l("Review records"), "fa-check-square"),
        (AuditLogModelView, _l("Audit log"), "fa-shield-alt"),
        (FailedNotificationModelView, _l("Failed notifications"), "fa-exclamation-triangle"),
        (NotificationModelView, _l("Delivery log"), "fa-paper-plane"),
    ]),
    ("My space", _l("My space"), "fa-inbox", [
        (InboxView, _l("Inbox"), "fa-envelope"),
    ]),
]
APIS = [EnterpriseApi, ResearcherApi, NeedApi, ProposalApi, MessageApi, ContractApi, ProjectApi]


def menu_name(view) -> str:
    return view.__name__.removesuffix("ModelView").removesuffix("View")


def register_views(appbuilder):
    for category, category_label, category_icon, views in MENUS:
        for view, label, icon in views:
            appbuilder.add_view(view, menu_name(view), label=label, icon=icon, category=category,
                                category_label=category_label, category_icon=category_icon)
    # Staff's list of overdue projects (a page of ProjectModelView, so not a view of its own).
    appbuilder.add_link("ProjectOverdue", href="/projectmodelview/overdue/",
                        label=_l("Overdue projects"), icon="fa-exclamation-circle",
                        category="Funding")
    # The province publishes the proposed funded list (a page of PublicityModelView).
    appbuilder.add_link("PublicityPublish", href="/publicitymodelview/publish",
                        label=_l("Publish the proposed funded list"), icon="fa-bullhorn",
                        category="Funding")
    appbuilder.add_link("PaymentReconcile", href="/paymentmodelview/reconcile",
                        label=_l("Payments against the funding"), icon="fa-balance-scale",
                        category="Funding")
    # The audit log's Excel export (Admin only, as the log: no other role's definition names it).
    appbuilder.add_link("AuditLogExport", href="/auditlogmodelview/export.xlsx",
                        label=_l("Export the audit log (Excel)"), icon="fa-file-excel",
                        category="Records")
    for api in APIS:
        appbuilder.add_api(api)
