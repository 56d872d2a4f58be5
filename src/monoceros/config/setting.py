"""The settings table's row type, and the errors raised when a value is refused."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monoceros.config.model import Config


class ConfigError(Exception):
    """A configuration problem. ``str(error)`` is one readable line without an "Error:" prefix;
    the command line prints it as ``Error: <message>``, as gunicorn does."""


class _Invalid(ValueError):
    """Raised by validators. ``reason`` completes the sentence "<value> ...",
    e.g. "is not an integer"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# A validator receives the raw value and the Config being filled (for the start directory and
# the environment) and returns the normalised value, or raises _Invalid.
Validator = Callable[[Any, "Config"], Any]
# A default factory computes a default from the environment and the start directory.
DefaultFactory = Callable[[Mapping[str, str], str], Any]


@dataclasses.dataclass(frozen=True)
class Setting:
    """One row of the settings table.

    ``action`` says how the command-line flags behave:
      value    -- takes one argument (``--workers 4``)
      flag     -- takes none and stores True (``--preload``)
      const    -- takes none and stores ``const`` (``--no-sendfile`` stores False)
      append   -- takes one argument, may repeat, collects a list (``-b A -b B``)
      optional -- takes zero or one argument; alone it stores ``const`` (``--proxy-protocol``)
    """

    name: str
    section: str
    flags: tuple[str, ...]
    _: dataclasses.KW_ONLY
    help: str
    validator: Validator
    default: Any = None
    default_factory: DefaultFactory | None = None
    default_doc: str | None = None
    action: str = "value"
    metavar: str | None = None
    const: Any = None
    cli_type: Callable[[str], Any] | None = None
    supported: bool = False
    extension: bool = False

    @property
    def label(self) -> str:
        """``'workers' (--workers)``: how messages name the setting."""
        flag = self.long_flag
        return f"'{self.name}' ({flag})" if flag else f"'{self.name}'"

    @property
    def long_flag(self) -> str | None:
        for flag in self.flags:
            if flag.startswith("--"):
                return flag
        return self.flags[0] if self.flags else None

    def compute_default(self, environ: Mapping[str, str], cwd: str) -> Any:
        if self.default_factory is not None:
            return self.default_factory(environ, cwd)
        return self.default


def _default_text(setting: Setting) -> str:
    """A setting's default as --help and docs/settings.md show it."""
    if setting.default_doc is not None:
        return setting.default_doc
    return f"`{setting.default!r}`"
