"""Cloud, cluster and hosting CLIs: what an `aws`, `gcloud`, `az`, `kubectl`, `helm`,
`terraform`, `pulumi`, `gh`, `docker` ... command does to which resources, in which environment.

`cloud_facts` reads the argv of one simple command (quotes removed, wrappers unwrapped by the
shell parser) and writes:

- a `cloud` fact naming the command as words: tool, service or command group, verb
  ("aws s3 rm", "gcloud compute instances delete", "kubectl delete", "terraform destroy");
- one `operation`, from per-tool tables of verbs: "delete" for one resource, "infra_destroy" for
  a whole stack, project, cluster or resource group, "infra_scale", "infra_apply", "deploy",
  "read"/"list", "network_send"/"network_fetch" for copies to or from remote storage,
  "user_change" for access (IAM, RBAC, collaborators), "branch_protection", and
  "disable_safeguard" for audit logs, detectors, network policies, locks and the like. Its tags
  say more: "plan" for a plan or preview, "dry_run" for `--dry-run` anywhere, "public" for a
  public ACL or member, "to_zero" for scaling to zero replicas, "secret" for reading secrets;
- `flag`s: all, recursive, force, auto_approve (only when the command changes something),
  privileged, mount_root, host_network, cascade, detached;
- `target`s for the resources named (`deployment/api` tagged "deployment", `s3://bucket`
  tagged "bucket", a namespace, cluster, project, stack, resource group, repository ...), a
  `host` fact for names that announce an environment (kube contexts, profiles, projects,
  namespaces, apps: `prod-eks` reads as production) tagged with what the name is, a `scope`
  fact "region:<r>" or "zone:<z>", and `url` facts for endpoints and remote charts.

`docker exec` and the command inside `docker run IMAGE CMD` are the shell parser's; this module
reads docker's own verbs and the run flags. It returns False, writing nothing, for a program it
does not know or a command without a verb.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from cbm.facts.base import PARSERS, Collector
from cbm.facts.requests import named
from cbm.facts.text import Text

# --- reading argv ------------------------------------------------------------------------------


@dataclass
class _Opt:
    name: str  # the canonical (long) name
    word: Text  # the option as written
    values: list[Text]

    @property
    def value(self) -> Text | None:
        return self.values[0] if self.values else None


# policies and roles that hand over a whole account, project, subscription or cluster
_ADMIN = re.compile(r"(?i)(^|[/:=])(AdministratorAccess|IAMFullAccess|PowerUserAccess|roles/(owner|editor|"
                    r"iam\.securityAdmin|resourcemanager\.projectIamAdmin)|cluster-admin|Owner|Contributor|"
                    r"User Access Administrator)$")


@dataclass
class _Args:
    opts: list[_Opt]
    pos: list[Text]
    rest: list[Text] = field(default_factory=list)  # words after `--` or after the last positional read

    def find(self, *names: str) -> _Opt | None:
        return next((o for o in self.opts if o.name in names), None)

    def value(self, *names: str) -> Text | None:
        o = self.find(*names)
        return o.value if o is not None else None

    def values(self, *names: str) -> list[Text]:
        return [v for o in self.opts if o.name in names for v in o.values]

    def has(self, *names: str) -> bool:
        return self.find(*names) is not None


@dataclass(frozen=True)
class _Syntax:
    values: frozenset[str] = frozenset()  # options that take a value
    aliases: dict[str, str] = field(default_factory=dict)  # short or other spelling -> canonical name
    bools: frozenset[str] = frozenset()  # options that never take a value (with `guess`)
    guess: bool = False  # an unknown --option takes the next word unless that looks like an option
    multi: bool = False  # ... every word up to the next option (aws list parameters)
    single_dash: bool = False  # -long options are long (terraform): -auto-approve is --auto-approve
    bundles: bool = True  # -abc is -a -b -c


def _syntax(values: str = "", aliases: str = "", bools: str = "", **kw) -> _Syntax:
    """A syntax from space-separated names; aliases as "-n=--namespace -f=--filename"."""
    pairs = dict(p.split("=", 1) for p in aliases.split())
    return _Syntax(frozenset(values.split()), pairs, frozenset(bools.split()), **kw)


def _join(words: list[Text]) -> Text:
    """Words as one Text ("rollout undo"), each keeping its own characters' spans."""
    out = words[0]
    for w in words[1:]:
        out = out + Text.constant(" ", (out.span()[1], w.span()[0])) + w
    return out


def _is_option(v: str) -> bool:
    return len(v) > 1 and v.startswith("-") and not re.match(r"^-\d", v)


def _parse(words: list[Text], syntax: _Syntax, stop_after: int | None = None) -> _Args:
    """Options and positional words; after `stop_after` positionals, or `--`, the remaining words
    go to `rest` unread (a container's command, a pod's command)."""
    opts: list[_Opt] = []
    pos: list[Text] = []
    k = 0
    while k < len(words):
        word = words[k]
        v = word.value
        if stop_after is not None and len(pos) >= stop_after:
            return _Args(opts, pos, words[k:])
        if v == "--":
            return _Args(opts, pos, words[k + 1:])
        if not _is_option(v):
            pos.append(word)
            k += 1
            continue
        written, eq, _ = v.partition("=")
        name = "-" + written if syntax.single_dash and not written.startswith("--") and len(written) > 2 else written
        canon = syntax.aliases.get(name, name)
        if eq:
            opts.append(_Opt(canon, word, [word.slice(len(written) + 1)]))
        elif k + 1 < len(words) and (canon in syntax.values or (
                syntax.guess and canon.startswith("--") and canon not in syntax.bools and not canon.startswith("--no-")
                and not _is_option(words[k + 1].value))):
            taken = [words[k + 1]]  # a declared value option takes the next word whatever it looks like
            k += 1
            while syntax.multi and k + 1 < len(words) and not _is_option(words[k + 1].value):
                taken.append(words[k + 1])
                k += 1
            opts.append(_Opt(canon, word, taken))
        elif not v.startswith("--") and len(v) > 2 and syntax.aliases.get(v[:2], v[:2]) in syntax.values \
                and not syntax.single_dash:
            opts.append(_Opt(syntax.aliases.get(v[:2], v[:2]), word, [word.slice(2)]))  # -nprod
        elif not v.startswith("--") and len(v) > 2 and syntax.bundles and not syntax.single_dash:
            opts.extend(_Opt(syntax.aliases.get("-" + ch, "-" + ch), word, []) for ch in v[1:])
        else:
            opts.append(_Opt(canon, word, []))
        k += 1
    return _Args(opts, pos)


# --- writing facts -------------------------------------------------------------------------------

_READ_ONLY = {"read", "list", "search", "query", "print"}
# canonical option -> flag. `--force=false` and the like write nothing.
_FLAGS = {
    "--all": "all", "--all-namespaces": "all", "--recursive": "recursive", "--force": "force", "--now": "force",
    "--privileged": "privileged", "--cascade": "cascade", "--auto-approve": "auto_approve", "--yes": "auto_approve",
    "--approve": "auto_approve", "--quiet": "auto_approve", "--skip-preview": "auto_approve",
    "--confirm": "auto_approve", "--terragrunt-non-interactive": "auto_approve", "--non-interactive": "auto_approve",
    "--auto-confirm": "auto_approve", "--detach": "detached", "--grace-period": "force",
    "--disable-nodegroup-eviction": "force", "--dangerous": "cascade", "--force-deletion": "force",
}
# canonical option -> what its value names
_ROLES = {
    "--namespace": "namespace", "--context": "cluster", "--kube-context": "cluster", "--cluster": "cluster",
    "--cluster-name": "cluster", "--profile": "profile", "--project": "project", "--subscription": "subscription",
    "--resource-group": "resource_group", "--region": "region", "--location": "region", "--zone": "zone",
    "--endpoint-url": "url", "--server": "url", "--bucket": "bucket", "--stack-name": "stack", "--stack": "stack",
    "--app": "app", "--kubeconfig": "file", "--filename": "file", "--var-file": "file", "--values": "file",
    "--config-file": "file", "--instance-ids": "instance", "--instance-id": "instance",
    "--db-instance-identifier": "database", "--db-cluster-identifier": "database", "--table-name": "database",
    "--function-name": "function", "--user-name": "user", "--role-name": "role", "--group-name": "group",
    "--repository-name": "repository", "--repo": "repository", "--auto-scaling-group-name": "autoscaling_group",
    "--secret-id": "secret", "--key-id": "key", "--log-group-name": "log", "--trail-name": "trail",
    "--nodegroup-name": "nodegroup", "--environment-name": "environment", "--target": "resource",
    "--replace": "resource", "--serviceaccount": "service_account", "--clusterrole": "role", "--member": "member",
    "--assignee": "user", "--account-name": "storage_account", "--container-name": "bucket", "--vault-name": "vault",
    "--ids": "resource", "--chdir": "directory", "--cwd": "directory", "--state": "file", "--kustomize": "directory",
    "--queue-url": "url", "--service": "service", "--topic-arn": "topic", "--policy-arn": "policy",
    "--detector-id": "detector", "--secret": "secret",
}
# names that often announce an environment (prod-eks, acme-staging): also a host fact
_ENV_ROLES = {"namespace", "cluster", "project", "subscription", "resource_group", "stack", "app", "workspace",
              "environment"}


class _Reader:
    """Writes one command's facts for one tool."""

    def __init__(self, out: Collector, argv: list[Text], parser: str, name: str):
        self.out, self.parser, self.tool, self.name = out, parser, argv[0], name

    def command(self, words: list[Text], operation: str, verb: Text | None, tags: tuple[str, ...] = (),
                args: _Args | None = None, flags: dict[str, str] | None = None,
                roles: dict[str, str] | None = None) -> None:
        """The `cloud` fact (tool and words), the operation on `verb`, then the flags and the
        options' targets of `args`."""
        spans = [self.tool.span()] + [w.span() for w in words]
        value = " ".join([self.name] + [w.value for w in words])
        self.out.add("cloud", value[:200], (min(s[0] for s in spans), max(s[1] for s in spans)), self.parser)
        extra = list(tags)
        if args is not None and any(o.name in ("--dry-run", "--dryrun", "--what-if") and
                                    (o.value is None or o.value.value.lower() not in ("none", "false"))
                                    for o in args.opts):
            extra.append("dry_run")
        if operation == "user_change" and args is not None and any(
                _ADMIN.search(w.value) for w in [o.value for o in args.opts if o.value is not None] + args.pos):
            extra.append("grant")  # the policy or role granted is an administrator's
        if "secret_values" in extra and args is not None:  # a secret the user's words ask to see, by its name
            name = args.value("--name", "--secret-id", "--secret", "--id")
            extra += named("secret_value", self.out.context.instructions,
                           [name.value] if name is not None else [w.value for w in args.pos[-1:]])
        self.out.operation(operation, verb or (words[-1] if words else self.tool), self.parser,
                           tuple(dict.fromkeys(extra)))
        if args is not None:
            self.flags(args, operation, flags if flags is not None else _FLAGS)
            self.options(args, roles if roles is not None else _ROLES)

    def flags(self, args: _Args, operation: str, table: dict[str, str]) -> None:
        for o in args.opts:
            flag = table.get(o.name)
            if flag is None:
                continue
            v = o.value.value.lower() if o.value is not None else ""
            if v in ("false", "no", "off") or (o.name == "--cascade" and v in ("orphan", "none")):
                continue
            if o.name == "--grace-period" and v not in ("0", "1"):
                continue
            if flag == "auto_approve" and operation in _READ_ONLY:
                continue
            self.out.flag(flag, o.word, self.parser)

    def options(self, args: _Args, roles: dict[str, str]) -> None:
        for o in args.opts:
            role = roles.get(o.name)
            if role is not None:
                for v in o.values:
                    self.role(role, v)

    def role(self, role: str, text: Text) -> None:
        """A value by what it names: a region, an endpoint, a profile, an environment-bearing name, a resource."""
        value = text.value.strip()
        if not value:
            return
        if role in ("region", "zone"):
            self.out.add("scope", f"{role}:{value[:100]}", text.span(), self.parser)
        elif role == "url" or "://" in value and role in ("file", "chart", "directory"):
            self.out.url(text, self.parser)
        elif role == "profile":
            self.out.host(text, self.parser, ("profile",))
        elif role in ("file", "directory"):
            self.out.target(text, self.parser)
        else:
            self.out.target(text, self.parser, (role,))
            if role in _ENV_ROLES:  # `acme/prod` (a pulumi stack): the last part names the environment
                self.out.host(text.slice(text.value.rfind("/") + 1), self.parser, (role,))

    def uri(self, text: Text, scheme_tags: tuple[str, ...] = ("bucket",)) -> bool:
        """An object-store URI (s3://, gs://, az://) as a bucket target; False for anything else."""
        if re.match(r"^(s3|gs|s3a|az|abfss?|wasbs?|r2|oss)://", text.value, re.I):
            self.out.target(text, self.parser, scheme_tags)
            return True
        return False

    def shell(self, text: Text | None) -> None:
        """A command string an option carries (`gcloud compute ssh --command`, `az vm run-command --scripts`)."""
        if text is not None and "shell" in PARSERS:
            self.out.parse("shell", text)


