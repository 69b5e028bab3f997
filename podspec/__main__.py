"""The `podspec` command (and `python -m podspec`).

`podspec --version` is answered here, before typer and the commands are imported, so that the
whole process stays within 150 ms (bench/README.md); everything else goes to the CLI.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from podspec import __version__

        sys.stdout.write(f"podspec {__version__}\n")  # what the CLI's --version prints
        return
    from podspec.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
