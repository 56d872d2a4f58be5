"""The HTTP/1.1 conformance checklist (../shared/http-conformance.md, rows A1-I5) as data.

One `Row` per checklist row, in checklist order; each holds one or more `Payload`s. Every row is
here: a row (or the part of one) that needs a feature monoceros does not have yet carries
`pending="<reason>"` and is reported as skipped, never left out. tests/test_conformance.py
replays every payload against monoceros (and, in a separate test, against gunicorn) serving
tests/apps/conformance_app.py.

A payload expects one of three outcomes:
  rejection  `status` + `close=True`: the server answers `status` with Connection: close, closes
             the connection and never calls the app
  accepted   `app={...}`: the app is called once and sees exactly these echo fields (see
             `echo()`: the HTTP_* / CONTENT_* keys must match as a set, scalars and the body
             must be equal)
  response   `response={...}`: for the response-side rows (I1-I5, and H-rows that need an app
             behaviour): the request goes to a /__conformance/ route and the checks of
             `RESPONSE_CHECKS` apply to what the client receives

This table is also the single place where expected divergences from gunicorn are recorded:
`gunicorn="<outcome>: <what gunicorn does>"`, where <outcome> is what the differential test
observes for gunicorn (`200 app`, `400`, `500 app`, ...), and `doc="<text>"` names the row of
docs/differences.md that explains the divergence (the text must appear in one of its table rows).
A known monoceros bug is recorded as `bug="<what goes wrong>"` and turns the payload into a strict
xfail.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# --------------------------------------------------------------------------------- model

# Server flags monoceros has and gunicorn lacks: left out when the same payload is replayed
# against gunicorn.
# The value is how many arguments follow the flag.
MONOCEROS_ONLY_FLAGS = {"--permit-missing-host": 0, "--limit-request-body": 1}


def gunicorn_flags(flags: tuple[str, ...]) -> tuple[str, ...]:
    """`flags` without the monoceros-only ones (and their values), for gunicorn; monoceros'
    event worker becomes gunicorn's keep-alive worker, gthread."""
    out: list[str] = []
    skip = 0
    for flag in flags:
        if skip:
            skip -= 1
        elif flag in MONOCEROS_ONLY_FLAGS:
            skip = MONOCEROS_ONLY_FLAGS[flag]
        else:
            out.append("gthread" if flag == "event" and out and out[-1] == "-k" else flag)
    return tuple(out)


# The checks a `response={...}` expectation may use.
RESPONSE_CHECKS = frozenset(
    {
        "body",  # bytes: the (dechunked) body, exactly
        "complete",  # bool: whether the body was complete according to its framing
        "extra",  # bytes: what follows the response on the connection (default b"")
        "absent",  # header names that must not be sent
        "headers",  # {name: value}: headers that must be sent with exactly this value
        "head_only",  # True: nothing at all after the response head
        "interim",  # [status, ...]: the 1xx responses before the final one (default [])
    }
)


@dataclass(frozen=True)
class Payload:
    """One request (or byte stream) sent on a fresh connection, and what must happen."""

    label: str  # unique within its row; the pytest id is "<row>-<label>"
    data: bytes
    status: int = 200
    close: bool = False  # a rejection: Connection: close, server closes, app not called
    app: dict | None = None  # accepted: the echo the app must produce (see echo())
    response: dict | None = None  # response-side checks (see RESPONSE_CHECKS)
    flags: tuple[str, ...] = ()  # server flags (a server is started per distinct set)
    half_close: bool = False  # shut our write side down after sending (the bytes end mid-way)
    then: bytes | None = None  # sent once an interim 100 Continue has been read (H7)
    # Responses expected after the first one, in order (pipelined requests, H1-H5): the status
    # and, for responses from the echo app, the PATH_INFO it saw.
    later: tuple[tuple[int, str | None], ...] = ()
    method: str | None = None  # for reading the response (default: the payload's first word)
    pending: str | None = None  # not testable yet: skipped with this reason
    bug: str | None = None  # a known monoceros bug: strict xfail with this reason
    gunicorn: str | None = None  # "<outcome>: <what gunicorn does>" where it differs
    doc: str | None = None  # the docs/differences.md row that explains `gunicorn`
    row: str = ""  # filled in by row()

    @property
    def id(self) -> str:
        return f"{self.row}-{self.label}"

    @property
    def is_rejection(self) -> bool:
        return self.app is None and self.response is None

    @property
    def reaches_app(self) -> bool:
        return not self.is_rejection

    @property
    def expected_outcome(self) -> str:
        """What the differential test compares: the status, and whether the app was called."""
        return f"{self.status} app" if self.reaches_app else str(self.status)

    @property
    def gunicorn_outcome(self) -> str | None:
        return None if self.gunicorn is None else self.gunicorn.split(":", 1)[0].strip()


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    payloads: tuple[Payload, ...] = field(default_factory=tuple)


def row(row_id: str, title: str, *payloads: Payload) -> Row:
    labels = [p.label for p in payloads]
    assert len(labels) == len(set(labels)), f"duplicate labels in {row_id}: {labels}"
    return Row(row_id, title, tuple(replace(p, row=row_id) for p in payloads))


# ----------------------------------------------------------------------- building blocks

CRLF = b"\r\n"
HOST = b"Host: a"
CHUNKED_HEAD = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"


def msg(start: bytes, *fields: bytes, body: bytes = b"", host: bool = True) -> bytes:
    """A request: `start` line, Host: a (unless host=False), `fields`, empty line, `body`."""
    lines = [start, *([HOST] if host else []), *fields]
    return b"".join(line + CRLF for line in lines) + CRLF + body


def get(target: bytes = b"/", *fields: bytes, version: bytes = b"HTTP/1.1") -> bytes:
    return msg(b"GET " + target + b" " + version, *fields)


def post(body: bytes, *fields: bytes, length: bytes | None = None) -> bytes:
    """POST / with Content-Length (len(body) unless `length` is given) and `fields`."""
    cl = b"%d" % len(body) if length is None else length
    return msg(b"POST / HTTP/1.1", b"Content-Length: " + cl, *fields, body=body)


def te(value: bytes, body: bytes = b"0\r\n\r\n", *fields: bytes, version=b"HTTP/1.1") -> bytes:
    """POST / with `Transfer-Encoding: value`, `fields` and `body` (default: the last chunk)."""
    return msg(b"POST / " + version, b"Transfer-Encoding: " + value, *fields, body=body)


def chunked(body: bytes) -> bytes:
    """POST / with Transfer-Encoding: chunked and a body given on the wire as is."""
    return CHUNKED_HEAD + body


def echo(
    method: str = "GET",
    uri: str = "/",
    path: str = "/",
    query: str = "",
    protocol: str = "HTTP/1.1",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    **scalars: str,
) -> dict:
    """The echo of an accepted request. `headers` is the exact set of HTTP_* / CONTENT_TYPE /
    CONTENT_LENGTH keys (default {"HTTP_HOST": "a"}); `scalars` adds other environ keys to
    compare (wsgi.url_scheme is spelled url_scheme)."""
    out = {
        "REQUEST_METHOD": method,
        "RAW_URI": uri,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": protocol,
        "headers": {"HTTP_HOST": "a"} if headers is None else headers,
        "body": body,
    }
    for key, value in scalars.items():
        out["wsgi.url_scheme" if key == "url_scheme" else key] = value
    return out


def posted(body: bytes, **headers: str) -> dict:
    """The echo of `POST /` with Content-Length and `body` (extra HTTP_* keys in `headers`)."""
    return echo(
        "POST",
        headers={"HTTP_HOST": "a", "CONTENT_LENGTH": str(len(body)), **headers},
        body=body,
    )


def dechunked(body: bytes, **headers: str) -> dict:
    """The echo of a chunked `POST /` whose payload is `body`."""
    return echo(
        "POST",
        headers={"HTTP_HOST": "a", "HTTP_TRANSFER_ENCODING": "chunked", **headers},
        body=body,
    )


