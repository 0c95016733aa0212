"""Security: the FAB security manager with our user model, and the six roles as data.

ROLE_DEFINITIONS is the single declarative table of which role may use which screen, button
and API verb; ``sync_roles()`` (``flask init-roles``) converges the database to it. Which
*rows* a role sees is a separate rule: ``app/core/access/jurisdiction.py``.
"""
import logging
import re
from functools import lru_cache

from flask import g, has_app_context, has_request_context, request, session
from flask_appbuilder import expose
from flask_appbuilder.api import safe
from flask_appbuilder.const import (
    API_SECURITY_ACCESS_TOKEN_KEY,
    API_SECURITY_PROVIDER_DB,
)
from flask_appbuilder.fields import QuerySelectMultipleField
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, Select2ManyWidget
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import (
    Permission,
    PermissionView,
    Role,
    ViewMenu,
    assoc_permissionview_role,
)
from flask_appbuilder.security.views import (
    PermissionModelView as FabPermissionModelView,
)
from flask_appbuilder.security.views import (
    PermissionViewModelView as FabPermissionViewModelView,
)
from flask_appbuilder.security.views import ResetMyPasswordView, UserDBModelView
from flask_appbuilder.security.views import RoleModelView as FabRoleModelView
from flask_appbuilder.security.views import UserGroupModelView as FabUserGroupModelView
from flask_appbuilder.security.views import ViewMenuModelView as FabViewMenuModelView
from flask_appbuilder.validators import PasswordComplexityValidator
from flask_appbuilder.widgets import ListWidget, ShowWidget
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_jwt_extended import (
    create_access_token,
    get_jwt,
    get_jwt_identity,
    jwt_required,
)
from flask_jwt_extended import current_user as current_user_jwt
from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased, joinedload
from werkzeug.security import check_password_hash
from wtforms import PasswordField, ValidationError
from wtforms.validators import DataRequired, EqualTo

from app.core import audit, cache_tokens, list_counts, permission_names
from app.core.access import auth_policy, visitor
from app.core.audit import hooks as audit_hooks
from app.core.choices import RemoteChoices
from app.core.labels import ReadableView
from app.core.list_loading import ListInterface
from app.extensions import db
from app.models import AppUser, CacheToken, Researcher
from app.utils.changes import changed

logger = logging.getLogger(__name__)
TOKEN_EPOCH = "epoch"  # the claim of an API token that names the session epoch it was made in

READ = r"can_(list|show)$"
READ_FILES = r"can_(list|show|download)$"
API_READ = r"can_(get|info)$"
DECIDE = r"can_decide$"
MENU = r"menu_access$"

REFERENCE_VIEWS = (r"(Region|HighTechZone|TechDomain|TechField|NeedCategory|ProgramRound|"
                   r"Institution)ModelView$")
EXPORT = [r"NeedListExportView$", r"can_export$"]
EXPORT_MENU = [r"NeedListExport$", MENU]
# The round dashboard and its workbook: staff only (a bureau's figures are its region's).
DASHBOARD = [[r"DashboardView$", r"can_(index|export)$"], [r"Dashboard$", MENU]]
STAFF_MENUS = (r"(Reference data|Registrations|Needs|Docking|Funding|Records|Enterprise|Researcher|"
               r"Need|Match|Proposal|Message|Contract|Project|ProgramRound|Region|HighTechZone|"
               r"TechDomain|TechField|NeedCategory|Institution|ReviewRecord|DockingProgress|Dashboard)$")
