#!/bin/sh
# Helm runs this with the rendered manifests on stdin and --post-renderer-args as arguments.
# KHARDEN may name another way to run kharden, e.g. "python3 -m kharden".
exec ${KHARDEN:-kharden} helm-post-render "$@"
