"""Offline RBAC: answer `who-can` and `can-i` from manifests with the RBAC authorizer's semantics."""
