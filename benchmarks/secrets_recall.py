"""Recall and false positives of the plaintext-secret check, the figures docs/images-and-secrets.md reports.

    python benchmarks/secrets_recall.py [--corpus ../shared/corpus] [--json]

Recall: a labelled set made here, synthetically and deterministically (seeded): credentials of 16 kinds in the
formats their issuers document, but random, so none is real, placed as env values, ConfigMap data (alone and inside
config files), container args and annotations; and look-alikes that must not be reported (references,
placeholders, names of secrets, booleans, paths, URLs without a password). Each is checked by kharden's real check
(`kharden.checks.secrets.check`) and matched by location. False positives: every `secret.plaintext` finding on the
whole third-party corpus, which holds no real credential; each is listed (masked) for a person to judge.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import string
import sys
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from kharden.checks import secrets as secrets_check  # noqa: E402
from kharden.read import parse_text  # noqa: E402
from kharden.images.locking import readable_objects as checkable  # noqa: E402

ALNUM = string.ascii_letters + string.digits
B32 = string.ascii_uppercase + "234567"


def _rand(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _pem(rng: random.Random, label: str) -> str:
    body = base64.b64encode(bytes(rng.randrange(256) for _ in range(300))).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def _password(rng: random.Random) -> str:
    words = ["river", "Falcon", "orbit", "Quartz", "maple", "Tango", "ember", "Nova"]
    style = rng.randrange(3)
    if style == 0:
        return rng.choice(words) + str(rng.randrange(10, 9999)) + rng.choice("!#%&*")
    if style == 1:
        return _rand(rng, rng.randrange(10, 24), ALNUM + "!#%&*+-_")
    return "-".join(rng.choice(words).lower() for _ in range(3)) + str(rng.randrange(10))


# kind -> (key names it is stored under, value maker). The kind is what the check must report.
MAKERS: dict[str, tuple[list[str], Any]] = {
    "password": (["DB_PASSWORD", "POSTGRES_PASSWORD", "MYSQL_ROOT_PASSWORD", "redis.password", "ADMIN_PASS",
                  "smtpPassword"], _password),
    "aws-access-key": (["AWS_ACCESS_KEY_ID", "S3_KEY"], lambda r: "AKIA" + _rand(r, 16, B32)),
    "high-entropy-secret": (["AWS_SECRET_ACCESS_KEY", "API_KEY", "CLIENT_SECRET", "SESSION_SECRET",
                             "encryptionKey"], lambda r: _rand(r, 40, ALNUM + "+/")),
    "gcp-service-account": (["credentials.json", "GOOGLE_CREDENTIALS"], lambda r: json.dumps({
        "type": "service_account", "project_id": "proj-" + _rand(r, 6, string.ascii_lowercase),
        "private_key_id": _rand(r, 40, "0123456789abcdef"), "private_key": _pem(r, "PRIVATE KEY"),
        "client_email": "svc@proj.iam.gserviceaccount.com"}, indent=2)),
    "gcp-api-key": (["MAPS_KEY", "GOOGLE_API"], lambda r: "AIza" + _rand(r, 35, ALNUM + "_-")),
    "azure-storage-key": (["AZURE_STORAGE_CONNECTION_STRING", "blob"], lambda r: (
        "DefaultEndpointsProtocol=https;AccountName=acct" + _rand(r, 5, string.ascii_lowercase)
        + ";AccountKey=" + base64.b64encode(bytes(r.randrange(256) for _ in range(64))).decode()
        + ";EndpointSuffix=core.windows.net")),
    "private-key": (["tls.key", "SSH_KEY", "signing"], lambda r: _pem(r, r.choice(
        ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"]))),
    "github-token": (["GITHUB_TOKEN", "GH"], lambda r: r.choice(["ghp_", "gho_", "ghs_"]) + _rand(r, 36)),
    "gitlab-token": (["GITLAB_TOKEN", "CI_PAT"], lambda r: "glpat-" + _rand(r, 20, ALNUM + "_-")),
    "slack-token": (["SLACK_BOT_TOKEN", "slack"], lambda r: "xoxb-" + str(r.randrange(10**11, 10**12)) + "-"
                    + str(r.randrange(10**11, 10**12)) + "-" + _rand(r, 24)),
    "slack-webhook": (["ALERT_HOOK", "notify"], lambda r: "https://hooks.slack.com/services/T" + _rand(
        r, 8, string.ascii_uppercase + string.digits) + "/B" + _rand(r, 8, string.ascii_uppercase + string.digits)
        + "/" + _rand(r, 24)),
    "stripe-key": (["STRIPE_KEY", "payments"], lambda r: "sk_live_" + _rand(r, 24)),
    "sendgrid-key": (["SENDGRID", "mail"], lambda r: "SG." + _rand(r, 22, ALNUM + "_-") + "." + _rand(r, 43)),
    "npm-token": (["NPM_TOKEN", "registry"], lambda r: "npm_" + _rand(r, 36)),
    "jwt": (["AUTH_HEADER_VALUE", "bearer"], lambda r: _b64url({"alg": "HS256", "typ": "JWT"}) + "." + _b64url(
        {"sub": _rand(r, 8), "iat": r.randrange(1_600_000_000, 1_800_000_000)}) + "." + _rand(r, 43, ALNUM + "_-")),
    "connection-string": (["DATABASE_URL", "broker"], lambda r: r.choice(["postgres", "mysql", "amqp", "redis",
                          "mongodb"]) + "://app:" + _password(r).replace("@", "") + "@db.internal:5432/app"),
}

# Look-alikes that are not credentials: (key, value).
NEGATIVES = [
    ("DB_PASSWORD", "$(DB_PASSWORD)"), ("DB_PASSWORD", "${DB_PASSWORD}"), ("API_TOKEN", "{{ .Values.token }}"),
    ("DB_PASSWORD", ""), ("DB_PASSWORD", "changeme"), ("PASSWORD", "<password>"), ("ADMIN_PASSWORD", "xxxxxxxx"),
    ("SECRET_KEY", "example"), ("TOKEN", "your-token-here"), ("PASSWORD", "********"), ("API_KEY", "replace-me"),
    ("DB_PASSWORD_FILE", "/run/secrets/db-password"), ("SECRET_NAME", "app-credentials"),
    ("TOKEN_TTL", "3600"), ("PASSWORD_MIN_LENGTH", "12"), ("TOKEN_AUDIENCE", "https://kubernetes.default.svc"),
    ("ENABLE_TOKEN_AUTH", "true"), ("secretName", "web-tls"), ("AUTH_TOKEN_HEADER", "X-Auth-Token"),
    ("SECRETS_DIR", "/etc/secrets"), ("DATABASE_URL", "postgres://db.internal:5432/app"),
    ("DATABASE_URL", "postgres://app:$(DB_PASSWORD)@db:5432/app"), ("ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
    ("TOKEN_ENDPOINT", "https://auth.example.com/token"), ("API_KEY", "short"), ("SECRET", "not-a-secret"),
    ("LOG_LEVEL", "debug"), ("GITHUB_REPO", "kubernetes/kubernetes"), ("PASSWORD_POLICY", "strict"),
    ("KEYCLOAK_CLIENT_ID", "frontend"), ("MAX_TOKENS", "4096"), ("TOKENIZERS_PARALLELISM", "false"),
    ("client_secret", "${CLIENT_SECRET}"), ("password", "null"), ("api-key", "TODO"),
    ("GOOGLE_APPLICATION_CREDENTIALS", "/var/secrets/google/key.json"), ("SERVICE_ACCOUNT", "default"),
    ("JWT_ISSUER", "https://issuer.example.com"), ("TLS_SECRET", "ingress-tls"), ("PASSWD_TIMEOUT", "30s"),
]

LOCATIONS = ("env", "configmap", "config-file", "args", "annotation", "script")


def labelled(seed: int = 22, per_kind: int = 7) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(true literals, look-alikes): each {kind, key, value, location}."""
    rng = random.Random(seed)
    truths = []
    for kind, (keys, make) in MAKERS.items():
        for i in range(per_kind):
            value = make(rng)
            location = LOCATIONS[i % len(LOCATIONS)]
            if "\n" in value.strip() and location in ("env", "args", "annotation", "script"):
                location = "configmap"  # a PEM or a key file is a file: it lives in ConfigMap data
            truths.append({"kind": kind, "key": keys[i % len(keys)], "value": value, "location": location})
    negatives = [{"kind": None, "key": k, "value": v, "location": LOCATIONS[i % 4]} for i, (k, v) in
                 enumerate(NEGATIVES)]
    return truths, negatives