# A funded project under way: milestones, service log, mid-term checks, ratings, requests.
EXECUTION = r"(Milestone|ServiceLog|MidtermCheck|SatisfactionRating|ChangeRequest)"
EXECUTION_VIEWS, EXECUTION_MENUS = EXECUTION + r"ModelView$", EXECUTION + r"$"
OVERDUE_MILESTONES = [r"MilestoneModelView$", r"can_overdue$"]
# Staff follow docking and may read the threads of their jurisdiction; they write in none.
DOCKING_STAFF = [
    [r"DockingProgressView$", r"can_(index|need)$"],
    [r"DockingDeskView$", r"can_thread$"],
]
# The printed documents (app/domain/documents): 推荐表, 立项审批表, 项目档案 of the records the
# staff member sees (the certificate of service is ``can_service_record``).
DOCUMENTS_STAFF = [
    [r"NeedModelView$", r"can_recommendation_pdf$"],
    [r"ProjectModelView$", r"can_(approval|record)_pdf$"],
]
PERSONAL = [  # every signed-in participant and staff member: the inbox, the profile
    [r"InboxView$", r"can_index$"],
    [r"UserInfoEditView$", r"can_this_form_(get|post)$"],
    # re.match: the pattern names the whole view (ours is PlatformUserDBModelView).
    [r"(Platform)?UserDBModelView$", r"can_(userinfo|resetmypassword)$"],
    [r"ResetMyPasswordView$", r"can_this_form_(get|post)$"],
    [r"(My space|Inbox)$", MENU],
]
# Role names are codes; people read these.
ROLE_TITLES = {
    "Admin": _l("Administrator"), "Platform": _l("Platform staff"),
    "Bureau": _l("Science bureau"), "Province": _l("Provincial department"),
    "Enterprise": _l("Enterprise"), "Researcher": _l("Researcher"),
}

