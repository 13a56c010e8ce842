"""The parts of the `rbac` generator (generator.py, registered as `rbac`): access (the `kharden.dev/access`
annotation), auditlog (the requests an audit log shows), usage (who uses which ServiceAccount and what it needs),
rules (compact RBAC rules from those uses) and build (the ServiceAccounts, Roles and bindings it emits)."""
