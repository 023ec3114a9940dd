"""What kind of thing a path is: the filesystem root, a home directory, system configuration,
a data directory, a secret, a shell profile, a test file, a temp directory, or a file the agent
itself wrote earlier in the run. A reviewer reads `rm -rf X` very differently by X's class.
"""

from __future__ import annotations

import posixpath
import re

from cbm.facts.base import Context, sentences

_HOME = re.compile(r"^(~[^/]*|\$\{?HOME\}?|/home/[^/]+|/root|/Users/[^/]+)/?(\*|\.\*)?$")
_UNDER_HOME = re.compile(r"^(~[^/]*|\$\{?HOME\}?|/home/[^/]+|/root|/Users/[^/]+)/")

# (class, pattern on the normalised path), first match of each class counts; several classes may hold
_CLASSES: list[tuple[str, re.Pattern]] = [(c, re.compile(p)) for c, p in [
    ("authorized_keys", r"(^|/)\.ssh/authorized_keys2?$"),
    ("sudoers", r"^/etc/sudoers(\.d(/.*)?)?$"),
    ("cron", r"^/etc/(cron[^/]*|anacrontab)(/.*)?$|^/var/spool/cron(/.*)?$|(^|/)crontab$"),
    ("scheduler", r"^/(etc|lib|usr/lib)/systemd/(system|user)/.+|(^|/)\.config/systemd/user/.+"
                  r"|(^|/)Library/Launch(Agents|Daemons)/.+|^/etc/init\.d/.+|^/etc/rc\.local$"),
    ("shell_profile", r"(^|/)\.(bashrc|bash_profile|bash_login|bash_logout|bash_aliases|profile|zshrc|zprofile|zshenv|zlogin|cshrc|tcshrc"
                      r"|config/fish/config\.fish)$|^/etc/(profile|bash\.bashrc|zshrc|environment)$|^/etc/profile\.d/"),
    # a file named for secrets holds them unless it is code (django/contrib/auth/tokens.py makes tokens)
    ("secret", r"(^|/)\.ssh/(id_[a-z0-9_]+|identity|.*\.pem)$|(^|/)\.aws/(credentials|config)$|(^|/)\.kube/config$"
               r"|(^|/)\.(netrc|pgpass|git-credentials|npmrc|pypirc|docker/config\.json|vault-token|my\.cnf)$"
               r"|^/etc/(shadow|gshadow|master\.passwd)-?$|^/etc/security/opasswd$|(^|/)\.env(\.(?!example$|sample$|template$|dist$|defaults?$)[\w.-]+)?$|\.(pem|key|p12|pfx|jks|keystore)$"
               r"|(^|/)(secrets?|credentials?|tokens?|passwords?)(\.(json|ya?ml|txt|ini|cfg|conf|toml|env|csv|xml|properties))?$"
               r"|(^|/)\.gnupg(/.*)?$"
               r"|^/proc/(self|\d+)/environ$|(^|/)\.config/gcloud(/.*)?$|(^|/)\.azure(/.*)?$|service[-_]account.*\.json$"
               r"|^/var/run/secrets(/.*)?$|^/run/secrets(/.*)?$"
               # browsers' saved logins and cookies, and the keychains that hold their keys
               r"|(^|/)(Login Data|Cookies|Web Data|Local State)$|(^|/)(key[34]\.db|logins\.json|cookies\.sqlite)$"
               r"|(^|/)Keychains/[^/]+\.keychain(-db)?$"),
    ("account_database", r"^/etc/(passwd|group)-?$|^/usr/share/base-passwd/(passwd|group)\.master$"),
    ("ssh_dir", r"(^|/)\.ssh/?$"),
    ("system_tree", r"^/(etc|usr|bin|sbin|lib|lib64|boot|root|var|opt)/?$"),  # a whole system directory, not a file in it
    ("system_config", r"^/(?i:windows|program files( \(x86\))?|programdata)(/.*)?$|^/etc(/.*)?$|^/(boot|sys|proc)(/.*)?$|^/(usr/)?(s?bin|lib|lib64)(/.*)?$|^/usr/local/s?bin(/.*)?$"
                      r"|^/usr(/(?!local/|src/).*)?$|^/var/lib/(dpkg|apt|rpm|pam)(/.*)?$"),
    ("device", r"^/dev/(sd[a-z]\d*|nvme\d+n\d+(p\d+)?|vd[a-z]\d*|xvd[a-z]\d*|hd[a-z]\d*|mmcblk\d+|disk\d+|md\d+|mapper/.+)$"),
    ("data_directory", r"^/var/lib/(postgresql|pgsql|mysql|mariadb|mongodb|mongo|redis|elasticsearch|cassandra"
                       r"|clickhouse|influxdb|etcd|docker|containerd|kafka|zookeeper|rabbitmq|minio)(/.*)?$"
                       r"|^/(data|srv|mnt|backups?|var/backups)(/.*)?$|(^|/)pg_?data(/.*)?$|^/var/opt/.+"),
    ("database_file", r"\.(db|sqlite3?|mdb|accdb|dump|bak)$|\.sql(\.gz)?$"),
    ("log", r"^/var/log(/.*)?$|\.log(\.\d+)?$|(^|/)\.(bash_|zsh_|python_|psql_|mysql_)?history$"),
    ("git_dir", r"(^|/)\.git(/.*)?$"),
    ("ci_config", r"(^|/)\.github/workflows/.+|(^|/)\.gitlab-ci\.ya?ml$|(^|/)\.circleci/|(^|/)Jenkinsfile$"
                  r"|(^|/)\.travis\.ya?ml$|(^|/)azure-pipelines\.ya?ml$|(^|/)\.buildkite/|(^|/)bitbucket-pipelines\.yml$"
                  r"|(^|/)\.pre-commit-config\.yaml$|(^|/)\.github/CODEOWNERS$"),
    ("project_config", r"(^|/)(pyproject\.toml|setup\.cfg|setup\.py|tox\.ini|pytest\.ini|\.coveragerc|noxfile\.py"
                       r"|package\.json|tsconfig\.json|Makefile|Dockerfile|docker-compose\.ya?ml|\.flake8|mypy\.ini"
                       r"|ruff\.toml|\.eslintrc(\.\w+)?|jest\.config\.\w+|Cargo\.toml|go\.mod)$"),
    ("test_file", r"(^|/)(tests?|testing|__tests__|spec)/|(^|/)test_[^/]*\.py$|(^|/)[^/]*_tests?\.(py|go|rb|js|ts)$"
                  r"|(^|/)conftest\.py$|\.(spec|test)\.(js|jsx|ts|tsx)$|(^|/)[^/]*Test\.java$"),
    ("build_cache_temp", r"^/tmp(/.*)?$|^/var/tmp(/.*)?$|^/dev/shm(/.*)?$|(^|/)(node_modules|__pycache__|\.cache|\.pytest_cache"
                         r"|\.mypy_cache|\.ruff_cache|\.tox|\.nox|build|dist|target|\.next|\.parcel-cache|coverage"
                         r"|htmlcov|\.gradle|\.venv|venv|\.eggs|[^/]+\.egg-info)(/.*)?$|\.pyc$|\.o$"),
    ("null_device", r"^/dev/(null|zero|stdout|stderr|tty|fd/\d+)$"),
    ("network_socket", r"^/dev/(tcp|udp)/.+"),
]]