ROLE_DEFINITIONS = {
    "Platform": PERSONAL + DASHBOARD + [EXPORT, EXPORT_MENU,
        [REFERENCE_VIEWS, READ],
        [r"(TechDomain|TechField|Institution|ProgramRound)ModelView$", r"can_(add|edit)$"],
        [r"FundingSimulationView$", r"can_simulate$"],
        [r"FundingSimulation$", MENU],
        [r"(Enterprise|Researcher|Need)ModelView$", READ_FILES],
        [r"(Enterprise|Researcher|Need)ModelView$", DECIDE],
        [r"EnterpriseModelView$", r"^verify$"],
        [r"ResearcherModelView$", r"^approve$"],
        [r"NeedModelView$", r"^(publish|return_selected)$"],
        [r"SmeWhitelistView$", r"can_import$"],
        [r"MatchingView$", r"can_(list|run)$"],
        [r"(Publicity|Objection|WorkingDayAdjustment|Payment)ModelView$", READ_FILES],
        [r"PaymentModelView$", r"can_reconcile$"],
        [r"(Publicity|Objection|WorkingDayAdjustment|Payment|PaymentReconcile)$", MENU],
        [EXECUTION_VIEWS, READ_FILES], OVERDUE_MILESTONES,
        [EXECUTION_MENUS, MENU],
        # Supervision: the platform opens and investigates cases; the province closes them.
        [r"(SupervisionCase|CreditRecord)ModelView$", READ],
        [r"SupervisionCaseModelView$", r"can_(add|decide)$"],
        [r"(SupervisionCase|CreditRecord)$", MENU],
        [r"(SmeWhitelist|Matching)$", MENU],
        [r"(Proposal|Match|Message|Contract|Project|ReviewRecord)ModelView$", READ_FILES],
        [r"ProjectModelView$", r"can_(overdue|service_record)$"],
        *DOCUMENTS_STAFF,
        [r"ProjectOverdue$", MENU],
        [r"(Enterprise|Researcher|Need|Proposal|Message|Contract|Project)Api$", API_READ],
        *DOCKING_STAFF,
        [STAFF_MENUS, MENU],
        # Failed deliveries and their re-send: the platform runs the notifications.
        [r"FailedNotificationModelView$", r"can_(list|show)$|^resend$"],
        [r"FailedNotification$", MENU],
        [r"NotificationModelView$", READ],
        [r"Notification$", MENU],
    ],
    "Bureau": PERSONAL + DASHBOARD + [EXPORT, EXPORT_MENU,
        [REFERENCE_VIEWS, READ],
        [r"(Enterprise|Researcher|Need|Proposal|Message|Contract|Project|Payment)ModelView$",
         READ_FILES],
        [r"(Enterprise|Need)ModelView$", DECIDE],
        [r"ProjectModelView$", r"can_(overdue|service_record)$"],
        *DOCUMENTS_STAFF,
        [r"ProjectOverdue$", MENU],
        [r"EnterpriseModelView$", r"^verify$"],
        [r"NeedModelView$", r"^(recommend|return_selected)$"],
        [r"(Enterprise|Researcher|Need|Proposal|Message|Contract|Project)Api$", API_READ],
        *DOCKING_STAFF,
        [r"EnterpriseApi$", r"can_put$"],
        [r"(Reference data|Registrations|Needs|Docking|Funding|Enterprise|Researcher|Need|"
         r"Proposal|Message|Contract|Project|Region|HighTechZone|TechDomain|TechField|"
         r"NeedCategory|ProgramRound|Institution|DockingProgress|Dashboard|Payment|"
         r"SupervisionCase|CreditRecord)$", MENU],
        # Its region's projects under way: milestones, service logs; the mid-term check.
        [EXECUTION_VIEWS, READ_FILES], OVERDUE_MILESTONES,
        [r"MidtermCheckModelView$", r"can_add$"],
        [EXECUTION_MENUS, MENU],
        # Its region's supervision cases: opened and investigated; credit records read.
        [r"(SupervisionCase|CreditRecord)ModelView$", READ],
        [r"SupervisionCaseModelView$", r"can_(add|decide)$"],
    ],
    "Province": PERSONAL + DASHBOARD + [EXPORT, EXPORT_MENU,
        [REFERENCE_VIEWS, READ],
        [r"(Enterprise|Researcher|Need|Proposal|Match|Contract|Project|ReviewRecord)ModelView$",
         READ_FILES],
        [r"(Contract|Project|Need)ModelView$", DECIDE],
        [r"ContractModelView$", r"^approve$"],
        # Rounds are created in the back office, not in code (another year, other amounts).
        [r"ProgramRoundModelView$", r"can_(add|edit)$"],
        [r"FundingSimulationView$", r"can_simulate$"],
        [r"FundingSimulation$", MENU],
        # 公示: the province publishes the proposed funded list, decides the objections and
        # keeps the working-day calendar the window is counted in.
        [r"(Publicity|Objection|WorkingDayAdjustment)ModelView$", READ_FILES],
        [r"PublicityModelView$", r"can_publish$"],
        [r"ObjectionModelView$", DECIDE],
        [r"WorkingDayAdjustmentModelView$", r"can_(add|edit|delete)$"],
        [r"(Publicity|PublicityPublish|Objection|WorkingDayAdjustment)$", MENU],
        # Execution: milestones and service logs read; the mid-term check recorded.
        [EXECUTION_VIEWS, READ_FILES], OVERDUE_MILESTONES,
        [r"MidtermCheckModelView$", r"can_add$"],
        [r"ChangeRequestModelView$", DECIDE],
        [EXECUTION_MENUS, MENU],
        # Supervision: cases about funded projects, closed by the province; credit records.
        [r"(SupervisionCase|CreditRecord)ModelView$", READ],
        [r"SupervisionCaseModelView$", r"can_(add|edit|decide)$"],
        [r"CreditRecordModelView$", r"can_add$"],
        [r"(SupervisionCase|CreditRecord)$", MENU],
        # 拨付: the province plans, corrects and records the payments; reconciles the round.
        [r"PaymentModelView$", READ_FILES],
        [r"PaymentModelView$", r"can_(add|edit|decide|reconcile)$"],
        [r"(Payment|PaymentReconcile)$", MENU],
        # 绩效评价 (score sheet), the overdue list, and service records of any project.
        [r"ProjectModelView$", r"can_(evaluate|overdue|service_record)$"],
        *DOCUMENTS_STAFF,
        [r"ProjectOverdue$", MENU],
        [r"(Enterprise|Researcher|Need|Proposal|Message|Contract|Project)Api$", API_READ],
        [r"MessageModelView$", READ_FILES],
        *DOCKING_STAFF,
        [STAFF_MENUS, MENU],
    ],
    "Enterprise": PERSONAL + [
        [r"EnterpriseModelView$", r"can_(list|show|edit|download|decide)$"],
        [r"NeedModelView$", r"can_(list|show|add|edit|delete|download|decide)$"],
        [r"(Proposal|Contract|Project)ModelView$", r"can_(list|show|download|decide)$"],
        [r"PaymentModelView$", READ],  # its subsidy's payments
        # Execution: milestones set and reached, the researcher's service log confirmed or
        # disputed, the mid-term checks read.
        [r"MilestoneModelView$", r"can_(list|show|add|edit|decide|overdue)$"],
        [r"SatisfactionRatingModelView$", r"can_(list|show|add)$"],
        [r"SatisfactionRating$", MENU],
        [r"ChangeRequestModelView$", r"can_(list|show|add)$"],
        [r"ChangeRequest$", MENU],
        [r"ServiceLogModelView$", r"can_(list|show|download|decide)$"],
        [r"MidtermCheckModelView$", READ],
        [r"(Milestone|ServiceLog|MidtermCheck)$", MENU],
        [r"CreditRecordModelView$", READ],  # a record barring it, and why
        [r"ContractModelView$", r"can_(add|edit)$"],
        [r"ProjectModelView$", r"can_edit$"],  # the summary report file, until submitted
        [r"ProjectModelView$", r"can_support$"],  # 保障条件 and PhD research posts
        # 推荐表 of its own recommended needs; 立项审批表 and 项目档案 of its projects.
        [r"NeedModelView$", r"can_recommendation_pdf$"],
        [r"ProjectModelView$", r"can_(approval|record)_pdf$"],
        [r"ProposalModelView$", r"^(compare|shortlist|decline)$"],
        [r"MessageModelView$", READ_FILES],
        [r"DockingDeskView$", r"can_(index|need|compare|decide|thread)$"],
        [r"RecommendationView$", r"can_index$"],
        [r"(NeedCategory|TechField)ModelView$", READ],
        [r"NeedApi$", r"can_(get|info|post|put|delete)$"],
        [r"(Enterprise|Proposal|Message|Contract|Project)Api$", API_READ],
        [r"(Needs|Docking|Funding|Registrations|Enterprise|Need|Proposal|Contract|Project|"
         r"Message|Recommendation|DockingDesk|Payment)$", MENU],
    ],
    "Researcher": PERSONAL + [
        [r"ResearcherModelView$", r"can_(list|show|edit|download|decide)$"],
        [r"NeedModelView$", READ_FILES],
        [r"ProposalModelView$", r"can_(list|show|add|edit|delete|download|decide)$"],
        [r"(Match|Message|Contract|Project)ModelView$", READ_FILES],
        # Co-signing the summary report (decide); the certificate of service, approval form and
        # record of its own projects.
        [r"ProjectModelView$", r"can_(decide|service_record|approval_pdf|record_pdf)$"],
        [r"DockingDeskView$", r"can_(index|thread)$"],
        [r"RecommendationView$", r"can_(index|dismiss)$"],
        [r"(NeedCategory|TechField)ModelView$", READ],
        [r"CreditRecordModelView$", READ],  # a record barring them, and why
        # Execution: milestones set, the service log kept and corrected, checks read.
        [r"MilestoneModelView$", r"can_(list|show|add|edit|overdue)$"],
        [r"SatisfactionRatingModelView$", r"can_(list|show|add)$"],
        [r"SatisfactionRating$", MENU],
        [r"ChangeRequestModelView$", READ],
        [r"ChangeRequest$", MENU],
        [r"ServiceLogModelView$", r"can_(list|show|add|edit|download|decide)$"],
        [r"MidtermCheckModelView$", READ],
        [r"(Milestone|ServiceLog|MidtermCheck)$", MENU],
        [r"(Need|Researcher|Proposal|Message|Contract|Project)Api$", API_READ],
        [r"(Needs|Docking|Funding|Registrations|Researcher|Need|Proposal|Match|Contract|Project|"
         r"Message|Recommendation|DockingDesk)$", MENU],
    ],
}
ROLE_NAMES = ("Admin",) + tuple(ROLE_DEFINITIONS)