def bad(label: str, data: bytes, status: int = 400, **kw) -> Payload:
    """A rejection: `status`, Connection: close, the server closes, the app is not called."""
    return Payload(label, data, status=status, close=True, **kw)


def ok(label: str, data: bytes, app: dict, **kw) -> Payload:
    """Accepted: the app is called once and echoes `app` (see echo())."""
    return Payload(label, data, status=200, app=app, **kw)


def respond(label: str, data: bytes, status: int = 200, **checks) -> Payload:
    """A request to an app behaviour; `checks` are RESPONSE_CHECKS keys (plus Payload fields)."""
    fields = {k: checks.pop(k) for k in list(checks) if k not in RESPONSE_CHECKS}
    return Payload(label, data, status=status, response=checks, **fields)


def route(path: str, query: str = "", method: bytes = b"GET", version=b"HTTP/1.1") -> bytes:
    target = f"/__conformance/{path}" + (f"?{query}" if query else "")
    return msg(method + b" " + target.encode("ascii") + b" " + version)


# The keep-alive rows run against the event worker (gunicorn's sync worker, like monoceros',
# answers one request per connection); the differential test uses gunicorn's gthread worker.
EVENT = ("-k", "event")
# gunicorn has no body limit: monoceros' --limit-request-body (an extension) bounds it here,
# and the differential test has nothing to compare these payloads with.
BODY_LIMIT_FLAGS = ("--limit-request-body", "1024")
NO_GUNICORN_COUNTERPART = frozenset({"--limit-request-body"})

# Rows of docs/differences.md (text that appears in the row).
DOC_NO_HOST = "HTTP/1.1 request without `Host`"
DOC_H2_VERSION = "`HTTP/2.0` or `HTTP/3.0` in an HTTP/1.x request line"
DOC_TE_ALONE = "`Transfer-Encoding: identity` or `gzip` alone"
DOC_HTTP09 = "`HTTP/0.9` written as a version"
DOC_HOST_SYNTAX = "`Host` with an empty port (`h:`), IPv6 zone or future forms"
DOC_HTTP12 = "`HTTP/1.2` … `HTTP/1.9`"
DOC_FOLD_EMPTY_FIRST = "Folded header (`permit_obsolete_folding`) whose first line is empty"
DOC_CHUNKED_CUT = "A chunked body cut short by the client's end of stream"

# More divergences the differential test found, each with its row in docs/differences.md.
DOC_LEADING_CRLF = "More than one empty line before the request line"
DOC_HUGE_LENGTH = "A `Content-Length` or chunk size that does not fit in 64 bits"
DOC_TE_SYNTAX = "A `Transfer-Encoding` value that is not a list of coding names"
DOC_TE_EMPTY_ELEMENTS = "A `Transfer-Encoding` list with empty elements"
DOC_TE_UNKNOWN_WITH_CL = "An unknown transfer coding together with `Content-Length`"
DOC_CHUNKED_ERRORS = "A malformed chunked body"
DOC_HOST = "A `Host` that is not a valid authority"
DOC_CONNECT = "`CONNECT host:port` (authority-form)"
DOC_PROXY_V2_MALFORMED = "A PROXY protocol v2 header with an unknown family or protocol"
DOC_GZIP_CHUNKED = "`Transfer-Encoding: gzip, chunked`"
DOC_APP_CL = "A `Content-Length` from the app that is not 1*DIGIT"

# gunicorn reads a chunked body only when the app does: the app is called, and the framing error
# surfaces from wsgi.input (400).
GUNICORN_CHUNKED = {
    "gunicorn": "400 app: calls the app; the error surfaces when it reads wsgi.input",
    "doc": DOC_CHUNKED_ERRORS,
}
GUNICORN_TE_501 = "501: Unsupported transfer coding"


# ---------------------------------------------------------------------------- the rows

