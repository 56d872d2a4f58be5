"""How the server names itself: `monoceros/<version>` by default, gunicorn 27.0.1's names with
--identify-as-gunicorn (for apps that branch on SERVER_SOFTWARE), in the environ, in
os.environ, and in the Server header of app responses and of the server's own error pages."""

from __future__ import annotations

import json

import pytest
from server import RUNNING_GUNICORN, RawConnection, build_request, get_request

pytestmark = pytest.mark.monoceros_only  # the switch is a monoceros extension

APP = "identity_probe:app"


def names(srv) -> tuple[dict, str, str]:
    """(what the app saw, the Server header of its response, that of a 400 error page)."""
    with RawConnection(srv.address) as conn:
        conn.send(get_request("/", "Connection: close"))
        resp = conn.read_response()
    with RawConnection(srv.address) as conn:
        conn.send(b"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n")
        error = conn.read_response()
    assert resp.status == 200 and error.status == 400, (resp.raw, error.raw)
    return json.loads(resp.body), resp.header("Server"), error.header("Server")


def test_default_names_monoceros_everywhere(server_factory):
    from monoceros import __version__

    seen, server, error_server = names(server_factory(APP))
    assert seen == {"environ": f"monoceros/{__version__}", "os_environ": f"monoceros/{__version__}"}
    assert server == error_server == "monoceros"


@pytest.mark.parametrize("source", ["cli", "config", "GUNICORN_CMD_ARGS"])
def test_identify_as_gunicorn_from_each_source(server_factory, tmp_path, source):
    if source == "cli":
        srv = server_factory(APP, "--identify-as-gunicorn")
    elif source == "config":
        conf = tmp_path / "gunicorn.conf.py"
        conf.write_text("identify_as_gunicorn = True\n")
        srv = server_factory(APP, "-c", str(conf))
    else:
        srv = server_factory(APP, env={"GUNICORN_CMD_ARGS": "--identify-as-gunicorn"})
    seen, server, error_server = names(srv)
    assert seen == {"environ": "gunicorn/27.0.1", "os_environ": "gunicorn/27.0.1"}
    assert server == error_server == "gunicorn"


@pytest.mark.skipif(RUNNING_GUNICORN, reason="differential: the server under test is gunicorn")
@pytest.mark.parametrize("worker", ["sync", "gthread"])
def test_identify_as_gunicorn_says_what_gunicorn_says(server_factory, gunicorn_reference, worker):
    ours = names(server_factory(APP, "-k", worker, "--identify-as-gunicorn"))
    theirs = gunicorn_reference(APP, "-k", worker)
    with RawConnection(theirs.address) as conn:
        conn.send(build_request("GET", "/", [("Connection", "close")]))
        reference = conn.read_response()
    assert ours[0] == json.loads(reference.body)
    assert ours[1] == reference.header("Server")
