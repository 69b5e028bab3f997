#!/usr/bin/env bash
# The tutorial through podspec, on a private Podman (its own storage, configuration and service
# under .sandbox/, offline stand-in images, registries blocked):
#   podspec apply manifests/webserver.yaml   then   curl -s localhost:8080
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
url=$(.venv/bin/python tools/sandbox.py up)
export CONTAINER_HOST="$url"
echo "+ podspec apply manifests/webserver.yaml"
.venv/bin/podspec apply manifests/webserver.yaml
for _ in $(seq 50); do curl -sf localhost:8080 >/dev/null && break; sleep 0.2; done
sleep 1  # let the sidecar append its first line
echo "+ curl -s localhost:8080"
curl -s localhost:8080
echo
echo "The private Podman keeps running. To use it from this shell:"
echo "  export CONTAINER_HOST=$url PATH=\$PWD/.venv/bin:\$PATH"
echo "  podspec status; podspec diff manifests/"
echo "Stop it: .venv/bin/python tools/sandbox.py down   (add 'purge' first to remove the pod)"