# FAB's role, group and permission pages (Admin) with their columns labelled in the reader's
# language; the class names stay FAB's, as the permissions are named after them.
class RoleModelView(ReadableView, RemoteChoices, FabRoleModelView):
    # FAB's role widgets print the permissions as a Python list ("[can list on …, …]") for
    # the builtin roles (FAB_ROLES) this platform has none of: the plain widgets use the
    # formatters (the permissions joined as the reader's language joins a list).
    list_widget = ListWidget
    show_widget = ShowWidget
    # Permissions as "合同：审核办理", not "can decide on ContractModelView".
    formatters_columns = {"permissions": permission_names.permissions_joined}
    add_form_extra_fields = edit_form_extra_fields = {
        "permissions": QuerySelectMultipleField(
            _l("Permissions"), query_func=lambda: db.session.query(PermissionView),
            get_pk_func=lambda item: item.id, get_label=permission_names.permission_text,
            widget=Select2ManyWidget()),
    }


class UserGroupModelView(ReadableView, RemoteChoices, FabUserGroupModelView):
    # FAB's zh catalog has no titles for groups.
    list_title = _l("Groups")
    show_title = _l("Group")
    add_title = _l("Add a group")
    edit_title = _l("Edit a group")


class PermissionViewModelView(ReadableView, FabPermissionViewModelView):
    formatters_columns = {"permission": permission_names.name_markup("verb"),
                          "view_menu": permission_names.name_markup("view")}


