"""The profile's mutators as one ApplyConfiguration per pod-template path, for a MutatingAdmissionPolicy.

Add if absent, as the mutators: every field is an `IfAbsent` (kharden.admission.apply_cel), so an explicit value,
secure or not, is never overwritten; `enforce: true` rewrites (the strict profile) are not expressed, and an
explicitly insecure value stays for the ValidatingAdmissionPolicy to report. What each mutator adds:

    privileged                  false on every container without it
    allowPrivilegeEscalation    false where absent, unless privileged: true or SYS_ADMIN added (the API server
                                rejects that pair)
    capabilities (dropAll)      ALL appended to drop where it is not there (drop is an atomic list: the whole list,
                                existing entries first, is applied)
    readOnlyRootFilesystem      true where absent; such a container gets an emptyDir mount at each writable path
                                it does not mount already (volumes `kharden-<path>`)
    resources                   each request and limit where absent: a request defaults to the container's limit
                                when it has one (as Kubernetes defaults it), a limit to its request when it has one
                                (kharden fix takes the larger of request and default: CEL's quantity library is not
                                in every CEL implementation, so this form stays valid without comparing quantities)
    runAsNonRoot                true on the pod, unless the manifest runs something as root (runAsUser: 0, or
                                runAsNonRoot: false on a container)
    runAsUser                   runAsUser, runAsGroup (unless every container sets its own) and fsGroup
    seccompProfile              RuntimeDefault on the pod unless it or every container has a profile
    automountServiceAccountToken false on the pod
Ephemeral containers are left alone (they are added through a subresource). Windows pods are not matched.
"""

from __future__ import annotations

from typing import Any

from kharden.admission.apply_cel import Each, IfAbsent, Obj, Set, Tmpl

POD_SC = "variables.spec.?securityContext"


def _container(tp: tuple[str, ...], lst: str, mutators: dict[str, Any]) -> Obj:
    """The apply entry of one container (loop variable `c`) of list `lst`."""
    t = tp + (lst,)
    sc = "c.?securityContext"
    sc_fields: list[tuple[str, Set | IfAbsent]] = []
    if "privileged" in mutators:
        sc_fields.append(("privileged", IfAbsent(f"{sc}.?privileged.hasValue()", "false")))
    if "allowPrivilegeEscalation" in mutators:
        blocked = (f"{sc}.?allowPrivilegeEscalation.hasValue() || {sc}.?privileged.orValue(false) || "
                   f"'SYS_ADMIN' in {sc}.?capabilities.?add.orValue([])")
        sc_fields.append(("allowPrivilegeEscalation", IfAbsent(blocked, "false")))
    if "readOnlyRootFilesystem" in mutators:
        sc_fields.append(("readOnlyRootFilesystem", IfAbsent(f"{sc}.?readOnlyRootFilesystem.hasValue()", "true")))
    if "capabilities" in mutators and mutators["capabilities"].drop_all:
        drop = f"{sc}.?capabilities.?drop.orValue([])"
        caps = Obj(t + ("securityContext", "capabilities"), (("drop", IfAbsent(f"'ALL' in {drop}", f"{drop} + ['ALL']")),))
        sc_fields.append(("capabilities", Set(caps)))
    fields: list[tuple[str, Set | IfAbsent]] = [("name", Set("c.name"))]
    if sc_fields:
        fields.append(("securityContext", Set(Obj(t + ("securityContext",), tuple(sc_fields)))))
    if "readOnlyRootFilesystem" in mutators:
        mounts = [_mount(t, p) for p in mutators["readOnlyRootFilesystem"].writable_paths or ()]
        if mounts:
            needed = (f"!{sc}.?readOnlyRootFilesystem.hasValue() && "
                      + " && ".join(f"!c.?volumeMounts.orValue([]).exists(m, m.mountPath == '{p}')"
                                    for p in mutators["readOnlyRootFilesystem"].writable_paths))
            listed = Tmpl("[" + ", ".join("{%d}" % i for i in range(len(mounts))) + "]", tuple(mounts))
            fields.append(("volumeMounts", IfAbsent(f"!({needed})", listed)))
    if "resources" in mutators and lst != "ephemeralContainers":
        fields.append(("resources", Set(_resources(t + ("resources",), mutators["resources"]))))
    return Obj(t, tuple(fields))


def volume_name(path: str) -> str:
    return "kharden-" + ("-".join(p for p in path.strip("/").split("/") if p) or "root")


def _mount(t: tuple[str, ...], path: str) -> Obj:
    return Obj(t + ("volumeMounts",), (("name", Set(f"'{volume_name(path)}'")), ("mountPath", Set(f"'{path}'"))))


