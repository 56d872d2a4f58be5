"""Replay the shared HTTP request-parsing corpus against a real server process, end to end.

Every corpus case is sent over a fresh TCP connection in several delivery modes (whole, one byte
at a time for requests up to corpus.BYTEWISE_MAX bytes, split at each CRLF, and three seeded
random splits); all must give the same result. The server is `python -m $MONOCEROS_TEST_SERVER`
(`monoceros` by default, or `gunicorn`), serving tests/apps/echo_app.py. One server is started
per distinct configuration and reused by every case and mode that needs it.

The corpus expectations are the contract for monoceros, except the few cases in
MONOCEROS_DIFFERENCES where the strictness checklist overrides them (each also a row of
docs/differences.md); there the test asserts monoceros's own answer. Where gunicorn disagrees
with the corpus, the case is listed in GUNICORN_DIFFERENCES and skipped only for gunicorn.
"""

from __future__ import annotations

import importlib.util
import json
import os

import pytest
from corpus import (
    CORPUS_DIR,
    Case,
    Exchange,
    ServerPool,
    ServerProcess,
    ServerRefused,
    corpus_available,
    delivery_modes,
    ends_mid_body,
    exchange,
    expected_echo,
    lacks_host_on_http11,
    load_cases,
    observed_echo,
    split_for_mode,
)

SERVER = os.environ.get("MONOCEROS_TEST_SERVER", "monoceros")

# monoceros answers an HTTP/1.1 request without Host with 400 (RFC 9112 §3.2 MUST); gunicorn
# accepts it. Cases that send one get this monoceros-only leniency flag, so that the behaviour
# under test is the one the corpus names and not the missing Host.
PERMIT_MISSING_HOST = "--permit-missing-host"

# Errors a server can only detect once the client stops sending: the bytes end inside the
# message, so the replay half-closes the connection after the last byte. Every other invalid case
# must be answered from the bytes alone, without the client's FIN.
ENDS_MID_MESSAGE = {"NoMoreData", "ChunkMissingTerminator"}

# Cases where gunicorn 27.0.1 (sync worker) disagrees with the corpus expectation. Skipped only
# when MONOCEROS_TEST_SERVER=gunicorn; monoceros must meet the corpus.
GUNICORN_DIFFERENCES: dict[str, str] = {
    "valid/009": (
        "answers 400 'Invalid HTTP Header: TRANSFER-ENCODING' to Transfer-Encoding: identity "
        "together with Content-Length (the corpus, from gunicorn master, accepts it)"
    ),
    "valid/027": (
        "answers 400 'Invalid HTTP request line' to raw non-ASCII bytes (0xC3 0xA0) in the "
        "request-target (the corpus accepts them and expects PATH_INFO '/\\xc3\\xa0 k')"
    ),
    "valid/rfc9112_target_authority_connect_01": (
        "CONNECT example.com:443 reaches the app with PATH_INFO '443' (urlsplit reads "
        "'example.com' as a scheme); the corpus expects 'example.com:443'"
    ),
}


# Cases where monoceros deliberately answers differently from the corpus, following the
# strictness checklist (../shared/http-conformance.md) where it and gunicorn disagree. Each is a
# row of docs/differences.md. Value: (the status monoceros sends, why).
MONOCEROS_DIFFERENCES: dict[str, tuple[int, str]] = {
    "valid/009": (
        400,
        "Transfer-Encoding together with Content-Length is rejected, never resolved "
        "(checklist D9/E4, RFC 9112 §6.3)",
    ),
    "valid/027": (
        400,
        "raw bytes >= 0x80 in the request-target are rejected (checklist A9, RFC 9112 §3.2)",
    ),
    **{
        case: (
            501,
            "`Transfer-Encoding: gzip, chunked` gets 501 Not Implemented: monoceros does not "
            "decode gzip and never passes a still-coded body to the app (checklist E10)",
        )
        for case in ("valid/025", "valid/025_line", "valid/rfc9112_smuggle_gzip_chunked_01")
    },
    "invalid/version_02": (
        505,
        "a well-formed HTTP/2.0 version in an HTTP/1.x request line gets 505 HTTP Version Not "
        "Supported (checklist B2, RFC 9110 §15.6.6), not 400",
    ),
}


def _deliberate_status(case: Case) -> int | None:
    if SERVER != "monoceros" or case.id not in MONOCEROS_DIFFERENCES:
        return None
    return MONOCEROS_DIFFERENCES[case.id][0]


def _assert_rejected(result: Exchange, status: int, why: str) -> None:
    """The server answered `status` with Connection: close, closed, and never reached the app."""
    response = result.response
    assert response is not None, f"no response\n{why}"
    assert response.echo() is None, f"the app was reached\n{why}"
    assert response.status == status, why
    assert response.has_connection_close(), f"no Connection: close\n{why}"
    assert response.complete, f"truncated error response\n{why}"
    assert result.closed, f"server did not close the connection\n{why}"
    assert result.extra == b"", f"bytes after the first response\n{why}"


def _server_flags(case: Case) -> tuple[str, ...]:
    if SERVER == "monoceros" and lacks_host_on_http11(case):
        return (PERMIT_MISSING_HOST,)
    return ()