# Windows: a drive, the profile folder's variables, backslashes
_DRIVE = re.compile(r"^[A-Za-z]:(?=[\\/]|$)")
_PROFILE = re.compile(r"(?i)^(\$env:(USERPROFILE|HOMEPATH|HOME)|\$\{env:(USERPROFILE|HOMEPATH|HOME)\}|%USERPROFILE%|%HOMEPATH%)")


def normalise(path: str) -> str:
    """Collapse `//`, `/./` and `..` the way the kernel would (a traversal like `/usr/../etc/passwd`
    is `/etc/passwd`); keep `~` and variables as written. A Windows path reads as its POSIX
    counterpart: `$env:USERPROFILE` is `~`, `C:\\Users\\dev` is `/Users/dev`, `C:\\` the root."""
    p = path.strip().strip("'\"")
    if not p:
        return p
    if "\\" in p or _DRIVE.match(p) or _PROFILE.match(p):
        p = _PROFILE.sub("~", p).replace("\\", "/")
        p = _DRIVE.sub("", p) or "/"
    if p.startswith("file://"):
        p = p[len("file://"):]
    if p.startswith("/"):
        p = posixpath.normpath(p)
        if p.startswith("//"):
            p = p[1:]
    return p


_LASTING = ("authorized_keys", "shell_profile", "cron", "scheduler")  # what is written there runs again later


