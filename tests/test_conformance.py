"""The HTTP/1.1 conformance checklist (../shared/http-conformance.md), end to end.

Every payload of tests/conformance_cases.py is sent over a fresh raw TCP connection to a real
server serving tests/apps/conformance_app.py (one worker; one server per distinct flag set,
shared by the whole module). After each payload a fresh valid request on a new connection must
get 200: the server still answers. That request also reads the app's call counter, which tells
whether the payload reached the app.

- test_conformance: the outcome the table expects from monoceros (or from the server named by
  MONOCEROS_TEST_SERVER; documented divergences are then skipped).
- test_differential: the same payload against monoceros and gunicorn; their outcomes (status,
  and whether the app was called) must agree unless the table records the divergence
  (`gunicorn=`) and docs/differences.md explains it (`doc=`). Run it alone with
  `pytest tests/test_conformance.py -k differential`.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from conformance_cases import (
    CHECKLIST_ROWS,
    MONOCEROS_ONLY_FLAGS,
    NO_GUNICORN_COUNTERPART,
    PAYLOADS,
    ROWS,
    Payload,
    gunicorn_flags,
)
from server import (
    RUNNING_GUNICORN,
    SERVER_MODULE,
    IncompleteResponse,
    RawConnection,
    RawResponse,
    Server,
    parse_response,
)

APP = "conformance_app:app"
TIMEOUT = 3.0  # seconds a server gets to answer a payload and close the connection
FOLLOWUP = b"GET /__followup HTTP/1.1\r\nHost: a\r\n\r\n"
ROOT = Path(__file__).resolve().parent.parent
DIFFERENCES_MD = ROOT / "docs" / "differences.md"
CHECKLIST_MD = ROOT.parent / "shared" / "http-conformance.md"


class UndocumentedDifference(AssertionError):
    """monoceros and gunicorn differ as the table says, but docs/differences.md has no row."""


# ------------------------------------------------------------------------- exchanges


@dataclass
class Observation:
    """What one payload did: the bytes received, the parsed response and the app calls."""

    received: bytes = b""
    closed: bool = False  # the server closed the connection (EOF or reset) within TIMEOUT
    response: RawResponse | None = None
    problem: str | None = None  # a send error, a timeout waiting for 100 Continue, ...
    calls: int | None = None  # how many times the payload made the server call the app
    followup: str = ""  # "" when the fresh valid request afterwards got 200, else what it got

    @property
    def outcome(self) -> str:
        """`<status>` or `<status> app`: compared by the differential test."""
        status = "no response" if self.response is None else str(self.response.status)
        return f"{status} app" if self.calls else status

    @property
    def echo(self) -> dict | None:
        """What the echo app saw (None when the response did not come from it)."""
        return None if self.response is None else _echo_of(self.response)


def _lone_head(data: bytes) -> RawResponse | None:
    """A response that is only a head (a final 1xx), which parse_response reads as interim."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = data[:end].decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    status, _, reason = rest.partition(" ")
    if not status.isdigit():
        return None
    headers = [
        (name, value.strip(" \t")) for name, _, value in (line.partition(":") for line in lines[1:])
    ]
    return RawResponse(
        version,
        int(status),
        reason,
        headers,
        head_bytes=data[: end + 4],
        extra=data[end + 4 :],
        raw=data,
    )


def _parse(data: bytes, method: str, closed: bool) -> RawResponse | None:
    try:
        return parse_response(data, method=method, closed=closed)
    except IncompleteResponse:
        return _lone_head(data)


