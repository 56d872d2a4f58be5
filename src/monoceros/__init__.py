"""monoceros: a drop-in replacement for gunicorn with its core in C++."""

__version__ = "0.1.0"
