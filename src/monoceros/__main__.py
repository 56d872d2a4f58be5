"""``python -m monoceros``: the same as the ``monoceros`` command."""

from monoceros.cli import main

if __name__ == "__main__":
    main()
