"""The test images: each one's OCI config and own layer, set as its official Dockerfile sets them.

Sources (read through docker-library's and nginx's repositories; entrypoints are condensed to the steps that decide
how the server starts, in our own words):
- nginx: nginxinc/docker-nginx mainline/debian/Dockerfile — user nginx 101, logs linked to stdout/stderr,
  ENTRYPOINT ["/docker-entrypoint.sh"], EXPOSE 80, STOPSIGNAL SIGQUIT, CMD ["nginx", "-g", "daemon off;"]; the
  nginx.org build keeps its temp paths in /var/cache/nginx and its pid in /var/run/nginx.pid (stock nginx.conf).
- redis: docker-library/redis Dockerfile (debian) — user redis 999, `mkdir /data && chown redis:redis /data`,
  VOLUME /data, WORKDIR /data, ENTRYPOINT ["docker-entrypoint.sh"], EXPOSE 6379, CMD ["redis-server"]; its
  entrypoint chowns what in /data is not redis's and re-executes itself through `gosu redis` when started as root.
- memcached: docker-library/memcached 1/debian/Dockerfile — user memcache 11211, USER memcache (a name),
  ENTRYPOINT ["docker-entrypoint.sh"], EXPOSE 11211, CMD ["memcached"].
- postgres: docker-library/postgres 15/bookworm/Dockerfile and docker-entrypoint.sh — user postgres 999,
  /var/run/postgresql 3777, PGDATA=/var/lib/postgresql/data 1777 and a VOLUME there, listen_addresses='*' in the
  sample config, ENTRYPOINT ["docker-entrypoint.sh"], STOPSIGNAL SIGINT, EXPOSE 5432, CMD ["postgres"]; the
  entrypoint prepares the directories as root, re-executes itself through `gosu postgres`, runs initdb on an empty
  PGDATA and starts the server. Differences: LANG is C.UTF-8 (no en_US locale generated) and the init scripts
  directory is not run (it is empty here).
Each config's Env carries the version variables its Dockerfile sets (NGINX_VERSION, REDIS_VERSION, PG_MAJOR,
PG_VERSION, GOSU_VERSION, MEMCACHED_VERSION...), with the versions of the Debian packages installed; variables
about upstream downloads (URLs, checksums, NJS_VERSION) are left out, as nothing here was downloaded that way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.runtime import recipes
from tests.runtime.layers import Entry
from tests.runtime.rootfs import Recipe

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Image:
    name: str
    recipe: Recipe
    config: dict[str, object]
    entries: tuple[Entry, ...]
    port: int
    official: str  # the official image it stands in for, as a manifest names it
    env: dict[str, str] = field(default_factory=dict)  # what the pod sets (the server needs some to start at all)

    def oci_config(self) -> dict[str, object]:
        return {"architecture": "amd64", "os": "linux", "config": self.config}


def versions(tree: Path) -> dict[str, tuple[str, str]]:
    """Installed Debian packages: name -> (upstream version, Debian revision), from the rootfs's dpkg status."""
    found: dict[str, tuple[str, str]] = {}
    for stanza in (tree / "var/lib/dpkg/status").read_text().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and not line[0].isspace())
        if "Package" in fields and "Version" in fields:
            version = fields["Version"].split(":", 1)[-1]
            upstream, _, revision = version.rpartition("-") if "-" in version else (version, "", "")
            found[fields["Package"]] = (upstream, revision)
    return found


def _script(path: str, text: str) -> Entry:
    return Entry(path, text=text, mode=0o755)


NGINX_CONF = """\
user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /var/run/nginx.pid;

events {
    worker_connections  1024;
}

http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;
    access_log  /var/log/nginx/access.log;
    sendfile        on;
    keepalive_timeout  65;
    # where the nginx.org build keeps them (--http-*-temp-path=/var/cache/nginx/...)
    client_body_temp_path /var/cache/nginx/client_temp;
    proxy_temp_path       /var/cache/nginx/proxy_temp;
    fastcgi_temp_path     /var/cache/nginx/fastcgi_temp;
    uwsgi_temp_path       /var/cache/nginx/uwsgi_temp;
    scgi_temp_path        /var/cache/nginx/scgi_temp;
    include /etc/nginx/conf.d/*.conf;
}
"""

