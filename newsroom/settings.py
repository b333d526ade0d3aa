"""Settings for Newsroom, read from the environment.

Every variable is documented in README.md. Development defaults are safe: SQLite under var/,
a local-memory cache, debug off. Production values that are missing fail loudly.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int | str:
    """The variable as a whole number; anything else is kept as written, and newsroom/checks.py
    refuses it with the variable's name."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        return value


def env_float(name: str, default: float) -> float | str:
    """The variable as a number of seconds; anything else is kept as written for the checks."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        return value


DEBUG = env_bool("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random string "
            "(`make run` creates one in var/secret_key), or set DJANGO_DEBUG=1 for development."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-DJANGO_DEBUG"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# Reverse proxies in front of gunicorn whose X-Forwarded-For entries are trusted.
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0)

INSTALLED_APPS = [
    "newsroom.apps.NewsroomConfig",
    "newsroom.apps.NewsroomAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "mptt",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "articles",
    "comments",
]

MIDDLEWARE = [
    # Outermost, the security headers reach every response Django sends: the static files
    # WhiteNoise serves, and the errors raised by the middleware below (the DisallowedHost 400).
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "newsroom.middleware.ForwardedForMiddleware",
    "newsroom.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise, which serves its own compressed copies of the static files; above
    # everything that writes a body. BREACH: README, "Compression".
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Serves an article page's shared copy to a plain anonymous reader, without the layers
    # below, which such a reader has no use for.
    "articles.middleware.SharedPageMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "newsroom.middleware.AdminContentSecurityPolicyMiddleware",
    "newsroom.middleware.LockTimeoutMiddleware",
]

ROOT_URLCONF = "newsroom.urls"
WSGI_APPLICATION = "newsroom.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: DATABASE_URL, or a SQLite file under var/.
VAR_DIR = BASE_DIR / "var"
DATABASE_CONN_MAX_AGE = env_int("DATABASE_CONN_MAX_AGE", 60)


def database(url: str) -> dict:
    """The database at `url`, its connections kept and checked before each request's first
    query. PostgreSQL goes through newsroom/postgresql: Django's backend, whose check looks at
    the connection's socket before it spends a round trip."""
    config = dj_database_url.parse(
        url, conn_max_age=DATABASE_CONN_MAX_AGE, conn_health_checks=True
    )
    if config["ENGINE"] == "django.db.backends.postgresql":
        config["ENGINE"] = "newsroom.postgresql"
    return config


DATABASES = {
    "default": database(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'newsroom.sqlite3'}")
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # Writers queue behind one another instead of failing with "database is locked", and a
    # transaction holds the write lock from its start, so a tree write never upgrades a read
    # lock halfway (see README: concurrency).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# No JIT compilation on PostgreSQL: it pays off for long reports, not for a page's short
# queries, and PostgreSQL starts it by the planner's cost estimate. The moderators' queue at
# 1,000,000 comments spent 38 ms of its 117 ms query compiling (bench/bench_admin.py).
if DATABASES["default"]["ENGINE"] == "newsroom.postgresql":
    DATABASES["default"]["OPTIONS"] = {"options": "-c jit=off"}

# An optional read replica for the reader pages (newsroom/db.py).
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = database(DATABASE_REPLICA_URL)
    # In the test suite the replica is the primary's test database: replication is not tested
    # there, only that the code runs with two connections.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["newsroom.db.ReplicaRouter"]
    MIDDLEWARE.append("newsroom.db.ReplicaReadsMiddleware")

# Caches: Redis when REDIS_URL is set, local memory otherwise.
# - "pages" holds the article pages' copies and may evict them (REDIS_URL).
# - "counters" holds the rate-limit and sign-in counters and the moderators' alert claims, which
#   a flood of pages cannot empty (COUNTERS_REDIS_URL, the same Redis by default).
# - "default", in the same store as the counters, is where libraries keep state of their own:
#   allauth its rate limits. While its Redis is away, each process keeps that state in memory.
REDIS_URL = os.environ.get("REDIS_URL", "")
COUNTERS_REDIS_URL = os.environ.get("COUNTERS_REDIS_URL", "") or REDIS_URL


def redis_cache(url: str, backend: str = "newsroom.redis_cache.PooledRedisCache") -> dict:
    return {"BACKEND": backend, "LOCATION": url, "KEY_PREFIX": "newsroom"}


COUNTERS_IN_MEMORY = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "counters",
    # Counters are only made by posts and sign-ins, a few hundred bytes each.
    "OPTIONS": {"MAX_ENTRIES": 100_000},
}
CACHES = {
    "default": (
        redis_cache(COUNTERS_REDIS_URL, "newsroom.redis_cache.LocalFallbackRedisCache")
        if COUNTERS_REDIS_URL
        else COUNTERS_IN_MEMORY
    ),
    "counters": redis_cache(COUNTERS_REDIS_URL) if COUNTERS_REDIS_URL else COUNTERS_IN_MEMORY,
    "pages": (
        redis_cache(REDIS_URL)
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages"}
    ),
}
# Sessions live in the database only: a sign-out deletes the row and is final, and a restart
# or an outage of Redis signs nobody out.
SESSION_ENGINE = "newsroom.sessions"

