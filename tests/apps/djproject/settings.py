"""Settings of the Django test project: production-like (DEBUG off), no database, no templates."""

DEBUG = False
SECRET_KEY = "monoceros-tests-not-a-secret"
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "djproject.urls"
INSTALLED_APPS: list[str] = []
DATABASES: dict = {}
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
USE_TZ = True
DEFAULT_CHARSET = "utf-8"
# Keep uploads in memory below 1 MiB, spool to a temp file above it (the 3 MiB upload test
# exercises the temp-file path).
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
LOGGING_CONFIG = None
