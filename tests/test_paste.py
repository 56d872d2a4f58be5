"""``--paste FILE.ini`` / ``--paste-global``: a real server loading its app (and logging) from a
PasteDeploy ini file, then serving requests.

Runs against monoceros (default) and gunicorn (MONOCEROS_TEST_SERVER=gunicorn).
"""

from __future__ import annotations

import pytest
import requests
import test_cli
from test_cli import assert_one_line_error, run_cli

cli_server = test_cli.cli_server  # the fixture: servers started without an APP_MODULE

pytest.importorskip("paste.deploy", reason="PasteDeploy (in the test extra) is not installed")

APP_MODULE = """\
def make_app(global_conf, greeting="hello", **local_conf):
    def app(environ, start_response):
        who = global_conf.get("who", "nobody")
        body = f"{greeting}, {who}".encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]
    return app
"""

APP_SECTIONS = """\
[app:main]
paste.app_factory = paste_site:make_app
greeting = hello

[app:other]
paste.app_factory = paste_site:make_app
greeting = howdy
"""

LOGGING_SECTIONS = """\
[loggers]
keys = root, server

[handlers]
keys = console

[formatters]
keys = tagged

[logger_root]
level = WARNING
handlers = console

[logger_server]
level = INFO
handlers = console
qualname = gunicorn.error
propagate = 0

[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = tagged

[formatter_tagged]
format = FROM-INI %(name)s %(message)s
"""


@pytest.fixture
def site(tmp_path):
    """A directory with the app factory module and site.ini (with logging sections)."""
    (tmp_path / "paste_site.py").write_text(APP_MODULE)
    (tmp_path / "site.ini").write_text(APP_SECTIONS + "\n" + LOGGING_SECTIONS)
    (tmp_path / "plain.ini").write_text(APP_SECTIONS)
    return tmp_path


def test_paste_serves_the_app_built_from_the_ini_file(cli_server, site):
    srv = cli_server(None, "--paste", "plain.ini", cwd=site)
    response = requests.get(srv.url("/"), timeout=5)
    assert response.status_code == 200
    assert response.text == "hello, nobody"


def test_paster_section_and_global_conf(cli_server, site):
    srv = cli_server(None, "--paster", "plain.ini#other", "--paste-global", "who=bob", cwd=site)
    assert requests.get(srv.url("/"), timeout=5).text == "howdy, bob"


def test_paste_global_accepts_an_escaped_equals_sign(cli_server, site):
    srv = cli_server(None, "--paste", "plain.ini", "--paste-global", r"who=a\=b", cwd=site)
    assert requests.get(srv.url("/"), timeout=5).text == "hello, a=b"


def test_paste_ini_logging_sections_configure_the_server_log(cli_server, site):
    srv = cli_server(None, "--paste", "site.ini", cwd=site)
    assert requests.get(srv.url("/"), timeout=5).text == "hello, nobody"
    srv.wait_for_log(r"FROM-INI gunicorn\.error Booting worker with pid")


@pytest.mark.monoceros_only
def test_paste_from_a_config_file(cli_server, site):
    # gunicorn reads --paste from the command line only (docs/differences.md).
    (site / "gunicorn.conf.py").write_text(
        'paste = "plain.ini"\nraw_paste_global_conf = ["who=cfg"]\n'
    )
    srv = cli_server(None, cwd=site)
    assert requests.get(srv.url("/"), timeout=5).text == "hello, cfg"


def test_paste_check_config_loads_the_app(site):
    assert run_cli("--check-config", "--paste", "plain.ini", cwd=site).returncode == 0
    result = run_cli("--check-config", "--paste", "plain.ini#missing", cwd=site)
    assert result.returncode == 1, result
    assert "missing" in result.stderr


def test_paste_with_a_missing_ini_file_is_one_line(site):
    result = run_cli("--paste", "nope.ini", cwd=site)
    assert_one_line_error(result, "nope.ini", "not found")


@pytest.mark.monoceros_only
def test_paste_without_pastedeploy_installed_is_one_line(site):
    # sitecustomize runs at startup and makes 'paste.deploy' unimportable, as if uninstalled.
    blocker = site / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text("import sys\nsys.modules['paste.deploy'] = None\n")
    result = run_cli("--paste", "plain.ini", cwd=site, env={"PYTHONPATH": str(blocker)})
    assert_one_line_error(result, "needs PasteDeploy", "pip install PasteDeploy")


@pytest.mark.monoceros_only
def test_paste_global_without_equals_is_one_line(site):
    result = run_cli("--paste", "plain.ini", "--paste-global", "who", cwd=site)
    assert_one_line_error(result, "'raw_paste_global_conf'", "'who'", "KEY=VALUE")
