#!/usr/bin/env bash
# The tutorial through podspec, on a private Podman (its own storage and service under .sandbox/,
# offline stand-in images): `podspec apply manifests/webserver.yaml`, then the page on :8080.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
url=$(.venv/bin/python tools/sandbox.py up)
echo "+ podman pod exists dynamic-webserver || podman kube play manifests/webserver.yaml"
echo "  (podspec apply is not implemented yet, issue #5: the demo uses the podman CLI meanwhile)"
podman --url "$url" pod exists dynamic-webserver || podman --url "$url" kube play manifests/webserver.yaml >/dev/null
for _ in $(seq 50); do curl -sf localhost:8080 >/dev/null && break; sleep 0.2; done
sleep 1
echo "+ curl -s localhost:8080"
curl -s localhost:8080
echo
echo "The private Podman keeps running. To use it from this shell:"
echo "  export CONTAINER_HOST=$url PATH=\$PWD/.venv/bin:\$PATH"
echo "Stop it with: .venv/bin/python tools/sandbox.py down"
