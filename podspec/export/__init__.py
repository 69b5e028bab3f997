"""Export, pure: inspect JSON -> model (inspected.py) -> manifest text (manifest.py)."""

from enum import Enum


class ExportFormat(str, Enum):
    """The text export writes: YAML documents, or a JSON Kubernetes List."""

    yaml = "yaml"
    json = "json"
