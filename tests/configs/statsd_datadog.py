# Metrics to a DogStatsD agent running beside the app.
import os

workers = 2
statsd_host = os.environ.get("STATSD_HOST", "localhost:8125")
statsd_prefix = "shop"
dogstatsd_tags = "env:staging,service:shop"
