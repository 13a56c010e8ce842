"""Images: references, the registry client, image configs and the built-in catalog (the `know` stage's sources)."""
