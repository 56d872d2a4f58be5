"""The command line: the argparse parser generated from the table, and applying its result."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from monoceros import __version__
from monoceros.config.setting import ConfigError, _default_text
from monoceros.config.table import SETTINGS

if TYPE_CHECKING:
    from monoceros.config.model import Config


def monoceros_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("monoceros")
    except (ImportError, PackageNotFoundError):
        return __version__


def build_parser(prog: str = "monoceros") -> argparse.ArgumentParser:
    """The argparse parser generated from SETTINGS, grouped by section.

    Every option stores None when absent so that the loader can tell "not given" apart.
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        usage="%(prog)s [OPTIONS] [APP_MODULE]",
        description="Serve a WSGI application with gunicorn's settings and a C++ core.",
    )
    parser.add_argument(
        "-v",
        "--version",
        action="version",
        version=f"monoceros (version {monoceros_version()})",
        help="print the version and exit",
    )
    parser.add_argument(
        "args",
        nargs="*",
        metavar="APP_MODULE",
        help="the WSGI application, as module:callable (callable defaults to 'application')",
    )
    with_flags = dict.fromkeys(s.section for s in SETTINGS if s.flags)
    groups = {section: parser.add_argument_group(section) for section in with_flags}
    for setting in SETTINGS:
        if not setting.flags:
            continue
        default = _default_text(setting).replace("`", "")
        note = "" if setting.supported else " (not supported by monoceros yet)"
        kwargs: dict[str, Any] = {
            "dest": setting.name,
            "default": None,
            "help": f"{setting.help.replace('`', '')}{note} [default: {default}]".replace(
                "%", "%%"
            ),
        }
        if setting.action == "flag":
            kwargs["action"] = "store_true"
        elif setting.action == "const":
            kwargs["action"] = "store_const"
            kwargs["const"] = setting.const
        elif setting.action == "append":
            kwargs["action"] = "append"
        elif setting.action == "optional":
            kwargs["nargs"] = "?"
            kwargs["const"] = setting.const
        if setting.metavar and setting.action in ("value", "append", "optional"):
            kwargs["metavar"] = setting.metavar
        groups[setting.section].add_argument(*setting.flags, **kwargs)
    return parser


def _apply_namespace(cfg: Config, namespace: argparse.Namespace, source: str | None) -> None:
    """Set every option present in a parsed namespace (absent ones are None)."""
    for setting in SETTINGS:
        if not setting.flags:
            continue
        raw = getattr(namespace, setting.name, None)
        if raw is None:
            continue
        value = raw
        if setting.cli_type is not None and isinstance(raw, str):
            try:
                value = setting.cli_type(raw)
            except ValueError:
                where = f" (in {source})" if source else ""
                raise ConfigError(
                    f"invalid value for {setting.label}: {raw!r} is not an integer{where}"
                ) from None
        cfg.set(setting.name, value, source)
