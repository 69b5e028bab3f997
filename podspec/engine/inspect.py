"""Moved to podspec/export/reading.py (it reads through any engine). Kept only until the CLI's
export command imports it from there; remove it then."""

from podspec.export.reading import init_container_names, inspect_image, pod_names, read_pod, read_pods

__all__ = ["init_container_names", "inspect_image", "pod_names", "read_pod", "read_pods"]
