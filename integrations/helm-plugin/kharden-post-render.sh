#!/bin/sh
# Helm runs this with the rendered manifests on stdin and --post-renderer-args as arguments.
# KHARDEN may name another way to run kharden, e.g. "python3 -m kharden".
#
# Helm 4 drops what a post-renderer plugin writes to stderr: a failure shows only 'plugin "kharden" exited with
# error'. So kharden's messages also go to the terminal when there is one, and are appended to the file that
# KHARDEN_LOG names when it is set (for CI).
messages=$(mktemp) || exit 1
trap 'rm -f "$messages"' EXIT
${KHARDEN:-kharden} helm-post-render "$@" 2>"$messages"
status=$?
if [ -s "$messages" ]; then
  cat "$messages" >&2
  if [ -n "${KHARDEN_LOG:-}" ]; then
    cat "$messages" >>"$KHARDEN_LOG"
  fi
  { cat "$messages" >/dev/tty; } 2>/dev/null
fi
exit "$status"