A_REQUEST_LINE = [
    row(
        "A1",
        "LF as the separator between target and version",
        bad("lf-separator", b"GET /\nHTTP/1.1\r\n\r\n"),
        bad("lf-separator-host", b"GET /\nHTTP/1.1\r\nHost: a\r\n\r\n"),
    ),
    row(
        "A2",
        "bare LF ends the request line",
        bad("bare-lf", b"GET / HTTP/1.1\nHost: a\r\n\r\n"),
    ),
    row(
        "A3",
        "empty request-target",
        bad("empty-target", b"GET  HTTP/1.1\r\nHost: a\r\n\r\n"),
    ),
    row(
        "A4",
        "space inside the target",
        bad("space-in-target", get(b"/pa th")),
    ),
    row(
        "A5",
        "whitespace other than one SP between the parts of the request line",
        bad("tab", b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"),
        bad("three-sp", b"GET   /   HTTP/1.0\r\n\r\n"),
        bad("two-sp", b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n"),
        bad("vt", b"GET\x0b/ HTTP/1.1\r\nHost: a\r\n\r\n"),
        bad("ff", b"GET\x0c/ HTTP/1.1\r\nHost: a\r\n\r\n"),
        bad("cr", b"GET\r/ HTTP/1.1\r\nHost: a\r\n\r\n"),
        bad("tab-before-version", b"GET /\tHTTP/1.1\r\nHost: a\r\n\r\n"),
        bad("trailing-sp", b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n"),
    ),
    row(
        "A6",
        "method with a non-tchar or NUL",
        bad("separators", msg(b'G=":<>(e),[T];?" / HTTP/1.1')),
        bad("colon", msg(b"GET: / HTTP/1.1")),
        bad("bla-colon", msg(b"bla:rgh / HTTP/1.1")),
        bad("nul", msg(b"GET\x00 / HTTP/1.1")),
        bad("leading-dash", msg(b"-bl / HTTP/1.1")),
        bad("high-byte", msg(b"G\xc9T / HTTP/1.1")),
    ),
    row(
        "A7",
        "lower-case or unknown method that is a valid token",
        ok("unknown", msg(b"FOOBAR / HTTP/1.1"), echo("FOOBAR")),
        bad("lower-case", msg(b"get / HTTP/1.1")),
        bad("hash", msg(b"GE#T / HTTP/1.1")),
        ok(
            "lower-case-permitted",
            msg(b"get / HTTP/1.1"),
            echo("get"),
            flags=("--permit-unconventional-http-method",),
        ),
        ok(
            "hash-permitted",
            msg(b"GE#T / HTTP/1.1"),
            echo("GE#T"),
            flags=("--permit-unconventional-http-method",),
        ),
    ),
    row(
        "A8",
        "method longer than any implemented one",
        bad("1kib", msg(b"A" * 1024 + b" / HTTP/1.1")),
        bad("21-chars", msg(b"ABCDEFGHIJKLMNOPQRSTU / HTTP/1.1")),
    ),
    row(
        "A9",
        "NUL, CTL, DEL or a byte >= 0x80 in the target",
        bad("nul", get(b"/\x00test")),
        bad("soh", get(b"/\x01")),
        bad("us", get(b"/a\x1fb")),
        bad("del", get(b"/\x7fhello")),
        bad("utf8", get("/café".encode())),
        bad("0x80", get(b"/\x80")),
        bad("0xff", get(b"/a?\xff")),
    ),
    row(
        "A10",
        "relative (non origin-form) target",
        bad("relative", get(b"foo/bar")),
    ),
    row(
        "A11",
        "asterisk-form",
        bad("get-asterisk", get(b"*")),
        ok(
            "options-asterisk",
            msg(b"OPTIONS * HTTP/1.1"),
            echo("OPTIONS", uri="*", path="*"),
        ),
    ),
    row(
        "A12",
        "authority-form",
        bad("get-authority", get(b"example.com:443")),
        ok(
            "connect",
            msg(b"CONNECT h:443 HTTP/1.1"),
            echo("CONNECT", uri="h:443", path="h:443"),
            gunicorn=(
                "200 app: PATH_INFO '443' (urlsplit reads 'h' as a scheme; test_corpus.py "
                "GUNICORN_DIFFERENCES valid/rfc9112_target_authority_connect_01)"
            ),
            doc=DOC_CONNECT,
        ),
    ),
    row(
        "A13",
        "absolute-form: the target's path and query, whatever Host says",
        ok(
            "absolute",
            get(b"http://h:8/p?q").replace(HOST, b"Host: other"),
            echo(uri="http://h:8/p?q", path="/p", query="q", headers={"HTTP_HOST": "other"}),
        ),
        ok(
            "absolute-ipv6",
            get(b"http://[::1]:8080/foo"),
            echo(uri="http://[::1]:8080/foo", path="/foo"),
        ),
        ok(
            "absolute-userinfo",
            get(b"http://user:pass@example.com:8080/foo?q=1"),
            echo(uri="http://user:pass@example.com:8080/foo?q=1", path="/foo", query="q=1"),
        ),
        ok(
            "absolute-https",
            get(b"https://example.com/foo"),
            echo(uri="https://example.com/foo", path="/foo"),
        ),
    ),
    row(
        "A14",
        "request line longer than limit_request_line (4094)",
        bad("long-target", get(b"/" + b"a" * 5000), status=414),
        bad("long-method", msg(b"A" * 5000 + b" / HTTP/1.1"), status=414),
        ok(
            "at-limit",
            # "GET " + target + " HTTP/1.1" is exactly 4094 bytes.
            get(b"/" + b"a" * 4080),
            echo(uri="/" + "a" * 4080, path="/" + "a" * 4080),
        ),
        bad("limit-plus-one", get(b"/" + b"a" * 4081), status=414),
    ),
    row(
        "A15",
        "HTTP/0.9 (no version)",
        bad("no-version", b"GET /\r\n"),
        bad("no-version-host", b"GET /\r\nHost: a\r\n\r\n"),
        bad(
            "http-0.9-version",
            get(b"/", version=b"HTTP/0.9"),
            status=505,
            gunicorn="400: Invalid HTTP Version",
            doc=DOC_HTTP09,
        ),
    ),
    row(
        "A16",
        "empty lines before the request line",
        ok("one-crlf", b"\r\n" + get(b"/"), echo()),
        *[
            ok(
                f"{n}-crlf",
                b"\r\n" * n + get(b"/"),
                echo(),
                gunicorn="400: ignores only one empty line before the request line",
                doc=DOC_LEADING_CRLF,
            )
            for n in (2, 8)
        ],
        bad("9-crlf", b"\r\n" * 9 + get(b"/")),
        bad("many-crlf", b"\r\n" * 64 + get(b"/")),
        bad("bare-lf", b"\n" + get(b"/")),
    ),
    row(
        "A17",
        "whitespace-only line, binary garbage, TLS, HTTP/2 preface",
        bad("whitespace-line", b" \r\n" + get(b"/")),
        bad("tab-line", b"\t\r\n\r\n"),
        bad("binary", bytes(range(256))),
        bad(
            "tls-client-hello",
            b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(range(32)) + b"\x00\x00",
        ),
        bad(
            "h2-preface",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            status=505,
            gunicorn="400: Invalid HTTP request line",
            doc=DOC_H2_VERSION,
        ),
    ),
]

B_VERSION = [
    row(
        "B1",
        "malformed HTTP-version",
        *[
            bad(label, get(b"/", version=version))
            for label, version in [
                ("1.32", b"HTTP/1.32"),
                ("01.1", b"HTTP/01.1"),
                ("1.01", b"HTTP/1.01"),
                ("no-minor", b"HTTP/1"),
                ("lower-case", b"http/1.1"),
                ("space", b"HTTP/ 1.1"),
                ("cr-cr", b"HTTP/\r\r1.1"),
                ("111", b"HTTP/111"),
                ("many-digits", b"HTTP/1111111111111.1"),
                ("4294967295.255", b"HTTP/4294967295.255"),
                ("ftp", b"FTP/1.1"),
                ("ice", b"ICE/1.0"),
                ("suffix", b"HTTP/1.1x"),
                ("no-dot", b"HTTP/11"),
            ]
        ],
    ),
    row(
        "B2",
        "HTTP/2.0 or HTTP/3.0 in an HTTP/1.x request line",
        *[
            bad(
                label,
                get(b"/", version=version),
                status=505,
                gunicorn="400: Invalid HTTP Version",
                doc=DOC_H2_VERSION,
            )
            for label, version in [("2.0", b"HTTP/2.0"), ("3.0", b"HTTP/3.0")]
        ],
    ),
    row(
        "B3",
        "HTTP/1.2 is handled as HTTP/1.1",
        *[
            ok(
                v,
                get(b"/", version=f"HTTP/{v}".encode()),
                echo(),
                gunicorn=(
                    f"200 app: SERVER_PROTOCOL 'HTTP/{v}', and HTTP/{v} in its status line "
                    "(the doc row says 400)"
                ),
                doc=DOC_HTTP12,
            )
            for v in ("1.2", "1.9")
        ],
    ),
    row(
        "B4",
        "HTTP/1.0 with Transfer-Encoding: chunked (see E1)",
        bad("1.0-chunked", te(b"chunked", version=b"HTTP/1.0")),
    ),
]

C_FIELDS = [
    row(
        "C1",
        "obs-fold",
        bad("fold", get(b"/", b"Long: one", b" two")),
        bad("fold-tab", get(b"/", b"Long: one", b"\ttwo")),
        bad("fold-te", te(b"", b"5\r\nhello\r\n0\r\n\r\n", b" chunked")),
        ok(
            "fold-permitted",
            get(b"/", b"Long: one", b" two"),
            echo(headers={"HTTP_HOST": "a", "HTTP_LONG": "one two"}),
            flags=("--permit-obsolete-folding",),
        ),
        ok(
            "fold-te-permitted",
            te(b"", b"5\r\nhello\r\n0\r\n\r\n", b" chunked"),
            dechunked(b"hello"),
            flags=("--permit-obsolete-folding",),
            gunicorn="200 app: HTTP_TRANSFER_ENCODING ' chunked' (a leading space)",
            doc=DOC_FOLD_EMPTY_FIRST,
        ),
    ),
    row(
        "C2",
        "whitespace between a field name and the colon",
        bad("cl-space", msg(b"POST / HTTP/1.1", b"Content-Length : 3", body=b"abc")),
        bad("te-tab", msg(b"POST / HTTP/1.1", b"Transfer-Encoding\t: chunked", body=b"0\r\n\r\n")),
        bad("other-space", get(b"/", b"X-Foo : bar")),
        ok(
            "cl-space-stripped",
            msg(b"POST / HTTP/1.1", b"Content-Length : 3", body=b"abc"),
            posted(b"abc"),
            flags=("--strip-header-spaces",),
        ),
    ),
    row(
        "C3",
        "whitespace-led line before the first field",
        bad("tab-cl", b"GET / HTTP/1.1\r\n\tContent-Length: 1\r\nHost: a\r\n\r\nx"),
        bad("sp-line", b"GET / HTTP/1.1\r\n \r\nHost: a\r\n\r\n"),
        bad("sp-host", b"GET / HTTP/1.1\r\n Host: a\r\n\r\n"),
    ),
    row(
        "C4",
        "empty field name",
        bad("colon-value", get(b"/", b": ignored")),
        bad("colon-only", get(b"/", b":")),
    ),
    row(
        "C5",
        "field line without a colon",
        bad("cl-no-colon", msg(b"POST / HTTP/1.1", b"Content-Length 10", body=b"0123456789")),
        bad("split-name", te(b"chunked").replace(b"Transfer-Encoding", b"Transfer-\r\nEncoding")),
        bad("bare-name", get(b"/", b"NoColon")),
    ),
    row(
        "C6",
        "non-tchar in a field name",
        *[
            bad(f"0x{ch:02x}", get(b"/", b"X" + bytes([ch]) + b"Y: v"))
            for ch in [0x00, 0x01, 0x09, 0x0B, 0x0C, 0x1F, 0x20, 0x7F, 0x80, 0xFF]
        ],
        *[bad(f"sep-{ch}", get(b"/", b"X" + ch.encode() + b"Y: v")) for ch in '"(),/;<=>?@[\\]{}'],
        bad("xef", get(b"/", b"\xefoo: v")),
        bad("cl-x85", msg(b"POST / HTTP/1.1", b"Content-Length\x85: 1", body=b"x")),
        bad("ba-nul-z", get(b"/", b"ba\x00z: v")),
    ),
    row(
        "C7",
        "NUL, CR or LF inside a field value",
        bad("nul-cr", get(b"/", b"X: v\x00\ralue")),
        bad("cr", get(b"/", b"X: va\rlue")),
        bad("nul", get(b"/", b"X: a\x00b")),
        bad("useless-lf", get(b"/", b"Useless:\n\nGET /smuggled HTTP/1.1")),
        bad("lf-continuation", get(b"/", b"X: a\nb")),
    ),
    row(
        "C8",
        "other CTLs in a field value",
        bad("bel-bs", get(b"/", b"X: abc\x07\x08")),
        *[
            bad(f"0x{ch:02x}", get(b"/", b"X: a" + bytes([ch]) + b"b"))
            for ch in [*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]
        ],
        bad("leading-vt", get(b"/", b"X: \x0bab")),
        bad("trailing-ff", get(b"/", b"X: ab\x0c")),
    ),
    row(
        "C9",
        "bare LF or bare CR as a field-line terminator",
        bad("lf-between-fields", b"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"),
        bad("lf-lf-end", b"GET / HTTP/1.1\r\nHost: a\n\n"),
        bad("crlf-lf-end", b"GET / HTTP/1.1\r\nHost: a\r\n\n"),
        bad("cr-led-line", b"GET / HTTP/1.1\r\nHost: a\r\n\rX: b\r\n\r\n"),
        bad("bare-cr-end", b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"),
    ),
    row(
        "C10",
        "obs-text in a value reaches the app byte for byte (latin-1)",
        ok(
            "x85-xa0",
            get(b"/", b"User: \x85admin\xa0"),
            echo(headers={"HTTP_HOST": "a", "HTTP_USER": "\x85admin\xa0"}),
        ),
        ok(
            "xff",
            get(b"/", b"X-Bin: \xffa\xff"),
            echo(headers={"HTTP_HOST": "a", "HTTP_X_BIN": "\xffa\xff"}),
        ),
        ok(
            "ows-trimmed",
            get(b"/", b"X-Ows: \t a b \t"),
            echo(headers={"HTTP_HOST": "a", "HTTP_X_OWS": "a b"}),
        ),
        ok(
            "host-xff",
            get(b"/").replace(HOST, b"Host: \xffa\xff"),
            echo(headers={"HTTP_HOST": "\xffa\xff"}),
        ),
    ),
    row(
        "C11",
        "underscore in a field name never maps onto a dashed name",
        ok(
            "te-underscore-dropped",
            post(b"hello", b"Transfer_Encoding: chunked"),
            posted(b"hello"),
        ),
        ok(
            "cl-underscore-dropped",
            get(b"/", b"Content_Length: -1E23"),
            echo(),
        ),
        ok(
            "underscore-beside-dash",
            get(b"/", b"X_Y: impersonated", b"X-Y: real"),
            echo(headers={"HTTP_HOST": "a", "HTTP_X_Y": "real"}),
        ),
        bad("refuse", get(b"/", b"X_Y: 1"), flags=("--header-map", "refuse")),
        bad(
            "te-refuse",
            post(b"hello", b"Transfer_Encoding: chunked"),
            flags=("--header-map", "refuse"),
        ),
        ok(
            "dangerous-does-not-frame",
            post(b"hello", b"Transfer_Encoding: chunked"),
            posted(b"hello", HTTP_TRANSFER_ENCODING="chunked"),
            flags=("--header-map", "dangerous"),
        ),
    ),
    row(
        "C12",
        "too many fields, too long a field (431)",
        bad("101-fields", get(b"/", *[b"X-%d: v" % i for i in range(100)]), status=431),
        ok(
            "100-fields",
            get(b"/", *[b"X-%d: v" % i for i in range(99)]),
            echo(headers={"HTTP_HOST": "a", **{f"HTTP_X_{i}": "v" for i in range(99)}}),
        ),
        bad("field-9000", get(b"/", b"X: " + b"v" * 9000), status=431),
        ok(
            # The field line plus its CRLF is exactly limit_request_field_size (8190).
            "field-at-limit",
            get(b"/", b"X: " + b"v" * 8185),
            echo(headers={"HTTP_HOST": "a", "HTTP_X": "v" * 8185}),
        ),
        bad("field-limit-plus-one", get(b"/", b"X: " + b"v" * 8186), status=431),
        ok(
            # 100 fields of ~8 KB each: the largest header section the default limits allow.
            "largest-section",
            get(b"/", *[b"X-%02d: " % i + b"v" * 8000 for i in range(99)]),
            echo(headers={"HTTP_HOST": "a", **{f"HTTP_X_{i:02d}": "v" * 8000 for i in range(99)}}),
        ),
    ),
    row(
        "C13",
        "duplicate singleton fields",
        bad("host-same", get(b"/", b"Host: a")),
        bad("host-different", get(b"/", b"Host: b")),
        bad("content-type", get(b"/", b"Content-Type: text/plain", b"Content-Type: text/html")),
    ),
    row(
        "C14",
        "other duplicate fields are joined with ','",
        ok(
            "joined",
            get(b"/", b"X-Dup: a", b"X-Dup: b"),
            echo(headers={"HTTP_HOST": "a", "HTTP_X_DUP": "a,b"}),
        ),
        ok(
            "three",
            get(b"/", b"Accept: a", b"Accept: b, c", b"Accept: d"),
            echo(headers={"HTTP_HOST": "a", "HTTP_ACCEPT": "a,b, c,d"}),
        ),
    ),
]

D_CONTENT_LENGTH = [
    row(
        "D1",
        "conflicting Content-Length fields",
        bad("1-then-0", post(b"x", b"Content-Length: 0", length=b"1")),
        bad("0-then-1", post(b"x", b"Content-Length: 1", length=b"0")),
    ),
    row(
        "D2",
        "identical duplicate Content-Length (field or list)",
        bad("twice", post(b"hello", b"Content-Length: 5")),
        bad("list", post(b"hello", length=b"5, 5")),
    ),
    row(
        "D3",
        "Content-Length list with different values",
        bad("5-10", post(b"hello", length=b"5, 10")),
    ),
    row(
        "D4",
        "Content-Length that is not 1*DIGIT",
        *[
            bad(label, post(b"0123456789", length=value))
            for label, value in [
                ("plus", b"+1"),
                ("minus", b"-1"),
                ("minus-zero", b"-0"),
                ("hex", b"0x10"),
                ("octal", b"0o5"),
                ("underscore", b"1_0"),
                ("plus-underscore", b"+1_0"),
                ("zero-underscore", b"0_1"),
                ("suffix", b"1Z"),
                ("inner-space", b"1 0"),
                ("inner-space-3-1", b"3 1"),
                ("words", b"bla-bla"),
                ("exponent", b"-1E23"),
                ("float", b"1.0"),
                ("superscript-two", "²".encode()),
                ("arabic-indic", "٣".encode()),
                ("fullwidth", "５".encode()),
                ("latin1-superscript", b"\xb2"),
            ]
        ],
    ),
    row(
        "D5",
        "empty Content-Length",
        bad("alone", post(b"", length=b"")),
        bad("before-real", post(b"hello", b"Content-Length: 5", length=b"")),
    ),
    row(
        "D6",
        "leading zeros are decimal, never octal",
        *[
            ok(
                value,
                post(b"x" * int(value), length=value.encode()),
                echo(
                    "POST",
                    headers={"HTTP_HOST": "a", "CONTENT_LENGTH": value},
                    body=b"x" * int(value),
                ),
            )
            for value in ("005", "010", "0200")
        ],
    ),
    row(
        "D7",
        "Content-Length overflow",
        *[
            bad(
                label,
                post(b"hello", length=value),
                gunicorn="no response app: calls the app, which waits for that many bytes",
                doc=DOC_HUGE_LENGTH,
            )
            for label, value in [
                ("20-digits", b"99999999999999999999"),
                ("2**64", b"18446744073709551616"),
                ("40-digits", b"9" * 40),
            ]
        ],
    ),
    row(
        "D8",
        "negative Content-Length",
        bad("minus-48", post(b"hello", length=b"-48")),
    ),
    row(
        "D9",
        "Content-Length together with Transfer-Encoding",
        bad("cl-te-chunked", te(b"chunked", b"5\r\nhello\r\n0\r\n\r\n", b"Content-Length: 5")),
        bad(
            "te-chunked-cl",
            msg(
                b"POST / HTTP/1.1",
                b"Content-Length: 5",
                b"Transfer-Encoding: chunked",
                body=b"5\r\nhello\r\n0\r\n\r\n",
            ),
        ),
        bad("cl-te-identity", te(b"identity", b"hello", b"Content-Length: 5")),
        bad(
            "cl-te-xchunked",
            te(b"xchunked", b"hello", b"Content-Length: 5"),
            gunicorn=GUNICORN_TE_501,
            doc=DOC_TE_UNKNOWN_WITH_CL,
        ),
        bad("cl-te-case", te(b"CHUNKED", b"0\r\n\r\n", b"Content-Length: 5")),
        bad("cl-te-list", te(b"gzip, chunked", b"0\r\n\r\n", b"Content-Length: 5")),
    ),
    row(
        "D10",
        "Content-Length larger than the bytes sent, then FIN: the app sees the truncated body "
        "(the row allows that or an error), nothing after it is parsed",
        ok(
            "undersend",
            post(b"hello", length=b"10"),
            echo("POST", headers={"HTTP_HOST": "a", "CONTENT_LENGTH": "10"}, body=b"hello"),
            half_close=True,
        ),
        ok(
            "undersend-with-request-inside",
            post(b"GET /second HTTP/1.1\r\nHost: a\r\n\r\n", length=b"100"),
            echo(
                "POST",
                headers={"HTTP_HOST": "a", "CONTENT_LENGTH": "100"},
                body=b"GET /second HTTP/1.1\r\nHost: a\r\n\r\n",
            ),
            half_close=True,
        ),
    ),
    row(
        "D11",
        "huge Content-Length with no body: 413 at once",
        bad("huge-no-body", post(b"", length=b"999999999"), status=413, flags=BODY_LIMIT_FLAGS),
    ),
]

E_TRANSFER_ENCODING = [
    row(
        "E1",
        "HTTP/1.0 with Transfer-Encoding",
        bad("chunked", te(b"chunked", version=b"HTTP/1.0")),
        bad(
            "chunked-with-cl",
            te(b"chunked", b"0\r\n\r\n", b"Content-Length: 5", version=b"HTTP/1.0"),
        ),
        bad("gzip", te(b"gzip", version=b"HTTP/1.0")),
    ),
    row(
        "E2",
        "chunked is not the last coding",
        bad("chunked-gzip", te(b"chunked, gzip")),
        bad("two-fields", te(b"chunked", b"0\r\n\r\n", b"Transfer-Encoding: gzip")),
        bad("chunked-identity", te(b"chunked, identity")),
        bad("two-fields-identity", te(b"chunked", b"0\r\n\r\n", b"Transfer-Encoding: identity")),
    ),
    row(
        "E3",
        "chunked applied twice",
        bad("list", te(b"chunked, chunked")),
        bad("identity-chunked-twice", te(b"identity, chunked, identity, chunked")),
        bad("two-fields", te(b"chunked", b"0\r\n\r\n", b"Transfer-Encoding: chunked")),
    ),
    row(
        "E4",
        "unknown or unsupported coding: 501, or 400 with Content-Length",
        *[
            bad(label, te(value, b""), status=501)
            for label, value in [
                ("xchunked", b"xchunked"),
                ("chunkedchunked", b"chunkedchunked"),
                ("blegh", b"blegh"),
            ]
        ],
        bad(
            "gzip",
            te(b"gzip", b""),
            status=501,
            gunicorn="400: Invalid HTTP Header: TRANSFER-ENCODING (the doc row says 501)",
            doc=DOC_TE_ALONE,
        ),
        bad(
            "identity",
            te(b"identity", b""),
            status=501,
            gunicorn="400: Invalid HTTP Header: TRANSFER-ENCODING (the doc row says accepted)",
            doc=DOC_TE_ALONE,
        ),
        *[
            bad(
                f"{label}-with-cl",
                te(value, b"hello", b"Content-Length: 5"),
                gunicorn=GUNICORN_TE_501,
                doc=DOC_TE_UNKNOWN_WITH_CL,
            )
            for label, value in [("xchunked", b"xchunked"), ("blegh", b"blegh")]
        ],
    ),
    row(
        "E5",
        "decorated chunked",
        *[
            bad(label, te(value))
            for label, value in [
                ("vt", b"\x0bchunked"),
                ("ff", b"\x0cchunked"),
                ("nul", b"\x00chunked"),
                ("garden-3364", b"\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0chunked\x0b\x0c\x1c\x1d\x1e\x1f"),
            ]
        ],
        # obs-text is a valid field value, just not a coding name: gunicorn calls it unknown.
        *[
            bad(label, te(value), gunicorn=GUNICORN_TE_501, doc=DOC_TE_SYNTAX)
            for label, value in [
                ("nbsp", b"\xa0chunked\xa0"),
                ("nel", b"\x85chunked"),
                ("xff", b"\xffchunked\xff"),
            ]
        ],
        ok("trailing-sp", te(b"chunked ", b"5\r\nhello\r\n0\r\n\r\n"), dechunked(b"hello")),
        ok("ows-tab", te(b"\tchunked\t", b"5\r\nhello\r\n0\r\n\r\n"), dechunked(b"hello")),
    ),
    row(
        "E6",
        "empty list elements around chunked: chunked (RFC 9110 §5.6.1; the row also allows 400), "
        "never Content-Length",
        *[
            ok(
                label,
                te(value, b"5\r\nhello\r\n0\r\n\r\n"),
                dechunked(b"hello", HTTP_TRANSFER_ENCODING=value.decode().strip(" ")),
                gunicorn=GUNICORN_TE_501,
                doc=DOC_TE_EMPTY_ELEMENTS,
            )
            for label, value in [
                ("leading-comma", b",chunked"),
                ("leading-comma-sp", b", chunked"),
                ("trailing-comma", b"chunked,"),
                ("both-sides", b" , chunked , "),
            ]
        ],
        bad(
            "with-cl",
            te(b",chunked", b"5\r\nhello\r\n0\r\n\r\n", b"Content-Length: 3"),
            gunicorn=GUNICORN_TE_501,
            doc=DOC_TE_EMPTY_ELEMENTS,
        ),
    ),
    row(
        "E7",
        "coding names are case-insensitive",
        ok(
            "Chunked",
            te(b"Chunked", b"5\r\nhello\r\n0\r\n\r\n"),
            dechunked(b"hello", HTTP_TRANSFER_ENCODING="Chunked"),
        ),
        ok(
            "CHUNKED",
            te(b"CHUNKED", b"5\r\nhello\r\n0\r\n\r\n"),
            dechunked(b"hello", HTTP_TRANSFER_ENCODING="CHUNKED"),
        ),
    ),
    row(
        "E8",
        "parameters on chunked",
        bad("ext", te(b"chunked;ext=val"), gunicorn=GUNICORN_TE_501, doc=DOC_TE_SYNTAX),
        bad("ext-spaced", te(b"chunked ; q=1"), gunicorn=GUNICORN_TE_501, doc=DOC_TE_SYNTAX),
    ),
    row(
        "E9",
        "empty Transfer-Encoding",
        bad("empty", te(b""), gunicorn=GUNICORN_TE_501, doc=DOC_TE_SYNTAX),
        bad("spaces", te(b"  "), gunicorn=GUNICORN_TE_501, doc=DOC_TE_SYNTAX),
        bad("comma", te(b","), gunicorn=GUNICORN_TE_501, doc=DOC_TE_SYNTAX),
    ),
    row(
        "E10",
        "gzip, chunked: a coding the server does not decode",
        bad(
            "gzip-chunked",
            te(b"gzip, chunked", b"5\r\nhello\r\n0\r\n\r\n"),
            status=501,
            gunicorn="200 app: the app gets the body dechunked but still gzip-coded",
            doc=DOC_GZIP_CHUNKED,
        ),
    ),
]


def _size(label: str, size_line: bytes, rest: bytes = b"hello\r\n0\r\n\r\n", **kw) -> Payload:
    """A chunked POST whose first chunk-size line is `size_line` (without its CRLF)."""
    return cbad(label, size_line + CRLF + rest, **kw)


def cbad(label: str, body: bytes, **kw) -> Payload:
    """A chunked POST whose body, given as is, is malformed: 400 before the app is called."""
    return bad(label, chunked(body), **{**GUNICORN_CHUNKED, **kw})


F_CHUNKED = [
    row(
        "F1",
        "chunk-size that is not 1*HEXDIG",
        *[
            _size(label, value)
            for label, value in [
                ("0x5", b"0x5"),
                ("plus", b"+5"),
                ("minus-5", b"-5"),
                ("minus-1", b"-1"),
                ("6_0", b"6_0"),
                ("0_2e", b"0_2e"),
                ("1x", b"1x"),
                ("z", b"z"),
                ("1_0", b"1_0"),
                ("fullwidth", "５".encode()),
            ]
        ],
    ),
    row(
        "F2",
        "whitespace around chunk-size without an extension",
        _size("leading-sp", b" 5"),
        _size("trailing-sp", b"5 "),
        _size("trailing-tab", b"5\t"),
        ok("bws-before-ext", chunked(b"5 ;ext\r\nhello\r\n0\r\n\r\n"), dechunked(b"hello")),
    ),
    row(
        "F3",
        "empty chunk-size line",
        cbad("empty", b"\r\n5\r\nhello\r\n0\r\n\r\n"),
        cbad("sp-ext", b" ;foo=bar\r\nhello\r\n0\r\n\r\n"),
        cbad("only-ext", b";foo=bar\r\nhello\r\n0\r\n\r\n"),
    ),
    row(
        "F4",
        "chunk-size overflow",
        *[
            _size(
                label,
                value,
                gunicorn="no response app: calls the app, which waits for that many bytes",
                doc=DOC_HUGE_LENGTH,
            )
            for label, value in [("17-digits", b"FFFFFFFFFFFFFFFF0"), ("100-nines", b"9" * 100)]
        ],
        # 16 hex digits are within the digit cap: without a body limit the size is valid and
        # the server waits for the data; the end of stream must then be an error, never a
        # wrapped-around size.
        *[
            _size(
                label,
                value,
                half_close=True,
                gunicorn="no response app: calls the app, then closes without a response",
                doc=DOC_CHUNKED_CUT,
            )
            for label, value in [
                ("16-f-then-fin", b"ffffffffffffffff"),
                ("2**63-then-fin", b"8000000000000000"),
            ]
        ],
        bad(
            "16-f-limit",
            chunked(b"ffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
            status=413,
            flags=BODY_LIMIT_FLAGS,
        ),
        bad(
            "2**63-limit",
            chunked(b"8000000000000000\r\nhello\r\n0\r\n\r\n"),
            status=413,
            flags=BODY_LIMIT_FLAGS,
        ),
    ),
    row(
        "F5",
        "chunk-size line ending in a bare LF",
        cbad("lf", b"5\nhello\r\n0\r\n\r\n"),
        cbad("semicolon-lf", b"5;\nhello\r\n0\r\n\r\n"),
        cbad("lf-then-ext", b"5\n;\r\nhello\r\n0\r\n\r\n"),
        cbad("ext-lf", b"5;a=b\nhello\r\n0\r\n\r\n"),
        cbad("last-chunk-lf", b"5\r\nhello\r\n0\n\r\n"),
    ),
    row(
        "F6",
        "bare CR in a chunk line",
        cbad("cr", b"5\rhello\r\n0\r\n\r\n"),
        cbad("cr-cr-ext", b"5\r\r;ABCD\r\nhello\r\n0\r\n\r\n"),
        cbad("ext-cr", b"5;a\rX\r\nhello\r\n0\r\n\r\n"),
    ),
    row(
        "F7",
        "chunk extensions: bad syntax rejected, valid ones ignored",
        cbad("bare-semicolon", b"5;\r\nhello\r\n0\r\n\r\n"),
        cbad("bad-token", b"5;bad[=x\r\nhello\r\n0\r\n\r\n"),
        cbad("nul", b"5;\x00ext\r\nhello\r\n0\r\n\r\n"),
        cbad("unbalanced-quote", b'5;a="b\r\nhello\r\n0\r\n\r\n'),
        cbad("empty-value", b"5;a=\r\nhello\r\n0\r\n\r\n"),
        ok("name-value", chunked(b"5;ext=value\r\nhello\r\n0\r\n\r\n"), dechunked(b"hello")),
        ok("spaced", chunked(b"5 ; c\r\nhello\r\n0\r\n\r\n"), dechunked(b"hello")),
        ok("quoted", chunked(b'5;a="b c;d"\r\nhello\r\n0\r\n\r\n'), dechunked(b"hello")),
        ok("several", chunked(b"5;a=1;b;c=2\r\nhello\r\n0;z\r\n\r\n"), dechunked(b"hello")),
    ),
    row(
        "F8",
        "chunk extension longer than the line cap",
        cbad("64kib", b"5;ext=" + b"a" * 65536 + b"\r\nhello\r\n0\r\n\r\n"),
    ),
    row(
        "F9",
        "chunk data not followed by CRLF",
        cbad("spill", b"5\r\nhello!!\r\n0\r\n\r\n"),
        cbad("spill-size", b"5\r\nhelloXX0\r\n\r\n"),
        cbad("no-crlf", b"5\r\nhello0\r\n\r\n"),
        cbad("lf-only", b"5\r\nhello\n0\r\n\r\n"),
        cbad("cr-only", b"5\r\nhello\r0\r\n\r\n"),
    ),
    row(
        "F10",
        "last chunk without the final CRLF",
        *[
            cbad(
                label,
                body,
                half_close=True,
                gunicorn="400 app: calls the app; the error surfaces when it reads wsgi.input",
                doc=DOC_CHUNKED_CUT,
            )
            for label, body in [
                ("fin-after-last-chunk", b"0\r\n"),
                ("fin-after-trailer", b"0\r\nX: y\r\n"),
            ]
        ],
        # The checklist's second input: as bytes it is a well-formed trailer field
        # "X: POST / HTTP/1.1" followed by the empty line that ends the message (RFC 9112
        # §7.1.2), so it is accepted, and the trailer is not merged into the environ (F11).
        ok(
            "request-line-as-trailer",
            chunked(b"0\r\nX:POST / HTTP/1.1\r\n\r\n"),
            dechunked(b""),
        ),
    ),
    row(
        "F11",
        "trailer section",
        *[
            cbad(f"forbidden-{name.lower()}", b"0\r\n" + name.encode() + b": x\r\n\r\n")
            for name in (
                "Content-Length",
                "Transfer-Encoding",
                "Host",
                "Authorization",
                "TE",
                "Trailer",
            )
        ],
        cbad("no-colon", b"0\r\nBad Trailer\r\n\r\n"),
        cbad("empty-name", b"0\r\n: x\r\n\r\n"),
        cbad("ctl-in-value", b"0\r\nX: a\x01b\r\n\r\n"),
        cbad("bare-lf-end", b"0\r\n\n"),
        cbad("bare-lf-field", b"0\r\nX: y\n\r\n"),
        ok(
            "valid-not-merged",
            chunked(b"5\r\nhello\r\n0\r\nX-Trailer: v\r\n\r\n"),
            dechunked(b"hello"),
        ),
        ok(
            "scheme-not-merged",
            chunked(b"5\r\nhello\r\n0\r\nX-Forwarded-Proto: https\r\n\r\n"),
            echo(
                "POST",
                headers={"HTTP_HOST": "a", "HTTP_TRANSFER_ENCODING": "chunked"},
                body=b"hello",
                url_scheme="http",
            ),
            flags=("--forwarded-allow-ips", "*"),
        ),
    ),
    row(
        "F12",
        "invalid chunk followed by a pipelined request: never resync",
        cbad("invalid-then-get", b"INVALID!!!\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"),
    ),
    row(
        "F13",
        "many tiny chunks; chunked body above the body limit",
        ok(
            "100k-tiny-chunks",
            chunked(b"1\r\nZ\r\n" * 100_000 + b"0\r\n\r\n"),
            dechunked(b"Z" * 100_000),
        ),
        bad(
            "above-body-limit",
            chunked(b"1\r\nZ\r\n" * 1100 + b"0\r\n\r\n"),
            status=413,
            flags=BODY_LIMIT_FLAGS,
        ),
        ok(
            "at-body-limit",
            chunked(b"1\r\nZ\r\n" * 1024 + b"0\r\n\r\n"),
            dechunked(b"Z" * 1024),
            flags=BODY_LIMIT_FLAGS,
        ),
    ),
    row(
        "F14",
        "valid oddities",
        ok("leading-zeros", chunked(b"000005\r\nhello\r\n0\r\n\r\n"), dechunked(b"hello")),
        ok("upper-A", chunked(b"A\r\n0123456789\r\n0\r\n\r\n"), dechunked(b"0123456789")),
        ok("lower-a", chunked(b"a\r\n0123456789\r\n0\r\n\r\n"), dechunked(b"0123456789")),
        ok("comment", chunked(b"6 ; comment\r\nhello!\r\n0\r\n\r\n"), dechunked(b"hello!")),
        ok("zero-zero-zero", chunked(b"5\r\nhello\r\n000\r\n\r\n"), dechunked(b"hello")),
        ok(
            "several-chunks",
            chunked(b"2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n"),
            dechunked(b"hello"),
        ),
    ),
]

G_HOST = [
    row(
        "G1",
        "HTTP/1.1 without Host",
        bad(
            "missing",
            msg(b"GET / HTTP/1.1", host=False),
            gunicorn="200 app: accepts it (benoitc/gunicorn#3361)",
            doc=DOC_NO_HOST,
        ),
        ok(
            "missing-permitted",
            msg(b"GET / HTTP/1.1", host=False),
            echo(headers={}),
            flags=("--permit-missing-host",),
        ),
    ),
    row(
        "G2",
        "malformed Host",
        *[
            bad(
                label,
                get(b"/").replace(HOST, b"Host:" + value),
                gunicorn="200 app: accepts it",
                doc=DOC_HOST,
            )
            for label, value in [
                ("list", b" a, b"),
                ("empty", b""),
                ("userinfo", b" user@h"),
                ("path", b" h/path"),
                ("port-overflow", b" h:99999"),
                ("two-ports", b" h:1:2"),
                ("leading-dots", b" ..x"),
                ("bad-ipv6", b" [ab::e\\f98]"),
                ("space-inside", b" a b"),
            ]
        ],
        bad("ipv6-ff", get(b"/").replace(HOST, b"Host: [ab::e\x0c98]")),
        *[
            bad(
                label,
                get(b"/").replace(HOST, b"Host:" + value),
                gunicorn="200 app: accepts it",
                doc=DOC_HOST_SYNTAX,
            )
            for label, value in [
                ("empty-port", b" h:"),
                ("ipv6-zone", b" [fe80::1%25eth0]"),
                ("ipvfuture", b" [v1.fe80::a+en1]"),
            ]
        ],
    ),
    row(
        "G3",
        "HTTP/1.0 without Host",
        ok("http10", msg(b"GET / HTTP/1.0", host=False), echo(protocol="HTTP/1.0", headers={})),
    ),
]

H_CONNECTIONS = [
    row(
        "H1",
        "two valid requests in one segment",
        ok(
            "cl0-then-get",
            post(b"") + get(b"/second"),
            posted(b""),
        ),
        ok("two-gets", get(b"/first") + get(b"/second"), echo(uri="/first", path="/first")),
        ok(
            "second-response",
            get(b"/first") + get(b"/second") + get(b"/third", b"Connection: close"),
            echo(uri="/first", path="/first"),
            later=((200, "/second"), (200, "/third")),
            flags=EVENT,
        ),
        ok(
            "post-cl0-then-get",
            post(b"") + get(b"/second", b"Connection: close"),
            posted(b""),
            later=((200, "/second"),),
            flags=EVENT,
        ),
    ),
    row(
        "H2",
        "valid request followed by an invalid one in one segment",
        ok(
            "first-answered",
            get(b"/first") + get(b"/\x00second"),
            echo(uri="/first", path="/first"),
        ),
        ok(
            "then-400",
            get(b"/first") + get(b"/\x00second"),
            echo(uri="/first", path="/first"),
            later=((400, None),),
            flags=EVENT,
        ),
    ),
    row(
        "H3",
        "Connection: close, or HTTP/1.0, followed by more bytes: answer the first, ignore the rest",
        ok(
            "connection-close",
            get(b"/first", b"Connection: close") + get(b"/second"),
            echo(
                uri="/first", path="/first", headers={"HTTP_HOST": "a", "HTTP_CONNECTION": "close"}
            ),
        ),
        ok(
            "http10",
            get(b"/first", version=b"HTTP/1.0") + get(b"/second", version=b"HTTP/1.0"),
            echo(uri="/first", path="/first", protocol="HTTP/1.0"),
        ),
    ),
    row(
        "H4",
        "HTTP/1.0 + Connection: keep-alive: a length-delimited response, never chunked",
        respond(
            "not-chunked",
            route("length", "n=5", version=b"HTTP/1.0").replace(
                HOST, b"Host: a\r\nConnection: keep-alive"
            ),
            body=b"xxxxx",
            absent=("Transfer-Encoding",),
        ),
        ok(
            "persists",
            get(b"/", b"Connection: keep-alive", version=b"HTTP/1.0")
            + get(b"/second", version=b"HTTP/1.0"),
            echo(protocol="HTTP/1.0", headers={"HTTP_HOST": "a", "HTTP_CONNECTION": "keep-alive"}),
            later=((200, "/second"),),
            flags=EVENT,
        ),
    ),
    row(
        "H5",
        "the app ignores a POST body with a GET pipelined behind it",
        respond(
            "first-answered",
            msg(
                b"POST /__conformance/length?n=2 HTTP/1.1",
                b"Content-Length: 5",
                body=b"hello",
            )
            + get(b"/second"),
            body=b"xx",
        ),
        respond(
            "second-served",
            msg(
                b"POST /__conformance/length?n=2 HTTP/1.1",
                b"Content-Length: 5",
                body=b"hello",
            )
            + get(b"/second", b"Connection: close"),
            body=b"xx",
            later=((200, "/second"),),
            flags=EVENT,
        ),
    ),
    row(
        "H6",
        "GET/HEAD/OPTIONS with Content-Length and a body: the body is read, not parsed",
        *[
            ok(
                method.lower(),
                msg(
                    method.encode() + b" / HTTP/1.1",
                    b"Content-Length: 35",
                    body=b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
                ),
                echo(
                    method,
                    headers={"HTTP_HOST": "a", "CONTENT_LENGTH": "35"},
                    body=b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
                ),
            )
            for method in ("GET", "HEAD", "OPTIONS")
        ],
    ),
    row(
        "H7",
        "Expect",
        respond(
            "100-continue",
            msg(b"POST /__conformance/length?n=2 HTTP/1.1", b"Expect: 100-continue")[:-2]
            + b"Content-Length: 5\r\n\r\n",
            then=b"hello",
            body=b"xx",
            interim=[100],
        ),
        ok(
            "100-continue-echo",
            msg(b"POST / HTTP/1.1", b"Expect: 100-continue", b"Content-Length: 5"),
            echo(
                "POST",
                headers={"HTTP_HOST": "a", "HTTP_EXPECT": "100-continue", "CONTENT_LENGTH": "5"},
                body=b"hello",
            ),
            then=b"hello",
        ),
        respond(
            "100-continue-http10",
            msg(
                b"POST /__conformance/length?n=2 HTTP/1.0",
                b"Expect: 100-continue",
                b"Content-Length: 5",
                body=b"hello",
            ),
            body=b"xx",
            interim=[],
        ),
        bad("200-ok", post(b"hello", b"Expect: 200-ok"), status=417),
    ),
    row(
        "H8",
        "PROXY protocol header",
        bad("v1-when-off", b"PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\r\n" + get(b"/")),
        bad(
            "v2-when-off",
            b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" + bytes(12) + get(b"/"),
        ),
        bad(
            "peer-not-allowed",
            b"PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\r\n" + get(b"/"),
            status=403,
            flags=("--proxy-protocol", "auto", "--proxy-allow-from", "192.0.2.9"),
        ),
        bad(
            "malformed-v1",
            b"PROXY TCP9 x\r\n" + get(b"/"),
            flags=("--proxy-protocol", "auto"),
        ),
        bad(
            "malformed-v2",
            b"\r\n\r\n\x00\r\nQUIT\n\x21\xff\x00\x00" + get(b"/"),
            flags=("--proxy-protocol", "auto"),
            gunicorn="500: InvalidProxyHeader escapes as an internal error",
            doc=DOC_PROXY_V2_MALFORMED,
        ),
        ok(
            "v1-allowed",
            b"PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\r\n" + get(b"/"),
            echo(REMOTE_ADDR="192.0.2.1"),
            flags=("--proxy-protocol", "auto"),
        ),
    ),
    row(
        "H9",
        "error response: Connection: close, then a lingering close",
        # The client is still sending when the error is found: the server must read and discard
        # what follows rather than reset the connection and destroy its own 400.
        bad("lingering", get(b"/\x00") + b"x" * (512 * 1024)),
        bad("lingering-body", post(b"y" * (512 * 1024), length=b"+524288")),
    ),
]

I_RESPONSE = [
    row(
        "I1",
        "invalid status line or header from start_response: 500 + close, nothing emitted",
        *[
            respond(
                f"value-{label}",
                route("header", f"name=X-Bad&value={value}"),
                status=500,
                absent=("X-Bad", "X-Injected"),
                close=True,
            )
            for label, value in [
                ("cr", "a%0Db"),
                ("lf", "a%0Ab"),
                ("nul", "a%00b"),
                ("crlf-injection", "a%0D%0AX-Injected:%201"),
                ("bel", "a%07b"),
            ]
        ],
        *[
            respond(
                f"name-{label}",
                route("header", f"name={name}&value=v"),
                status=500,
                absent=("X-Injected",),
                close=True,
            )
            for label, name in [
                ("space", "X%20Bad"),
                ("colon", "X:Bad"),
                ("empty", ""),
                ("nul", "X%00"),
                ("crlf", "X%0D%0AX-Injected"),
                ("non-ascii", "X%E9"),
            ]
        ],
        *[
            respond(
                f"status-{label}",
                route("status", f"status={status}"),
                status=500,
                absent=("X-Injected",),
                close=True,
            )
            for label, status in [
                ("no-space", "200OK"),
                ("four-digits", "2000%20OK"),
                ("two-digits", "20%20OK"),
                ("words", "OK"),
                ("crlf", "200%20OK%0D%0AX-Injected:%201"),
                ("nul", "200%20O%00K"),
                ("empty", ""),
            ]
        ],
        respond("status-code-only", route("status", "status=200"), body=b"ok"),
    ),
    row(
        "I2",
        "Content-Length and the bytes written disagree",
        respond(
            "fewer",
            route("length", "cl=10&n=5"),
            body=b"xxxxx",
            complete=False,
            headers={"Content-Length": "10"},
        ),
        respond(
            "more",
            route("length", "cl=5&n=10"),
            body=b"xxxxx",
            complete=True,
            extra=b"",
        ),
    ),
    row(
        "I3",
        "HEAD, 1xx, 204 and 304 carry no body",
        respond("head", route("length", "cl=5&n=5", method=b"HEAD"), head_only=True),
        respond(
            "204",
            route("bodiless", "status=204"),
            status=204,
            head_only=True,
            absent=("Content-Length", "Transfer-Encoding"),
        ),
        respond(
            "304",
            route("bodiless", "status=304"),
            status=304,
            head_only=True,
            absent=("Transfer-Encoding",),
        ),
        respond(
            "103",
            route("bodiless", "status=103"),
            status=103,
            head_only=True,
            absent=("Content-Length", "Transfer-Encoding"),
        ),
    ),
    row(
        "I4",
        "hop-by-hop headers from the app are dropped",
        respond(
            "dropped",
            route("hop"),
            absent=("Keep-Alive", "Transfer-Encoding", "TE", "Trailers", "Upgrade"),
            headers={"Connection": "close", "X-End-To-End": "kept"},
        ),
        respond(
            "websocket-upgrade-kept",
            route("upgrade"),
            headers={"Upgrade": "websocket", "Connection": "upgrade"},
        ),
    ),
    row(
        "I5",
        "Content-Length from the app that is not 1*DIGIT: 500",
        *[
            respond(
                f"cl-{label}",
                route("length", f"cl={value}&n=10"),
                status=500,
                close=True,
                gunicorn=f"200 app: int() accepts it; sends `Content-Length: {shown}` as is",
                doc=DOC_APP_CL,
            )
            for label, value, shown in [
                ("underscore", "1_0", "1_0"),
                ("plus", "%2B10", "+10"),
                ("minus", "-1", "-1"),
            ]
        ],
        *[
            respond(f"cl-{label}", route("length", f"cl={value}&n=10"), status=500, close=True)
            for label, value in [("hex", "0xa"), ("space-inside", "1%200"), ("empty", "")]
        ],
    ),
]

ROWS: list[Row] = [
    *A_REQUEST_LINE,
    *B_VERSION,
    *C_FIELDS,
    *D_CONTENT_LENGTH,
    *E_TRANSFER_ENCODING,
    *F_CHUNKED,
    *G_HOST,
    *H_CONNECTIONS,
    *I_RESPONSE,
]

PAYLOADS: list[Payload] = [payload for r in ROWS for payload in r.payloads]

CHECKLIST_ROWS = (
    [f"A{i}" for i in range(1, 18)]
    + [f"B{i}" for i in range(1, 5)]
    + [f"C{i}" for i in range(1, 15)]
    + [f"D{i}" for i in range(1, 12)]
    + [f"E{i}" for i in range(1, 11)]
    + [f"F{i}" for i in range(1, 15)]
    + [f"G{i}" for i in range(1, 4)]
    + [f"H{i}" for i in range(1, 10)]
    + [f"I{i}" for i in range(1, 6)]
)
