"""``load_config``: the Config of a command line, merged from every source in precedence order."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from monoceros.config.command_line import _apply_namespace, build_parser
from monoceros.config.config_file import _apply_config_file, _on_sys_path, default_config_file
from monoceros.config.model import Config
from monoceros.config.paste import use_paste_app
from monoceros.config.setting import ConfigError


def load_config(
    argv: Sequence[str],
    environ: Mapping[str, str],
    cwd: str | None = None,
    *,
    check_supported: bool = True,
) -> Config:
    """Build the Config for a command line (``argv`` without the program name).

    Precedence, lowest first: defaults (WEB_CONCURRENCY, PORT, FORWARDED_ALLOW_IPS, SENDFILE
    read from ``environ``) < config file < GUNICORN_CMD_ARGS < ``argv``. The config file is
    ``-c`` from argv, else ``--config`` from GUNICORN_CMD_ARGS, else ``./gunicorn.conf.py``
    if present; relative paths are taken from ``cwd`` (default: the current directory).
    Nothing is changed in the process (no chdir, no environment); see
    ``loader.prepare_environment`` for that.

    ``-h`` and ``-v`` print and exit (SystemExit 0); unknown flags exit with status 2.
    Raises ConfigError for bad values, unreadable config files, settings monoceros cannot
    honour yet (unless ``check_supported`` is False) and a missing application.
    """
    cfg = Config(environ, cwd)
    cfg.argv = list(argv)  # kept so that SIGHUP can read the same sources again
    parser = build_parser()
    cli = parser.parse_args(list(argv))
    env_args = parser.parse_args(shlex.split(cfg.environ.get("GUNICORN_CMD_ARGS", "")))

    # A positional APP_MODULE names the app and the default process title (gunicorn ignores
    # positionals inside GUNICORN_CMD_ARGS).
    if cli.args:
        cfg.app_uri = cli.args[0]
        cfg.set("default_proc_name", cli.args[0])

    with _on_sys_path(cfg.cwd):
        location = cli.config or env_args.config or default_config_file(cfg.cwd)
        if location:
            _apply_config_file(cfg, location)
        _apply_namespace(cfg, env_args, "GUNICORN_CMD_ARGS")
        _apply_namespace(cfg, cli, None)

    if cfg.paste is not None:
        use_paste_app(cfg)
    if cfg.app_uri is None:
        cfg.app_uri = cfg.wsgi_app
    cfg.addresses  # noqa: B018 -- parse bind now so that a bad address fails at startup
    if check_supported:
        cfg.check_supported()
    if not cfg.app_uri:
        raise ConfigError("No application module specified.")
    return cfg