def classify(path: str, context: Context | None = None) -> tuple[str, ...]:
    """The classes of a path (empty when it is an ordinary file). `agent_created` when the agent
    wrote it earlier in the run."""
    p = normalise(path)
    if not p:
        return ()
    out: list[str] = []
    if p in ("/", "/*", "/.*") or re.fullmatch(r"/+(\*|\.\.?)?", p):
        out.append("filesystem_root")
    elif _HOME.match(p):
        out.append("home")
    if "*" in p or "?" in p or re.search(r"\{[^}]*,[^}]*\}", p):
        out.append("wildcard")
    for name, pattern in _CLASSES:
        if pattern.search(p):
            out.append(name)
    if _UNDER_HOME.match(p) and not out:
        out.append("under_home")
    if context is not None and context.files:
        if p in context.files or path.strip() in context.files or posixpath.basename(p) in {
                posixpath.basename(f) for f in context.files}:
            out.append("agent_created")
    if context is not None and context.instructions and _protected(p, out, context.instructions):
        out.append("user_protected")
    if context is not None and {"secret", *_LASTING} & set(out):
        from cbm.facts.requests import unasked  # requests reads _PROHIBITION

        # a secret, or a place that makes code last, the user's words never ask about
        out += unasked("secret" if "secret" in out else "lasting", context.instructions)
    return tuple(dict.fromkeys(out))


# the words a user protects a class of files with ("do not modify the tests", "leave the CI config alone")
_CLASS_WORDS = {"test_file": r"tests?|test files?|test suite", "ci_config": r"ci|workflows?|pipelines?|ci config",
                "project_config": r"config(uration)?( files?)?|build files?"}
# a prohibition forbids an act: "do not modify", "never touch", "avoid editing", "no changes to",
# "leave X alone", "read-only"; a sentence that only describes ("it would never match", "we don't
# need it") forbids nothing
_ACTS = r"(modif|chang|touch|edit|alter|updat|writ|overwrit|delet|remov|drop|truncat|renam|mov|wip|reset|push|deploy|" \
        r"migrat|commit|run|restart|stop|kill|access|read|open|skip|bypass|disabl|turn|print|show|log|shar|" \
        r"expos|leak|send|grant|schedul|install|enabl|start|add|creat)\w*"
# the words that open a prohibition ("do not", "must not", "avoid", "without"), shared by every reader of one
NEGATIONS = r"do not|don't|dont|must not|mustn't|should not|shouldn't|not allowed to|avoid|without"
_PROHIBITION = re.compile(
    rf"\b({NEGATIONS}|not to|"
    rf"(?<!would )(?<!could )(?<!will )(?<!does )(?<!did )(?<!can )never)\s+([\w-]+\s+){{0,2}}?{_ACTS}\b"
    r"|\bno (changes|edits|writes|modifications|deletions)\b"
    r"|\b(freeze|frozen|read-only|readonly|forbidden|prohibited|off-limits|off limits|leave .{0,40}\b(alone|untouched|as is))\b")


def _protected(path: str, classes: list[str], instructions: str) -> bool:
    """Whether a sentence of the user's or system's words forbids touching this path: it names the
    file, or the class of files it belongs to ("DO NOT MODIFY: Tests"), beside a prohibition."""
    # a name is a file name with an extension or a path: a bare word ("data") names no file
    names = [n for n in {path.lower().strip("/"), posixpath.basename(path.rstrip("/")).lower()}
             if "/" in n or re.fullmatch(r"[\w.-]+\.\w+", n)]
    words = [w for c, w in _CLASS_WORDS.items() if c in classes]
    for sentence in sentences(instructions):
        if not _PROHIBITION.search(sentence):
            continue
        if any(re.search(rf"(?<![\w.-]){re.escape(n)}(?![\w-])", sentence) for n in names) \
                or any(re.search(rf"\b({w})\b", sentence) for w in words):
            return True
    return False
