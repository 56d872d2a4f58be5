"""Config files: running ``gunicorn.conf.py`` (or file:PATH, python:MODULE) and applying it."""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from monoceros.config.setting import ConfigError
from monoceros.config.table import SETTINGS_BY_NAME

if TYPE_CHECKING:
    from monoceros.config.model import Config


@contextmanager
def _on_sys_path(directory: str) -> Iterator[None]:
    """Make modules in ``directory`` importable while the configuration is read (python:
    config modules and dotted hook paths), as gunicorn's first chdir does."""
    added = directory not in sys.path
    if added:
        sys.path.insert(0, directory)
    try:
        yield
    finally:
        if added:
            with suppress(ValueError):
                sys.path.remove(directory)


def _one_line(exc: BaseException, filename: str | None = None) -> str:
    """``Type: message (line N)`` for an exception raised while running a file."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    line = None
    if isinstance(exc, SyntaxError):
        text = f"{type(exc).__name__}: {exc.msg}"
        line = exc.lineno
    elif filename is not None:
        for frame in traceback.extract_tb(exc.__traceback__):
            if os.path.abspath(frame.filename) == os.path.abspath(filename):
                line = frame.lineno
    return f"{text} (line {line})" if line else text


def _execute_config_file(path: str) -> dict[str, Any]:
    """Run a Python config file as module ``__config__`` and return its namespace."""
    name = "__config__"
    if os.path.splitext(path)[1] in (".py", ".pyc"):
        spec = importlib.util.spec_from_file_location(name, path)
    else:
        print(
            f"Warning: configuration file {path!r} should have a .py extension.",
            file=sys.stderr,
        )
        loader = importlib.machinery.SourceFileLoader(name, path)
        spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    if spec is None or spec.loader is None:
        raise ConfigError(f"failed to read config file {path!r}: cannot load it as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ConfigError(f"failed to read config file {path!r}: {_one_line(exc, path)}") from exc
    return vars(module)


def _read_config_source(location: str, cwd: str) -> tuple[dict[str, Any], str]:
    """Namespace of a config location (PATH, file:PATH or python:MODULE) and its description."""
    if location.startswith("python:"):
        module_name = location[len("python:") :]
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise ConfigError(
                f"failed to import config module {module_name!r}: {_one_line(exc)}"
            ) from exc
        return vars(module), f"config module {module_name!r}"
    path = location[len("file:") :] if location.startswith("file:") else location
    full = os.path.join(cwd, path)
    if not os.path.exists(full):
        raise ConfigError(f"config file {path!r} doesn't exist")
    return _execute_config_file(full), f"config file {path!r}"


def _apply_config_file(cfg: Config, location: str) -> None:
    namespace, source = _read_config_source(location, cfg.cwd)
    for name, value in list(namespace.items()):
        if name in SETTINGS_BY_NAME:  # other names (imports, helpers) are ignored
            cfg.set(name, value, source)


def default_config_file(cwd: str) -> str | None:
    """``<cwd>/gunicorn.conf.py`` when it exists."""
    path = os.path.join(cwd, "gunicorn.conf.py")
    return path if os.path.exists(path) else None