def labelled_pieces() -> list[str]:
    """Every labelled credential, as the pieces that must never appear in an output (a multi-line value: each of
    its lines of 8 characters or more)."""
    truths, _ = labelled()
    pieces = []
    for t in truths:
        v = t["value"].strip()
        pieces += [ln.strip() for ln in v.splitlines() if len(ln.strip()) >= 8] if "\n" in v else [v]
    return pieces


def manifest(cases: list[dict[str, Any]]) -> str:
    """One document per case, so a finding's document index names its case."""
    docs = []
    for i, c in enumerate(cases):
        key, value = c["key"], c["value"]
        if c["location"] == "configmap":
            obj: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"},
                                   "data": {key: value}}
        elif c["location"] == "config-file":
            text = f"# app settings\nlisten: 8080\n{key}: {value}\nworkers: 4\n" if "\n" not in value else value
            obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"},
                   "data": {"app.yaml": text}}
        elif c["location"] == "annotation":
            obj = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s{i}", "annotations": {key: value}},
                   "spec": {"ports": [{"port": 80}]}}
        else:
            container: dict[str, Any] = {"name": "app", "image": "app:1"}
            if c["location"] == "env":
                container["env"] = [{"name": key, "value": value}]
            elif c["location"] == "script":
                container["command"] = ["sh", "-c", f"export {key.replace('.', '_')}='{value}' && exec /app serve"]
            else:
                container["args"] = ["serve", f"--{key.lower().replace('_', '-')}={value}"]
            obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}"}, "spec": {"containers": [container]}}
        docs.append(json.dumps(obj))
    return "---\n".join(d + "\n" for d in docs)