def _send(address: tuple[str, int], payload: Payload) -> Observation:
    obs = Observation()
    method = payload.method or payload.data.split(b" ", 1)[0].decode("latin-1")
    conn = RawConnection(address, timeout=TIMEOUT)
    try:
        try:
            conn.send(payload.data)
            if payload.then is not None:
                conn.read_until(b"\r\n\r\n", timeout=TIMEOUT)
                conn.send(payload.then)
            if payload.half_close:
                conn.shutdown_write()
        except (OSError, AssertionError) as exc:
            obs.problem = f"{type(exc).__name__}: {exc}"
        try:
            conn.read_until_close(TIMEOUT)
            obs.closed = True
        except AssertionError:
            obs.closed = conn.closed_by_peer
        except OSError:
            obs.closed = True
        obs.received = conn.buffer
    finally:
        conn.close()
    obs.response = _parse(obs.received, method, obs.closed)
    return obs


class Target:
    """A running server and the app-call count seen by the last valid request sent to it."""

    def __init__(self, server: Server):
        self.server = server
        self.calls: int | None = None

    def _followup(self) -> tuple[str, int | None]:
        """Send a fresh valid request: ("" or what went wrong, the app's call count)."""
        try:
            with RawConnection(self.server.address, timeout=TIMEOUT) as conn:
                conn.send(FOLLOWUP)
                resp = conn.read_response(timeout=TIMEOUT)
        except (OSError, AssertionError) as exc:
            return f"{type(exc).__name__}: {exc}", None
        calls = resp.header("X-App-Calls")
        if resp.status != 200 or calls is None:
            return f"{resp.status} {resp.head_bytes!r}", None
        return "", int(calls)

    def exchange(self, payload: Payload) -> Observation:
        if self.calls is None:
            problem, self.calls = self._followup()
            assert not problem, f"the server does not answer a valid request: {problem}"
        before = self.calls
        obs = _send(self.server.address, payload)
        obs.followup, self.calls = self._followup()
        if self.calls is not None:
            # The follow-up is itself one call.
            obs.calls = self.calls - before - 1
        return obs


@pytest.fixture(scope="module")
def targets(module_server_factory):
    """targets(module, flags) -> Target, started on first use and shared by the module."""
    started: dict[tuple[str, tuple[str, ...]], Target] = {}

    def get(module: str, flags: tuple[str, ...]) -> Target:
        key = (module, flags)
        if key not in started:
            server = module_server_factory(APP, *flags, "--workers", "1", module=module)
            started[key] = Target(server)
        return started[key]

    return get


# --------------------------------------------------------------------------- checks


def _explain(payload: Payload, obs: Observation, target: Target) -> str:
    data = payload.data if len(payload.data) <= 400 else payload.data[:400] + b"..."
    return "\n".join(
        [
            f"{payload.id} against {target.server.module} {' '.join(payload.flags)}".rstrip(),
            f"sent: {data!r}" + (f" then {payload.then!r}" if payload.then else ""),
            f"received: {obs.received[:800]!r}",
            f"outcome={obs.outcome!r} closed={obs.closed} app calls={obs.calls} "
            f"problem={obs.problem}",
            "server log (tail):\n" + target.server.log_text()[-1500:],
        ]
    )


def _closes(resp: RawResponse) -> bool:
    tokens = ",".join(resp.header_list("Connection")).lower().split(",")
    return "close" in (t.strip() for t in tokens)


def _echo_of(resp: RawResponse) -> dict | None:
    if resp.header("X-Echo-App") != "conformance":
        return None
    head_echo = resp.header("X-Echo-Json")
    raw = base64.b64decode(head_echo) if head_echo is not None else resp.body
    return json.loads(raw)


def _check_rejected(payload: Payload, obs: Observation, why: str) -> None:
    resp = obs.response
    assert resp is not None, f"no response\n{why}"
    assert resp.status == payload.status, why
    assert obs.calls == 0, f"the app was called\n{why}"
    assert resp.header("X-Echo-App") is None, f"the response came from the app\n{why}"
    assert _closes(resp), f"no Connection: close\n{why}"
    assert obs.closed, f"the server did not close the connection\n{why}"
    assert resp.complete, f"truncated error response\n{why}"
    assert resp.extra == b"", f"bytes after the error response\n{why}"


