"""Shared pytest fixtures for the end-to-end tests (see tests/server.py for the harness).

MONOCEROS_TEST_SERVER selects the server under test: `monoceros` (default) or `gunicorn`.
Tests marked `monoceros_only` check a documented monoceros difference and are skipped when the
suite runs against gunicorn.
"""

from __future__ import annotations

import pytest
from server import RUNNING_GUNICORN, SERVER_MODULE, Server, module_available


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "monoceros_only: checks a documented monoceros difference from gunicorn; "
        "skipped when MONOCEROS_TEST_SERVER=gunicorn",
    )


def pytest_collection_modifyitems(config, items):
    if not RUNNING_GUNICORN:
        return
    skip = pytest.mark.skip(reason="monoceros_only: documented difference from gunicorn")
    for item in items:
        if item.get_closest_marker("monoceros_only"):
            item.add_marker(skip)


def pytest_report_header(config):
    return f"e2e server under test: python -m {SERVER_MODULE} (MONOCEROS_TEST_SERVER)"


class _ServerPool:
    """Starts servers on demand and tears all of them down at the end."""

    def __init__(self, tmp_path_factory):
        self.tmp_path_factory = tmp_path_factory
        self.servers: list[Server] = []

    def __call__(
        self, app: str, *args: str, start: bool = True, wait: bool = True, **kwargs
    ) -> Server:
        kwargs.setdefault("tmp_dir", self.tmp_path_factory.mktemp("server"))
        srv = Server(app, *args, **kwargs)
        self.servers.append(srv)
        if start:
            srv.start(wait=wait)
        return srv

    def teardown(self) -> None:
        for srv in self.servers:
            try:
                srv.stop(timeout=10)
            finally:
                srv.kill()


@pytest.fixture
def server_factory(tmp_path_factory):
    """Start servers that are always torn down at the end of the test.

    def test_x(server_factory):
        srv = server_factory("hello:app", "-w", "2")          # started and ready
        lazy = server_factory("nosuchmodule:app", wait=False)  # started, not waited for
        other = server_factory("hello:app", module="gunicorn")

    Keyword arguments are those of `Server` plus `start` (default True) and `wait` (default
    True: block until ready). Teardown: SIGTERM + wait, then SIGKILL of the process group.
    """
    pool = _ServerPool(tmp_path_factory)
    yield pool
    pool.teardown()


@pytest.fixture(scope="module")
def module_server_factory(tmp_path_factory):
    """Like `server_factory`, but the servers live for the whole test module (use it for
    servers that many read-only tests share)."""
    pool = _ServerPool(tmp_path_factory)
    yield pool
    pool.teardown()


@pytest.fixture(scope="module")
def gunicorn_reference(module_server_factory):
    """A factory for the reference gunicorn server used by differential tests. Skips when
    the suite already runs against gunicorn or gunicorn is not installed."""
    if RUNNING_GUNICORN:
        pytest.skip("differential test: the server under test already is gunicorn")
    if not module_available("gunicorn"):
        pytest.skip("differential test: gunicorn is not installed")

    def factory(app: str, *args: str, **kwargs) -> Server:
        return module_server_factory(app, *args, module="gunicorn", **kwargs)

    return factory
