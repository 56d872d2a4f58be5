"""``--paste FILE.ini[#SECTION]``: the application comes from a PasteDeploy ini file.

As in gunicorn, the ini file also names the process (``default_proc_name``) and, when it has
a ``[loggers]`` section, configures logging (``logconfig``). ``--paste-global KEY=VALUE`` fills
PasteDeploy's global configuration. PasteDeploy itself is an optional dependency: here it is
only looked for; ``monoceros.loader`` imports it to build the app from ``cfg.app_uri``.
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import re
from typing import TYPE_CHECKING

from monoceros.config.setting import ConfigError

if TYPE_CHECKING:
    from monoceros.config.model import Config

__all__ = ["MISSING_PASTEDEPLOY", "PasteAppUri", "global_conf", "use_paste_app"]

MISSING_PASTEDEPLOY = (
    "setting 'paste' (--paste) needs PasteDeploy, which is not installed (pip install PasteDeploy)"
)

# KEY=VALUE splits at the first '=' that is not escaped as '\='.
_UNESCAPED_EQUALS = re.compile(r"(?<!\\)=")


class PasteAppUri(str):
    """``cfg.app_uri`` when the app comes from an ini file.

    The text is the absolute ini path (with ``#SECTION`` if given), which is what gunicorn
    reports as the app; the object also carries the global configuration the loader passes
    to PasteDeploy when it builds the app.
    """

    global_conf: dict[str, str]

    def __new__(cls, path: str, global_conf: dict[str, str]) -> PasteAppUri:
        uri = super().__new__(cls, path)
        uri.global_conf = global_conf
        return uri


def global_conf(entries: list[str]) -> dict[str, str]:
    """``raw_paste_global_conf`` as a dict; ``\\=`` stands for a literal '=' in a key or value."""
    conf: dict[str, str] = {}
    for entry in entries:
        parts = _UNESCAPED_EQUALS.split(entry, maxsplit=1)
        if len(parts) != 2:
            raise ConfigError(
                f"invalid value for 'raw_paste_global_conf' (--paste-global): {entry!r} is not "
                "of the form KEY=VALUE"
            )
        key, value = (part.replace("\\=", "=") for part in parts)
        conf[key] = value
    return conf


def _has_logging_config(path: str) -> bool:
    parser = configparser.ConfigParser()
    try:
        parser.read([path])
    except configparser.Error as exc:
        message = str(exc).splitlines()[0]
        raise ConfigError(
            f"invalid value for 'paste' (--paste): cannot read {path!r}: {message}"
        ) from None
    return parser.has_section("loggers")


def _pastedeploy_installed() -> bool:
    try:
        return importlib.util.find_spec("paste.deploy") is not None
    except ImportError:  # no top-level 'paste' package at all
        return False


def use_paste_app(cfg: Config) -> None:
    """Point ``cfg`` at the ini file named by ``cfg.paste`` (relative to the start directory):
    the app, the default process name and, unless one was given, the logging configuration.
    Raises ConfigError when the file is missing or PasteDeploy is not installed."""
    uri = os.path.abspath(os.path.join(cfg.cwd, cfg.paste))
    path = uri.split("#", 1)[0]
    if not os.path.exists(path):
        raise ConfigError(f"{path!r} not found")
    if not _pastedeploy_installed():
        raise ConfigError(MISSING_PASTEDEPLOY)
    cfg.app_uri = PasteAppUri(uri, global_conf(cfg.raw_paste_global_conf))
    cfg.set("default_proc_name", path)
    if cfg.logconfig is None and _has_logging_config(path):
        cfg.set("logconfig", path)
