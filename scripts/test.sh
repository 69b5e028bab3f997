#!/usr/bin/env bash
# Unit and real-Podman integration tests. The integration tests start their own private Podman
# service (own storage, configuration and socket under pytest's temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/python -m pytest "$@"
