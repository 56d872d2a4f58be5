"""Unit tests for monoceros.loader: application URIs, import errors, process preparation.

Pure Python: run with ``PYTHONPATH=src python -m pytest tests/test_loader.py``. gunicorn, when
importable, serves as an oracle for the URI forms both servers accept.
"""

from __future__ import annotations

import itertools
import os
import sys
import textwrap

import pytest

from monoceros.config import Config, load_config
from monoceros.loader import AppImportError, load_wsgi_app, parse_app_uri, prepare_environment

try:
    from gunicorn.util import import_app as gunicorn_import_app
except ImportError:  # pragma: no cover - the oracle is optional
    gunicorn_import_app = None

_counter = itertools.count()

APP_SOURCE = """
def application(environ, start_response):
    return [b"application"]

def app(environ, start_response):
    return [b"app"]

class Holder:
    def wsgi(self, environ, start_response):
        return [b"holder.wsgi"]

holder = Holder()

class Nested:
    inner = holder

nested = Nested()

not_callable = 42

def create_app(name="default", *, debug=False):
    def wsgi(environ, start_response):
        return [f"factory:{name}:{debug}".encode()]
    return wsgi

def make_none():
    return None

def make_int():
    return 7

def broken_factory():
    raise RuntimeError("database is down")

def buggy_factory(x):
    return len(x, x)  # TypeError raised inside the factory
"""


@pytest.fixture
def modules(tmp_path, monkeypatch):
    """Write uniquely named modules under tmp_path and make them importable."""
    monkeypatch.syspath_prepend(str(tmp_path))
    created: list[str] = []

    def make(source: str = APP_SOURCE, *, name: str | None = None, package: bool = False) -> str:
        name = name or f"mono_app_{next(_counter)}"
        if package:
            pkg = tmp_path / name
            pkg.mkdir()
            (pkg / "__init__.py").write_text("")
            (pkg / "wsgi.py").write_text(textwrap.dedent(source))
        else:
            (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        created.append(name)
        return name

    yield make
    for name in created:
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]


def call(app) -> bytes:
    return b"".join(app({}, lambda *a: None))


# ------------------------------------------------------------------------------------------------
# URI forms


def test_bare_module_means_application(modules):
    name = modules()
    assert call(load_wsgi_app(name)) == b"application"


def test_module_and_name(modules):
    name = modules()
    assert call(load_wsgi_app(f"{name}:app")) == b"app"


def test_dotted_package_module(modules):
    name = modules(package=True)
    assert call(load_wsgi_app(f"{name}.wsgi")) == b"application"
    assert call(load_wsgi_app(f"{name}.wsgi:app")) == b"app"


def test_dotted_attribute_path(modules):
    name = modules()
    assert call(load_wsgi_app(f"{name}:holder.wsgi")) == b"holder.wsgi"
    assert call(load_wsgi_app(f"{name}:nested.inner.wsgi")) == b"holder.wsgi"


def test_factory_call_without_arguments(modules):
    name = modules()
    assert call(load_wsgi_app(f"{name}:create_app()")) == b"factory:default:False"


def test_factory_call_with_literal_arguments(modules):
    name = modules()
    app = load_wsgi_app(f"{name}:create_app('prod', debug=True)")
    assert call(app) == b"factory:prod:True"
    app = load_wsgi_app(f'{name}:create_app(name="x")')
    assert call(app) == b"factory:x:False"


def test_whitespace_around_the_uri_parts_is_ignored(modules):
    name = modules()
    assert call(load_wsgi_app(f"{name}: app")) == b"app"


def test_parse_app_uri():
    spec = parse_app_uri("pkg.mod:obj.factory(1, [2, 3], key={'a': None})")
    assert spec.module == "pkg.mod"
    assert spec.attrs == ("obj", "factory")
    assert spec.call is True
    assert spec.args == (1, [2, 3])
    assert spec.kwargs == {"key": {"a": None}}
    spec = parse_app_uri("pkg.mod")
    assert (spec.expression, spec.attrs, spec.call) == ("application", ("application",), False)


@pytest.mark.skipif(gunicorn_import_app is None, reason="gunicorn is not importable")
@pytest.mark.parametrize(
    "suffix, expected",
    [
        ("", b"application"),
        (":app", b"app"),
        (":create_app()", b"factory:default:False"),
        (":create_app('a', debug=True)", b"factory:a:True"),
    ],
)
def test_uri_forms_agree_with_gunicorn(modules, suffix, expected):
    name = modules()
    assert call(load_wsgi_app(name + suffix)) == expected
    assert call(gunicorn_import_app(name + suffix)) == expected


# ------------------------------------------------------------------------------------------------
# Errors