def _params(kind: str) -> list:
    if not corpus_available():
        reason = f"HTTP corpus not found at {CORPUS_DIR} (expected <repo>/../shared/http-corpus)"
        return [pytest.param(None, None, id="corpus-missing", marks=pytest.mark.skip(reason))]
    cases = [case for case in load_cases() if case.kind == kind]
    # Group by server configuration so each server is started once and then reused.
    cases.sort(key=lambda c: (json.dumps(c.config, sort_keys=True), _server_flags(c), c.name))
    params = []
    for case in cases:
        marks = []
        if SERVER == "gunicorn" and case.id in GUNICORN_DIFFERENCES:
            marks.append(pytest.mark.skip(reason=f"gunicorn: {GUNICORN_DIFFERENCES[case.id]}"))
        for mode in delivery_modes(case.raw):
            params.append(pytest.param(case, mode, id=f"{case.id}-{mode}", marks=marks))
    return params


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    if SERVER not in ("monoceros", "gunicorn"):
        pytest.fail(f"MONOCEROS_TEST_SERVER must be 'monoceros' or 'gunicorn', not {SERVER!r}")
    if importlib.util.find_spec(SERVER) is None:
        pytest.skip(f"MONOCEROS_TEST_SERVER={SERVER} but `python -m {SERVER}` is not importable")
    pool = ServerPool(SERVER, tmp_path_factory.mktemp(f"corpus-{SERVER}"))
    yield pool
    pool.close()


def _server_for(case: Case, servers: ServerPool) -> ServerProcess:
    try:
        return servers.get(case.config, _server_flags(case))
    except ServerRefused as exc:
        pytest.skip(f"{SERVER} refuses config {case.config}: {str(exc)!r}")


def _replay(case: Case, mode: str, server: ServerProcess, **kwargs) -> Exchange:
    pieces, gap = split_for_mode(case.id, case.raw, mode)
    return exchange(server.port, pieces, gap=gap, **kwargs)


def _explain(case: Case, mode: str, server: ServerProcess, result: Exchange) -> str:
    response = result.response
    lines = [
        f"case {case.id} ({mode}) against {' '.join(server.argv[2:])}",
        f"request bytes: {case.raw[:300]!r}{' ...' if len(case.raw) > 300 else ''}",
        f"received: {result.received[:600]!r}",
        f"closed={result.closed} reset={result.reset} timed_out={result.timed_out} "
        f"send_error={result.send_error} notes={result.notes}",
    ]
    if response is not None:
        lines.append(f"status={response.status} headers={response.headers}")
    lines.append("server stderr (tail):\n" + server.log_tail(1500))
    return "\n".join(lines)


@pytest.mark.parametrize(("case", "mode"), _params("valid"))
def test_valid(case: Case, mode: str, servers: ServerPool) -> None:
    """A valid case reaches the app, whose echo must match the first request's expectation.

    A case whose last request declares more body bytes than it sends (valid/099) can only end
    with the client's half-close; the expectation is then the truncated body.

    The default sync worker answers one request per connection and then closes it, so for a
    pipelined case only the first request is compared here. The keep-alive workers (gthread,
    event) extend this replay to every request of the case, in order, on one connection.
    """
    server = _server_for(case, servers)
    deliberate = _deliberate_status(case)
    result = _replay(
        case, mode, server, half_close=ends_mid_body(case), wait_close=deliberate is not None
    )
    why = _explain(case, mode, server, result)
    if deliberate is not None:
        _assert_rejected(result, deliberate, why)
        return
    response = result.response
    assert response is not None, f"no response\n{why}"
    assert response.status == 200, why
    echo = response.echo()
    assert echo is not None, f"response did not come from the echo app\n{why}"
    assert response.header("content-type") == "application/json", why
    assert observed_echo(echo) == expected_echo(case.requests[0]), why


@pytest.mark.parametrize(("case", "mode"), _params("invalid"))
def test_invalid(case: Case, mode: str, servers: ServerPool) -> None:
    """An invalid case gets the listed error status, Connection: close and a close; never the app.

    `status: null` cases end mid-request: after the client half-closes, the server must close
    without answering 200 (an error status or a bare close are both acceptable).
    """
    server = _server_for(case, servers)
    half_close = case.status is None or case.error in ENDS_MID_MESSAGE
    result = _replay(case, mode, server, half_close=half_close, wait_close=True)
    why = _explain(case, mode, server, result)
    deliberate = _deliberate_status(case)
    if deliberate is not None:
        _assert_rejected(result, deliberate, why)
        return
    response = result.response
    if response is not None:
        assert response.echo() is None, f"the app was reached\n{why}"
    assert result.closed, f"server did not close the connection\n{why}"
    assert result.extra == b"", f"bytes after the first response\n{why}"
    if case.status is None:
        assert response is None or response.status >= 400, why
        assert response is not None or result.received == b"", f"unparseable answer\n{why}"
        return
    assert response is not None, f"no response\n{why}"
    assert response.status == case.status, why
    assert response.has_connection_close(), f"no Connection: close\n{why}"
    assert response.complete, f"truncated error response\n{why}"
