"""``--check-config`` and ``--print-config`` through a real process: they load the app, exit 0 or 1,
and never serve.

Runs against monoceros (default) and gunicorn (MONOCEROS_TEST_SERVER=gunicorn); tests marked
`monoceros_only` check a difference listed in docs/differences.md. The line-by-line comparison of
``--print-config`` with gunicorn's own output is in test_print_config.py.
"""

from __future__ import annotations

import pytest
from test_cli import assert_one_line_error, run_cli


def test_check_config_of_a_good_app_prints_nothing_and_exits_0():
    result = run_cli("--check-config", app="hello:app")
    assert result.returncode == 0, result
    assert result.stdout == "" and result.stderr == "", result


def test_check_config_does_not_serve(tmp_path):
    # A unix socket that a server would create: a check must leave it absent.
    sock = tmp_path / "s.sock"
    result = run_cli("--check-config", "-b", f"unix:{sock}", app="hello:app")
    assert result.returncode == 0, result
    assert "Listening" not in result.stderr and not sock.exists()


def test_check_config_fails_for_a_missing_module():
    result = run_cli("--check-config", app="no_such_module_here:app")
    assert result.returncode == 1, result
    assert "no_such_module_here" in result.stderr


@pytest.mark.monoceros_only
def test_check_config_names_a_missing_module_in_one_line():
    result = run_cli("--check-config", app="no_such_module_here:app")
    assert_one_line_error(result, "Failed to find application module 'no_such_module_here'")


def test_check_config_fails_for_a_missing_attribute():
    result = run_cli("--check-config", app="hello:no_such_app")
    assert result.returncode == 1, result
    assert "no_such_app" in result.stderr


def test_check_config_shows_the_traceback_of_an_app_that_raises_at_import():
    result = run_cli("--check-config", app="import_error_app:app")
    assert result.returncode == 1, result
    assert "Traceback" in result.stderr
    assert "import_error_app refuses to import" in result.stderr


@pytest.mark.monoceros_only
def test_check_config_ends_an_import_failure_with_one_error_line():
    result = run_cli("--check-config", app="import_error_app:app")
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: Application module 'import_error_app' failed to import"), result
    assert result.stderr.count("Traceback") == 1, result


def test_check_config_without_an_app_fails():
    result = run_cli("--check-config")
    assert result.returncode == 1, result
    assert "No application module specified." in result.stderr


def test_check_config_reports_a_bad_value_in_one_line(tmp_path):
    (tmp_path / "gunicorn.conf.py").write_text("workers = 'many'\n")
    result = run_cli("--check-config", app="hello:app", cwd=tmp_path)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr and "workers" in result.stderr


def test_check_config_from_a_config_file_and_gunicorn_cmd_args(tmp_path):
    # Were the setting ignored, the server would run and run_cli would time out.
    (tmp_path / "tiny.py").write_text("def app(environ, start_response):\n    pass\n")
    (tmp_path / "gunicorn.conf.py").write_text("check_config = True\nwsgi_app = 'tiny:app'\n")
    result = run_cli(cwd=tmp_path, timeout=10)
    assert result.returncode == 0 and result.stderr == "", result
    result = run_cli(app="hello:app", env={"GUNICORN_CMD_ARGS": "--check-config"}, timeout=10)
    assert result.returncode == 0 and result.stderr == "", result


@pytest.mark.monoceros_only
def test_check_config_sees_the_app_through_pythonpath_as_a_real_run_does(tmp_path):
    # gunicorn's check ignores --pythonpath (docs/differences.md); a real run honours it.
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "lib_only_app.py").write_text(
        "def app(environ, start_response):\n    pass\n"
    )
    result = run_cli("--check-config", "--pythonpath", "lib", app="lib_only_app:app", cwd=tmp_path)
    assert result.returncode == 0, result


@pytest.mark.monoceros_only
def test_check_config_refuses_a_setting_monoceros_cannot_honour_yet():
    result = run_cli("--check-config", "--certfile", "c.pem", app="hello:app")
    assert_one_line_error(result, "'certfile'", "not supported by monoceros yet")


def test_print_config_prints_name_equals_value_lines_and_exits_0():
    result = run_cli("--print-config", "-w", "3", app="hello:app")
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert lines == sorted(lines)  # sorted by name
    width = lines[0].index(" = ")
    assert all(line[width : width + 3] == " = " for line in lines), result.stdout
    values = {line[:width].rstrip(): line[width + 3 :] for line in lines}
    assert values["workers"] == "3"
    assert values["print_config"] == "True"
    assert values["default_proc_name"] == "hello:app"


def test_print_config_still_fails_when_the_app_does_not_load():
    result = run_cli("--print-config", app="no_such_module_here:app")
    assert result.returncode == 1, result
    assert "workers" in result.stdout  # the configuration is printed first
