"""The `know` stage: what each container's image needs, computed once per container before the mutators run."""
