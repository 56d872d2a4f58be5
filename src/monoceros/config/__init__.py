"""The settings table, the command-line parser built from it, and configuration loading.

Every gunicorn setting is one row of ``SETTINGS`` (same names, flags, defaults and validation
rules as gunicorn, in gunicorn's declaration order), plus monoceros' own extensions at the end.
``load_config`` merges the sources in gunicorn's order of precedence::

    defaults (some read from the environment)
      < config file (-c PATH | file:PATH | python:MODULE, or ./gunicorn.conf.py)
      < GUNICORN_CMD_ARGS
      < command line

Settings that monoceros does not implement yet are accepted as long as they keep their default
value; any other value is refused at startup with a one-line message naming the setting.

The modules, each importing only modules listed before it::

    setting         the Setting row type, ConfigError, and _Invalid (raised by validators)
    worker_classes  which worker class names mean sync, gthread and event
    address         Address and parse_address (bind entries)
    validators      one function per kind of value, and LOG_LEVELS
    defaults        defaults computed from the environment; the default (no-op) hooks
    table           SETTINGS, SETTINGS_BY_NAME, SECTIONS
    logger_classes  which logger classes monoceros can run (loading and checking them)
    support         refusals of what monoceros cannot honour yet; dormant features
    model           Config
    command_line    build_parser, monoceros_version
    config_file     reading gunicorn.conf.py, file:PATH and python:MODULE
    paste           --paste: the app, process name and logging from a PasteDeploy ini file
    loading         load_config
    docs            render_settings_markdown (docs/settings.md)

Names with a leading underscore are private to this package. Nothing here imports the C++
extension (monoceros.core_settings, outside the package, turns a Config into the core's typed
configs), and of monoceros only ``__version__`` and ``inotify`` (which imports nothing of
monoceros): the rest of monoceros depends on this package, never the other way round
(tests/test_imports.py checks that no module takes part in an import cycle).
"""

from __future__ import annotations

from monoceros.config.address import Address, parse_address
from monoceros.config.command_line import build_parser, monoceros_version
from monoceros.config.config_file import default_config_file
from monoceros.config.docs import render_settings_markdown
from monoceros.config.loading import load_config
from monoceros.config.model import Config
from monoceros.config.setting import ConfigError, Setting
from monoceros.config.table import SECTIONS, SETTINGS, SETTINGS_BY_NAME
from monoceros.config.validators import LOG_LEVELS

# The hook settings' arity, which the tests compare with gunicorn's.
from monoceros.config.validators import _positional_count as _positional_count

__all__ = [
    "LOG_LEVELS",
    "SECTIONS",
    "SETTINGS",
    "SETTINGS_BY_NAME",
    "Address",
    "Config",
    "ConfigError",
    "Setting",
    "build_parser",
    "default_config_file",
    "load_config",
    "monoceros_version",
    "parse_address",
    "render_settings_markdown",
]
