"""The engine: the only code that talks to Podman.

protocol.py says what podspec needs from an engine; podman.py keeps it against a Podman service
(connection.py finds the service, transport.py carries the calls, specgen.py writes the create
bodies, parse.py reads the answers); fake.py keeps it with plain dicts, for tests.
"""