def _to_zero(args: _Args, *names: str) -> bool:
    return any(v.value.strip() == "0" for v in args.values(*names))


def _is_verb(word: str, table: dict[str, str]) -> bool:
    """Whether a word of a command path is its verb: a known one, or a hyphenated one starting with
    a known verb word (`create-for-rbac`, `add-iam-policy-binding`, `reset-windows-password`)."""
    return word in table or "-" in word and word.split("-", 1)[0] in _VERB_WORDS


def _prefix_operation(verb: str, table: dict[str, str], default: str = "other") -> str:
    """The operation of a verb like `delete-bucket`, `list-users`, `terminate-instances` by its first word."""
    head = verb.split("-", 1)[0]
    return table.get(verb, table.get(head, default))


_VERB_WORDS = {
    **dict.fromkeys("delete remove rm rb del d terminate destroy deregister purge erase drop revoke".split(), "delete"),
    **dict.fromkeys("describe get show head lookup inspect view cat download-db-log-file-portion select query scan "
                    "search filter export tail read logs status history print access batch-get".split(), "read"),
    **dict.fromkeys("list ls".split(), "list"),
    **dict.fromkeys("create put update modify attach associate run register import tag untag set enable add patch "
                    "replace apply copy restore assign detach disassociate disable upgrade reset rotate "
                    "authorize c u".split(), "infra_apply"),
    "stop": "stop_service", "reboot": "stop_service", "deallocate": "stop_service", "start": "start_service",
    "restart": "start_service", "invoke": "execute", "execute": "execute", "send": "message", "publish": "message",
    "deploy": "deploy", "rollback": "deploy", "scale": "infra_scale", "resize": "infra_scale", "ssh": "execute",
    "wait": "read", "cancel": "other", "login": "other", "logout": "other", "configure": "other",
}

# --- kubectl / oc ----------------------------------------------------------------------------------

_KUBECTL = _syntax(
    values="--namespace --context --cluster --kubeconfig --filename --selector --output --replicas --container "
           "--field-selector --timeout --server --user --token --as --as-group --type --image --patch --from-literal "
           "--from-file --from-env-file --clusterrole --role --serviceaccount --group --port --overrides --for "
           "--sort-by --template --current-replicas --resource-version --min --max --cpu-percent --to-revision "
           "--subresource --kustomize --label-columns --request-timeout --grace-period --certificate-authority "
           "--client-certificate --client-key --docker-server --docker-username --docker-password --docker-email "
           "--target-port --name --env --limits --requests --profile --since --tail --cert --key",
    aliases="-n=--namespace -f=--filename -A=--all-namespaces -l=--selector -o=--output -c=--container -p=--patch "
            "-k=--kustomize -R=--recursive -s=--server -L=--label-columns -i=--stdin -t=--tty -w=--watch -e=--env",
)
_KUBECTL_VERBS = {
    "delete": "delete", "get": "read", "describe": "read", "logs": "read", "top": "read", "explain": "read",
    "api-resources": "read", "api-versions": "read", "cluster-info": "read", "version": "read", "events": "read",
    "wait": "read", "auth": "read", "diff": "read", "kustomize": "build", "apply": "infra_apply",
    "create": "infra_apply", "replace": "infra_apply", "patch": "infra_apply", "set": "infra_apply",
    "edit": "infra_apply", "label": "infra_apply", "annotate": "infra_apply", "taint": "infra_apply",
    "run": "infra_apply", "expose": "infra_apply", "autoscale": "infra_scale", "scale": "infra_scale",
    "drain": "infra_scale", "cordon": "infra_scale", "uncordon": "infra_scale", "rollout": "deploy",
    "exec": "execute", "attach": "execute", "debug": "execute", "cp": "copy", "port-forward": "tunnel",
    "proxy": "tunnel", "config": "other", "certificate": "user_change", "plugin": "other",
}
_KUBECTL_SUBVERBS = {"rollout", "config", "set", "auth", "certificate", "top", "create", "apply", "plugin"}
_KUBECTL_SUB_OPS = {
    "rollout status": "read", "rollout history": "read", "config view": "read", "config get-contexts": "read",
    "config current-context": "read", "config get-clusters": "read", "config delete-context": "delete",
    "config delete-cluster": "delete", "config delete-user": "delete", "auth can-i": "read", "auth whoami": "read",
    "auth reconcile": "user_change", "apply view-last-applied": "read",
}
_K8S_KINDS = {
    "ns": "namespace", "po": "pod", "deploy": "deployment", "svc": "service", "sts": "statefulset",
    "ds": "daemonset", "rs": "replicaset", "cm": "configmap", "pv": "persistentvolume",
    "pvc": "persistentvolumeclaim", "no": "node", "sa": "serviceaccount", "ing": "ingress", "netpol": "networkpolicy",
    "crd": "customresourcedefinition", "crds": "customresourcedefinition", "cj": "cronjob",
    "hpa": "horizontalpodautoscaler", "pdb": "poddisruptionbudget", "psp": "podsecuritypolicy", "ep": "endpoints",
    "ev": "event", "quota": "resourcequota", "limits": "limitrange", "csr": "certificatesigningrequest",
    "sc": "storageclass", "pc": "priorityclass", "rc": "replicationcontroller", "endpoints": "endpoints",
}
_RBAC_KINDS = {"role", "clusterrole", "rolebinding", "clusterrolebinding", "serviceaccount", "token",
               "certificatesigningrequest"}
_K8S_SAFEGUARDS = {"networkpolicy", "podsecuritypolicy", "validatingwebhookconfiguration", "resourcequota",
                   "mutatingwebhookconfiguration", "limitrange", "poddisruptionbudget", "validatingadmissionpolicy",
                   "podsecuritypolicies", "ciliumnetworkpolicy", "authorizationpolicy", "peerauthentication"}
_POD_VERBS = {"exec", "attach", "logs", "port-forward", "debug"}
_NODE_VERBS = {"drain", "cordon", "uncordon"}