class PermissionModelView(ReadableView, FabPermissionModelView):
    formatters_columns = {"name": permission_names.name_markup("verb")}


class ViewMenuModelView(ReadableView, FabViewMenuModelView):
    formatters_columns = {"name": permission_names.name_markup("view")}


class PlatformUserDBModelView(ReadableView, RemoteChoices, UserDBModelView):
    """User administration (Admin only) with the jurisdiction links of our users."""

    label_columns = {
        **UserDBModelView.label_columns,
        "region": _l("Region"),
        "enterprise": _l("Enterprise"),
        "researcher": _l("Researcher"),
        "phone": _l("Phone"),
        "locale": _l("Language"),
        "locked_until": _l("Locked until"),
    }
    show_fieldsets = [
        (_l("User info"), {"fields": ["username", "active", "roles", "login_count"]}),
        (_l("Personal Info"), {"fields": ["first_name", "last_name", "email", "phone", "locale"],
                               "expanded": True}),
        (_l("Jurisdiction"), {"fields": ["region", "enterprise", "researcher"], "expanded": True}),
        (_l("Audit Info"), {"fields": ["last_login", "fail_login_count", "locked_until",
                                       "created_on", "changed_on"], "expanded": False}),
    ]
    add_columns = ["first_name", "last_name", "username", "active", "email", "phone", "roles",
                   "region", "enterprise", "researcher", "password", "conf_password"]
    edit_columns = ["first_name", "last_name", "username", "active", "email", "phone", "roles",
                    "region", "enterprise", "researcher"]


class CurrentPasswordRequired:
    """The signed-in user's own password: a session left open must not be enough to take the
    account. A wrong one counts as a wrong password at sign-in (the lockout covers it)."""

    field_flags = {"required": True}  # the form marks it as it marks the new password

    def __call__(self, form, field):
        user = g.user
        if not field.data or not check_password_hash(user.password or "", field.data):
            auth_policy.count_failed_login(db.session, user)
            raise ValidationError(_("The current password is not right."))


class OwnPasswordForm(DynamicForm):
    """FAB's reset form with the current password first (fields show in definition order)."""

    current_password = PasswordField(_l("Current password"), validators=[CurrentPasswordRequired()],
                                     widget=BS3PasswordFieldWidget())
    password = PasswordField(_l("New password"), description=LazyString(auth_policy.password_rule),
                             validators=[DataRequired(), PasswordComplexityValidator()],
                             widget=BS3PasswordFieldWidget())
    conf_password = PasswordField(_l("Confirm Password"), widget=BS3PasswordFieldWidget(),
                                  validators=[EqualTo("password",
                                                      message=_l("Passwords must match"))])


