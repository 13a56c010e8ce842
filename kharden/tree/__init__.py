"""Whole repositories as input, the way black takes a Python tree: which files are manifests, which are skipped and
why, which are broken; where `-o DIR` writes each one. Edges call this before the pure pipeline runs."""