def _kind(word: str) -> str:
    w = word.lower().split(",")[0].split(".")[0]
    if w in _K8S_KINDS:
        return _K8S_KINDS[w]
    if w.endswith("ies"):
        return w[:-3] + "y"
    if w.endswith(("sses", "xes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def _resource_text(kind: str, kind_word: Text, name: Text | None) -> Text:
    """`kind/name` as one Text spanning the words it came from (`deploy api` -> deployment/api)."""
    if name is None:
        return Text.constant(kind, kind_word.span())
    if name is kind_word:  # written as kind/name
        slash = name.value.find("/")
        return Text.constant(kind + "/", name.span(0, slash + 1)) + name.slice(slash + 1)
    return Text.constant(kind + "/", (kind_word.span()[0], name.span()[0])) + name


def _k8s_resources(words: list[Text], kind: str | None = None) -> list[tuple[str, Text]]:
    """(kind, target text) of the resources a kubectl command names: `deploy/api`, `pods a b`, `ns prod`."""
    words = [w for w in words if "=" not in w.value and not w.value.startswith("-")]
    if not words:
        return []
    if kind is not None:
        return [(kind, _resource_text(kind, w, w) if "/" in w.value else Text.constant(kind + "/", w.span()) + w)
                for w in words]
    if "/" in words[0].value:
        return [(_kind(w.value.split("/", 1)[0]), _resource_text(_kind(w.value.split("/", 1)[0]), w, w))
                for w in words if "/" in w.value]
    k = _kind(words[0].value)
    if len(words) == 1:
        return [(k, _resource_text(k, words[0], None))]
    return [(k, _resource_text(k, words[0], w)) for w in words[1:]]


# an output format that prints a secret's data: yaml, json, or a template that reads one of its values
# (`{.data.password}`; a bare `{.data}` piped to `jq keys` is read for the key names)
_SECRET_VALUES = re.compile(r"(?i)^(ya?ml|json)$|^(jsonpath|go-template|template|custom-columns)[=-].*"
                            r"\.(data|stringdata)(\.\w|\[)")


def _prints_value(args: _Args, fields: str) -> bool:
    """Whether a secret store's read prints the secret itself: it does unless its `--query` picks
    only other fields (`--query Name`, `--query '[].id'`)."""
    query = args.value("--query")
    return query is None or re.search(fields, query.value, re.I) is not None


def _kubectl(r: _Reader, args: list[Text]) -> bool:
    a = _parse(args, _KUBECTL)
    if not a.pos:
        return False
    verb, rest = a.pos[0], a.pos[1:]
    v = verb.value
    words = [verb]
    if v in _KUBECTL_SUBVERBS and rest and not (v == "apply" and not rest):
        words, rest = [verb, rest[0]], rest[1:]
    key = " ".join(w.value for w in words)
    operation = _KUBECTL_SUB_OPS.get(key, _KUBECTL_VERBS.get(v, "other"))
    tags: list[str] = []
    # the resources it names
    if v in _POD_VERBS:
        resources = _k8s_resources(rest[:1], None if rest and "/" in rest[0].value else "pod")
    elif v in _NODE_VERBS:
        resources = _k8s_resources(rest, "node")
    elif v == "run":
        resources = _k8s_resources(rest[:1], "pod")
    elif v == "create" and len(words) == 2:
        sub = _kind(words[1].value)
        names = rest[1:2] if sub in ("secret", "service") and len(rest) > 1 else rest[:1]
        resources = _k8s_resources(names, sub)
    elif v in ("cp", "config", "auth", "proxy", "version", "cluster-info", "api-resources", "plugin", "kustomize"):
        resources = []
    else:
        resources = _k8s_resources(rest)
    kinds = {k for k, _ in resources}
    if v == "create" and len(words) == 2:
        kinds.add(_kind(words[1].value))
    if kinds & _RBAC_KINDS and operation in ("infra_apply", "delete"):
        operation = "user_change"
    if v == "delete" and kinds & _K8S_SAFEGUARDS:
        operation = "disable_safeguard"
    if "secret" in kinds:
        tags.append("secret")
        if v == "get" and any(_SECRET_VALUES.match(o.value) for o in a.values("--output")):
            tags.append("secret_values")  # -o yaml prints the data, -o name or a bare get only the names
    if v == "diff":
        tags.append("plan")
    if _to_zero(a, "--replicas"):
        tags.append("to_zero")
    if v == "cp" and len(rest) >= 2:
        remote = [":" in w.value and not w.value.startswith(("/", ".", "~")) for w in rest[:2]]
        operation = "network_fetch" if remote[0] and not remote[1] else "network_send" if remote[1] and not remote[0] \
            else "copy"
    roles = {**_ROLES, "--user": "user", "--group": "group"} if v == "create" else _ROLES
    r.command(words, operation, _join(words), tuple(tags), a, roles=roles)
    for kind, text in resources:
        r.out.target(text, r.parser, (kind,))
        if kind == "namespace" and "/" in text.value:
            r.out.host(text.slice(len("namespace/")), r.parser, ("namespace",))
    if v == "cp":
        for w in rest[:2]:
            if ":" in w.value and not w.value.startswith(("/", ".", "~")):
                r.out.target(w, r.parser, ("pod",))
            else:
                r.out.target(w, r.parser)
    if key in ("config use-context", "config set-context", "config delete-context", "config rename-context") and rest:
        r.role("cluster", rest[0])
    for spec in a.values("--patch", "--overrides"):  # a pod spec written inline: privileged, or the host's root
        if _PRIVILEGED_SPEC.search(spec.value):
            r.out.flag("privileged", spec, r.parser)
        if _HOST_ROOT_SPEC.search(spec.value):
            r.out.flag("mount_root", spec, r.parser)
    return True


# what a pod spec turns on that breaks out of the container
_PRIVILEGED_SPEC = re.compile(r"""(?i)["']?(privileged|hostPID)["']?\s*:\s*["']?true""")
_HOST_ROOT_SPEC = re.compile(r"""(?i)hostPath["']?\s*:\s*\{?\s*["']?path["']?\s*:\s*["']?/["'\s,}]""")


# --- helm ----------------------------------------------------------------------------------------

_HELM = _syntax(
    values="--namespace --kube-context --kubeconfig --values --set --set-string --set-file --set-json --version "
           "--repo --timeout --output --description --post-renderer --username --password --ca-file --cert-file "
           "--key-file --history-max --max --revision --filter --selector --kube-apiserver --kube-token "
           "--registry-config",
    aliases="-n=--namespace -f=--values -o=--output -g=--generate-name -A=--all-namespaces -a=--all -l=--selector",
)
_HELM_VERBS = {
    "install": "infra_apply", "upgrade": "infra_apply", "uninstall": "delete", "delete": "delete", "del": "delete",
    "un": "delete", "rollback": "deploy", "list": "list", "ls": "list", "status": "read", "get": "read",
    "history": "read", "hist": "read", "show": "read", "inspect": "read", "template": "build", "lint": "test",
    "test": "test", "search": "search", "pull": "network_fetch", "fetch": "network_fetch", "push": "push",
    "package": "build", "repo": "other", "dependency": "network_fetch", "dep": "network_fetch", "env": "read",
    "version": "read", "plugin": "install", "registry": "other",
}
_HELM_SUBVERBS = {"repo", "plugin", "get", "show", "inspect", "dependency", "dep", "registry", "search"}


def _helm(r: _Reader, args: list[Text]) -> bool:
    a = _parse(args, _HELM)
    if not a.pos or a.pos[0].value not in _HELM_VERBS:
        return False
    verb, rest = a.pos[0], a.pos[1:]
    v = verb.value
    words = [verb, rest[0]] if v in _HELM_SUBVERBS and rest else [verb]
    rest = rest[len(words) - 1:]
    operation = _HELM_VERBS[v]
    if v == "repo" and words[-1].value in ("list", "ls"):
        operation = "list"
    if v == "plugin" and words[-1].value in ("list", "ls"):
        operation = "list"
    tags = ("no_hooks",) if a.has("--no-hooks") else ()
    r.command(words, operation, verb, tags, a)
    releases: list[Text] = []
    charts: list[Text] = []
    if v == "install":
        releases, charts = (([], rest[:1]) if a.has("--generate-name") else (rest[:1], rest[1:2]))
    elif v == "upgrade":
        releases, charts = rest[:1], rest[1:2]
    elif v in ("uninstall", "delete", "del", "un"):
        releases = rest
    elif v in ("rollback", "status", "history", "hist", "test", "get"):
        releases = rest[:1]
    elif v in ("pull", "fetch", "push", "template", "show", "inspect", "lint", "package"):
        charts = rest[1:2] if v == "template" and len(rest) > 1 else rest[:1]
    elif v in ("repo", "plugin"):
        for w in rest:
            if "://" in w.value:
                r.out.url(w, r.parser)
    for w in releases:
        r.out.target(w, r.parser, ("release",))
    for w in charts:
        if "://" in w.value:
            r.out.url(w, r.parser)
        elif w.value.startswith((".", "/", "~")):
            r.out.target(w, r.parser, ("chart",))
        else:
            r.out.target(w, r.parser, ("chart",))
    return True


# --- terraform / tofu / terragrunt ---------------------------------------------------------------

_TERRAFORM = _syntax(
    values="--var --var-file --target --replace --out --state --state-out --backup --lock-timeout --parallelism "
           "--chdir --backend-config --plugin-dir --from-module --config --generate-config-out "
           "--terragrunt-working-dir "
           "--terragrunt-config --working-dir",
    single_dash=True, bundles=False,
)
_TERRAFORM_VERBS = {
    "destroy": "infra_destroy", "apply": "infra_apply", "plan": "read", "init": "other", "validate": "read",
    "fmt": "read", "show": "read", "output": "read", "graph": "read", "providers": "read", "version": "read",
    "console": "read", "get": "network_fetch", "refresh": "read", "test": "test", "import": "infra_apply",
    "taint": "infra_apply", "untaint": "infra_apply", "force-unlock": "disable_safeguard", "login": "other",
    "logout": "other", "state": "read", "workspace": "other", "run-all": "other", "run": "other",
}
_TERRAFORM_SUB = {
    "state list": "read", "state show": "read", "state pull": "read", "state rm": "delete", "state mv": "move",
    "state push": "write", "state replace-provider": "write", "workspace list": "list", "workspace show": "read",
    "workspace select": "other", "workspace new": "other", "workspace delete": "delete",
}


def _terraform(r: _Reader, args: list[Text]) -> bool:
    a = _parse(args, _TERRAFORM)
    pos = list(a.pos)
    words: list[Text] = []
    all_word = None
    while pos and pos[0].value in ("run-all", "run"):  # terragrunt run-all destroy, terragrunt run -- destroy
        all_word = pos[0] if pos[0].value == "run-all" else all_word
        words.append(pos.pop(0))
    if not pos and a.rest:
        pos = [w for w in a.rest if not _is_option(w.value)]
    if not pos or pos[0].value not in _TERRAFORM_VERBS:
        return False
    verb, rest = pos[0], pos[1:]
    v = verb.value
    words.append(verb)
    if v in ("state", "workspace") and rest:
        words.append(rest[0])
        rest = rest[1:]
    key = " ".join(w.value for w in words[-2:]) if v in ("state", "workspace") else v
    operation = _TERRAFORM_SUB.get(key, _TERRAFORM_VERBS[v])
    tags: list[str] = []
    destroy_mode = a.has("--destroy")
    if v == "apply" and destroy_mode:
        operation = "infra_destroy"
    if v == "plan":
        tags.append("plan")
        if destroy_mode:
            tags.append("destroy")
    if any(o.name == "--lock" and o.value is not None and o.value.value.lower() == "false" for o in a.opts):
        tags.append("no_lock")
    if key in ("state rm", "state mv", "state push"):
        tags.append("state")
    r.command(words, operation, _join(words[-2:] if v in ("state", "workspace") else [verb]), tuple(tags), a)
    if all_word is not None:
        r.out.flag("all", all_word, r.parser)
    if v == "apply" and rest:
        r.out.target(rest[0], r.parser, ("plan_file",))
    elif key in ("state rm", "state mv", "state show") or v in ("import", "taint", "untaint"):
        for w in rest[:2] if v != "import" else rest[:1]:
            r.out.target(w, r.parser, ("resource",))
    elif key in ("workspace select", "workspace new", "workspace delete") and rest:
        r.role("workspace", rest[0])
    return True


# --- pulumi --------------------------------------------------------------------------------------

_PULUMI = _syntax(
    values="--stack --target --cwd --parallel --message --config --config-file --exec-kind --secrets-provider "
           "--replace --target-replace --policy-pack --policy-pack-config --client --color",
    aliases="-s=--stack -y=--yes -f=--skip-preview -t=--target -C=--cwd -p=--parallel -m=--message -c=--config",
)
_PULUMI_VERBS = {
    "up": "infra_apply", "update": "infra_apply", "destroy": "infra_destroy", "down": "infra_destroy",
    "preview": "read", "pre": "read", "refresh": "read", "import": "infra_apply", "cancel": "other", "new": "create",
    "login": "other", "logout": "other", "whoami": "read", "about": "read", "version": "read", "watch": "infra_apply",
    "stack": "read", "config": "read", "state": "read", "logs": "read",
}
_PULUMI_SUB = {
    "stack ls": "list", "stack rm": "delete", "stack select": "other", "stack init": "create", "stack output": "read",
    "stack export": "read", "stack history": "read", "stack import": "write", "stack rename": "write",
    "config set": "write", "config set-all": "write", "config rm": "write", "config get": "read",
    "state delete": "delete", "state unprotect": "disable_safeguard", "state rename": "write", "state move": "move",
}


def _pulumi(r: _Reader, args: list[Text]) -> bool:
    a = _parse(args, _PULUMI)
    if not a.pos or a.pos[0].value not in _PULUMI_VERBS:
        return False
    verb, rest = a.pos[0], a.pos[1:]
    v = verb.value
    words = [verb]
    if v in ("stack", "config", "state") and rest:
        words, rest = [verb, rest[0]], rest[1:]
    key = " ".join(w.value for w in words)
    operation = _PULUMI_SUB.get(key, _PULUMI_VERBS[v])
    tags = ["plan"] if v in ("preview", "pre") else []
    if a.has("--remove"):
        tags.append("remove_stack")
    if key in ("stack rm",):
        tags.append("stack")
    r.command(words, operation, _join(words), tuple(tags), a)
    if key in ("stack rm", "stack select", "stack init") and rest:
        r.role("stack", rest[0])
    elif key in ("state delete", "state unprotect") and rest:
        r.out.target(rest[0], r.parser, ("resource",))
    return True


# --- gh / glab -----------------------------------------------------------------------------------

_GH_VALUES = ("-R --repo --hostname -b --body --body-file -t --title -B --base -H --head -l --label -a --assignee "
              "-r --reviewer -m --milestone -p --project --default-branch --visibility --description -d --homepage "
              "--add-topic --remove-topic --ref --json -L --limit -s --state --branch -e --env --org --app --notes "
              "-n --notes-file --target -q --jq -T --template --source -F --field -f --raw-field --name")
_GH = _syntax(values=_GH_VALUES, aliases="-R=--repo")
_GH_API = _syntax(values="-X --method -f --raw-field -F --field -H --header --input -q --jq -t --template --hostname "
                         "--cache -p --preview",
                  aliases="-X=--method -f=--raw-field -F=--field -H=--header -p=--preview")
_GH_MERGE = _syntax(values="-R --repo -b --body -F --body-file -t --subject -A --author-email --match-head-commit",
                    aliases="-R=--repo -d=--delete-branch")
_GH_GIST = _syntax(values="-d --desc -f --filename", aliases="-p=--public -w=--web")
_GH_OPS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("repo", "delete"): ("delete", ("repository",)), ("repo", "clone"): ("network_fetch", ()),
    ("repo", "create"): ("create", ()), ("repo", "fork"): ("create", ()), ("repo", "view"): ("read", ()),
    ("repo", "list"): ("list", ()), ("repo", "rename"): ("write", ()), ("repo", "archive"): ("write", ("archive",)),
    ("repo", "edit"): ("write", ()), ("repo", "sync"): ("push", ()), ("repo", "deploy-key"): ("user_change", ()),
    ("pr", "merge"): ("push", ()), ("pr", "create"): ("message", ()), ("pr", "comment"): ("message", ()),
    ("pr", "review"): ("message", ()), ("pr", "edit"): ("message", ()), ("pr", "close"): ("other", ()),
    ("pr", "reopen"): ("other", ()), ("pr", "checkout"): ("git", ()), ("pr", "ready"): ("other", ()),
    ("issue", "create"): ("message", ()), ("issue", "comment"): ("message", ()), ("issue", "edit"): ("message", ()),
    ("issue", "delete"): ("delete", ("issue",)), ("issue", "close"): ("other", ()),
    ("release", "create"): ("deploy", ()), ("release", "delete"): ("delete", ("release",)),
    ("release", "delete-asset"): ("delete", ("release",)), ("release", "upload"): ("push", ()),
    ("release", "download"): ("network_fetch", ()), ("run", "rerun"): ("execute", ()), ("run", "cancel"): ("kill", ()),
    ("run", "delete"): ("delete", ()), ("run", "download"): ("network_fetch", ()),
    ("workflow", "run"): ("execute", ()), ("workflow", "disable"): ("disable_safeguard", ("workflow",)),
    ("workflow", "enable"): ("other", ()), ("secret", "set"): ("write", ("secret",)),
    ("secret", "delete"): ("delete", ("secret",)), ("secret", "remove"): ("delete", ("secret",)),
    ("variable", "set"): ("write", ()), ("variable", "delete"): ("delete", ()),
    ("gist", "create"): ("network_send", ()), ("gist", "delete"): ("delete", ()), ("gist", "edit"): ("write", ()),
    ("gist", "clone"): ("network_fetch", ()), ("ssh-key", "add"): ("user_change", ()),
    ("ssh-key", "delete"): ("user_change", ()), ("gpg-key", "add"): ("user_change", ()),
    ("gpg-key", "delete"): ("user_change", ()), ("auth", "token"): ("read", ("secret",)),
    ("auth", "refresh"): ("user_change", ()), ("extension", "install"): ("install", ()),
    ("extension", "remove"): ("install", ("uninstall",)), ("codespace", "delete"): ("delete", ()),
    ("codespace", "ssh"): ("execute", ()), ("cache", "delete"): ("delete", ()), ("label", "delete"): ("delete", ()),
    ("mr", "merge"): ("push", ()), ("mr", "create"): ("message", ()), ("mr", "approve"): ("message", ()),
    ("project", "delete"): ("delete", ("repository",)),
}
_GH_READS = {"view", "list", "status", "diff", "checks", "watch", "ls", "get", "check", "browse"}
_PROTECTION = re.compile(r"/protection(/|$)|/rulesets(/|$)|/rules/branches|protected_branches|protected_tags"
                         r"|/push_rule|/approval_rules|/required_status_checks|/enforce_admins")
_ACCESS = re.compile(r"/collaborators(/|$)|/invitations|/members(/|$)|/memberships/|/teams/[^/]+/repos|/keys(/|$)"
                     r"|/outside_collaborators|/deploy_keys|/access_tokens|/permissions/users")
_SAFEGUARDS = re.compile(r"/vulnerability-alerts|/automated-security-fixes|/code-scanning|/secret-scanning"
                         r"|/actions/permissions|/actions/workflows/[^/]+/disable|/dependabot|/hooks/[^/]+/config")


def _gh_api(path: str, method: str, fields: list[str]) -> tuple[str, tuple[str, ...]]:
    """What a `gh api` call does, by its method, path and fields."""
    p = path.lstrip("/").split("?", 1)[0]
    changes = method in ("POST", "PUT", "PATCH", "DELETE")
    if p == "graphql":
        return ("write" if any(re.search(r"\bmutation\b", f) for f in fields) else "query"), ()
    if _PROTECTION.search(p):
        return ("branch_protection" if changes else "read"), ("branch",)
    if _ACCESS.search(p):
        return ("user_change" if changes else "read"), ()
    if _SAFEGUARDS.search(p) and changes:
        return "disable_safeguard", ()
    if re.fullmatch(r"(repos/[^/]+/[^/]+|projects/[^/]+)/?", p):
        if method == "DELETE":
            return "delete", ("repository",)
        if changes and any(f.startswith("default_branch=") for f in fields):
            return "branch_protection", ()
        if changes and any(f.replace(" ", "") in ("private=false", "visibility=public") for f in fields):
            return "user_change", ("public",)
    if re.search(r"/git/refs/", p) and method == "DELETE":
        return "delete", ("branch",)
    if re.search(r"/git/refs/", p) and method == "PATCH" and "force=true" in fields:
        return "force_push", ()
    if re.search(r"/secrets(/|$)", p) and changes:
        return ("delete" if method == "DELETE" else "write"), ("secret",)
    if method == "DELETE":
        return "delete", ()
    return ("write" if changes else "read"), ()


def _gh(r: _Reader, args: list[Text]) -> bool:
    head = _parse(args, _GH, stop_after=1)
    if not head.pos:
        return False
    group = head.pos[0]
    if group.value == "api":
        a = _parse(args, _GH_API)
        path = a.pos[1] if len(a.pos) > 1 else None
        fields = [v.value for v in a.values("--raw-field", "--field")]
        method = (a.value("--method").value.upper() if a.value("--method") is not None else
                  "POST" if fields or a.has("--input") else "GET")
        operation, tags = _gh_api(path.value if path is not None else "", method, fields)
        r.command([group], operation, path or group, (f"method:{method}",) + tags, a)
        if path is not None:
            what = ("repository",) if path.value.lstrip("/").startswith(("repos/", "projects/")) else ()
            if re.search(r"/branches/[^/]+|protected_branches", path.value):
                what += ("branch",)
            r.out.target(path, r.parser, what)
        return True
    rest_words = args[args.index(group) + 1:] if group in args else args[1:]
    sub_head = _parse(rest_words, _GH, stop_after=1)
    if not sub_head.pos:
        return False
    verb = sub_head.pos[0]
    key = (group.value, verb.value)
    syntax = _GH_MERGE if key in (("pr", "merge"), ("mr", "merge")) else _GH_GIST if key == ("gist", "create") else _GH
    a = _parse(args, syntax)
    rest = a.pos[2:]
    operation, tags = _GH_OPS.get(key, ("read" if verb.value in _GH_READS else "other", ()))
    tags = tuple(tags)
    if key in (("pr", "merge"), ("mr", "merge")) and a.has("--admin"):
        operation, tags = "branch_protection", tags + ("admin",)
    if key == ("repo", "edit"):
        vis = a.value("--visibility")
        if a.has("--default-branch"):
            operation = "branch_protection"
        elif vis is not None and vis.value.lower() == "public":
            operation, tags = "user_change", tags + ("public",)
    if key == ("gist", "create") and a.has("--public"):
        tags += ("public",)
    r.command([group, verb], operation, verb, tags, a)
    if group.value in ("repo", "project") and rest:
        r.out.target(rest[0], r.parser, ("repository",))
    elif key == ("gist", "create"):
        for w in rest:
            r.out.target(w, r.parser)
    elif group.value == "secret" and rest:
        r.out.target(rest[0], r.parser, ("secret",))
    return True


# --- docker / podman / nerdctl -------------------------------------------------------------------

_DOCKER_GLOBAL = _syntax(values="--host --context --config --log-level --tlscacert --tlscert --tlskey",
                         aliases="-H=--host -c=--context -l=--log-level")
_DOCKER_RUN = _syntax(
    values="--env --publish --volume --name --workdir --user --network --entrypoint --memory --cpus --mount --label "
           "--env-file --gpus --pid --ipc --uts --hostname --add-host --device --cap-add --cap-drop --security-opt "
           "--restart --log-driver --log-opt --platform --userns --runtime --shm-size --ulimit --tmpfs --dns --expose "
           "--link --volumes-from --cidfile --cgroupns --stop-signal --stop-timeout --health-cmd --cpu-shares "
           "--detach-keys --pull --memory-swap --cgroup-parent --isolation --annotation --domainname --mac-address "
           "--ip --ip6 --sysctl --storage-opt --oom-score-adj --blkio-weight --cpuset-cpus --label-file",
    aliases="-e=--env -p=--publish -v=--volume -w=--workdir -u=--user -m=--memory -l=--label -h=--hostname "
            "-d=--detach -i=--interactive -t=--tty -P=--publish-all -c=--cpu-shares --net=--network",
)
_DOCKER_COMMON = _syntax(values="--filter --format --until --time --signal --file --tag --build-arg --target "
                                "--project-name --profile --env-file --project-directory --timeout --output "
                                "--platform --rmi --scale",
                         aliases="-f=--force -a=--all -v=--volumes -s=--signal -t=--tag -p=--project-name -q=--quiet")
_DOCKER_GROUPS = {"container", "image", "volume", "network", "system", "builder", "buildx", "compose", "swarm",
                  "service", "stack", "secret", "config", "context", "plugin", "node", "trust", "manifest"}
_DOCKER_OPS: dict[str, tuple[str, str | None]] = {
    "rm": ("delete", "container"), "rmi": ("delete", "image"), "image rm": ("delete", "image"),
    "image remove": ("delete", "image"), "image prune": ("delete", "image"), "container prune": ("delete", "container"),
    "volume rm": ("delete", "volume"), "volume remove": ("delete", "volume"), "volume prune": ("delete", "volume"),
    "network rm": ("delete", "network"), "network prune": ("delete", "network"), "system prune": ("delete", "system"),
    "builder prune": ("delete", "build_cache"), "buildx prune": ("delete", "build_cache"), "push": ("push", "image"),
    "image push": ("push", "image"), "pull": ("network_fetch", "image"), "image pull": ("network_fetch", "image"),
    "run": ("container", "image"), "create": ("container", "image"), "exec": ("execute", "container"),
    "start": ("start_service", "container"), "restart": ("start_service", "container"),
    "stop": ("stop_service", "container"), "kill": ("kill", "container"), "pause": ("stop_service", "container"),
    "build": ("build", None), "buildx build": ("build", None), "image build": ("build", None),
    "ps": ("list", None), "ls": ("list", None), "images": ("list", None), "image ls": ("list", None),
    "volume ls": ("list", None), "network ls": ("list", None), "inspect": ("read", None), "logs": ("read", "container"),
    "stats": ("read", None), "top": ("read", "container"), "version": ("read", None), "info": ("read", None),
    "history": ("read", "image"), "diff": ("read", "container"), "port": ("read", "container"),
    "events": ("read", None), "login": ("other", None), "logout": ("other", None), "cp": ("copy", None),
    "commit": ("write", "image"), "save": ("write", "image"), "export": ("write", "container"),
    "load": ("other", None), "import": ("other", None), "tag": ("other", "image"),
    "update": ("infra_apply", "container"), "compose up": ("start_service", None),
    "compose down": ("stop_service", None), "compose rm": ("delete", "container"),
    "compose run": ("container", None), "compose exec": ("execute", None), "compose build": ("build", None),
    "compose pull": ("network_fetch", None), "compose push": ("push", None), "compose stop": ("stop_service", None),
    "compose kill": ("kill", None), "compose logs": ("read", None), "compose ps": ("list", None),
    "compose restart": ("start_service", None), "service rm": ("delete", "service"), "stack rm": ("delete", "stack"),
    "stack deploy": ("deploy", "stack"), "service scale": ("infra_scale", "service"),
    "service update": ("infra_apply", "service"), "service create": ("infra_apply", "service"),
    "secret rm": ("delete", "secret"), "secret create": ("write", "secret"), "swarm leave": ("other", None),
    "context use": ("other", "context"), "volume create": ("create", "volume"), "network create": ("create", "network"),
    "plugin install": ("install", None), "node rm": ("delete", "node"), "config rm": ("delete", "config"),
}
_DANGEROUS_CAPS = {"all", "sys_admin", "sys_ptrace", "sys_module", "net_admin", "dac_read_search", "sys_rawio"}


def _docker(r: _Reader, args: list[Text]) -> bool:
    if r.name == "docker-compose":
        g, group, words, rest = _Args([], []), "compose", [], args
    else:
        g = _parse(args, _DOCKER_GLOBAL, stop_after=1)
        if not g.pos:
            return False
        group, words, rest = g.pos[0].value, [g.pos[0]], g.rest
    if group in _DOCKER_GROUPS or r.name == "docker-compose":
        sub = _parse(rest, _DOCKER_COMMON, stop_after=1)
        if not sub.pos:
            return False
        words.append(sub.pos[0])
        rest = sub.rest
    key = " ".join([group] * (group != "container") + [w.value for w in words[-1:]]) if group in _DOCKER_GROUPS \
        or r.name == "docker-compose" else group  # `docker container rm` is `docker rm`
    if key not in _DOCKER_OPS:
        return False
    operation, thing = _DOCKER_OPS[key]
    verb = words[-1]
    runs = key in ("run", "create", "exec", "compose run")
    a = _parse(rest, _DOCKER_RUN, stop_after=1) if runs else _parse(rest, _DOCKER_COMMON)
    tags: list[str] = []
    if key == "system prune" and a.has("--volumes"):
        tags.append("volume")
    r.command(words, operation, verb, tuple(tags), a, flags={} if runs else {"--force": "force", "--all": "all"},
              roles={})
    _docker_options(r, g, a, operation, runs)
    if key == "compose down":
        for o in a.opts:
            if o.name == "--volumes":
                r.out.operation("delete", o.word, r.parser, ("volume",))
            elif o.name == "--rmi":
                r.out.operation("delete", o.word, r.parser, ("image",))
    if thing is not None and not key.startswith("compose"):
        for w in a.pos[:1] if runs else a.pos:
            r.out.target(w, r.parser, (thing,))
            if thing == "image" and key in ("push", "image push", "pull", "image pull", "run", "create"):
                registry = w.value.split("/", 1)[0]
                if "/" in w.value and ("." in registry or ":" in registry or registry == "localhost"):
                    r.out.host(w.slice(0, len(registry)), r.parser, ("registry",))
    return True


def _docker_options(r: _Reader, g: _Args, a: _Args, operation: str, runs: bool) -> None:
    """The daemon a command talks to, and what a container is allowed: privileged, the host's root
    or docker socket mounted, the host's network or process namespace."""
    p = r.parser
    for v in g.values("--host"):
        if "://" in v.value:
            r.out.url(v, p)
    for v in g.values("--context"):
        r.out.host(v, p, ("context",))
    if not runs:
        return
    for o in a.opts:
        val = o.value.value if o.value is not None else ""
        low = val.lower()
        if o.name == "--privileged":
            r.out.flag("privileged", o.word, p)
        elif o.name == "--detach":
            r.out.flag("detached", o.word, p)
        elif o.name in ("--network", "--pid", "--ipc", "--uts", "--userns") and low == "host":
            r.out.flag("host_network", o.word, p)
        elif o.name == "--cap-add" and low.removeprefix("cap_") in _DANGEROUS_CAPS:
            r.out.flag("privileged", o.word, p)
        elif o.name == "--security-opt" and re.search(r"unconfined|label[:=]disable|no-new-privileges[:=]false", low):
            r.out.flag("privileged", o.word, p)
        elif o.name in ("--volume", "--mount") and o.value is not None:
            if o.name == "--volume":
                source_len = len(val.split(":", 1)[0])
                source = o.value.slice(0, source_len)
            else:
                m = re.search(r"(?:^|,)(?:source|src)=([^,]*)", val)
                if not m:
                    continue
                source = o.value.slice(m.start(1), m.end(1))
            src = source.value.rstrip("/") or "/"
            if src == "/":
                r.out.flag("mount_root", o.word, p)
            elif src.endswith("docker.sock"):
                r.out.flag("privileged", o.word, p)
            if src.startswith(("/", "~", ".", "$")):
                r.out.target(source, p, ("mount",))
        elif o.name == "--device" and o.value is not None:
            r.out.target(o.value.slice(0, len(val.split(":", 1)[0])), p, ("device",))


# --- aws -----------------------------------------------------------------------------------------

_AWS_BOOLS = ("--dry-run --no-dry-run --recursive --force --quiet --debug --no-verify-ssl --no-paginate "
              "--no-sign-request --delete --exact-timestamps --follow-symlinks --only-show-errors --no-progress "
              "--human-readable --summarize --dryrun --include-all-instances --with-decryption --skip-final-snapshot "
              "--delete-automated-backups --force-delete-without-recovery --enable --apply-immediately "
              "--deletion-protection --disable-api-termination --wait --all --purge --retain-resources "
              "--force-delete --no-cli-pager --cli-auto-prompt --no-cli-auto-prompt --generate-cli-skeleton")
_AWS = _syntax(bools=_AWS_BOOLS, guess=True, multi=True, bundles=False)
_AWS_HEAD = _syntax(bools=_AWS_BOOLS, guess=True, bundles=False)  # before the service: one value each
_AWS_S3 = _syntax(values="--acl --exclude --include --storage-class --sse --sse-kms-key-id --content-type "
                         "--cache-control --expires --metadata --grants --region --profile --endpoint-url --output "
                         "--query --page-size --source-region --expected-size --website-redirect --sse-c --sse-c-key "
                         "--metadata-directive --request-payer --checksum-algorithm --color --ca-bundle "
                         "--cli-read-timeout --cli-connect-timeout --content-disposition --content-encoding "
                         "--content-language --expires-in", bundles=False)
_AWS_OPS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("ec2", "terminate-instances"): ("infra_destroy", ("instance",)),
    ("cloudformation", "delete-stack"): ("infra_destroy", ("stack",)),
    ("eks", "delete-cluster"): ("infra_destroy", ("cluster",)),
    ("ecs", "delete-cluster"): ("infra_destroy", ("cluster",)),
    ("elasticbeanstalk", "terminate-environment"): ("infra_destroy", ("environment",)),
    ("emr", "terminate-clusters"): ("infra_destroy", ("cluster",)),
    ("redshift", "delete-cluster"): ("infra_destroy", ("cluster",)),
    ("organizations", "close-account"): ("infra_destroy", ("account",)),
    ("autoscaling", "set-desired-capacity"): ("infra_scale", ()),
    ("application-autoscaling", "register-scalable-target"): ("infra_scale", ()),
    ("cloudtrail", "stop-logging"): ("disable_safeguard", ("audit_log",)),
    ("cloudtrail", "delete-trail"): ("disable_safeguard", ("audit_log",)),
    ("cloudtrail", "put-event-selectors"): ("disable_safeguard", ("audit_log",)),
    ("guardduty", "delete-detector"): ("disable_safeguard", ("detector",)),
    ("guardduty", "disassociate-from-master-account"): ("disable_safeguard", ("detector",)),
    ("guardduty", "disassociate-from-administrator-account"): ("disable_safeguard", ("detector",)),
    ("guardduty", "delete-members"): ("disable_safeguard", ("detector",)),
    ("config", "stop-configuration-recorder"): ("disable_safeguard", ("audit_log",)),
    ("config", "delete-configuration-recorder"): ("disable_safeguard", ("audit_log",)),
    ("config", "delete-delivery-channel"): ("disable_safeguard", ("audit_log",)),
    ("securityhub", "disable-security-hub"): ("disable_safeguard", ()),
    ("securityhub", "batch-disable-standards"): ("disable_safeguard", ()),
    ("s3api", "delete-public-access-block"): ("disable_safeguard", ("public",)),
    ("s3control", "delete-public-access-block"): ("disable_safeguard", ("public",)),
    ("s3api", "delete-bucket-encryption"): ("disable_safeguard", ()),
    ("logs", "delete-log-group"): ("disable_safeguard", ("audit_log",)),
    ("logs", "delete-log-stream"): ("disable_safeguard", ("audit_log",)),
    ("ec2", "disable-ebs-encryption-by-default"): ("disable_safeguard", ()),
    ("ec2", "delete-flow-logs"): ("disable_safeguard", ("audit_log",)),
    ("kms", "disable-key"): ("disable_safeguard", ("key",)), ("kms", "schedule-key-deletion"): ("delete", ("key",)),
    ("access-analyzer", "delete-analyzer"): ("disable_safeguard", ()),
    ("macie2", "disable-macie"): ("disable_safeguard", ()),
    ("inspector2", "disable"): ("disable_safeguard", ()), ("detective", "delete-graph"): ("disable_safeguard", ()),
    ("wafv2", "delete-web-acl"): ("disable_safeguard", ()), ("waf", "delete-web-acl"): ("disable_safeguard", ()),
    ("cloudwatch", "delete-alarms"): ("disable_safeguard", ("alarm",)),
    ("cloudwatch", "disable-alarm-actions"): ("disable_safeguard", ("alarm",)),
    ("iam", "delete-account-password-policy"): ("disable_safeguard", ()),
    ("s3api", "put-bucket-policy"): ("user_change", ()), ("s3api", "delete-bucket-policy"): ("user_change", ()),
    ("lambda", "add-permission"): ("user_change", ()), ("kms", "create-grant"): ("user_change", ()),
    ("kms", "put-key-policy"): ("user_change", ()), ("secretsmanager", "put-resource-policy"): ("user_change", ()),
    ("ecr", "set-repository-policy"): ("user_change", ()), ("sns", "add-permission"): ("user_change", ()),
    ("sqs", "add-permission"): ("user_change", ()), ("sts", "assume-role"): ("read", ("credentials",)),
    ("sts", "get-session-token"): ("read", ("credentials",)),
    ("sts", "get-federation-token"): ("read", ("credentials",)),
    ("secretsmanager", "get-secret-value"): ("read", ("secret",)), ("ssm", "get-parameter"): ("read", ()),
    ("ssm", "get-parameters"): ("read", ()), ("ssm", "get-parameters-by-path"): ("read", ()),
    ("kms", "decrypt"): ("read", ("secret",)), ("ecr", "get-login-password"): ("read", ("secret",)),
    ("ec2", "get-password-data"): ("read", ("secret",)), ("ssm", "send-command"): ("execute", ()),
    ("ssm", "start-session"): ("execute", ()), ("ecs", "execute-command"): ("execute", ()),
    ("s3api", "get-object"): ("network_fetch", ()), ("s3api", "put-object"): ("network_send", ()),
    ("s3api", "delete-objects"): ("delete", ()), ("lambda", "invoke"): ("execute", ()),
    ("rds", "delete-db-instance"): ("delete", ("database",)), ("rds", "delete-db-cluster"): ("delete", ("database",)),
    ("dynamodb", "delete-table"): ("delete", ("database",)), ("ec2", "stop-instances"): ("stop_service", ("instance",)),
    ("ec2", "run-instances"): ("infra_apply", ("instance",)), ("deploy", "create-deployment"): ("deploy", ()),
}
_IAM_SERVICES = {"iam", "sso-admin", "identitystore", "cognito-idp", "cognito-identity"}
_PUBLIC_ACL = re.compile(r"^(public-read|public-read-write|authenticated-read)$", re.I)
_AWS_NOUNS = {"db-instance": "database", "db-cluster": "database", "table": "database", "bucket": "bucket",
              "stack": "stack", "function": "function", "trail": "trail", "log-group": "log", "user": "user",
              "role": "role", "cluster": "cluster", "nodegroup": "nodegroup", "secret": "secret", "key": "key",
              "repository": "repository", "detector": "detector", "environment": "environment",
              "logging": "trail"}


