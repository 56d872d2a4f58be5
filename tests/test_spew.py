"""``--spew``: each worker prints every Python line it runs, as ``module:lineno: source``.

Runs against monoceros (default) and gunicorn (MONOCEROS_TEST_SERVER=gunicorn): the format is
gunicorn's.
"""

from __future__ import annotations

import re

import pytest
import requests

APP = """\
def app(environ, start_response):
    marker = "this line runs only while a request is served"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""
REQUEST_LINE = '    marker = "this line runs only while a request is served"'
TRACE_LINE_RE = re.compile(r"^[\w.\[\]<>-]+:\d+: ", re.MULTILINE)


@pytest.fixture
def app_dir(tmp_path):
    (tmp_path / "spew_app.py").write_text(APP)
    return tmp_path


def _served_output(server_factory, app_dir, *args: str) -> str:
    srv = server_factory("spew_app:app", *args, cwd=app_dir)
    assert requests.get(srv.url("/"), timeout=10).text == "ok"
    srv.stop()
    return srv.stdout_path.read_text(errors="replace")


def test_spew_traces_the_lines_a_worker_runs_while_serving(server_factory, app_dir):
    out = _served_output(server_factory, app_dir, "--spew")
    assert f"spew_app:2: {REQUEST_LINE.rstrip()}" in out.splitlines()
    assert "spew_app:3:     start_response(" in out
    # Every line of the trace has the module:lineno: prefix (the app writes nothing itself).
    lines = [line for line in out.splitlines() if line]
    assert len(lines) > 100
    assert sum(1 for line in lines if TRACE_LINE_RE.match(line)) > 0.95 * len(lines)


def test_without_spew_nothing_is_traced(server_factory, app_dir):
    assert "spew_app:2:" not in _served_output(server_factory, app_dir)


def test_spew_from_a_config_file(server_factory, app_dir):
    (app_dir / "gunicorn.conf.py").write_text("spew = True\n")
    assert f"spew_app:2: {REQUEST_LINE}" in _served_output(server_factory, app_dir).splitlines()