class PlatformResetMyPasswordView(ResetMyPasswordView):
    """A user's own password change, which asks for the current password first."""

    class_permission_name = "ResetMyPasswordView"  # the roles' permissions stay as they are
    form = OwnPasswordForm


class PlatformSecurityApi(SecurityApi):
    """FAB's token login, where a payload without ``provider`` is a database login: FAB's
    schema lets it through and then fails on ``payload["provider"]`` with HTTP 500."""

    @expose("/login", methods=["POST"])
    @safe
    def login(self):
        payload = request.get_json(silent=True)
        if isinstance(payload, dict) and "provider" not in payload:
            payload["provider"] = API_SECURITY_PROVIDER_DB
        return super().login.__wrapped__(self)

    @expose("/refresh", methods=["POST"])
    @jwt_required(refresh=True)
    @safe
    def refresh(self):
        """FAB's refresh, which renews the access token for any unexpired refresh token, with
        the account re-checked (app/core/access/auth_policy.py): locked or inactive → 401, as at login.
        The refresh token itself ends JWT_REFRESH_TOKEN_EXPIRES after the login."""
        user = current_user_jwt  # FAB's loader gives None for an inactive account
        if not auth_policy.may_refresh(user):
            return self.response_401()
        lifetime = auth_policy.refreshed_access_lifetime(get_jwt()["exp"])
        token = create_access_token(identity=get_jwt_identity(), fresh=False,
                                    expires_delta=lifetime)
        return self.response(200, **{API_SECURITY_ACCESS_TOKEN_KEY: token})


@lru_cache(maxsize=2)
def _user_statement(public: bool):
    """Built once: building the query and its loader options cost as much as running it."""
    options = [joinedload(AppUser.roles), joinedload(AppUser.groups)]
    if public:
        # Its state only: the whole row (texts, matching profile) was a third of the page.
        options.append(joinedload(AppUser.researcher).load_only(Researcher.state))
    tokens = [aliased(CacheToken) for _kind in _user_token_kinds()]
    # The navbar's badge comes with the user (``visitor.unread_count``).
    unread = visitor.unread_count(bindparam("pk"))
    stmt = (select(AppUser, *[token.token for token in tokens], unread)
            .select_from(AppUser).options(*options))
    for kind, token in zip(_user_token_kinds(), tokens):
        stmt = stmt.outerjoin(token, token.name == kind)
    return stmt.where(AppUser.id == bindparam("pk"))


def _user_token_kinds() -> tuple:
    """The tokens read with a signed-in user's row: the permissions', and those of the rows
    whose back-office list counts are kept (app/core/list_counts.py)."""
    return ("permissions", *(f"rows:{table}" for table in sorted(list_counts.COUNTED_TABLES)))


