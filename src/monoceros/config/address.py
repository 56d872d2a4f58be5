"""Bind addresses: ``parse_address`` reads a ``bind`` entry the way gunicorn does."""

from __future__ import annotations

import dataclasses

from monoceros.config.setting import ConfigError


@dataclasses.dataclass(frozen=True)
class Address:
    """A parsed ``bind`` entry. kind is "tcp" (host, port), "unix" (path) or "fd" (fd)."""

    kind: str
    host: str | None = None
    port: int | None = None
    path: str | None = None
    fd: int | None = None

    def as_tuple(self) -> tuple[str, str | None, int | None, str | None, int | None]:
        return (self.kind, self.host, self.port, self.path, self.fd)

    def __str__(self) -> str:
        if self.kind == "unix":
            return f"unix:{self.path}"
        if self.kind == "fd":
            return f"fd://{self.fd}"
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_address(text: str, default_port: int = 8000) -> Address:
    """Parse one bind address the way gunicorn does.

    ``unix:PATH`` / ``unix://PATH``, ``fd://N``, optional ``tcp://`` prefix, ``[v6]`` or
    ``[v6]:PORT``, ``HOST`` or ``HOST:PORT``. Hosts are lower-cased; an empty host means
    0.0.0.0. Raises ConfigError for a bad port or file descriptor.
    """

    def bad(reason: str) -> ConfigError:
        return ConfigError(f"invalid value for 'bind' (--bind): {text!r} {reason}")

    if text.startswith("unix:"):
        path = text[len("unix://") :] if text.startswith("unix://") else text[len("unix:") :]
        if not path:
            raise bad("has an empty socket path")
        return Address("unix", path=path)
    if text.startswith("fd://"):
        number = text[len("fd://") :]
        if not number.isdigit():
            raise bad(f"has {number!r}, which is not a valid file descriptor")
        return Address("fd", fd=int(number))

    netloc = text[len("tcp://") :] if text.startswith("tcp://") else text
    host, port_text = netloc, str(default_port)
    if netloc.startswith("[") and "]" in netloc:
        host, _, rest = netloc[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise bad("has text after the ']' that is not ':PORT'")
            port_text = rest[1:]
    elif ":" in netloc:
        host, _, port_text = netloc.partition(":")
    try:
        port = int(port_text)
    except ValueError:
        raise bad(f"has {port_text!r}, which is not a valid port number") from None
    if not 0 <= port <= 65535:
        raise bad(f"has port {port}, outside 0..65535")
    return Address("tcp", host=host.lower() or "0.0.0.0", port=port)