def _resources(t: tuple[str, ...], opts: Any) -> Obj:
    def side(which: str, other: str) -> Obj:
        entries = []
        for name, default in (getattr(opts, which) or {}).items():  # the resources mutator's requests/limits
            if default is None:
                continue
            have = f"c.?resources.?{which}[?'{name}']"
            fallback = f"c.?resources.?{other}[?'{name}'].orValue('{default}')"
            entries.append((name, IfAbsent(f"{have}.hasValue()", fallback)))
        return Obj(None, tuple(entries))  # a map field: keys are resource names, not fields

    return Obj(t, (("requests", Set(side("requests", "limits"))), ("limits", Set(side("limits", "requests")))))


def pod_spec(tp: tuple[str, ...], mutators: dict[str, Any]) -> Obj:
    """The apply configuration of a pod spec whose type path is `tp` (("spec",) for a Pod)."""
    fields: list[tuple[str, Set | IfAbsent]] = []
    if "automountServiceAccountToken" in mutators:
        fields.append(("automountServiceAccountToken",
                       IfAbsent("variables.spec.?automountServiceAccountToken.hasValue()", "false")))
    sc: list[tuple[str, Set | IfAbsent]] = []
    if "runAsNonRoot" in mutators:
        root = (f"{POD_SC}.?runAsNonRoot.hasValue() || {POD_SC}.?runAsUser.orValue(-1) == 0 || "
                "variables.containers.exists(c, c.?securityContext.?runAsUser.orValue(-1) == 0 || "
                "c.?securityContext.?runAsNonRoot.orValue(true) == false)")
        sc.append(("runAsNonRoot", IfAbsent(root, "true")))
    opts = mutators.get("runAsUser")
    ids = {"runAsUser": opts.run_as_user, "runAsGroup": opts.run_as_group, "fsGroup": opts.fs_group} if opts else {}
    for name, value in ids.items():
        if value is not None:
            present = f"{POD_SC}.?{name}.hasValue()"
            if name != "fsGroup":
                present += f" || variables.containers.all(c, c.?securityContext.?{name}.hasValue())"
            sc.append((name, IfAbsent(present, str(int(value)))))
    if "seccompProfile" in mutators:
        present = (f"{POD_SC}.?seccompProfile.hasValue() || "
                   "variables.containers.all(c, c.?securityContext.?seccompProfile.hasValue())")
        sc.append(("seccompProfile", IfAbsent(present, Obj(tp + ("securityContext", "seccompProfile"),
                                                           (("type", Set("'RuntimeDefault'")),)))))
    if sc:
        fields.append(("securityContext", Set(Obj(tp + ("securityContext",), tuple(sc)))))
    fields.append(("containers", Set(Each("variables.spec.containers", "c", _container(tp, "containers", mutators)))))
    fields.append(("initContainers", IfAbsent("!variables.spec.?initContainers.hasValue()", Each(
        "variables.spec.initContainers", "c", _container(tp, "initContainers", mutators)))))
    paths = (mutators["readOnlyRootFilesystem"].writable_paths or ()) if "readOnlyRootFilesystem" in mutators else ()
    if "readOnlyRootFilesystem" in mutators and paths:
        parts, conds = [], []
        for path in paths:
            name = volume_name(path)
            wants = ("variables.spec.containers.exists(c, !c.?securityContext.?readOnlyRootFilesystem.hasValue() && "
                     f"!c.?volumeMounts.orValue([]).exists(m, m.mountPath == '{path}'))")
            cond = f"{wants} && !variables.spec.?volumes.orValue([]).exists(v, v.name == '{name}')"
            conds.append(f"({cond})")
            empty = Obj(tp + ("volumes", "emptyDir"), ())
            parts.append((cond, Obj(tp + ("volumes",), (("name", Set(f"'{name}'")), ("emptyDir", Set(empty))))))
        text = " + ".join(f"(({c}) ? [{{{i}}}] : [])" for i, (c, _) in enumerate(parts))
        fields.append(("volumes", IfAbsent(f"!({' || '.join(conds)})", Tmpl(text, tuple(v for _, v in parts)))))
    return Obj(tp, tuple(fields))


def root(prefix: tuple[str, ...], mutators: dict[str, Any]) -> Obj:
    """`Object{spec: Object.spec{template: ... {spec: <pod spec>}}}` for a template at `prefix`."""
    node = pod_spec(prefix + ("spec",), mutators)
    for i in range(len(prefix), -1, -1):
        path = prefix[:i]
        name = (prefix + ("spec",))[i]
        node = Obj(path, ((name, Set(node)),))
    return node