def _check_accepted(payload: Payload, obs: Observation, why: str) -> None:
    resp = obs.response
    assert resp is not None, f"no response\n{why}"
    assert resp.status == 200, why
    assert obs.calls == _expected_calls(payload), f"the app was called {obs.calls} times\n{why}"
    echo = _echo_of(resp)
    assert echo is not None, f"the response did not come from the echo app\n{why}"
    expected = dict(payload.app or {})
    want_headers = expected.pop("headers")
    want_body = expected.pop("body")
    got_headers = {
        k: v for k, v in echo.items() if k.startswith("HTTP_") or k.startswith("CONTENT_")
    }
    assert got_headers == want_headers, why
    for key, value in expected.items():
        assert echo.get(key) == value, f"{key}: {echo.get(key)!r} != {value!r}\n{why}"
    assert base64.b64decode(echo["body_b64"]) == want_body, why
    _check_later(payload, obs, resp.extra, why)


def _expected_calls(payload: Payload) -> int:
    """The first request, and each later one the echo app answered."""
    return 1 + sum(1 for _, path in payload.later if path is not None)


def _check_later(payload: Payload, obs: Observation, extra: bytes, why: str) -> None:
    """The responses after the first (pipelined requests), in order, and nothing else."""
    for status, path in payload.later:
        assert extra, f"no response after the first\n{why}"
        resp = parse_response(extra, closed=obs.closed)
        assert resp.status == status, why
        if path is not None:
            echo = _echo_of(resp)
            assert echo is not None and echo["PATH_INFO"] == path, why
        extra = resp.extra
    assert extra == b"", f"bytes after the response\n{why}"


def _check_response(payload: Payload, obs: Observation, why: str) -> None:
    checks = payload.response or {}
    resp = obs.response
    assert resp is not None, f"no response\n{why}"
    assert resp.status == payload.status, why
    assert obs.calls == _expected_calls(payload), f"the app was called {obs.calls} times\n{why}"
    if payload.close:
        assert _closes(resp), f"no Connection: close\n{why}"
        assert obs.closed, f"the server did not close the connection\n{why}"
    if "body" in checks:
        assert resp.body == checks["body"], why
    if "complete" in checks:
        assert resp.complete == checks["complete"], why
        if not checks["complete"]:
            assert obs.closed, f"a short body must end with the server closing\n{why}"
    if payload.later:
        _check_later(payload, obs, resp.extra, why)
    else:
        assert resp.extra == checks.get("extra", b""), f"bytes after the response\n{why}"
    if checks.get("head_only"):
        assert resp.raw == resp.head_bytes, f"bytes after the head\n{why}"
    for name in checks.get("absent", ()):
        assert not resp.has_header(name), f"{name} was sent\n{why}"
    for name, value in checks.get("headers", {}).items():
        assert resp.header_list(name) == [value], f"{name}: {resp.header_list(name)}\n{why}"
    if "interim" in checks:
        assert [r.status for r in resp.interim] == checks["interim"], why


def _check(payload: Payload, obs: Observation, why: str) -> None:
    assert not obs.followup, f"the server stopped answering: {obs.followup}\n{why}"
    if payload.is_rejection:
        _check_rejected(payload, obs, why)
    elif payload.app is not None:
        _check_accepted(payload, obs, why)
    else:
        _check_response(payload, obs, why)


# ---------------------------------------------------------------------- parametrisation


def _documented(doc: str | None) -> bool:
    if not doc or not DIFFERENCES_MD.exists():
        return False
    rows = [line for line in DIFFERENCES_MD.read_text().splitlines() if line.startswith("|")]
    return any(doc in line for line in rows)


