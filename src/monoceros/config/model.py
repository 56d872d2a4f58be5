"""``Config``: the validated value of every setting, and gunicorn's computed views of them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from monoceros.config.address import Address, parse_address
from monoceros.config.setting import ConfigError, Setting, _Invalid
from monoceros.config.support import _DORMANT_FEATURE_OF, _SUPPORT_RULES, _DormantFeature
from monoceros.config.table import SETTINGS, SETTINGS_BY_NAME
from monoceros.config.worker_classes import _is_sync, _worker_class_name


def _start_directory(environ: Mapping[str, str]) -> str:
    """The current directory, spelled as $PWD when that names the same directory (so that
    symlinked paths survive, as in gunicorn)."""
    cwd = os.getcwd()
    pwd = environ.get("PWD")
    if pwd:
        try:
            if os.path.samefile(pwd, cwd):
                return pwd
        except OSError:
            pass
    return cwd


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Config:
    """Validated settings. Read a setting as ``cfg.<name>``; change it with ``cfg.set``.

    A few names are computed the way gunicorn computes them: ``worker_class`` (a sync worker
    with threads > 1 reads as "gthread"), ``sendfile`` (a bool, see the setting),
    ``proc_name`` (falls back to default_proc_name), plus ``env``, ``uid``, ``gid``,
    ``is_ssl``, ``address`` and ``addresses``. ``cfg.get(name)`` returns the stored value.
    monoceros.core_settings turns it into the typed configs the C++ core is given.
    """

    def __init__(self, environ: Mapping[str, str] | None = None, cwd: str | None = None) -> None:
        environ = dict(os.environ if environ is None else environ)
        object.__setattr__(self, "environ", environ)
        object.__setattr__(self, "cwd", os.path.abspath(cwd or _start_directory(environ)))
        object.__setattr__(self, "app_uri", None)
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_defaults", {})
        for setting in SETTINGS:
            default = setting.compute_default(environ, self.cwd)
            if default is not None:
                where = "the default"
                if setting.default_factory is not None:
                    where = "the default (computed from the environment)"
                default = self._validate(setting, default, where)
            self._defaults[setting.name] = default
            self._values[setting.name] = default

    # -- access --------------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(f"no setting named {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in SETTINGS_BY_NAME:
            raise AttributeError(f"use cfg.set({name!r}, value) to change a setting")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        changed = {n: v for n, v in self._values.items() if not self.is_default(n)}
        return f"<Config app_uri={self.app_uri!r} changed={changed!r}>"

    def get(self, name: str) -> Any:
        """The stored value of a setting, without the computed views of the properties."""
        return self._values[self._setting(name).name]

    def default(self, name: str) -> Any:
        return self._defaults[self._setting(name).name]

    def is_default(self, name: str) -> bool:
        name = self._setting(name).name
        return self._values[name] == self._defaults[name]

    def set(self, name: str, value: Any, source: str | None = None) -> None:
        """Validate and store a value. ``source`` (e.g. "GUNICORN_CMD_ARGS") only feeds the
        error message. Raises ConfigError."""
        setting = self._setting(name)
        self._values[setting.name] = self._validate(setting, value, source)

    def _setting(self, name: str) -> Setting:
        try:
            return SETTINGS_BY_NAME[name]
        except KeyError:
            raise ConfigError(f"unknown setting {name!r}") from None

    def _validate(self, setting: Setting, value: Any, source: str | None) -> Any:
        try:
            return setting.validator(value, self)
        except _Invalid as exc:
            where = f" (in {source})" if source else ""
            raise ConfigError(
                f"invalid value for {setting.label}: {_short_repr(value)} {exc.reason}{where}"
            ) from None

    # -- gunicorn's computed views -------------------------------------------------------------

    @property
    def worker_class(self) -> Any:
        """The worker class, after gunicorn's rule: a sync worker with threads > 1 is gthread."""
        value = self._values["worker_class"]
        if _is_sync(value) and self._values["threads"] > 1:
            return "gthread"
        return value

    @property
    def worker_class_str(self) -> str:
        return _worker_class_name(self.worker_class)

    @property
    def sendfile(self) -> bool:
        """gunicorn's reading: any explicit value (even True) disables sendfile; otherwise the
        SENDFILE environment variable decides (y/1/yes/true); unset means enabled."""
        if self._values["sendfile"] is not None:
            return False
        if "SENDFILE" in self.environ:
            return self.environ["SENDFILE"].lower() in ("y", "1", "yes", "true")
        return True

    @property
    def proc_name(self) -> str:
        value = self._values["proc_name"]
        return value if value is not None else self._values["default_proc_name"]

    @property
    def uid(self) -> int:
        return self._values["user"]

    @property
    def gid(self) -> int:
        return self._values["group"]

    @property
    def is_ssl(self) -> bool:
        return bool(self._values["certfile"] or self._values["keyfile"])

    @property
    def env(self) -> dict[str, str]:
        """raw_env as a dict (the validator guarantees every entry has an '=')."""
        return dict(entry.split("=", 1) for entry in self._values["raw_env"])

    @property
    def addresses(self) -> list[Address]:
        """``bind`` parsed into Address values (ConfigError on a bad entry)."""
        return [parse_address(entry) for entry in self._values["bind"]]

    @property
    def address(self) -> list[Any]:
        """gunicorn's shapes: (host, port) for TCP, the path for Unix sockets, an int for fds."""
        shapes: list[Any] = []
        for a in self.addresses:
            shapes.append((a.host, a.port) if a.kind == "tcp" else a.path or a.fd)
        return shapes

    # -- what this milestone serves ------------------------------------------------------------

    def refusals(self) -> list[str]:
        """One message per setting whose value monoceros cannot honour yet, in table order."""
        messages: list[str] = []
        for setting in SETTINGS:
            special = _SUPPORT_RULES.get(setting.name)
            if special is not None:
                message = special(self, setting)
                if message:
                    messages.append(message)
            elif (
                not setting.supported
                and not self.is_default(setting.name)
                and not self._dormant(setting.name)
            ):
                messages.append(f"setting {setting.label} is not supported by monoceros yet")
        return messages

    def _dormant(self, name: str) -> _DormantFeature | None:
        """The feature, off in this configuration, that setting ``name`` belongs to."""
        feature = _DORMANT_FEATURE_OF.get(name)
        return feature if feature is not None and not feature.is_on(self) else None

    def dormant_settings(self) -> list[str]:
        """One line per unsupported setting given a value that changes nothing, because the
        feature it belongs to is off (logged at debug level at startup)."""
        lines = []
        for setting in SETTINGS:
            feature = self._dormant(setting.name)
            if feature is not None and not setting.supported and not self.is_default(setting.name):
                lines.append(f"setting {setting.label} has no effect: {feature.description}")
        return lines

    def check_supported(self) -> None:
        """Raise ConfigError naming the first setting monoceros cannot honour yet."""
        messages = self.refusals()
        if messages:
            raise ConfigError(messages[0])
