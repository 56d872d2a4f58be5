"""``--check-config`` and ``--print-config``: report on a configuration and exit without serving.

Both load the application too, as gunicorn does, because the most common broken configuration
is an app that does not import. ``--print-config`` first prints every setting as
``name = value`` in gunicorn's own layout, so the two outputs can be compared line by line.
"""

from __future__ import annotations

import sys
import traceback
from typing import TextIO

from monoceros.config import SETTINGS, Config
from monoceros.loader import AppImportError, load_wsgi_app, prepare_environment

__all__ = ["render_config", "run_check"]

# gunicorn shows its built-in hooks by the qualified name of the function, which lives in a
# class named after the setting. Most of those class names are the setting in CamelCase; these
# are the ones that are not. We print the same text so that a diff with gunicorn stays quiet.
_DEFAULT_HOOK_OWNERS = {
    "post_fork": "Postfork",
    "pre_fork": "Prefork",
    "nworkers_changed": "NumWorkersChanged",
    "ssl_context": "NewSSLContext",
}


def _default_hook_text(name: str) -> str:
    owner = _DEFAULT_HOOK_OWNERS.get(name) or name.title().replace("_", "")
    return f"<{owner}.{name}()>"


def _value_text(cfg: Config, name: str) -> str:
    value = cfg.get(name)
    if not callable(value):
        return str(value)
    if cfg.is_default(name):
        return _default_hook_text(name)
    qualname = getattr(value, "__qualname__", None) or type(value).__qualname__
    return f"<{qualname}()>"


def render_config(cfg: Config) -> str:
    """Every setting, sorted by name, as ``name = value`` with the names padded to one width."""
    names = sorted(s.name for s in SETTINGS)
    width = max(len(name) for name in names)
    return "\n".join(f"{name:{width}} = {_value_text(cfg, name)}" for name in names)


def run_check(cfg: Config, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Print the configuration if asked, check that monoceros can honour every setting, then
    load the app; the exit status (0 or 1). Raises ConfigError for a refused setting."""
    if cfg.print_config:
        print(render_config(cfg), file=out, flush=True)
    cfg.check_supported()
    try:
        prepare_environment(cfg)
        load_wsgi_app(cfg.app_uri)
    except AppImportError as error:
        if error.show_traceback and error.__cause__ is not None:
            traceback.print_exception(error.__cause__, file=err)
        print(f"Error: {error}", file=err)
        return 1
    except Exception as error:  # the app's module raised something unforeseen
        traceback.print_exception(error, file=err)
        print(f"Error: failed to load the application {cfg.app_uri!r}: {error}", file=err)
        return 1
    return 0
