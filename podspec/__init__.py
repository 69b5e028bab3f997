"""podspec: make a Podman host match Kubernetes Pod manifests kept in git."""

__version__ = "0.1.0"