def _aws(r: _Reader, args: list[Text]) -> bool:
    head = _parse(args, _AWS_HEAD, stop_after=2)
    if len(head.pos) < 2:
        return False
    service, op = head.pos[0], head.pos[1]
    s, o = service.value, op.value
    tail = _parse(head.rest, _AWS_S3 if s == "s3" else _AWS)
    a = _Args(head.opts + tail.opts, head.pos + tail.pos)
    rest = tail.pos
    tags: list[str] = []
    values = " ".join(v.value for opt in a.opts for v in opt.values)
    acl = a.value("--acl")
    if acl is not None and _PUBLIC_ACL.match(acl.value):
        tags.append("public")
    if s == "s3":
        operation = {"rm": "delete", "rb": "delete", "mb": "create", "ls": "list", "presign": "read",
                     "website": "infra_apply", "cp": "copy", "mv": "move", "sync": "copy"}.get(o, "other")
        if o == "rb":
            tags.append("bucket")
        if o in ("cp", "mv", "sync") and len(rest) >= 2:
            remote = [bool(re.match(r"^s3://", w.value, re.I)) for w in rest[:2]]
            if remote[0] != remote[1]:
                operation = "network_fetch" if remote[0] else "network_send"
                if o == "mv":
                    tags.append("move")
        if o == "sync" and a.has("--delete"):
            tags.append("delete_extra")
        if o == "presign":
            tags.append("share")
    elif (s, o) in _AWS_OPS:
        operation, more = _AWS_OPS[(s, o)]
        tags += more
    elif s in _IAM_SERVICES:
        operation = "user_change" if _prefix_operation(o, _VERB_WORDS) not in _READ_ONLY else \
            _prefix_operation(o, _VERB_WORDS)
    else:
        operation = _prefix_operation(o, _VERB_WORDS)
    # conditions on the values
    if (s, o) in (("s3api", "put-public-access-block"), ("s3control", "put-public-access-block")):
        operation = "disable_safeguard" if re.search(r"false", values, re.I) else "infra_apply"
    elif (s, o) == ("s3api", "put-bucket-versioning") and re.search(r"suspended", values, re.I):
        operation = "disable_safeguard"
    elif (s, o) in (("s3api", "put-bucket-acl"), ("s3api", "put-object-acl")):
        operation = "user_change"
        if re.search(r"AllUsers|AuthenticatedUsers", values):
            tags.append("public")
    elif (s, o) == ("s3api", "put-bucket-policy") and re.search(r'"Principal"\s*:\s*"\*"|"AWS"\s*:\s*"\*"', values):
        tags.append("public")
    elif (s, o) in (("rds", "modify-db-instance"), ("rds", "modify-db-cluster")) and a.has("--no-deletion-protection"):
        operation = "disable_safeguard"
    elif (s, o) == ("ec2", "modify-instance-attribute") and a.has("--no-disable-api-termination"):
        operation = "disable_safeguard"
    elif (s, o) == ("autoscaling", "update-auto-scaling-group") and \
            a.has("--desired-capacity", "--min-size", "--max-size"):
        operation = "infra_scale"
    elif (s, o) == ("ecs", "update-service") and a.has("--desired-count"):
        operation = "infra_scale"
    elif (s, o) == ("eks", "update-nodegroup-config") and a.has("--scaling-config"):
        operation = "infra_scale"
    elif (s, o) == ("guardduty", "update-detector") and a.has("--no-enable"):
        operation = "disable_safeguard"
    elif (s, o) in (("ec2", "authorize-security-group-ingress"), ("ec2", "modify-snapshot-attribute"),
                    ("ec2", "modify-image-attribute")):
        operation = "user_change"
        if re.search(r"0\.0\.0\.0/0|::/0|Group=all|\ball\b", values):
            tags.append("public")
    if (s, o) in (("ssm", "get-parameter"), ("ssm", "get-parameters"), ("ssm", "get-parameters-by-path")) and \
            a.has("--with-decryption"):
        tags.append("secret")
    if "secret" in tags and _prints_value(a, r"SecretString|SecretBinary|Plaintext|Value|PasswordData"):
        tags.append("secret_values")
    if operation == "infra_scale" and _to_zero(a, "--desired-capacity", "--desired-count", "--max-size"):
        tags.append("to_zero")
    if s == "rds" and o.startswith("delete-") and a.has("--skip-final-snapshot"):
        tags.append("no_backup")
    obj = o.split("-", 1)[1].removesuffix("s") if "-" in o else ""
    noun = _AWS_NOUNS.get(obj, obj.replace("-", "_") or "resource")
    roles = {**_ROLES, "--name": noun, "--id": noun, "--key": "object", "--identifier": noun}
    r.command([service, op], operation, op, tuple(tags), a, roles=roles)
    for w in rest:
        if not r.uri(w):
            if s == "s3" and o in ("cp", "mv", "sync") and w.value != "-":
                r.out.target(w, r.parser)
    return True


