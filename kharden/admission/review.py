"""AdmissionReview in, AdmissionReview out: what `kharden serve` answers, pure (no I/O, no clock, no logging).

    /mutate    allowed, with `patchType: JSONPatch` and the base64 JSON patch of exactly what `kharden fix` changes
               (no patch when nothing changes: an object fixed in git comes back untouched, so GitOps sees no
               drift); what it did not fix, and what the generators would have made, as `warnings`.
    /validate  allowed, warned or denied per `admission.enforcement`; the violations in `status.message`.

What it looks at: CREATE, and UPDATE where the field is mutable (a Pod's spec is not: a Pod UPDATE is allowed as
it is), of kinds with a pod spec and of Namespaces (Pod Security Admission labels), outside the protected
namespaces and without the skip annotation. Everything else (DELETE, CONNECT, subresources, other kinds) is allowed
untouched. `dryRun` requests get the same answer (it is what `kubectl apply --dry-run=server` shows), and no side
effect: kharden has none at admission. An object kharden cannot read is allowed or denied per
`admission.failurePolicy`, with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kharden.admission.adapter import Hardened, harden_object
from kharden.admission.memo import Memo
from kharden.admission_settings import Admission
from kharden.errors import KhardenError
from kharden.find import find_pod_targets
from kharden.find.podspecs import pod_template
from kharden.profile import Profile
from kharden.read.source import Document, Source

API_VERSION = "admission.k8s.io/v1"
MAX_WARNINGS = 20  # the API server passes each to the client; kubectl prints them all
MAX_WARNING = 240
MAX_MESSAGE = 4000
NO_MEMO = Memo(0)


class BadReview(ValueError):
    """The body is no AdmissionReview admission.k8s.io/v1 with a request: answered with HTTP 400 and the reason."""


@dataclass
class Answer:
    response: dict[str, Any]  # the AdmissionReview to send
    result: str  # for metrics and logs: skipped, unchanged, patched, warned, denied, error
    info: dict[str, Any] = field(default_factory=dict)  # for the log line


def parse(body: bytes) -> dict[str, Any]:
    """The request of an AdmissionReview body; BadReview says what is wrong with it."""
    try:
        review = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadReview(f"body is not JSON: {e}") from None
    if not isinstance(review, dict) or review.get("kind") != "AdmissionReview":
        raise BadReview("body is not an AdmissionReview")
    if review.get("apiVersion") != API_VERSION:
        raise BadReview(f"AdmissionReview apiVersion {review.get('apiVersion')!r} is not served; use {API_VERSION}")
    request = review.get("request")
    if not isinstance(request, dict) or not isinstance(request.get("uid"), str):
        raise BadReview("AdmissionReview has no request with a uid")
    return request


def answer(request: dict[str, Any], endpoint: str, profile: Profile, settings: Admission,
           memo: Memo | None = None) -> Answer:
    """The response to one admission request at `endpoint` ("mutate" or "validate"); `memo`: the answers to objects
    seen before (kharden.admission.memo), asked before the pipeline runs."""
    obj = request.get("object")
    info = {"uid": request["uid"], "operation": request.get("operation"), "dryRun": bool(request.get("dryRun")),
            **_identity(request, obj)}
    why_not = _out_of_scope(request, obj, profile, settings)
    if why_not:
        return Answer(_response(request, True), "skipped", {**info, "skipped": why_not})
    try:
        generators = endpoint == "mutate" and settings.generator_warnings  # /validate reports violations only
        # the request was parsed for this answer alone: the pipeline edits it in place, no copy
        def make() -> Hardened:
            return harden_object(obj, profile, generators=generators, owned=True)  # type: ignore[arg-type]  # checked a dict by _out_of_scope

        hardened, remembered = (memo or NO_MEMO).harden(obj, generators, make)  # type: ignore[arg-type]  # a dict, as above
        if remembered:
            info["cached"] = True
    except (KhardenError, RecursionError) as e:
        return _unreadable(request, settings, str(e) if isinstance(e, KhardenError) else "nesting too deep", info)
    warnings = _warnings(hardened)
    if endpoint == "mutate":
        resp = _response(request, True, warnings=warnings)
        if hardened.patch:
            resp["response"]["patchType"] = "JSONPatch"
            resp["response"]["patch"] = hardened.encoded_patch
        result = "patched" if hardened.patch else ("warned" if warnings else "unchanged")
        return Answer(resp, result, {**info, "patchOps": len(hardened.patch)})
    violations = [f"{c.reason} ({_pointer(c.patch_op()['path'])})" for c in hardened.changes]
    violations += _unfixed(hardened, deniable=True)
    if not violations or settings.enforcement == "allow":
        return Answer(_response(request, True), "unchanged" if not violations else "allowed", info)
    if settings.enforcement == "warn":
        return Answer(_response(request, True, warnings=_bounded(violations)), "warned", info)
    message = "kharden: " + "; ".join(violations)
    return Answer(_response(request, False, status={"code": 403, "reason": "Forbidden",
                                                     "message": message[:MAX_MESSAGE]}), "denied", info)


def _identity(request: dict[str, Any], obj: Any) -> dict[str, Any]:
    kind: dict[str, Any] = request["kind"] if isinstance(request.get("kind"), dict) else {}
    meta: dict[str, Any] = obj["metadata"] if isinstance(obj, dict) and isinstance(obj.get("metadata"), dict) else {}
    return {"kind": kind.get("kind"), "namespace": request.get("namespace"),
            "name": request.get("name") or meta.get("name") or meta.get("generateName")}


def _out_of_scope(request: dict[str, Any], obj: Any, profile: Profile, settings: Admission) -> str:
    """Why this request is allowed untouched, or "" when kharden looks at it."""
    op = request.get("operation")
    if op not in ("CREATE", "UPDATE"):
        return f"operation {op}"
    if request.get("subResource"):
        return f"subresource {request['subResource']}"
    if not isinstance(obj, dict):
        return "no object"
    kind = str(obj.get("kind", ""))
    namespace = request.get("namespace") or (obj.get("metadata") or {}).get("namespace")
    if kind == "Namespace" and "/" not in str(obj.get("apiVersion", "")):
        namespace = (obj.get("metadata") or {}).get("name") or request.get("name")
    elif not _has_pod_spec(obj, profile):
        return f"kind {kind or '(none)'} has no pod spec"
    elif kind == "Pod" and op == "UPDATE":
        return "a Pod's spec cannot change after it is created"
    if namespace in settings.protected_namespaces:
        return f"namespace {namespace} is protected"
    annotations = (obj.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict) and settings.skip_annotation in annotations:
        return f"{settings.skip_annotation}: {annotations[settings.skip_annotation]}"
    return ""


def _has_pod_spec(obj: dict[str, Any], profile: Profile) -> bool:
    if not isinstance(obj.get("metadata", {}), dict):
        return True  # ill-shaped: harden_object says so, and the failurePolicy decides
    kind, items = str(obj.get("kind", "")), obj.get("items")
    if not (kind.endswith("List") and isinstance(items, list)):  # one object, as the API server sends: no Source
        return pod_template(obj, str(obj.get("apiVersion", "")), kind, profile.pod_templates) is not None
    source = Source("<admission>", "", docs=[Document("<admission>", 0, None, obj, repeated_keys=False)])
    try:
        return any(find_pod_targets(o, profile.pod_templates) for o in source.objects())
    except (AttributeError, TypeError, KhardenError):
        return True


def failed(request: dict[str, Any], settings: Admission, why: str) -> Answer:
    """The answer when kharden itself failed on a request: per the failurePolicy, never an empty 500."""
    return _unreadable(request, settings, why, {"uid": request.get("uid")})


def _unreadable(request: dict[str, Any], settings: Admission, why: str, info: dict[str, Any]) -> Answer:
    message = f"kharden cannot read this object: {why}"
    if settings.failure_policy == "Ignore":
        return Answer(_response(request, True, warnings=[_cut(message + " (allowed: failurePolicy Ignore)")]),
                      "error", {**info, "error": why})
    return Answer(_response(request, False, status={"code": 400, "reason": "BadRequest",
                                                     "message": (message + " (denied: failurePolicy Fail)")[:MAX_MESSAGE]}),
                  "error", {**info, "error": why})


def _unfixed(hardened: Any, deniable: bool = False) -> list[str]:
    """The violations `fix` leaves (an opted-out one is the owner's reasoned choice: not reported). `deniable`:
    only those a fix could make alone — an unpinned image or a plaintext credential needs a lock or values from
    out of band (docs/images-and-secrets.md), so it is warned about, never denied: validate allows what mutate made."""
    return [f"{f.message}" + (f" (left: {f.reason})" if f.reason else "") for f in hardened.findings
            if f.status == "unfixed" and not f.reason.startswith("opted out")
            and not (deniable and f.rule.startswith(("image.", "secret.")))]


def _warnings(hardened: Any) -> list[str]:
    out = _unfixed(hardened)
    if hardened.generated:
        out.append("generators do not run at admission; kharden fix would make: " + ", ".join(hardened.generated))
    return _bounded(out)


def _bounded(items: list[str]) -> list[str]:
    out = [_cut(w) for w in dict.fromkeys(items)]
    return out if len(out) <= MAX_WARNINGS else out[: MAX_WARNINGS - 1] + [f"... and {len(out) - MAX_WARNINGS + 1} more"]


def _cut(text: str) -> str:
    return text if len(text) <= MAX_WARNING else text[: MAX_WARNING - 3] + "..."


def _pointer(path: str) -> str:
    return path.lstrip("/").replace("/", ".")


def _response(request: dict[str, Any], allowed: bool, *, warnings: list[str] | None = None,
              status: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"uid": request["uid"], "allowed": allowed}
    if warnings:
        response["warnings"] = warnings
    if status:
        response["status"] = status
    return {"apiVersion": API_VERSION, "kind": "AdmissionReview", "response": response}