def _params(differential: bool) -> list:
    params = []
    for payload in sorted(PAYLOADS, key=lambda p: p.flags):
        marks = []
        if payload.pending:
            marks.append(pytest.mark.skip(reason=f"pending: {payload.pending}"))
        elif differential and NO_GUNICORN_COUNTERPART & set(payload.flags):
            marks.append(pytest.mark.skip(reason="gunicorn has no such setting to compare with"))
        elif differential:
            if payload.gunicorn is not None and not _documented(payload.doc):
                reason = (
                    f"monoceros bug: {payload.bug}"
                    if payload.bug
                    else f"difference from gunicorn not in docs/differences.md: {payload.gunicorn}"
                )
                marks.append(
                    pytest.mark.xfail(strict=True, raises=UndocumentedDifference, reason=reason)
                )
        elif RUNNING_GUNICORN and (
            payload.gunicorn or payload.bug or MONOCEROS_ONLY_FLAGS.keys() & set(payload.flags)
        ):
            # The table states what monoceros does; where gunicorn is known to differ (or to
            # share a monoceros bug), there is nothing to check against gunicorn here.
            marks.append(pytest.mark.skip(reason="a known difference from gunicorn"))
        elif payload.bug:
            marks.append(pytest.mark.xfail(strict=True, reason=f"monoceros bug: {payload.bug}"))
        params.append(pytest.param(payload, id=payload.id, marks=marks))
    return params


# ---------------------------------------------------------------------------- tests


def test_every_checklist_row_is_in_the_table():
    ids = [r.id for r in ROWS]
    assert ids == CHECKLIST_ROWS, "the table must hold every checklist row, in order"
    assert all(r.payloads for r in ROWS), [r.id for r in ROWS if not r.payloads]
    if CHECKLIST_MD.exists():
        listed = re.findall(r"^\| ([A-I]\d+) \|", CHECKLIST_MD.read_text(), re.MULTILINE)
        assert listed == CHECKLIST_ROWS, f"{CHECKLIST_MD} has rows the table does not know"
    for payload in PAYLOADS:
        outcome = payload.gunicorn_outcome
        assert outcome is None or re.fullmatch(r"(\d{3}|no response)( app)?", outcome), payload.id
        kinds = [payload.app is not None, payload.response is not None, payload.is_rejection]
        assert payload.pending or sum(kinds) == 1, f"{payload.id}: one kind of outcome"


@pytest.mark.parametrize("payload", _params(differential=False))
def test_conformance(payload: Payload, targets) -> None:
    """The payload gets the outcome the table expects, and the server still answers."""
    target = targets(SERVER_MODULE, payload.flags)
    obs = target.exchange(payload)
    _check(payload, obs, _explain(payload, obs, target))


@pytest.fixture(scope="module")
def reference(gunicorn_reference, targets):
    """The gunicorn side of the differential (skips when gunicorn is not importable)."""
    return lambda flags: targets("gunicorn", gunicorn_flags(flags))


@pytest.mark.parametrize("payload", _params(differential=True))
def test_differential(payload: Payload, targets, reference) -> None:
    """monoceros and gunicorn agree on the outcome, or the table records why they do not."""
    ours = targets("monoceros", payload.flags)
    theirs = reference(payload.flags)
    mine, other = ours.exchange(payload), theirs.exchange(payload)
    why = "\n".join(
        ["monoceros:", _explain(payload, mine, ours), "gunicorn:", _explain(payload, other, theirs)]
    )
    assert not mine.followup, f"monoceros stopped answering: {mine.followup}\n{why}"
    assert not other.followup, f"gunicorn stopped answering: {other.followup}\n{why}"
    if payload.gunicorn is None:
        assert other.outcome == mine.outcome, (
            f"gunicorn {other.outcome!r}, monoceros {mine.outcome!r}\n{why}"
        )
        assert other.echo == mine.echo, f"the app saw different requests\n{why}"
        return
    assert other.outcome == payload.gunicorn_outcome, f"the table's gunicorn note is stale\n{why}"
    assert (mine.outcome, mine.echo) != (other.outcome, other.echo), f"no divergence\n{why}"
    if not _documented(payload.doc):
        raise UndocumentedDifference(f"not in docs/differences.md: {payload.doc!r}\n{why}")