# --- gcloud / gsutil -----------------------------------------------------------------------------

_GCLOUD_BOOLS = ("--quiet --async --recursive --all --force --yes --dry-run --no-user-output-enabled --log-http "
                 "--verbose --internal-ip --tunnel-through-iap --no-address --preemptible --spot --enable-autoscaling "
                 "--delete-in --strict --continue-on-error --no-clobber --print-access-token-only")
_GCLOUD = _syntax(bools=_GCLOUD_BOOLS, aliases="-q=--quiet -r=--recursive -R=--recursive", guess=True)
_GCLOUD_VERBS = {
    "delete": "delete", "create": "infra_apply", "update": "infra_apply", "patch": "infra_apply",
    "set": "infra_apply", "unset": "infra_apply", "list": "list", "describe": "read", "resize": "infra_scale",
    "ssh": "execute", "scp": "copy", "deploy": "deploy", "start": "start_service", "stop": "stop_service",
    "reset": "stop_service", "restart": "start_service", "enable": "infra_apply", "disable": "infra_apply",
    "import": "infra_apply", "export": "read", "submit": "execute", "run": "execute", "rollback": "deploy",
    "undelete": "infra_apply", "call": "execute", "execute": "execute", "connect": "query", "tail": "read",
    "read": "read", "login": "other", "activate-service-account": "other", "print-access-token": "read",
    "print-identity-token": "read", "access": "read", "get-credentials": "read", "rm": "delete", "cp": "copy",
    "mv": "move", "rsync": "copy", "ls": "list", "cat": "read", "add-iam-policy-binding": "user_change",
    "remove-iam-policy-binding": "user_change", "set-iam-policy": "user_change", "get-iam-policy": "read",
    "add-access-config": "infra_apply", "attach-disk": "infra_apply", "set-machine-type": "infra_apply",
    "add-metadata": "infra_apply", "upgrade": "infra_apply", "abandon-instances": "delete",
    "delete-instances": "delete", "recreate-instances": "deploy", "get-value": "read", "get-server-config": "read",
    "disable-enforce": "disable_safeguard",
}
_GCLOUD_TAGS = {"instances": "instance", "clusters": "cluster", "projects": "project", "buckets": "bucket",
                "sinks": "log_sink", "databases": "database", "disks": "disk", "snapshots": "snapshot",
                "service-accounts": "service_account", "keys": "key", "secrets": "secret", "topics": "topic",
                "subscriptions": "subscription", "functions": "function", "services": "service",
                "firewall-rules": "firewall_rule", "networks": "network", "node-pools": "nodegroup",
                "instance-groups": "instance_group", "managed": "instance_group", "images": "image",
                "repositories": "repository", "datasets": "database", "tables": "database", "objects": "object",
                "folders": "folder", "org-policies": "policy", "policies": "policy"}
