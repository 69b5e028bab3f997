"""The `podspec` command (and `python -m podspec`).

`podspec --version` is answered here, before typer and the commands are imported, so that the
whole process stays within 150 ms (bench/README.md); everything else goes to the CLI.

The garbage collector is tuned here for a process that lives for a moment (every command but the
`sync` agent, which keeps Python's defaults): the young generation is collected every 100,000
objects rather than 700 (the imports and the loaded manifests are ~50,000, all alive to the end;
~8 ms of a no-op diff's CPU went to collecting them), and at exit what is still alive is frozen, so
that Python leaves it to the OS instead of collecting it object by object (~15 ms of every command).
Finalization still runs: atexit handlers, flushed streams, a started Podman service stopped.

The code dataclasses compile for their methods and the regular expressions' compiled code come from
podspec.compile_cache (kept beside the package's bytecode): ~0.05 s of a no-op diff's CPU at 30 pods.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from podspec import __version__

        sys.stdout.write(f"podspec {__version__}\n")  # what the CLI's --version prints
        return
    import gc

    from podspec import compile_cache

    if sys.argv[1:2] != ["sync"]:
        gc.set_threshold(100_000, 50, 1000)
    compile_cache.install()
    from podspec.cli import main as cli_main

    try:
        cli_main()
    finally:
        compile_cache.save()
        gc.freeze()


if __name__ == "__main__":
    main()
