"""Deprecated and removed Kubernetes API versions: the table (`table.yaml`, with its source), the target version,
and the mechanical migrations (`migrate.py`). The mutator `apiVersions` migrates; `kharden/checks/apiversions.py`
reports what is deprecated or removed at the target."""