def found_in(cases: list[dict[str, Any]]) -> dict[int, str]:
    """Document index -> the kind kharden's check reported there."""
    source = parse_text(manifest(cases), "labelled.yaml")
    objects = list(source.objects())
    return {f.obj.doc: f.extra["kind"] for f in secrets_check.check(_pods(objects), secrets_check.Options(env_vars=False)) if f.obj}


def _pods(objects: list[Any]) -> list[Any]:
    from kharden.find.podspecs import find_pod_targets

    return [(o, find_pod_targets(o)) for o in objects]


def corpus_findings(corpus: str) -> list[str]:
    objects, _ = checkable([corpus], None)
    return [f"{f.obj.file}:{f.line}: {f.message}" for f in secrets_check.check(_pods(objects), secrets_check.Options(env_vars=False))
            if f.obj]


def measure(corpus: str | None) -> dict[str, Any]:
    truths, negatives = labelled()
    hit = found_in(truths)
    per_kind: dict[str, list[int]] = {}
    for i, c in enumerate(truths):
        per_kind.setdefault(c["kind"], [0, 0])
        per_kind[c["kind"]][1] += 1
        per_kind[c["kind"]][0] += i in hit
    wrong_kind = sum(1 for i, c in enumerate(truths) if i in hit and hit[i] != c["kind"])
    false = found_in(negatives)
    out: dict[str, Any] = {
        "true_literals": len(truths), "kinds": len(per_kind), "found": len(hit),
        "recall": round(len(hit) / len(truths), 4), "wrong_kind": wrong_kind,
        "per_kind": {k: f"{v[0]}/{v[1]}" for k, v in per_kind.items()},
        "lookalikes": len(negatives), "lookalikes_reported": [negatives[i]["key"] for i in sorted(false)],
        "missed": [f"{c['kind']} as {c['location']} {c['key']}" for i, c in enumerate(truths) if i not in hit],
    }
    if corpus:
        out["corpus_findings"] = corpus_findings(corpus)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=os.environ.get("KHARDEN_CORPUS", "../shared/corpus"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.corpus if os.path.isdir(args.corpus) else None)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"recall: {result['found']}/{result['true_literals']} = {result['recall']:.1%} over {result['kinds']} kinds "
          f"({result['wrong_kind']} reported under another kind)")
    for kind, score in result["per_kind"].items():
        print(f"  {kind:22} {score}")
    print(f"look-alikes reported: {len(result['lookalikes_reported'])}/{result['lookalikes']} "
          f"{result['lookalikes_reported']}")
    if result["missed"]:
        print("missed:", *result["missed"], sep="\n  ")
    if "corpus_findings" in result:
        print(f"corpus: {len(result['corpus_findings'])} finding(s)", *result["corpus_findings"], sep="\n  ")


if __name__ == "__main__":
    main()