NGINX_SITE = """\
server {
    listen       80;
    server_name  localhost;
    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }
}
"""

NGINX_ENTRYPOINT = """\
#!/bin/sh
# As nginx's docker-entrypoint.sh: run the /docker-entrypoint.d scripts when starting nginx, then exec the command.
set -e
if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
    for script in /docker-entrypoint.d/*.sh; do
        [ -x "$script" ] && "$script"
    done
fi
exec "$@"
"""


def nginx(tree: Path) -> Image:
    version, revision = versions(tree)["nginx"]
    return Image(
        name="nginx",
        recipe=recipes.SERVERS,
        config={"Env": [f"PATH={PATH}", f"NGINX_VERSION={version}", f"PKG_RELEASE={revision}"],
                "Labels": {"maintainer": "NGINX Docker Maintainers <docker-maint@nginx.com>"},
                "Entrypoint": ["/docker-entrypoint.sh"], "Cmd": ["nginx", "-g", "daemon off;"],
                "ExposedPorts": {"80/tcp": {}}, "StopSignal": "SIGQUIT"},
        entries=(
            Entry("/etc/nginx/nginx.conf", text=NGINX_CONF),
            Entry("/etc/nginx/conf.d", kind="dir", mode=0o755),
            Entry("/etc/nginx/conf.d/default.conf", text=NGINX_SITE),
            Entry("/usr/share/nginx/html", kind="dir", mode=0o755),
            Entry("/usr/share/nginx/html/index.html", text="<h1>Welcome to nginx!</h1>\n"),
            Entry("/var/cache/nginx", kind="dir", mode=0o755),
            Entry("/var/log/nginx/access.log", kind="link", text="/dev/stdout"),
            Entry("/var/log/nginx/error.log", kind="link", text="/dev/stderr"),
            Entry("/docker-entrypoint.d", kind="dir", mode=0o755),
            _script("/docker-entrypoint.sh", NGINX_ENTRYPOINT),
        ),
        port=80,
        official="nginx:1.22",
    )

REDIS_ENTRYPOINT = """\
#!/bin/sh
# As docker-library/redis docker-entrypoint.sh: options alone mean redis-server; started as root, give /data's
# content to redis and re-execute this script as redis through gosu; tighten the default umask.
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
    set -- redis-server "$@"
fi
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
    find . \\! -user redis -exec chown redis '{}' +
    exec gosu redis "$0" "$@"
fi
if [ "$(umask)" = 0022 ]; then
    umask 0077
fi
exec "$@"
"""


def redis(tree: Path) -> Image:
    known = versions(tree)
    return Image(
        name="redis",
        recipe=recipes.SERVERS,
        config={"Env": [f"PATH={PATH}", f"GOSU_VERSION={known['gosu'][0]}", f"REDIS_VERSION={known['redis-server'][0]}"],
                "Entrypoint": ["docker-entrypoint.sh"], "Cmd": ["redis-server"],
                "WorkingDir": "/data", "Volumes": {"/data": {}}, "ExposedPorts": {"6379/tcp": {}}},
        entries=(
            Entry("/data", kind="dir", mode=0o755, uid=999, gid=999),
            _script("/usr/local/bin/docker-entrypoint.sh", REDIS_ENTRYPOINT),
        ),
        port=6379,
        official="redis:7.0",
    )

MEMCACHED_ENTRYPOINT = """\
#!/bin/sh
# As docker-library/memcached docker-entrypoint.sh: options alone mean memcached.
set -e
if [ "${1#-}" != "$1" ]; then
    set -- memcached "$@"
fi
exec "$@"
"""


def memcached(tree: Path) -> Image:
    return Image(
        name="memcached",
        recipe=recipes.SERVERS,
        config={"Env": [f"PATH={PATH}", f"MEMCACHED_VERSION={versions(tree)['memcached'][0]}"], "User": "memcache", "Entrypoint": ["docker-entrypoint.sh"],
                "Cmd": ["memcached"], "ExposedPorts": {"11211/tcp": {}}},
        entries=(_script("/usr/local/bin/docker-entrypoint.sh", MEMCACHED_ENTRYPOINT),),
        port=11211,
        official="memcached:1.6",
    )

