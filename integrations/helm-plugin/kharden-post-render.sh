#!/bin/sh
# Helm runs this with the rendered manifests on stdin and --post-renderer-args as arguments.
# KHARDEN may name another way to run kharden, e.g. "python3 -m kharden".
#
# Helm 4 drops what a post-renderer plugin writes to stderr: a failure shows only 'plugin "kharden" exited with
# error'. So kharden's messages also go to the terminal when there is one (and stderr is not it already), and are
# appended to the file that KHARDEN_LOG names when it is set (for CI).
messages=$(mktemp 2>/dev/null) || exec ${KHARDEN:-kharden} helm-post-render "$@"  # no temporary file: as before
trap 'rm -f "$messages"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
${KHARDEN:-kharden} helm-post-render "$@" 2>"$messages"
status=$?
if [ -s "$messages" ]; then
  cat "$messages" >&2
  if [ -n "${KHARDEN_LOG:-}" ]; then
    cat "$messages" >>"$KHARDEN_LOG"
  fi
  if [ ! -t 2 ]; then
    { cat "$messages" >/dev/tty; } 2>/dev/null
  fi
fi
exit "$status"
