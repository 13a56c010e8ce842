"""kharden: harden Kubernetes manifests, keeping every byte it does not mean to change."""

__version__ = "0.1.0"