def test_module_not_found(modules):
    with pytest.raises(AppImportError) as info:
        load_wsgi_app("no_such_module_xyz:app")
    assert str(info.value) == "Failed to find application module 'no_such_module_xyz'."
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
    assert info.value.show_traceback is False


def test_missing_parent_package_counts_as_module_not_found():
    with pytest.raises(AppImportError) as info:
        load_wsgi_app("no_such_pkg_xyz.wsgi")
    assert str(info.value) == "Failed to find application module 'no_such_pkg_xyz.wsgi'."


def test_module_importing_a_missing_dependency(modules):
    name = modules("import missing_dependency_xyz\napplication = None\n")
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(name)
    assert str(info.value) == (
        f"Application module {name!r} could not be imported: it imports "
        "'missing_dependency_xyz', which was not found."
    )
    assert info.value.show_traceback is True
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
    assert info.value.__cause__.name == "missing_dependency_xyz"
    assert info.value.__cause__.__traceback__ is not None  # the traceback is kept


def test_module_raising_on_import(modules):
    name = modules("raise ValueError('bad settings')\n")
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(name)
    assert str(info.value) == (
        f"Application module {name!r} failed to import: ValueError: bad settings"
    )
    assert info.value.show_traceback is True
    assert isinstance(info.value.__cause__, ValueError)


def test_module_with_syntax_error(modules):
    name = modules("def broken(:\n")
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(name)
    assert str(info.value).startswith(f"Application module {name!r} failed to import: SyntaxError")
    assert isinstance(info.value.__cause__, SyntaxError)


def test_py_file_name_gets_a_hint(modules, tmp_path, monkeypatch):
    name = modules()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"{name}.py:app")
    assert str(info.value) == (
        f"Failed to find application module '{name}.py'; did you mean '{name}:app'?"
    )


def test_attribute_not_found(modules):
    name = modules()
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"{name}:missing")
    assert str(info.value) == f"Failed to find attribute 'missing' in {name!r}."
    assert isinstance(info.value.__cause__, AttributeError)


def test_default_application_attribute_not_found(modules):
    name = modules("app = None\n")
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(name)
    assert str(info.value) == f"Failed to find attribute 'application' in {name!r}."


def test_brief_example_message(modules):
    modules("application = None\n", name="myapp_mono_example")
    with pytest.raises(AppImportError) as info:
        load_wsgi_app("myapp_mono_example:app")
    assert str(info.value) == "Failed to find attribute 'app' in 'myapp_mono_example'."


def test_dotted_attribute_not_found(modules):
    name = modules()
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"{name}:holder.nope.deeper")
    assert str(info.value) == f"Failed to find attribute 'nope.deeper' in '{name}:holder'."


def test_not_callable(modules):
    name = modules()
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"{name}:not_callable")
    assert str(info.value) == (
        f"Application object 'not_callable' in {name!r} must be callable (it is int)."
    )


def test_factory_returning_a_non_callable(modules):
    name = modules()
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"{name}:make_int()")
    assert "must be callable (it is int)" in str(info.value)


def test_factory_returning_none(modules):
    name = modules()
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"{name}:make_none()")
    assert str(info.value) == (
        f"Factory 'make_none()' in {name!r} returned None instead of an application."
    )


def test_calling_something_that_is_not_callable(modules):
    name = modules()
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"{name}:not_callable()")
    assert str(info.value) == f"Factory 'not_callable' in {name!r} is not callable."


def test_factory_raising(modules):
    name = modules()
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"{name}:broken_factory()")
    assert str(info.value) == (
        f"Factory 'broken_factory()' in {name!r} raised RuntimeError: database is down"
    )
    assert info.value.show_traceback is True
    assert isinstance(info.value.__cause__, RuntimeError)


def test_factory_raising_type_error_inside_is_not_mistaken_for_bad_arguments(modules):
    name = modules()
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"{name}:buggy_factory('abc')")
    assert str(info.value).startswith(
        f"Factory \"buggy_factory('abc')\" in {name!r} raised TypeError:"
    )
    assert info.value.show_traceback is True


def test_factory_called_with_wrong_arguments(modules):
    name = modules()
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"{name}:create_app(1, 2)")
    assert str(info.value) == (
        f"Factory 'create_app' in {name!r} cannot be called as 'create_app(1, 2)': too many "
        "positional arguments."
    )
    assert info.value.show_traceback is False
    with pytest.raises(AppImportError, match="unexpected keyword argument 'colour'"):
        load_wsgi_app(f"{name}:create_app(colour=1)")


@pytest.mark.parametrize(
    "expression",
    ["app app", "app[0]", "1 + 2", "app;x", "lambda: 1", "'string'", "app()()"],
)
def test_bad_syntax(expression):
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"some_module:{expression}")
    message = str(info.value)
    assert message in (
        f"Failed to parse {expression!r} as an attribute name or function call.",
        f"Function reference must be a name or a dotted attribute path: {expression!r}.",
    )


