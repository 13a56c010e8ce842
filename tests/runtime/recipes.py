"""The two root filesystems the test images are made of, and the users with the IDs the official images pin.

nginx, redis and memcached share one rootfs (their IDs do not collide: 101, 999, 11211); postgres has its own,
because the official postgres image also pins 999 (docker-library/postgres 15/bookworm/Dockerfile:
`groupadd -r postgres --gid=999; useradd -r -g postgres --uid=999 --home-dir=/var/lib/postgresql --shell=/bin/bash`).
"""

from __future__ import annotations

from tests.runtime.rootfs import Recipe, User

SERVERS = Recipe(
    name="servers",
    packages=("nginx", "redis-server", "memcached", "gosu"),
    users=(
        # nginx/docker-nginx Dockerfile: `adduser --system --uid 101 --home /nonexistent --shell /bin/false --group nginx`
        User("nginx", 101, shell="/bin/false"),
        # redis/docker-library Dockerfile: `groupadd -r -g 999 redis && useradd -r -g redis -u 999 redis`
        User("redis", 999, home="/var/lib/redis"),
        # memcached Dockerfile: `groupadd --system --gid 11211 memcache && useradd --system --gid memcache --uid 11211 memcache`
        User("memcache", 11211),
    ),
)

POSTGRES = Recipe(
    name="postgres",
    packages=("postgresql-15", "gosu", "libnss-wrapper"),
    users=(User("postgres", 999, home="/var/lib/postgresql", shell="/bin/bash"),),
    # The Dockerfile sets create_main_cluster = false before installing: no cluster made at build time.
    customize=('rm -rf "$1"/var/lib/postgresql/15 "$1"/etc/postgresql/15',),
    # The JIT provider and what it links (LLVM, z3, the bitcode): 150 of the rootfs's 377 MB, never used here.
    # Without llvmjit.so the server runs without JIT (PostgreSQL 15 docs, "jit_provider": JIT is then not
    # available); the image builds, pushes and is read by kharden in a fraction of the time.
    exclude=("/usr/lib/x86_64-linux-gnu/libLLVM-*", "/usr/lib/x86_64-linux-gnu/libz3.so*",
             "/usr/lib/postgresql/*/lib/bitcode/*", "/usr/lib/postgresql/*/lib/llvmjit*"),
)
