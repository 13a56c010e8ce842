"""Find: the pod specs inside objects of every pod-bearing kind."""

from kharden.find.podspecs import PodTarget, find_pod_targets

__all__ = ["PodTarget", "find_pod_targets"]