_PUBLIC_MEMBER = re.compile(r"\b(allUsers|allAuthenticatedUsers|AllUsers|AllAuthenticatedUsers)\b")


def _gcloud(r: _Reader, args: list[Text]) -> bool:
    a = _parse(args, _GCLOUD)
    pos = a.pos
    first = next((i for i, w in enumerate(pos) if w.value not in ("alpha", "beta", "preview")), len(pos))
    at = next((i for i, w in enumerate(pos) if i > first and _is_verb(w.value, _GCLOUD_VERBS)), None)
    if at is None:
        if len(pos) >= 2 and pos[0].value == "config" and pos[1].value in ("set", "unset", "get-value", "list"):
            at = 1
        else:
            return False
    path, verb, rest = pos[:at + 1], pos[at], pos[at + 1:]
    groups = [w.value for w in path[:-1] if w.value not in ("alpha", "beta", "preview")]
    v = verb.value
    operation = _GCLOUD_VERBS.get(v) or ("user_change" if v.endswith("-iam-policy-binding") else
                                         _prefix_operation(v, _VERB_WORDS))
    tags: list[str] = []
    if v == "delete":
        if groups[:1] == ["projects"] or groups[:2] == ["container", "clusters"] or "folders" in groups:
            operation = "infra_destroy"
        elif groups[:1] == ["logging"] or "audit" in " ".join(groups) or groups[:1] == ["scc"]:
            operation = "disable_safeguard"
    if "iam" in groups and operation in ("infra_apply", "delete"):
        operation = "user_change"
    if groups[:1] == ["secrets"] and v == "access" or v in ("print-access-token", "print-identity-token"):
        tags.append("secret")
        if groups[:1] == ["secrets"]:
            tags.append("secret_values")  # `gcloud secrets versions access` prints the payload
    if groups[:1] == ["config"]:
        operation = "other" if v in ("set", "unset") else "read"
    if groups[:1] == ["storage"] and v in ("cp", "mv", "rsync") and len(rest) >= 2:
        remote = [bool(re.match(r"^gs://", w.value)) for w in rest[:2]]
        if remote[0] != remote[1]:
            operation = "network_fetch" if remote[0] else "network_send"
    if v == "scp" and len(rest) >= 2:
        remote = [":" in w.value and not w.value.startswith(("/", ".")) for w in rest[:2]]
        if remote[0] != remote[1]:
            operation = "network_fetch" if remote[0] else "network_send"
    members = a.values("--member", "--members")
    if any(_PUBLIC_MEMBER.search(m.value) for m in members) or \
            any(re.search(r"0\.0\.0\.0/0", w.value) for w in a.values("--source-ranges")):
        tags.append("public")
    if operation == "infra_scale" and _to_zero(a, "--size", "--num-nodes", "--replicas", "--max-instances"):
        tags.append("to_zero")
    r.command(path, operation, verb, tuple(tags), a)
    thing = next((_GCLOUD_TAGS[g] for g in reversed(groups) if g in _GCLOUD_TAGS), "resource")
    if groups[:2] == ["sql", "instances"]:
        thing = "database"
    if groups[:1] == ["config"]:
        if len(rest) >= 2 and rest[0].value in ("project", "core/project"):
            r.role("project", rest[1])
        return True
    for w in rest:
        if r.uri(w):
            continue
        if v == "ssh":
            r.out.host(w, r.parser, ("instance",))
        elif v in ("scp", "cp", "mv", "rsync"):
            r.out.target(w, r.parser)
        elif thing in ("project", "cluster"):
            r.role(thing, w)
        else:
            r.out.target(w, r.parser, (thing,))
    if v == "ssh":
        r.shell(a.value("--command"))
    return True


