"""Is this literal a credential? `classify(key, value) -> kind | None`, pure and cheap.

Two ways a literal is recognised:
  by its value   a format that only credentials have (`patterns.yaml`: PEM private keys, JWTs, AWS/GCP/Azure keys,
                 GitHub/GitLab/Slack/Stripe tokens, ...), or a connection string whose user-info holds a password;
  by its key     the name it is stored under says credential (`DB_PASSWORD`, `--api-key`, `client_secret`): a
                 password-ish name takes any plausible literal, a token/secret/key-ish name only a literal with the
                 length and entropy of a generated secret.
Never a credential: an empty value, a reference (`$(VAR)`, `${VAR}`, `{{ .Values.x }}`), an obvious placeholder
(`changeme`, `<password>`, `xxx`, `example`, ...), a path, a boolean or number, a key that only names or configures
a secret (`SECRET_NAME`, `TOKEN_TTL`, `PASSWORD_FILE`).
"""

from __future__ import annotations

import functools
import math
import re
from importlib import resources
from typing import NamedTuple

import yaml


class Pattern(NamedTuple):
    kind: str
    regex: re.Pattern[str]


@functools.lru_cache(maxsize=1)
def patterns() -> tuple[Pattern, ...]:
    """The value patterns of `patterns.yaml`, compiled once."""
    text = resources.files("kharden.secrets").joinpath("patterns.yaml").read_text(encoding="utf-8")
    return tuple(Pattern(e["kind"], re.compile(e["regex"])) for e in yaml.load(text, Loader=yaml.CSafeLoader))


# A quick screen before the patterns: every value pattern needs one of these substrings.
_SCREEN = re.compile(r"service_account|PRIVATE KEY|AKIA|ASIA|ABIA|ACCA|AIza|AccountKey|sig=|gh[pousr]_|github_pat_"
                     r"|gl(?:pat|dt|rt|ptt|oas)-|xox|hooks\.slack|_live_|SG\.|npm_|eyJ|://")
_URL_PASSWORD = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]{1,30}://[^\s:/@'\"]*:([^\s@/'\"]+)@")

# Key names: a password-ish name, and a weaker secret-ish one (words of the name, any case or separator).
_PASSWORDISH = re.compile(r"(?i)(?:pass(?:word|wd|phrase)?|pwd)(?![a-z])|(?<![a-z])pw(?![a-z])")
_SECRETISH = re.compile(
    r"(?i)secret|token|api[-_.]?key|apikey|credential|private[-_.]?key|access[-_.]?key|auth[-_.]?key|signing[-_.]?key"
    r"|encryption[-_.]?key|master[-_.]?key|session[-_.]?key|client[-_.]?key|connection[-_.]?string"
)
# Names that configure or point at a secret rather than hold one.
_NOT_HOLDING = re.compile(
    r"(?i)(?:[-_.]|^)(?:file|path|dir|name|names|ref|key[-_.]?ref|ttl|expir\w*|length|len|min|max|timeout|enabled?"
    r"|policy|type|header|endpoint|issuer|audience|url|uri|host|port|user(?:name)?|id|kind|mode|algorithm|format"
    r"|secretname|mount|location|provider|lifetime|duration|rotation|count|size|version|field|prefix|suffix)$"
)
_PLACEHOLDER = re.compile(
    r"(?i)^(?:<[^<>]*>|\[[^\[\]]*\]|x{3,}|\*{3,}|\.{3,}|-+|_+|#+|0+|1234(?:5678?)?|"
    r"(?:change[-_ ]?me|changeit|replace[-_ ]?me|placeholder|example|dummy|redacted|secret|password|passwd|token|none"
    r"|null|nil|todo|tbd|fixme|default|sample|your\b.*|your\w*|my[-_]?(?:password|secret|token)|insert[-_ ].*"
    r"|enter[-_ ].*|set[-_ ]?me|fill[-_ ]?me|not[-_ ]?set|unset|n/?a|empty|foo|bar|foobar"
    r")\W*)$"
)
_REFERENCE = re.compile(r"\$\([A-Za-z_][\w.]*\)|\$\{[^}]+\}|\{\{.*?\}\}|^\$[A-Za-z_]\w*$|%\([\w.]+\)s|@@\w+@@")
_BOOL_OR_NUMBER = re.compile(r"(?i)^(?:true|false|yes|no|on|off|y|n|\d+(?:\.\d+)?[a-z]{0,2}|0x[0-9a-f]+)$")
_PATHLIKE = re.compile(r"^(?:/|\./|\.\./|~/|[A-Za-z]:\\)")
_FAKE = re.compile(r"(?i)example|x{6,}|0{12,}|\.\.\.")  # AWS's documented AKIAIOSFODNN7EXAMPLE, ghp_xxxx...
_MIN_ENTROPY = 3.0  # bits per character: a generated 16+ character secret has 3.5-6; English words 2.5-3.2


def kind_of_value(value: str) -> str | None:
    """The kind of credential this value is by its format alone, or None."""
    if not _SCREEN.search(value):
        return None
    for p in patterns():
        m = p.regex.search(value)
        if m and not _FAKE.search(m.group(0)):
            return p.kind
    m = _URL_PASSWORD.search(value)
    if m and not ignorable(m.group(1)):
        return "connection-string"
    return None


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@functools.lru_cache(maxsize=4096)  # the same few env names come again and again
def secretish_key(key: str) -> str | None:
    """'password' or 'secret' for a key that names a credential, None otherwise (or when it only configures one)."""
    key = _CAMEL.sub("_", key.strip().lstrip("-"))
    if _NOT_HOLDING.search(key):
        return None
    if _PASSWORDISH.search(key):
        return "password"
    if _SECRETISH.search(key):
        return "secret"
    return None


def ignorable(value: str) -> bool:
    """Empty, a reference, a placeholder, a boolean, a number or a path: never reported."""
    v = value.strip().strip("'\"")
    return (not v or bool(_PLACEHOLDER.match(v)) or bool(_REFERENCE.search(v)) or bool(_BOOL_OR_NUMBER.match(v))
            or bool(_PATHLIKE.match(v)))


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def high_entropy(value: str) -> bool:
    """A generated-looking secret: no white space, entropy >= 3 bits a character, and 16+ characters of two classes
    (lower, upper, digit, other) or 12+ of three."""
    if len(value) < 12 or any(ch.isspace() for ch in value):
        return False
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]"))
    return classes >= (2 if len(value) >= 16 else 3) and entropy(value) >= _MIN_ENTROPY


def classify(key: str | None, value: str) -> str | None:
    """The kind of credential a literal is (`password`, `github-token`, `high-entropy-secret`, ...), or None."""
    if not isinstance(value, str) or not value:
        return None
    kind = kind_of_value(value)
    if kind is not None:
        return kind
    named = secretish_key(key) if key is not None else None
    if named is None or ignorable(value):  # the key first: cached, and most keys name no credential
        return None
    if named == "password":
        return "password" if _plausible_password(value) else None
    if named == "secret":
        return "high-entropy-secret" if high_entropy(value.strip()) else None
    return None


def _plausible_password(value: str) -> bool:
    """A password literal: one line, 4+ characters, not a URL without credentials or a sentence."""
    v = value.strip()
    return 4 <= len(v) <= 256 and "\n" not in v and v.count(" ") < 2 and "://" not in v
