# Logging configured entirely with a dictConfig: both gunicorn loggers to one file, with the
# timestamp format the log pipeline expects.
import os

run_dir = os.environ["CONFIG_RUN_DIR"]

workers = 1
accesslog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "file": {
            "class": "logging.FileHandler",
            "filename": os.path.join(run_dir, "app.log"),
            "formatter": "plain",
        },
    },
    "root": {"handlers": ["file"], "level": "WARNING"},
    "loggers": {
        "gunicorn.error": {"handlers": ["file"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["file"], "level": "INFO", "propagate": False},
    },
}
