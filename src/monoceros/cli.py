"""The ``monoceros`` command: gunicorn's command line, served by the C++ core."""

from __future__ import annotations

import os
import sys

from monoceros.config import ConfigError, load_config


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``monoceros`` and ``python -m monoceros``; exits with the status."""
    args = sys.argv[1:] if argv is None else argv
    try:
        # Refusals wait until --print-config has shown the whole configuration.
        cfg = load_config(args, os.environ, os.getcwd(), check_supported=False)
        if cfg.check_config or cfg.print_config:
            from monoceros.config_check import run_check

            status = run_check(cfg)
        else:
            cfg.check_supported()
            from monoceros import runner  # the C++ extension is needed only from here on

            status = runner.run(cfg)
    except ConfigError as error:
        print(f"Error: {error}", file=sys.stderr)
        status = 1
    sys.exit(status)
