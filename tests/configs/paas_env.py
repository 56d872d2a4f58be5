# A platform that sets the environment and the working directory through the config file.
import os

wsgi_app = "flask_app:app"
chdir = os.environ["CONFIG_APP_DIR"]
pythonpath = os.environ["CONFIG_APP_DIR"]
raw_env = ["FLASK_ENV=production", "FEATURE_FLAGS=a,b"]
workers = 2
threads = 1