class PlatformSecurityManager(SecurityManager):
    """FAB's manager with the rules of app/core/access/auth_policy.py at the points every path goes
    through: ``auth_user_db`` (form and REST login), ``add_user`` and ``reset_password``."""

    user_model = AppUser
    security_api = PlatformSecurityApi
    userdbmodelview = PlatformUserDBModelView
    rolemodelview = RoleModelView
    groupmodelview = UserGroupModelView
    permissionviewmodelview = PermissionViewModelView
    permissionmodelview = PermissionModelView
    viewmenumodelview = ViewMenuModelView
    # FAB's login-count chart: English series names drawn by its script, and the counts are
    # on the users' list already.
    userstatschartview = None
    resetmypasswordview = PlatformResetMyPasswordView

    def __init__(self, appbuilder):
        super().__init__(appbuilder)
        # Their lists' to-many columns loaded with the page (app/core/list_loading.py).
        self.userdbmodelview.datamodel = ListInterface(self.user_model, ("roles", "groups"))
        self.rolemodelview.datamodel = ListInterface(self.role_model, ("permissions",))
        self.groupmodelview.datamodel = ListInterface(self.group_model, ("roles",))
        self.permissionviewmodelview.datamodel = ListInterface(self.permissionview_model)

    def exist_permission_on_roles(self, view_name, permission_name, role_ids) -> bool:
        """FAB asks the database once per menu item and button (44 statements for one list
        page). Here the roles' permissions are read as (view, permission) names once and kept
        by the process under the "permissions" cache token, which came with the signed-in
        user's row (``get_user_by_id``) and which every change of roles' permissions replaces
        at commit: a change applies from the next request, in every process."""
        key = tuple(sorted(role_ids))
        if not has_app_context():
            return (view_name, permission_name) in self._permissions_of_roles(key)
        permissions = cache_tokens.kept("permissions", "role_permissions", key,
                                        lambda: self._permissions_of_roles(key))
        return (view_name, permission_name) in permissions

    def _has_view_access(self, user, permission_name, view_name) -> bool:
        """FAB's answer, once per request and question: a back-office page asks it for every
        menu item, button and action (50 times), and each answer walked the user's roles."""
        memo = g.setdefault("_view_access", {}) if has_request_context() else {}
        key = (getattr(user, "id", None), permission_name, view_name)
        if key not in memo:
            memo[key] = super()._has_view_access(user, permission_name, view_name)
        return memo[key]

    def load_user(self, pk):
        """Flask-Login's loader: a session made before the user's last sign-out, password
        change or deactivation is no session (its epoch is behind)."""
        user = super().load_user(pk)
        if user is not None and has_request_context() and not auth_policy.session_is_current(
                user):
            return None
        return user

    def load_user_jwt(self, _jwt_header, jwt_data):
        """An API token likewise ends with the epoch it was made in."""
        user = self.get_user_by_id(int(jwt_data["sub"]))
        if user is None or not user.is_active:
            return None
        if jwt_data.get(TOKEN_EPOCH) != (user.session_epoch or 0):
            return None
        g.user = user
        return user

    def create_jwt_manager(self, app):
        jwt_manager = super().create_jwt_manager(app)
        jwt_manager.additional_claims_loader(self._token_claims)
        return jwt_manager

    def _token_claims(self, identity) -> dict:
        epoch = self.session.scalar(select(AppUser.session_epoch).where(
            AppUser.id == int(identity)))
        return {TOKEN_EPOCH: epoch or 0}

    def get_user_by_id(self, pk):
        """The signed-in user with its roles and groups, and the permissions' cache token, in
        one statement (FAB loads roles and groups lazily). Permissions are not loaded as
        objects: that cost half of every signed-in request. The public site also loads the
        user's researcher (a need's page asks whether it is approved); its read-only pages get a
        snapshot instead (``app/core/access/visitor.py``)."""
        if visitor.serves_request():
            return visitor.load(self.session, int(pk))
        public = has_request_context() and request.blueprint == "public"
        row = self.session.execute(_user_statement(public), {"pk": int(pk)}).unique()
        row = row.one_or_none()
        if row is None:
            return None
        if has_request_context():
            for kind, token in zip(_user_token_kinds(), row[1:-1]):
                cache_tokens.remember(kind, token)
        user = row[0]
        user.unread_notices = int(row[-1] or 0)
        return user

    def _permissions_of_roles(self, role_ids) -> set:
        pvm = self.permissionview_model
        rows = (self.session.query(self.viewmenu_model.name, self.permission_model.name)
                .select_from(pvm)
                .join(assoc_permissionview_role,
                      pvm.id == assoc_permissionview_role.c.permission_view_id)
                .join(self.viewmenu_model, pvm.view_menu_id == self.viewmenu_model.id)
                .join(self.permission_model, pvm.permission_id == self.permission_model.id)
                .filter(assoc_permissionview_role.c.role_id.in_(role_ids)))
        return frozenset((view, permission) for view, permission in rows)

    def auth_user_db(self, username, password):
        user = (self.find_user(username=username) or self.find_user(email=username)
                if username else None)
        if user is not None and not auth_policy.may_attempt_login(user):
            return None  # locked: the same None as a wrong password
        return super().auth_user_db(username, password)

    def update_user_auth_stat(self, user, success=True):
        if success:
            auth_policy.note_login(user)
            super().update_user_auth_stat(user, True)
            return
        # FAB raises the count on the row it read and swallows a failed commit: under load the
        # count was lost and the account never locked. Counted here, at once, in the database.
        auth_policy.count_failed_login(self.session, user)
        self.on_user_login_failed(user)

    def add_user(self, username, first_name, last_name, email, role=None, password="",
                 hashed_password="", groups=None, commit=True):
        if password:  # CLI and scripts bypass the forms; raises with the rule
            auth_policy.check_password(password)
        return super().add_user(username, first_name, last_name, email, role, password,
                                hashed_password, groups, commit)

    def reset_password(self, userid, password):
        """Every password change, the user's own or an administrator's reset: the rule, the
        lock lifted (a reset is how it is lifted early), and every other session and token of
        the user ended; the session that changed its own password goes on."""
        auth_policy.check_password(password)
        user = self.get_user_by_id(userid)
        if user is not None:
            auth_policy.unlock(user)
        changed = super().reset_password(userid, password)
        epoch = auth_policy.end_sessions(self.session, userid)
        self.session.commit()
        if has_request_context() and getattr(g, "user", None) is not None \
                and getattr(g.user, "id", None) == int(userid) and "_user_id" in session:
            session[auth_policy.EPOCH] = epoch
        return changed

    # -- audit of logins (form and API both end in auth_user_db → update_user_auth_stat) ------
    # FAB's own hooks, called after the login stats are committed. Attempts that never reach
    # them (unknown user, inactive account) are recorded by app/core/audit/hooks.py.
    def on_user_login(self, user):
        self._audit_login("login", user)

    def on_user_login_failed(self, user):
        self._audit_login("login.failed", user)

    def _audit_login(self, action, user):
        via = "unknown"
        if has_request_context():
            audit_hooks.note_login_recorded()
            via = "api" if request.path.startswith("/api/") else "form"
        # A failed attempt proves no identity: the name is the one claimed, no actor.
        audit.record(action, user, subject_type="ab_user",
                     actor=user if action == "login" else None, actor_name=user.username,
                     after={"via": via, "fail_login_count": user.fail_login_count or 0},
                     session=self.session)
        self.session.commit()