_GSUTIL_GLOBAL = _syntax(values="-o -h -u -i", bundles=True)
_GSUTIL = _syntax(values="-a -z -j -x -u -g -d -p -I -s -e -L", aliases="-R=-r", bundles=True)
_GSUTIL_OPS = {"rm": "delete", "rb": "delete", "mb": "create", "cp": "copy", "mv": "move", "rsync": "copy",
               "ls": "list", "du": "read", "cat": "read", "stat": "read", "acl": "user_change",
               "iam": "user_change", "defacl": "user_change", "setmeta": "write", "versioning": "infra_apply",
               "logging": "infra_apply", "retention": "infra_apply", "lifecycle": "infra_apply",
               "signurl": "read", "hash": "read", "compose": "write", "rewrite": "write"}


def _gsutil(r: _Reader, args: list[Text]) -> bool:
    g = _parse(args, _GSUTIL_GLOBAL, stop_after=1)
    if not g.pos or g.pos[0].value not in _GSUTIL_OPS:
        return False
    verb = g.pos[0]
    v = verb.value
    syntax = _GSUTIL if v != "rsync" else _syntax(values="-a -x -y -j -J -u", bundles=True)
    if v == "rm":
        syntax = _syntax(values="-I", bundles=True, aliases="-R=-r")
    a = _parse(g.rest, syntax)
    rest = a.pos
    words = [verb]
    if v in ("acl", "iam", "defacl", "versioning", "logging", "retention", "lifecycle") and rest:
        words.append(rest[0])
        rest = rest[1:]
    operation = _GSUTIL_OPS[v]
    tags: list[str] = []
    if v in ("acl", "iam", "defacl") and words[-1].value in ("get",):
        operation = "read"
    if v in ("versioning", "logging") and words[-1].value == "set" and any(w.value == "off" for w in rest):
        operation = "disable_safeguard"
    if v == "rb":
        tags.append("bucket")
    if v in ("cp", "mv", "rsync") and len(rest) >= 2:
        remote = [bool(re.match(r"^gs://", w.value)) for w in rest[:2]]
        if remote[0] != remote[1]:
            operation = "network_fetch" if remote[0] else "network_send"
    if v == "rsync" and a.has("-d"):
        tags.append("delete_extra")
    if v == "rsync" and a.has("-n"):
        tags.append("dry_run")
    canned = a.value("-a")
    if v in ("cp", "mv", "rsync") and canned is not None and _PUBLIC_ACL.match(canned.value) or \
            any(_PUBLIC_MEMBER.search(w.value) for w in rest + a.values("-u", "-g")):
        tags.append("public")
    r.command(words, operation, _join(words), tuple(tags), None)
    for o in a.opts:
        if o.name == "-r" and v in ("rm", "cp", "mv", "rsync", "ls", "du", "setmeta"):
            r.out.flag("recursive", o.word, r.parser)
        elif o.name == "-a" and v == "rm":
            r.out.flag("all", o.word, r.parser)
        elif o.name == "-f" and v in ("rb",):
            r.out.flag("force", o.word, r.parser)
    for w in rest:
        if not r.uri(w) and v in ("cp", "mv", "rsync"):
            r.out.target(w, r.parser)
    return True


# --- az ------------------------------------------------------------------------------------------

_AZ_BOOLS = ("--yes --no-wait --force --force-deletion --recursive --dry-run --debug --verbose --only-show-errors "
             "--all --what-if --no-prompt --purge --delete-os-disk --delete-data-disks --overwrite "
             "--allow-blob-public-access --assign-identity --generate-ssh-keys --admin-enabled")
_AZ = _syntax(bools=_AZ_BOOLS, aliases="-g=--resource-group -n=--name -y=--yes -l=--location -o=--output",
              guess=True, bundles=False)
_AZ_VERBS = {
    **{v: op for v, op in _VERB_WORDS.items() if len(v) > 1}, "delete-batch": "delete", "upload": "network_send",
    "upload-batch": "network_send", "download": "network_fetch", "download-batch": "network_fetch",
    "invoke": "execute", "get-credentials": "read", "purge": "delete", "scale": "infra_scale", "assign": "user_change",
    "deploy": "deploy", "restart": "start_service", "sync": "copy", "copy": "copy", "exec": "execute",
    "config-zip": "deploy", "swap": "deploy", "what-if": "read", "run-command": "execute", "connect": "query",
}
_AZ_TAGS = {"vm": "instance", "vmss": "instance_group", "aks": "cluster", "group": "resource_group",
            "sql": "database", "db": "database", "cosmosdb": "database", "postgres": "database", "mysql": "database",
            "storage": "storage_account", "account": "storage_account", "container": "bucket", "blob": "object",
            "keyvault": "vault", "secret": "secret", "webapp": "app", "functionapp": "function", "acr": "registry",
            "disk": "disk", "snapshot": "snapshot", "network": "network", "nsg": "firewall_rule", "redis": "database",
            "deployment": "deployment", "lock": "lock", "policy": "policy"}


def _az(r: _Reader, args: list[Text]) -> bool:
    a = _parse(args, _AZ)
    pos = a.pos
    at = next((i for i, w in enumerate(pos) if i > 0 and _is_verb(w.value, _AZ_VERBS)), None)
    if at is None:
        return False
    path, verb = pos[:at + 1], pos[at]
    groups = [w.value for w in path[:-1]]
    v = verb.value
    operation = _AZ_VERBS.get(v) or _prefix_operation(v, _VERB_WORDS)
    tags: list[str] = []
    joined = " ".join(groups)
    if v == "delete" and groups in (["group"], ["aks"], ["deployment", "sub"]):
        operation = "infra_destroy"
    elif v in ("delete", "disable", "remove") and (groups[:1] in (["monitor"], ["lock"], ["security"]) or
                                                   joined.startswith(("policy assignment", "network watcher",
                                                                      "resource lock"))):
        operation = "disable_safeguard"
    elif groups[:1] in (["role"], ["ad"]) and operation not in _READ_ONLY:
        operation = "user_change"
    elif joined == "keyvault" and v in ("set-policy", "delete-policy"):
        operation = "user_change"
    elif groups[:2] == ["keyvault", "secret"] and v in ("show", "download"):
        operation = "read"
        tags.append("secret")
        if _prints_value(a, r"\bvalue\b"):
            tags.append("secret_values")
    elif groups == ["storage", "account"] and v == "update" and any(
            o.name == "--allow-blob-public-access" and (o.value is None or o.value.value.lower() == "true")
            for o in a.opts):
        operation = "user_change"
        tags.append("public")
    elif groups == ["storage", "container"] and v in ("set-permission", "create") and any(
            w.value.lower() in ("blob", "container") for w in a.values("--public-access")):
        operation = "user_change"
        tags.append("public")
    if v in ("show", "get-credentials") and "secret" in groups or v == "get-credentials":
        tags.append("credentials" if v == "get-credentials" else "secret")
    if groups[:1] == ["account"] and v == "set":
        operation = "other"
    if operation == "infra_scale" and _to_zero(a, "--node-count", "--new-capacity", "--instance-count", "--min-count"):
        tags.append("to_zero")
    if any(o.name == "--mode" and o.value is not None and o.value.value.lower() == "complete" for o in a.opts):
        tags.append("complete_mode")
    thing = next((_AZ_TAGS[g] for g in reversed(groups) if g in _AZ_TAGS), "resource")
    roles = {**_ROLES, "--name": thing, "--subscription": "subscription", "--role": "role"}
    if groups[:1] == ["group"]:
        roles["--name"] = "resource_group"
    r.command(path, operation, verb, tuple(tags), a, roles=roles)
    if v == "delete-batch":
        for o in a.opts:
            if o.name in ("--source", "-s"):
                r.out.flag("all", o.word, r.parser)
    r.shell(a.value("--scripts"))
    return True


# --- heroku, flyctl, vercel, doctl, eksctl -------------------------------------------------------

_HEROKU = _syntax(values="--app --remote --confirm --size --type --num --source --team --space",
                  aliases="-a=--app -r=--remote -s=--size -t=--tail -n=--num -e=--env")
_HEROKU_OPS = {
    "apps:destroy": ("infra_destroy", ("app",)), "destroy": ("infra_destroy", ("app",)),
    "pg:reset": ("drop", ("database",)), "pg:killall": ("kill", ("database",)), "pg:psql": ("query", ("database",)),
    "pg:backups:restore": ("write", ("database",)), "pg:promote": ("infra_apply", ("database",)),
    "ps:scale": ("infra_scale", ()), "scale": ("infra_scale", ()), "ps:restart": ("start_service", ()),
    "restart": ("start_service", ()), "ps:stop": ("stop_service", ()), "config:set": ("write", ("config",)),
    "config:unset": ("write", ("config",)), "config": ("read", ("config",)), "config:get": ("read", ("config",)),
    "run": ("execute", ()), "run:detached": ("execute", ()), "logs": ("read", ()),
    "releases:rollback": ("deploy", ()), "rollback": ("deploy", ()), "addons:destroy": ("delete", ("addon",)),
    "addons:create": ("infra_apply", ("addon",)), "access:add": ("user_change", ()),
    "access:remove": ("user_change", ()), "access:update": ("user_change", ()), "maintenance:on": ("stop_service", ()),
    "apps:create": ("create", ()), "create": ("create", ()), "domains:remove": ("delete", ("domain",)),
    "container:push": ("push", ()), "container:release": ("deploy", ()), "releases": ("read", ()),
    "apps": ("list", ()), "apps:info": ("read", ()), "info": ("read", ()), "ps": ("list", ()),
    "pg:backups:capture": ("copy", ("database",)), "pg:backups:download": ("network_fetch", ("database",)),
}


def _heroku(r: _Reader, args: list[Text]) -> bool:
    a = _parse(args, _HEROKU)
    if not a.pos or a.pos[0].value not in _HEROKU_OPS:
        return False
    verb = a.pos[0]
    operation, tags = _HEROKU_OPS[verb.value]
    if operation == "infra_scale" and any(re.search(r"=0$", w.value) for w in a.pos[1:]):
        tags = tags + ("to_zero",)
    r.command([verb], operation, verb, tags, a)
    if verb.value in ("apps:destroy", "destroy") and len(a.pos) > 1:
        r.role("app", a.pos[1])
    return True