# 1: with Redis, each process mirrors the page versions, told of changes over pub/sub
# (articles/version_mirror.py); 0: every request reads them from Redis.
PAGE_VERSION_MIRROR = env_int("PAGE_VERSION_MIRROR", 1)

# Seconds an article page stays in the cache for anonymous readers; 0 turns the page cache off.
ARTICLE_PAGE_CACHE_SECONDS = env_int("ARTICLE_PAGE_CACHE_SECONDS", 3600)

# Background work (django.tasks): queued in the database, run by `manage.py db_worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Mail (newsroom/mail.py sends it from the task worker). Django 6.1 configures it in MAILERS:
# the older EMAIL_* settings are deprecated and refused beside MAILERS, so the EMAIL_*
# environment variables fill MAILERS. With EMAIL_HOST, mail goes out through that SMTP server;
# without, it is written to files under var/mail/.
if os.environ.get("EMAIL_HOST", "").strip():
    _use_tls = env_bool("EMAIL_USE_TLS")
    _use_ssl = env_bool("EMAIL_USE_SSL")
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["EMAIL_HOST"].strip(),
                "port": env_int("EMAIL_PORT", 465 if _use_ssl else 587 if _use_tls else 25),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": _use_tls,
                "use_ssl": _use_ssl,
                # A stalled server holds the worker for this long, not forever.
                "timeout": env_int("EMAIL_TIMEOUT", 10),
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
        }
    }
DEFAULT_FROM_EMAIL = (
    os.environ.get("DEFAULT_FROM_EMAIL", "").strip() or "Newsroom <newsroom@localhost>"
)
# Seconds between the attempts to send a mail that failed; after the last, it is logged as lost.
EMAIL_RETRY_DELAYS = [
    int(delay) if delay.isdigit() else delay
    for delay in env_list("EMAIL_RETRY_DELAYS") or ["60", "300", "1800"]
]
# Where the site is seen from outside: links in mail are absolute, on this address.
SITE_URL = (os.environ.get("SITE_URL", "").strip() or "http://127.0.0.1:8000").rstrip("/")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Readers' accounts (django-allauth): sign-in by email address, with a password or a one-time
# code sent by email; an address must be verified before its account may comment. allauth's
# rate limits are on (its defaults), counted in the default cache, with the counters.
AUTHENTICATION_BACKENDS = [
    "comments.auth_backends.ModelBackend",
    "comments.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "comments.accounts.AccountAdapter"
ACCOUNT_FORMS = {"signup": "comments.accounts.SignupForm"}
ACCOUNT_USER_DISPLAY = "comments.accounts.user_display"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Newsroom] "
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "articles:list"
ACCOUNT_LOGOUT_REDIRECT_URL = "articles:list"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Public pages load nothing but the site's own files: no inline script or style.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# The admin (django-mptt's tree indentation) sets inline style attributes.
ADMIN_CSP = {**SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]}