def _matching_pvms(sm, rules):
    wanted = []
    for pvm in sm.session.query(sm.permissionview_model).all():
        if pvm.view_menu is None or pvm.permission is None:
            continue
        for view_re, perm_re in rules:
            if re.match(view_re, pvm.view_menu.name) and re.search(perm_re, pvm.permission.name):
                wanted.append(pvm)
                break
    return wanted


def sync_roles(appbuilder) -> dict:
    """Converge roles to ROLE_DEFINITIONS: create permissions of every registered view, create
    the six roles, and set each role's permissions to exactly its definition. Idempotent;
    commits. Returns ``{role: number_of_permissions}``."""
    sm = appbuilder.sm
    admin = sm.add_role("Admin")  # FAB grants every new permission to it while adding them
    sm.add_role("Public")
    appbuilder.add_permissions(update_perms=True)
    all_pvms = sm.session.query(sm.permissionview_model).all()
    if set(admin.permissions) != set(all_pvms):
        admin.permissions = all_pvms
    summary = {"Admin": len(all_pvms)}
    for name, rules in ROLE_DEFINITIONS.items():
        role = sm.add_role(name)
        wanted = _matching_pvms(sm, rules)
        if set(role.permissions) != set(wanted):
            role.permissions = wanted
        summary[name] = len(wanted)
    sm.session.commit()
    return summary


def touches_permissions(session) -> bool:
    """Which roles may do what changed: a role's permissions, or a role, permission or view."""
    kinds = (Role, PermissionView, Permission, ViewMenu)
    if any(isinstance(obj, kinds) for obj in list(session.new) + list(session.deleted)):
        return True
    return any(isinstance(obj, Role) and changed(obj, "permissions")
               or isinstance(obj, kinds[1:]) for obj in session.dirty)


