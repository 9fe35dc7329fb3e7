"""Django settings. Every environment value is read through ``ecrf.config``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from ecrf.config import (
    BASE_DIR,
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
)

VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", default=False)
# A production deployment must set SECRET_KEY; only DEBUG runs fall back to a local key.
SECRET_KEY = env_str("SECRET_KEY", required=not DEBUG) or "insecure-local-development-key-not-for-production-use"
# The audit chain's HMAC key: kept outside the database so that database access alone cannot
# forge the chain; required in production like SECRET_KEY (and distinct from it).
AUDIT_HMAC_KEY = env_str("AUDIT_HMAC_KEY", required=not DEBUG) or "insecure-local-development-audit-key"
# Every history table keeps the reason for a change whole (a text column, not simple-history's
# 100-character default); ecrf.audit.models.REASON_MAX_LENGTH is the longest reason accepted.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
if not DEBUG and (len(AUDIT_HMAC_KEY) < 32 or AUDIT_HMAC_KEY == SECRET_KEY):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Environment variable AUDIT_HMAC_KEY must be at least 32 characters and differ "
                               "from SECRET_KEY.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Environment variable ALLOWED_HOSTS is required when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "django_htmx",
    "ecrf.core",
    "ecrf.study",
    "ecrf.accounts",
    "ecrf.audit",
    "ecrf.notifications",
    "ecrf.crf",
    "ecrf.screening",
    "ecrf.randomization",
    "ecrf.pharmacy",
    "ecrf.schedule",
    "ecrf.dosing",
    "ecrf.labs",
    "ecrf.medications",
    "ecrf.outcomes",
    "ecrf.deviations",
    "ecrf.sofa",
    "ecrf.queries",
    "ecrf.review",
    "ecrf.exports",
    "ecrf.analysis",
    "safety",
    "ecrf.home",
]
EXTRA_APPS = env_list("ECRF_EXTRA_APPS", [])  # e.g. the test suite's own form app
INSTALLED_APPS += EXTRA_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ecrf.accounts.middleware.SessionRenewalMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "ecrf.accounts.middleware.SiteTimezoneMiddleware",
    "ecrf.core.middleware.DomainErrorMiddleware",
    # Last, as django-axes requires: turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ecrf.urls"
WSGI_APPLICATION = "ecrf.wsgi.application"
ASGI_APPLICATION = "ecrf.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home:home"
LOGOUT_REDIRECT_URL = "accounts:login"

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
                "ecrf.core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'ecrf.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out user name + address before the password is checked.
# The model backend reads the user's roles and sites with the user (one query per request).
AUTHENTICATION_BACKENDS = ["ecrf.accounts.backends.AxesBackend", "ecrf.accounts.backends.ModelBackend"]
# Lockout after repeated failed logins (Part 11 access control), by user name AND client address
# together: someone elsewhere who knows a user name cannot lock the real user out.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = "ecrf.accounts.backends.failure_limit"  # Protocol.max_failed_logins
AXES_COOLOFF_TIME = "ecrf.accounts.backends.cool_off"  # Protocol.lockout_minutes
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "ecrf.accounts.backends.client_ip"
AXES_LOCKOUT_CALLABLE = "ecrf.accounts.backends.lockout_response"
AXES_VERBOSE = False
# Unlock with `manage.py axes_reset_username NAME` (audited by the operator's own log); the
# admin keeps to the project's own models (read-mostly, permission-matrix covered).
AXES_ENABLE_ADMIN = False
# Reverse proxies in front of the application whose X-Forwarded-For entries are trusted.
ECRF_TRUSTED_PROXY_COUNT = env_int("ECRF_TRUSTED_PROXY_COUNT", 0)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Strength, not only length: "aaaaaaaaaaaa" is twelve characters and no password.
    {"NAME": "ecrf.accounts.passwords.StrengthValidator"},
]

# Idle session timeout (Part 11 access control): the session expires after this many
# minutes without a request. A request renews it when its last renewal is older than
# SESSION_RENEWAL_SECONDS (ecrf.accounts.middleware.SessionRenewalMiddleware) instead of on
# every request, which would write the session row on every read: a session therefore ends
# between SESSION_COOKIE_AGE - SESSION_RENEWAL_SECONDS and SESSION_COOKIE_AGE after the last
# request, never later.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_RENEWAL_SECONDS = 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# The interface language chosen in the header: read by no script, sent only over HTTPS in production.
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (django-csp): only the application's own scripts and
# styles run; no inline script, no plug-ins, no framing, forms post only here. The API docs page
# relaxes its own policy (ecrf/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Bootstrap's form controls draw their check marks and select arrows as data: SVG images.
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LANGUAGE_CODE = "en"
# The languages the interface is translated into (a catalogue in locale/ for each but English):
# the switch in the header offers these, and the browser's Accept-Language chooses among them.
# Another trial country's language is added here with its catalogue (CONTRIBUTING.md).
LANGUAGES = [
    ("en", _("English")),
    ("el", _("Greek")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Entry accepts ISO 8601 dates and times only, in every language (ecrf/formats): never month-first.
FORMAT_MODULE_PATH = ["ecrf.formats"]
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]
USE_I18N = True
# Stored in UTC; shown in the viewer's site time zone (SiteTimezoneMiddleware).
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ecrf@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous API call gets 401 with "WWW-Authenticate: Token".
        "ecrf.accounts.backends.LockoutTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "ecrf.core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["ecrf.core.api.BoundedFilterBackend"],
    # The JSON parser with the body-size and nesting-depth limits (ecrf.core.api.JSONParser).
    "DEFAULT_PARSER_CLASSES": [
        "ecrf.core.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "ecrf.core.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ImmunoSep-style eCRF API",
    "DESCRIPTION": "Blinded, site-scoped, audited clinical data API (v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from the package, not a CDN: sites may run without internet access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Unit code lists shared by several fields get one schema name each.
    "ENUM_NAME_OVERRIDES": {
        "ConcentrationUnitEnum": [("mg/dL", "mg/dL"), ("umol/L", "umol/L")],
        "CellCountUnitEnum": [("10^9/L", "10^9/L"), ("/mm3", "/mm3")],
        "AeActionTakenEnum": "safety.models.ActionTaken",
        "AeCausalityEnum": "safety.models.Causality",
        "EntryStatusEnum": "ecrf.crf.models.EntryStatus",
        "StudyDrugRouteEnum": "ecrf.dosing.models.Route",
        "PatientDecisionEnum": "ecrf.screening.models.PatientDecision",
    },
}

# Locked export packages (ecrf.exports): written under a temporary name here, then renamed.
EXPORTS_DIR = env_str("EXPORTS_DIR", str(VAR_DIR / "exports"))

# Celery: Redis in production; the embedded default uses kombu's filesystem transport so a
# local worker with beat runs the real periodic jobs without Redis (ARCHITECTURE.md "Configuration").
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_FILESYSTEM_DIR = env_str("CELERY_FILESYSTEM_DIR", str(VAR_DIR / "celery"))
if CELERY_BROKER_URL.startswith("filesystem"):
    import os as _os

    for _sub in ("queue", "processed", "control"):
        _os.makedirs(_os.path.join(CELERY_FILESYSTEM_DIR, _sub), exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": _os.path.join(CELERY_FILESYSTEM_DIR, "queue"),
        "data_folder_out": _os.path.join(CELERY_FILESYSTEM_DIR, "queue"),
        "processed_folder": _os.path.join(CELERY_FILESYSTEM_DIR, "processed"),
        "control_folder": _os.path.join(CELERY_FILESYSTEM_DIR, "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"refusal_without_traceback": {"()": "ecrf.core.logging.RefusalWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"},
                "django.request": {"filters": ["refusal_without_traceback"]}},
}

ECRF_STUDY_CODE = env_str("ECRF_STUDY_CODE", "IMMUNOSEP-DEMO")
