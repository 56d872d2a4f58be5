"""SIGHUP: read the configuration again, as gunicorn's reload does.

The arbiter (C++) asks for the new settings; this module re-reads the same sources the server
started from (command line, config file, GUNICORN_CMD_ARGS, environment), applies what the
master itself uses (working directory, sys.path, raw_env, logging), and hands the core its new
typed configuration (see monoceros.core_settings). The arbiter then starts new workers with it
and retires the old ones. A configuration that no longer loads is reported and the server
carries on unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from monoceros import _core
from monoceros.config import ConfigError, load_config
from monoceros.loader import prepare_environment
from monoceros.logging import error_logger, setup_logging


class EnvironmentKeys:
    """The values raw_env keys had before raw_env set them, to restore before a reload (a key
    dropped from raw_env must not linger)."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def remember(self, cfg: Any) -> None:
        for key in cfg.env:
            self._saved.setdefault(key, os.environ.get(key))

    def restore(self) -> None:
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Reloader:
    """``reload()`` returns the core configuration (core_settings.CoreConfigs) of the re-read
    configuration, or None."""

    def __init__(
        self,
        server: Any,
        core_configs: Callable[[Any], Any],
        environment: EnvironmentKeys,
    ) -> None:
        self.server = server
        self.core_configs = core_configs
        self.environment = environment

    def reload(self) -> Any:
        old = self.server.cfg
        self.environment.restore()
        try:
            cfg = load_config(old.argv, os.environ, old.cwd)
            prepare_environment(cfg)
            logger = setup_logging(cfg)
        except ConfigError as error:
            self._keep(old, f"Reload failed, the configuration stays as it was: {error}")
            return None
        except SystemExit:  # argparse gave up on the command line (it printed why)
            self._keep(old, "Reload failed: the command line no longer parses")
            return None
        self.environment.remember(cfg)
        log = error_logger()
        _core.set_error_logger(log.log, log.getEffectiveLevel())
        self.server.cfg = cfg
        self.server.log = logger
        self.server.proc_name = cfg.proc_name or cfg.default_proc_name
        self.server.timeout = cfg.timeout
        self.server.graceful_timeout = cfg.graceful_timeout
        return self.core_configs(cfg)

    def _keep(self, old: Any, message: str) -> None:
        prepare_environment(old)  # put raw_env and the directory back
        error_logger().error("%s", message)
