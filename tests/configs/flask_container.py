# A Flask app alone in a container (twelve-factor): everything from the environment, logs to
# stdout/stderr, proxies trusted because the platform's load balancer is the only client.
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
forwarded_allow_ips = "*"
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
access_log_format = '{"remote": "%(h)s", "request": "%(r)s", "status": %(s)s, "us": %(D)s}'
