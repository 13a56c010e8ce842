"""Proof in a real container runtime: images built with mmdebstrap, a real registry, pods run with runc.

See docs/runtime.md. `python -m tests.runtime.table` re-runs every scenario and rewrites the table there.
"""