@pytest.mark.parametrize(
    "expression",
    ["create_app(x)", "create_app(name=os.environ)", "create_app(*args)", "create_app(**kw)",
     "create_app(1 + len('a'))"],
)  # fmt: skip
def test_non_literal_arguments(expression):
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(f"some_module:{expression}")
    assert str(info.value) == f"Failed to parse arguments as literal values: {expression!r}."


def test_arguments_are_never_evaluated(modules, tmp_path):
    name = modules()
    marker = tmp_path / "evaluated"
    with pytest.raises(AppImportError):
        load_wsgi_app(f"{name}:create_app(open({str(marker)!r}, 'w'))")
    assert not marker.exists()


@pytest.mark.parametrize(
    "uri, message",
    [
        (":app", "No module name in application ':app'; expected 'module:callable'."),
        ("mod:", "No object name after ':' in application 'mod:'."),
    ],
)
def test_empty_parts(uri, message):
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(uri)
    assert str(info.value) == message


def test_relative_module_name_is_rejected():
    with pytest.raises(AppImportError) as info:
        load_wsgi_app(".relative:app")
    assert str(info.value).startswith("Invalid module name '.relative':")


def test_every_message_is_one_line(modules):
    name = modules()
    uris = [
        "no_such_module_xyz",
        f"{name}:missing",
        f"{name}:not_callable",
        f"{name}:broken_factory()",
        f"{name}:create_app(1, 2, 3)",
        f"{name}:a b",
        f"{name}:create_app(x)",
    ]
    for uri in uris:
        with pytest.raises(AppImportError) as info:
            load_wsgi_app(uri)
        assert "\n" not in str(info.value), uri


# ------------------------------------------------------------------------------------------------
# prepare_environment


@pytest.fixture
def isolated_process(monkeypatch):
    """Let prepare_environment change cwd, sys.path and os.environ; undo it afterwards."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(os, "environ", os.environ.copy())
    start = os.getcwd()
    yield
    os.chdir(start)


def test_prepare_environment_chdir_pythonpath_and_env(tmp_path, isolated_process):
    app_dir = tmp_path / "srv"
    (app_dir / "lib").mkdir(parents=True)
    (app_dir / "vendor").mkdir()
    cfg = load_config(
        ["--chdir", "srv", "--pythonpath", "lib,vendor", "-e", "MONO_A=1", "-e", "MONO_B=x=y",
         "app"],
        {},
        str(tmp_path),
    )  # fmt: skip
    prepare_environment(cfg)
    assert os.getcwd() == str(app_dir)
    # pythonpath entries are made absolute from the new directory and each is inserted at the
    # front in turn, so the last one listed ends up first (gunicorn's order).
    assert sys.path[:4] == [
        str(app_dir / "vendor"),
        str(app_dir / "lib"),
        str(app_dir),
        str(tmp_path),
    ]
    assert os.environ["MONO_A"] == "1"
    assert os.environ["MONO_B"] == "x=y"


def test_prepare_environment_does_not_duplicate_path_entries(tmp_path, isolated_process):
    sys.path.insert(0, str(tmp_path))
    cfg = load_config(["--pythonpath", str(tmp_path), "app"], {}, str(tmp_path))
    before = list(sys.path)
    prepare_environment(cfg)
    assert sys.path == before
    assert os.getcwd() == str(tmp_path)


def test_prepare_environment_then_load_app_from_chdir(tmp_path, isolated_process):
    app_dir = tmp_path / "project"
    app_dir.mkdir()
    (app_dir / "mono_chdir_app.py").write_text(
        "import os\n"
        "def application(environ, start_response):\n"
        "    return [os.environ['MONO_GREETING'].encode()]\n"
    )
    cfg = load_config(
        ["--chdir", "project", "-e", "MONO_GREETING=hello", "mono_chdir_app"], {}, str(tmp_path)
    )
    try:
        prepare_environment(cfg)
        assert call(load_wsgi_app(cfg.app_uri)) == b"hello"
    finally:
        sys.modules.pop("mono_chdir_app", None)


def test_prepare_environment_with_a_bare_config(tmp_path, isolated_process):
    cfg = Config({}, str(tmp_path))
    prepare_environment(cfg)
    assert os.getcwd() == str(tmp_path)
    assert sys.path[0] == str(tmp_path)


def test_empty_module_name_component_is_rejected():
    with pytest.raises(AppImportError) as info:
        load_wsgi_app("pkg..mod:app")
    assert str(info.value) == "Invalid module name 'pkg..mod': expected an absolute dotted name."