def _command_words(pos: list[Text], table: dict[str, str]) -> list[Text] | None:
    """The one or two leading words that name a command in `table` (`secrets set`, `status`), the
    longer first; None when neither does."""
    if len(pos) >= 2 and f"{pos[0].value} {pos[1].value}" in table:
        return pos[:2]
    return pos[:1] if pos and pos[0].value in table else None


_FLY = _syntax(values="--app --config --region --image --command --org --vm-size --memory --strategy",
               aliases="-a=--app -c=--config -r=--region -y=--yes -C=--command -i=--image -o=--org")
_FLY_OPS = {
    "deploy": "deploy", "launch": "deploy", "apps destroy": "infra_destroy", "destroy": "infra_destroy",
    "apps delete": "infra_destroy", "apps list": "list", "apps create": "create", "scale count": "infra_scale",
    "scale vm": "infra_scale", "scale memory": "infra_scale", "secrets set": "write", "secrets unset": "delete",
    "secrets list": "list", "ssh console": "execute", "ssh sftp": "copy", "volumes destroy": "delete",
    "volume destroy": "delete", "vol destroy": "delete", "volumes delete": "delete", "machine destroy": "delete",
    "machines destroy": "delete", "machine rm": "delete", "machine remove": "delete", "machine stop": "stop_service",
    "machine start": "start_service", "machine restart": "start_service", "status": "read", "logs": "read",
    "releases": "read", "proxy": "tunnel", "postgres connect": "query", "pg connect": "query",
    "postgres destroy": "infra_destroy", "apps restart": "start_service", "certs remove": "delete",
}


def _fly(r: _Reader, args: list[Text]) -> bool:
    a = _parse(args, _FLY)
    pos = a.pos
    words = _command_words(pos, _FLY_OPS)
    if words is None:
        return False
    key = " ".join(w.value for w in words)
    operation = _FLY_OPS[key]
    rest = pos[len(words):]
    tags: list[str] = []
    if key.startswith("secrets"):
        tags.append("secret")
    if key == "scale count" and any(w.value == "0" for w in rest):
        tags.append("to_zero")
    r.command(words, operation, words[-1], tuple(tags), a)
    if operation in ("infra_destroy",) and rest:
        r.role("app", rest[0])
    elif operation == "delete" and rest:
        r.out.target(rest[0], r.parser, ("volume",) if "vol" in key else ("instance",) if "machine" in key else ())
    r.shell(a.value("--command"))
    return True


_VERCEL = _syntax(values="--token --scope --team --cwd --local-config --global-config --env --build-env --meta "
                         "--regions --archive --target",
                  aliases="-t=--token -S=--scope -y=--yes -e=--env -b=--build-env -m=--meta -A=--local-config "
                          "-Q=--global-config")
_VERCEL_OPS = {
    "deploy": "deploy", "rm": "delete", "remove": "delete", "env rm": "delete", "env remove": "delete",
    "env add": "write", "env pull": "network_fetch", "env ls": "list", "domains rm": "delete",
    "domains remove": "delete", "dns rm": "delete", "projects rm": "delete", "project rm": "delete",
    "project remove": "delete", "alias set": "deploy", "alias rm": "delete", "logs": "read", "inspect": "read",
    "ls": "list", "list": "list", "promote": "deploy", "rollback": "deploy", "login": "other", "logout": "other",
    "link": "other", "pull": "network_fetch", "secrets rm": "delete", "redeploy": "deploy", "whoami": "read",
}


def _vercel(r: _Reader, args: list[Text]) -> bool:
    a = _parse(args, _VERCEL)
    pos = a.pos
    words = _command_words(pos, _VERCEL_OPS)
    if words is None and (not pos or pos[0].value.startswith((".", "/", "~"))):
        words = []  # `vercel`, `vercel --prod`, `vercel ./dir` deploy
    if words is None:
        return False
    key = " ".join(w.value for w in words) or "deploy"
    operation = _VERCEL_OPS[key]
    tags = ("production",) if a.has("--prod") else ()
    if key.startswith(("env", "secrets")):
        tags += ("secret",)
    r.command(words, operation, words[-1] if words else None, tags, a, roles={**_ROLES, "--scope": "team"})
    rest = pos[len(words):]
    if operation == "delete" and rest:
        r.out.target(rest[0], r.parser, ("project",) if key in ("rm", "remove") or "project" in key else ())
    return True


_DOCTL = _syntax(values="--access-token --context --config --output --format --region --size --image --count "
                        "--node-pool --tag-name --cluster-name",
                 aliases="-t=--access-token -c=--config -o=--output -f=--force", bundles=False, guess=True,
                 bools="--force --dangerous --wait --no-header --verbose --trace --interactive")
_DOCTL_VERBS = {**{k: v for k, v in _VERB_WORDS.items()}, "kubeconfig": "read", "save": "read"}


def _doctl(r: _Reader, args: list[Text]) -> bool:
    a = _parse(args, _DOCTL)
    pos = a.pos
    at = next((i for i, w in enumerate(pos) if i > 0 and w.value in _DOCTL_VERBS), None)
    if at is None:
        return False
    path, verb, rest = pos[:at + 1], pos[at], pos[at + 1:]
    groups = [w.value for w in path[:-1]]
    operation = _DOCTL_VERBS[verb.value]
    if operation == "delete" and (groups[-1:] == ["cluster"] and "kubernetes" in groups or groups == ["projects"]):
        operation = "infra_destroy"
    tags = ("to_zero",) if operation == "infra_scale" and _to_zero(a, "--count", "--size") else ()
    r.command(path, operation, verb, tags, a)
    thing = {"droplet": "instance", "cluster": "cluster", "databases": "database", "db": "database",
             "volume": "volume", "projects": "project", "apps": "app", "registry": "registry"}.get(
        groups[-1] if groups else "", "resource")
    for w in rest:
        if thing in ("cluster", "project", "app"):
            r.role(thing, w)
        else:
            r.out.target(w, r.parser, (thing,))
    return True


_EKSCTL = _syntax(values="--name --cluster --region --profile --nodes --nodes-min --nodes-max --config-file "
                         "--nodegroup --version --node-type --timeout",
                  aliases="-n=--name -c=--cluster -r=--region -p=--profile -N=--nodes -m=--nodes-min -M=--nodes-max "
                          "-f=--config-file -t=--node-type", bundles=False)
_EKSCTL_OPS = {
    "delete cluster": "infra_destroy", "delete nodegroup": "delete", "delete ng": "delete",
    "delete iamserviceaccount": "user_change", "delete iamidentitymapping": "user_change", "delete addon": "delete",
    "delete fargateprofile": "delete", "create cluster": "infra_apply", "create nodegroup": "infra_apply",
    "create ng": "infra_apply", "create iamserviceaccount": "user_change", "create iamidentitymapping": "user_change",
    "create addon": "infra_apply", "scale nodegroup": "infra_scale", "scale ng": "infra_scale",
    "upgrade cluster": "infra_apply", "upgrade nodegroup": "infra_apply", "drain nodegroup": "infra_scale",
    "update addon": "infra_apply", "utils": "other",
}


def _eksctl(r: _Reader, args: list[Text]) -> bool:
    a = _parse(args, _EKSCTL)
    pos = a.pos
    if not pos:
        return False
    key = f"{pos[0].value} {pos[1].value}" if len(pos) > 1 else pos[0].value
    if key in _EKSCTL_OPS:
        words = pos[:2]
        operation = _EKSCTL_OPS[key]
    elif pos[0].value == "get":
        words, operation = pos[:2], "read"
    else:
        return False
    noun = words[-1].value if len(words) > 1 else ""
    tags = ("to_zero",) if operation == "infra_scale" and _to_zero(a, "--nodes", "--nodes-max") else ()
    thing = "cluster" if noun.startswith("cluster") else "nodegroup" if noun in ("nodegroup", "ng", "nodegroups") \
        else noun or "resource"
    r.command(words, operation, words[0], tags, a, roles={**_ROLES, "--name": thing, "--nodegroup": "nodegroup"})
    for w in pos[2:]:
        r.role(thing, w)
    return True


_VAULT = _syntax(values="--field --mount --format --address --namespace --version --ca-cert --policy --ttl",
                single_dash=True, bundles=False, guess=True)
_VAULT_OPS = {
    "kv get": "read", "read": "read", "kv list": "list", "list": "list", "kv put": "write", "kv patch": "write",
    "write": "write", "kv delete": "delete", "kv destroy": "delete", "kv metadata": "delete", "delete": "delete",
    "secrets disable": "delete", "audit disable": "disable_safeguard", "auth disable": "disable_safeguard",
    "policy write": "user_change", "policy delete": "user_change", "token create": "user_change",
    "secrets list": "list", "audit list": "list", "policy read": "read", "policy list": "list", "status": "read",
    "kv rollback": "write", "kv undelete": "write", "secrets enable": "infra_apply", "audit enable": "infra_apply",
}


def _vault(r: _Reader, args: list[Text]) -> bool:
    """HashiCorp Vault: `vault kv get secret/prod/db` and `vault read database/creds/app` print
    secrets; `vault audit disable` turns the audit log off."""
    a = _parse(args, _VAULT)
    pos = a.pos
    words = _command_words(pos, _VAULT_OPS)
    if words is None:
        return False
    key = " ".join(w.value for w in words)
    operation = _VAULT_OPS[key]
    rest = pos[len(words):]
    if key == "kv metadata":  # `vault kv metadata delete PATH` removes every version; get/put do not
        operation = "delete" if rest and rest[0].value == "delete" else "read"
        rest = rest[1:]
    paths = [w for w in rest if "=" not in w.value][:1]
    system = bool(paths) and paths[0].value.lstrip("/").startswith("sys/")
    tags: tuple[str, ...] = ()
    if not system and (key.startswith("kv") or key in ("read", "write", "delete", "list", "secrets disable")):
        tags = ("secret", "secret_values") if operation == "read" else ("secret",)
    r.command(words, operation, words[-1], tags, a)
    for w in paths:
        r.out.target(w, r.parser, ("secret",) if "secret" in tags else ())
    return True


# --- the entry point -----------------------------------------------------------------------------

_READERS: dict[str, Callable[[_Reader, list[Text]], bool]] = {
    "kubectl": _kubectl, "oc": _kubectl, "k": _kubectl, "helm": _helm, "terraform": _terraform, "tofu": _terraform,
    "terragrunt": _terraform, "pulumi": _pulumi, "gh": _gh, "glab": _gh, "docker": _docker, "podman": _docker,
    "nerdctl": _docker, "docker-compose": _docker, "aws": _aws, "gcloud": _gcloud, "gsutil": _gsutil, "az": _az,
    "heroku": _heroku, "flyctl": _fly, "fly": _fly, "vercel": _vercel, "doctl": _doctl, "eksctl": _eksctl,
    "vault": _vault,
}
TOOLS = frozenset(_READERS)


def cloud_facts(out: Collector, argv: list[Text], parser: str) -> bool:
    """Facts of one cloud, cluster, infrastructure or hosting CLI command; True when argv is one
    this module reads (then it wrote at least the `cloud` fact and an operation)."""
    if not argv:
        return False
    name = argv[0].value.rsplit("/", 1)[-1].lower().removesuffix(".exe")
    reader = _READERS.get(name)
    if reader is None:
        return False
    return reader(_Reader(out, argv, parser, name), argv[1:])
