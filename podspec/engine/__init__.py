"""The engine: the only code that talks to Podman (see podman.py, protocol.py)."""
