"""Find and load the WSGI application, and prepare the process for it.

``load_wsgi_app("pkg.module:obj.attr")`` accepts what gunicorn accepts (``module``,
``module:name``, ``module:factory()``, ``module:factory('x', debug=True)`` with literal
arguments) plus dotted attribute paths. Every failure is an ``AppImportError`` whose message is
one line; the original exception stays chained (``__cause__``) so that the caller can print its
traceback once.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import sys
from collections.abc import Callable
from typing import Any

from monoceros.config.paste import MISSING_PASTEDEPLOY, PasteAppUri

__all__ = ["AppImportError", "AppSpec", "load_wsgi_app", "parse_app_uri", "prepare_environment"]


class AppImportError(Exception):
    """The application could not be loaded. ``str(error)`` is one line.

    ``show_traceback`` is True when the chained exception came from the application's own
    code (an error inside the module or the factory), so its traceback is worth printing.
    """

    def __init__(self, message: str, *, show_traceback: bool = False) -> None:
        super().__init__(message)
        self.show_traceback = show_traceback


class AppSpec:
    """A parsed application URI: module, attribute path and optional factory arguments."""

    __slots__ = ("module", "expression", "attrs", "call", "args", "kwargs")

    def __init__(
        self,
        module: str,
        expression: str,
        attrs: tuple[str, ...],
        call: bool,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.module = module
        self.expression = expression  # the text after ':' ("application" when omitted)
        self.attrs = attrs  # ("obj", "attr") for "obj.attr" or "obj.attr()"
        self.call = call  # whether the object is a factory to call
        self.args = args
        self.kwargs = kwargs or {}

    def __repr__(self) -> str:
        return f"AppSpec({self.module!r}, {self.expression!r})"


def _attribute_path(node: ast.expr) -> tuple[str, ...] | None:
    """``a.b.c`` as ("a", "b", "c"); None for anything that is not plain names and dots."""
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.Attribute):
        head = _attribute_path(node.value)
        return None if head is None else (*head, node.attr)
    return None


def parse_app_uri(uri: str) -> AppSpec:
    """Split ``module[:expression]`` and parse the expression without evaluating code."""
    module, sep, expression = uri.partition(":")
    module = module.strip()
    expression = expression.strip() if sep else "application"
    if not module:
        raise AppImportError(f"No module name in application {uri!r}; expected 'module:callable'.")
    if not expression:
        raise AppImportError(f"No object name after ':' in application {uri!r}.")

    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        raise AppImportError(
            f"Failed to parse {expression!r} as an attribute name or function call."
        ) from None

    attrs = _attribute_path(node)
    if attrs is not None:
        return AppSpec(module, expression, attrs, call=False)
    if not isinstance(node, ast.Call):
        raise AppImportError(
            f"Failed to parse {expression!r} as an attribute name or function call."
        )
    attrs = _attribute_path(node.func)
    if attrs is None:
        raise AppImportError(
            f"Function reference must be a name or a dotted attribute path: {expression!r}."
        )
    if any(isinstance(a, ast.Starred) for a in node.args) or any(
        kw.arg is None for kw in node.keywords
    ):
        raise AppImportError(f"Failed to parse arguments as literal values: {expression!r}.")
    try:
        args = tuple(ast.literal_eval(a) for a in node.args)
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise AppImportError(
            f"Failed to parse arguments as literal values: {expression!r}."
        ) from None
    return AppSpec(module, expression, attrs, call=True, args=args, kwargs=kwargs)


def _missing_module_is_ours(missing: str | None, module: str) -> bool:
    """Whether a ModuleNotFoundError for ``missing`` means ``module`` itself (or one of its
    parent packages) does not exist, rather than something it imports."""
    if not missing:
        return True
    return module == missing or module.startswith(missing + ".")


def _import_module(module: str, spec: AppSpec) -> Any:
    if module.startswith(".") or "" in module.split("."):
        raise AppImportError(f"Invalid module name {module!r}: expected an absolute dotted name.")
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if _missing_module_is_ours(exc.name, module):
            if module.endswith(".py") and os.path.exists(module):
                guess = module[: -len(".py")].replace(os.sep, ".")
                raise AppImportError(
                    f"Failed to find application module {module!r}; did you mean "
                    f"'{guess}:{spec.expression}'?"
                ) from exc
            raise AppImportError(f"Failed to find application module {module!r}.") from exc
        raise AppImportError(
            f"Application module {module!r} could not be imported: it imports "
            f"{exc.name!r}, which was not found.",
            show_traceback=True,
        ) from exc
    except Exception as exc:
        raise AppImportError(
            f"Application module {module!r} failed to import: {type(exc).__name__}: {exc}",
            show_traceback=True,
        ) from exc


def _call_factory(factory: Callable, spec: AppSpec) -> Any:
    name = ".".join(spec.attrs)
    if not callable(factory):
        raise AppImportError(f"Factory {name!r} in {spec.module!r} is not callable.")
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        try:
            signature.bind(*spec.args, **spec.kwargs)
        except TypeError as exc:
            raise AppImportError(
                f"Factory {name!r} in {spec.module!r} cannot be called as "
                f"{spec.expression!r}: {exc}."
            ) from exc
    try:
        return factory(*spec.args, **spec.kwargs)
    except Exception as exc:
        raise AppImportError(
            f"Factory {spec.expression!r} in {spec.module!r} raised {type(exc).__name__}: {exc}",
            show_traceback=True,
        ) from exc


def load_wsgi_app(uri: str) -> Callable:
    """Import and return the WSGI callable named by ``uri``. Raises AppImportError."""
    if isinstance(uri, PasteAppUri):  # --paste: PasteDeploy builds the app from the ini file
        return _load_paste_app(uri)
    spec = parse_app_uri(uri)
    obj = _import_module(spec.module, spec)
    for depth, attr in enumerate(spec.attrs):
        try:
            obj = getattr(obj, attr)
        except AttributeError as exc:
            where = spec.module if depth == 0 else f"{spec.module}:{'.'.join(spec.attrs[:depth])}"
            raise AppImportError(
                f"Failed to find attribute {'.'.join(spec.attrs[depth:])!r} in {where!r}."
            ) from exc
    if spec.call:
        obj = _call_factory(obj, spec)
        if obj is None:
            raise AppImportError(
                f"Factory {spec.expression!r} in {spec.module!r} returned None instead of an "
                "application."
            )
    if not callable(obj):
        raise AppImportError(
            f"Application object {spec.expression!r} in {spec.module!r} must be callable "
            f"(it is {type(obj).__name__})."
        )
    return obj


def _load_paste_app(uri: PasteAppUri) -> Any:
    """Build the app of a ``--paste`` ini file with PasteDeploy."""
    try:
        from paste.deploy import loadapp  # an optional dependency, imported only when used
    except ImportError as exc:
        raise AppImportError(MISSING_PASTEDEPLOY) from exc
    try:
        return loadapp(f"config:{uri}", relative_to=os.getcwd(), global_conf=uri.global_conf)
    except Exception as exc:
        raise AppImportError(
            f"Failed to load the PasteDeploy application from {str(uri)!r}: "
            f"{type(exc).__name__}: {exc}",
            # A missing section is a mistake in the ini file, not in the app's code.
            show_traceback=not isinstance(exc, LookupError),
        ) from exc


def prepare_environment(cfg: Any) -> None:
    """Prepare the process the way gunicorn does before it loads the application.

    1. Put the start directory (``cfg.cwd``) on ``sys.path`` (gunicorn's first chdir does),
       change into ``cfg.chdir`` and put it first on ``sys.path`` (each only if missing).
    2. Insert each ``pythonpath`` entry, made absolute from the new directory, at the front of
       ``sys.path`` in the order listed (so the last entry ends up first), skipping ones
       already present.
    3. Export ``raw_env`` (``cfg.env``) into ``os.environ``.

    The config file has already been read by then, relative to the start directory.
    """
    start = getattr(cfg, "cwd", None)
    if start is not None and start not in sys.path:
        sys.path.insert(0, start)
    os.chdir(cfg.chdir)
    if cfg.chdir not in sys.path:
        sys.path.insert(0, cfg.chdir)

    if cfg.pythonpath:
        for entry in cfg.pythonpath.split(","):
            if not entry.strip():
                continue
            path = os.path.abspath(entry.strip())
            if path not in sys.path:
                sys.path.insert(0, path)

    for key, value in cfg.env.items():
        os.environ[key] = value