POSTGRES_ENTRYPOINT = """\
#!/usr/bin/env bash
# As docker-library/postgres docker-entrypoint.sh, condensed: prepare PGDATA and the socket directory (as root:
# give them to postgres and re-execute through gosu), initdb an empty PGDATA (nss_wrapper when the UID has no
# passwd entry), allow password logins from the network, then exec the server.
set -Eeo pipefail
if [ "${1:0:1}" = - ]; then set -- postgres "$@"; fi
if [ "$1" = postgres ]; then
    : "${POSTGRES_USER:=postgres}"
    mkdir -p "$PGDATA"
    chmod 00700 "$PGDATA" || :
    mkdir -p /var/run/postgresql || :
    chmod 03775 /var/run/postgresql || :
    if [ "$(id -u)" = 0 ]; then
        find "$PGDATA" \\! -user postgres -exec chown postgres '{}' +
        find /var/run/postgresql \\! -user postgres -exec chown postgres '{}' +
        exec gosu postgres "$BASH_SOURCE" "$@"
    fi
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        if [ -z "$POSTGRES_PASSWORD" ]; then
            echo >&2 "Error: Database is uninitialized and superuser password is not specified."
            exit 1
        fi
        if ! getent passwd "$(id -u)" > /dev/null; then
            export LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libnss_wrapper.so
            export NSS_WRAPPER_PASSWD="$(mktemp)" NSS_WRAPPER_GROUP="$(mktemp)"
            printf 'postgres:x:%s:%s:PostgreSQL:%s:/bin/false\\n' "$(id -u)" "$(id -g)" "$PGDATA" > "$NSS_WRAPPER_PASSWD"
            printf 'postgres:x:%s:\\n' "$(id -g)" > "$NSS_WRAPPER_GROUP"
        fi
        initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
        unset LD_PRELOAD NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
        printf '\\nhost all all all scram-sha-256\\n' >> "$PGDATA/pg_hba.conf"
    fi
fi
exec "$@"
"""


def _postgres_entries(base: Path) -> tuple[Entry, ...]:
    sample = base / "usr/share/postgresql/15/postgresql.conf.sample"
    text = sample.read_text() if sample.is_file() else ""
    text = text.replace("#listen_addresses = 'localhost'", "listen_addresses = '*'")
    return (
        Entry("/var/lib/postgresql", kind="dir", mode=0o1777, uid=999, gid=999),
        Entry("/var/lib/postgresql/data", kind="dir", mode=0o1777, uid=999, gid=999),
        Entry("/run/postgresql", kind="dir", mode=0o3777, uid=999, gid=999),
        Entry("/docker-entrypoint-initdb.d", kind="dir", mode=0o755),
        Entry("/usr/share/postgresql/15/postgresql.conf.sample", text=text),
        _script("/usr/local/bin/docker-entrypoint.sh", POSTGRES_ENTRYPOINT),
    )


def postgres(base: Path) -> Image:
    """The postgres image; its sample config is the package's with listen_addresses='*', as the Dockerfile's sed."""
    known = versions(base)
    upstream, revision = known["postgresql-15"]
    return Image(
        name="postgres",
        recipe=recipes.POSTGRES,
        config={"Env": [f"PATH={PATH}:/usr/lib/postgresql/15/bin", f"GOSU_VERSION={known['gosu'][0]}", "LANG=C.UTF-8",
                        "PG_MAJOR=15", f"PG_VERSION={upstream}-{revision}", "PGDATA=/var/lib/postgresql/data"],
                "Entrypoint": ["docker-entrypoint.sh"], "Cmd": ["postgres"],
                "Volumes": {"/var/lib/postgresql/data": {}}, "ExposedPorts": {"5432/tcp": {}},
                "StopSignal": "SIGINT"},
        entries=_postgres_entries(base),
        port=5432,
        official="postgres:15",
        # POSTGRES_INITDB_ARGS as the official entrypoint reads it: no fsync, for speed on a busy test machine.
        env={"POSTGRES_PASSWORD": "kharden-test", "POSTGRES_INITDB_ARGS": "--no-sync"},
    )