# Behind a TLS-terminating proxy: HSTS, secure cookies and the HTTPS redirect.
if env_bool("DJANGO_SECURE"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["stdout"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Comments.
# Addresses written as www.example.org link to https://, as Django 2028 will do by default.
URLIZE_ASSUME_HTTPS = True
COMMENTS_MAX_DEPTH = env_int("COMMENTS_MAX_DEPTH", 8)
# How long a comment write or an import waits for its article's lock before a "busy" answer.
COMMENTS_LOCK_TIMEOUT_SECONDS = env_float("COMMENTS_LOCK_TIMEOUT_SECONDS", 5)
# Discussions close this many days after publication; unset keeps them open.
COMMENTS_CLOSE_AFTER_DAYS = (
    env_int("COMMENTS_CLOSE_AFTER_DAYS", 0) if os.environ.get("COMMENTS_CLOSE_AFTER_DAYS") else None
)
COMMENTS_HOLD_LINKS = env_int("COMMENTS_HOLD_LINKS", 2)
COMMENTS_REPORT_THRESHOLD = env_int("COMMENTS_REPORT_THRESHOLD", 3)
# A thread shows this many replies; the rest behind "Show N more replies".
COMMENTS_REPLIES_SHOWN = env_int("COMMENTS_REPLIES_SHOWN", 20)
# The order of the threads for a reader who has not picked one.
COMMENTS_DEFAULT_SORT = os.environ.get("COMMENTS_DEFAULT_SORT", "oldest").strip()
# 1: the "[removed]" placeholder says the moderator's reason in a few words; 0: it does not.
COMMENTS_SHOW_REMOVAL_REASONS = env_int("COMMENTS_SHOW_REMOVAL_REASONS", 1)
COMMENT_RATE_LIMIT = os.environ.get("COMMENT_RATE_LIMIT", "5/60")
# Recommendations (given or taken back) per window from one IP address and from one reader.
RECOMMEND_RATE_LIMIT = os.environ.get("RECOMMEND_RATE_LIMIT", "30/60")
# Recommendation counts reach the cached discussion within this many seconds: the article's
# pages are refreshed at most once in that time for recommendations.
RECOMMEND_REFRESH_SECONDS = env_int("RECOMMEND_REFRESH_SECONDS", 60)
# Who may comment without an account: "open" (any guest), "verify" (a guest's comment waits for
# the link mailed to their address) or "closed" (signed-in readers only).
COMMENTS_GUESTS = os.environ.get("COMMENTS_GUESTS", "").strip().lower() or "open"
# A reader gets at most one reply mail per thread in this many minutes, collecting its replies.
NOTIFY_BATCH_MINUTES = env_int("NOTIFY_BATCH_MINUTES", 10)
# Comments' and reports' IP addresses and user agents are cleared after this many days
# (`manage.py purge_personal_data`).
COMMENTS_IP_RETENTION_DAYS = env_int("COMMENTS_IP_RETENTION_DAYS", 90)
# A reader may edit their own comment this many minutes after posting it; 0: never.
COMMENTS_EDIT_MINUTES = env_int("COMMENTS_EDIT_MINUTES", 15)
# Moderators are mailed (at most once an hour) when more than this many comments await review,
# or the oldest has waited more than this many minutes; 0 turns either off.
MODERATION_ALERT_QUEUE = env_int("MODERATION_ALERT_QUEUE", 20)
MODERATION_ALERT_MINUTES = env_int("MODERATION_ALERT_MINUTES", 120)
# Failed admin sign-ins allowed per user name and per IP address in a window.
ADMIN_LOGIN_RATE_LIMIT = os.environ.get("ADMIN_LOGIN_RATE_LIMIT", "5/900")
