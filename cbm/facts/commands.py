"""What one simple shell command does, once unquoted: wrappers peeled, then the program looked
up in the tables below (operation, which words are targets, which options matter).

`run_command` is called by `cbm.facts.shell` for every stage of every pipeline, with what flows
into its stdin, and returns what it writes to stdout when that is known.
"""

from __future__ import annotations

import re

from cbm.facts.base import Collector
from cbm.facts.edits import weakened
from cbm.facts.lasting import cron_commands, plant
from cbm.facts.paths import classify
from cbm.facts.requests import requested
from cbm.facts.shell import (Command, Payload, b64decode, basename, environment_hosts, hexdecode, lookalike, unescape,
                             unquote)
from cbm.facts.text import Text, join

# program -> operation; targets are the non-option words unless a handler below says otherwise
SIMPLE: dict[str, str] = {
    **dict.fromkeys(["rm", "unlink", "rmdir", "shred", "srm", "wipe", "wipefs", "mkfs", "mke2fs", "fdisk", "parted",
                     "sgdisk", "blkdiscard"], "delete"),
    **dict.fromkeys(["mv", "rename"], "move"),
    **dict.fromkeys(["cp", "install", "ditto"], "copy"),
    **dict.fromkeys(["touch", "ln", "patch", "unzip", "gunzip", "bunzip2", "unxz", "7z", "zip", "gzip", "bzip2", "xz",
                     "split", "csplit"], "write"),
    **dict.fromkeys(["mkdir"], "create"),
    **dict.fromkeys(["chmod", "setfacl", "chattr"], "chmod"),
    **dict.fromkeys(["chown", "chgrp"], "chown"),
    **dict.fromkeys(["kill", "pkill", "killall", "skill", "xkill"], "kill"),
    **dict.fromkeys(["cat", "tac", "less", "more", "head", "tail", "nl", "wc", "strings", "xxd", "od", "hexdump",
                     "file", "md5sum", "sha1sum", "sha256sum", "sha512sum", "cksum", "jq", "yq", "diff", "cmp",
                     "sort", "uniq", "cut", "paste", "tr", "column", "fold", "fmt", "iconv", "comm", "join", "view",
                     "vim", "vi", "nano", "emacs", "bat", "readlink", "realpath", "basename", "dirname", "expand",
                     "zcat", "zless", "bzcat", "xzcat", "base32", "base64", "pr", "look", "getfacl", "lsattr", "identify",
                     "exiftool", "pdftotext", "openssl", "gpg", "sqlite3_analyzer"], "read"),
    **dict.fromkeys(["grep", "egrep", "fgrep", "rg", "ag", "ack", "locate", "mlocate", "which", "whereis", "type",
                     "apropos", "zgrep", "git-grep", "fd", "fzf"], "search"),
    **dict.fromkeys(["ls", "ll", "tree", "du", "df", "stat", "ps", "top", "htop", "lsof", "netstat", "ss", "printenv",
                     "id", "whoami", "uname", "hostname", "uptime", "free", "lsblk", "blkid", "mount", "findmnt",
                     "w", "who", "last", "groups", "nproc", "lscpu", "lspci", "lsusb", "dmesg", "journalctl", "ifconfig",
                     "ip", "route", "arp", "dig", "nslookup", "host", "ping", "traceroute", "date", "cal", "pwd",
                     "pgrep", "pidof", "pstree", "vmstat", "iostat", "nvidia-smi", "sensors", "getent", "history", "man",
                     "info", "help", "tldr", "env", "set", "declare", "compgen", "alias", "dpkg", "rpm", "sw_vers",
                     "systeminfo", "lsmod", "sysctl", "ulimit", "umask", "jobs", "df", "mdfind", "diskutil"], "list"),
    **dict.fromkeys(["echo", "printf", "yes", "true", "false", "sleep", "wait", "seq", "clear", "read", "test", "[",
                     "[[", "expr", "bc", "dc", "let", "tput", "stty", "reset", "exit", "return", "shift", "break",
                     "continue", "trap", "getopts", "hash", "cowsay", "figlet", "banner", "lolcat", "notify-send",
                     "say", "espeak", "logger", "mktemp", "uuidgen", "date", "factor", ":"], "print"),
    **dict.fromkeys(["cd", "pushd", "popd"], "change_directory"),
    **dict.fromkeys(["export", "unset", "local", "readonly", "typeset", "source_env", "shopt"], "define"),
    **dict.fromkeys(["useradd", "adduser", "usermod", "userdel", "deluser", "passwd", "chpasswd", "groupadd",
                     "groupdel", "groupmod", "gpasswd", "addgroup", "delgroup", "visudo", "chsh", "chage",
                     "dscl", "newusers", "vipw", "smbpasswd", "htpasswd"], "user_change"),
    **dict.fromkeys(["at", "batch", "anacron", "schtasks"], "schedule"),
    **dict.fromkeys(["shutdown", "reboot", "halt", "poweroff", "init", "telinit"], "stop_service"),
    **dict.fromkeys(["pytest", "py.test", "nosetests", "tox", "nox", "jest", "mocha", "vitest", "rspec",
                     "phpunit", "ctest", "unittest"], "test"),
    **dict.fromkeys(["make", "cmake", "ninja", "gcc", "g++", "cc", "clang", "javac", "mvn", "gradle", "rustc",
                     "tsc", "webpack", "vite", "esbuild", "bazel", "meson", "autoreconf", "configure"], "build"),
    **dict.fromkeys(["tar", "rsync", "scp", "sftp", "ftp"], "copy"),
    **dict.fromkeys(["curl", "wget", "http", "https", "aria2c", "fetch", "lynx", "links", "w3m"], "network_fetch"),
    **dict.fromkeys(["nc", "ncat", "netcat", "socat", "telnet"], "network_send"),
    **dict.fromkeys(["xmrig", "minerd", "cpuminer", "ethminer", "nbminer", "t-rex", "lolminer", "phoenixminer",
                     "cgminer", "bfgminer", "xmr-stak", "nanominer", "gminer", "srbminer"], "execute"),
}
SHELLS = {"bash", "sh", "zsh", "dash", "ksh", "ash", "fish", "busybox", "rbash", "tcsh", "csh"}
PYTHONS = re.compile(r"^(python[0-9.]*|python[0-9.]*m?|ipython3?|pypy3?)$")
INTERPRETERS = {"node": "-e", "nodejs": "-e", "deno": "eval", "bun": "-e", "perl": "-e", "ruby": "-e", "php": "-r",
                "lua": "-e", "Rscript": "-e", "osascript": "-e", "pwsh": "-Command", "powershell": "-Command"}
SQL_CLIENTS = {"psql", "mysql", "mariadb", "sqlite3", "clickhouse-client", "cqlsh", "sqlcmd", "duckdb", "pgcli",
               "mycli", "litecli", "snowsql", "bq", "trino", "presto", "cockroach", "redis-cli", "mongo", "mongosh"}
# PowerShell's cmdlets (and their aliases) that delete, download, evaluate or turn a protection off
POWERSHELL = {"remove-item", "ri", "del", "erase", "invoke-webrequest", "iwr", "invoke-restmethod", "irm",
              "invoke-expression", "iex", "set-mppreference", "add-mppreference", "netsh"}
DATABASE_ADMINS = {"dropdb", "mysqladmin"}  # PostgreSQL's and MySQL's tools that drop a whole database
CLOUD = {"docker-compose", "aws", "gcloud", "gsutil", "az", "kubectl", "oc", "helm", "terraform", "tofu", "terragrunt", "pulumi", "gh",
         "docker", "podman", "heroku", "flyctl", "fly", "vercel", "doctl", "eksctl", "nerdctl", "glab", "vault"}
PACKAGERS = {"pip", "pip3", "uv", "pipx", "poetry", "conda", "mamba", "micromamba", "npm", "pnpm", "yarn", "bun",
             "npx", "gem", "cargo", "go", "apt", "apt-get", "yum", "dnf", "apk", "zypper", "pacman", "brew", "port",
             "pdm", "rye", "bundle", "composer", "snap", "flatpak", "choco", "winget", "easy_install", "pnpx", "bunx"}
# schema migration tools: verb -> operation. A migration forward writes the schema; one backward, a
# reset or a schema load drops what is there (`rails db:schema:load` recreates every table empty)
_RAILS = {"db:migrate": "write", "db:setup": "write", "db:prepare": "write", "db:seed": "write", "db:create": "create",
          **dict.fromkeys(["db:rollback", "db:schema:load", "db:structure:load", "db:reset", "db:drop", "db:purge",
                           "db:migrate:reset", "db:migrate:redo", "db:migrate:down"], "drop"),
          "db:truncate_all": "truncate"}
_DJANGO = {"migrate": "write", "loaddata": "write", "flush": "truncate", "reset_db": "drop", "sqlflush": "read"}
MIGRATIONS: dict[str, dict[str, str]] = {
    "alembic": {"upgrade": "write", "stamp": "write", "downgrade": "drop"},
    "rails": _RAILS, "rake": _RAILS, "manage.py": _DJANGO, "django-admin": _DJANGO,
    "prisma": {"migrate deploy": "write", "migrate dev": "write", "db push": "write", "db execute": "write",
               "db seed": "write", "migrate reset": "drop"},
    "flyway": {"migrate": "write", "repair": "write", "baseline": "write", "clean": "drop", "undo": "drop"},
    "liquibase": {"update": "write", "rollback": "drop", "rollback-count": "drop", "drop-all": "drop", "dropall": "drop"},
    "dbmate": {"up": "write", "migrate": "write", "create": "create", "down": "drop", "rollback": "drop", "drop": "drop"},
    "sequelize": {"db:migrate": "write", "db:seed:all": "write", "db:migrate:undo": "drop", "db:migrate:undo:all": "drop",
                  "db:drop": "drop", "db:seed:undo:all": "delete"},
    "knex": {"migrate:latest": "write", "migrate:up": "write", "seed:run": "write", "migrate:rollback": "drop",
             "migrate:down": "drop"},
}
_DATA_LOSS_FLAGS = {"--force-reset", "--accept-data-loss"}  # prisma db push: drops what does not fit
SAFEGUARD_SERVICES = re.compile(r"audit|falcon|crowdstrike|osquery|wazuh|ossec|firewall|ufw|iptables|nftables|apparmor|"
                                r"selinux|fail2ban|clamav|sysmon|defender|sentinel|syslog|journald|auditbeat|"
                                r"filebeat|datadog|newrelic|splunk|cloudwatch|falco|tripwire|aide")
# the daemons a machine needs to stay reachable and running: remote login, init (PID 1), the service
# manager, scheduling, logging, the container runtime, the network
SYSTEM_DAEMONS = re.compile(r"(?i)^(sshd?|openssh-server|init|1|systemd(-[a-z]+d)?|cron|crond|rsyslogd?|dbus(-daemon)?|"
                            r"dockerd?|containerd|containerd-shim[\w-]*|runc|docker-proxy|kubelet|networkmanager|networking|"
                            r"systemd-networkd)(\.service)?$")
# a secret named by reference in what a command sends: a variable named for one, or a CI secret
_SECRET_REFERENCE = re.compile(r"\$\{\{\s*secrets\.|\$\{?\w*(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|"
                               r"PRIVATE_?KEY|CREDENTIALS?)\w*", re.I)
SECRET_ENV = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)", re.I)

# wrappers: program -> (options that take a value, whether the first non-option word is not the command)
WRAPPERS: dict[str, tuple[set[str], int]] = {
    "sudo": ({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T", "--user", "--group", "--host", "--prompt",
              "--chdir", "--close-from", "--role", "--type", "--other-user", "--command-timeout"}, 0),
    "doas": ({"-u", "-C"}, 0),
    "nohup": (set(), 0), "time": (set(), 0), "command": (set(), 0), "builtin": (set(), 0), "exec": ({"-a"}, 0),
    "setsid": (set(), 0), "stdbuf": ({"-i", "-o", "-e"}, 0), "unbuffer": (set(), 0), "strace": ({"-o", "-e", "-p"}, 0),
    "ltrace": ({"-o", "-e"}, 0), "torsocks": (set(), 0), "proxychains": ({"-f"}, 0), "proxychains4": ({"-f"}, 0),
    "nice": ({"-n", "--adjustment"}, 0), "ionice": ({"-c", "-n", "-p"}, 0), "chrt": (set(), 1), "taskset": (set(), 1),
    "timeout": ({"-s", "-k", "--signal", "--kill-after"}, 1), "env": ({"-u", "-C", "-S", "--unset", "--chdir"}, 0),
    "xargs": ({"-n", "-I", "-i", "-P", "-d", "-L", "-E", "-s", "-a", "--max-args", "--max-procs", "--delimiter",
               "--replace", "--arg-file"}, 0),
    "chroot": ({"--userspec", "--groups"}, 1), "runuser": ({"-u", "-g", "-l"}, 0), "flock": ({"-w", "-E"}, 1),
    "caffeinate": (set(), 0), "firejail": (set(), 0), "fakeroot": (set(), 0), "catchsegv": (set(), 0),
    "valgrind": (set(), 0), "gdb": ({"-ex", "-x"}, 0), "parallel": ({"-j", "--jobs"}, 0), "watch": ({"-n", "--interval"}, 0),
    "nsenter": ({"-t", "--target", "-S", "--setuid", "-G", "--setgid", "-r", "--root", "-w", "--wd"}, 0),
}

# every program the tables or handlers below name
KNOWN = frozenset(SIMPLE) | SHELLS | frozenset(INTERPRETERS) | SQL_CLIENTS | DATABASE_ADMINS | frozenset(POWERSHELL) | CLOUD | PACKAGERS | frozenset(WRAPPERS) | \
    frozenset(MIGRATIONS) | {
    "su", "eval", "source", "python", "python3", "ssh", "git", "systemctl", "service", "crontab", "iptables", "ufw",
    "nft", "auditctl", "setenforce", "find", "dd", "sed", "tee", "awk", "truncate", "base64"}


def run_command(walker, command: Command, stdin: Payload | None) -> Payload | None:
    """Facts of one simple command; returns what it prints when that is known."""
    out: Collector = walker.out
    out.next_command()
    words = command.words
    payload = _run(walker, words, command, stdin)
    off = _tls_off(words)
    if off is not None:  # `curl -k`, `npm config set strict-ssl false`, `export NODE_TLS_REJECT_UNAUTHORIZED=0`
        out.operation("disable_safeguard", off, walker.parser, ("tls_verification",))
    if payload is None:
        read = [f for f in out.facts if f.command == out.command and f.kind == "target"]
        payload = Payload(origin=f"output of {basename(words[0].value)[:40]}" + (f" reading {read[0].value[:120]}" if read else ""),
                          processes=stdin.processes if stdin is not None and not read else (),  # `| head -1`
                          classes=read[0].tags if read else stdin.classes if stdin is not None else ())
    if command.redirects:
        redirect_facts(walker, command.redirects, payload)
    return payload


def redirect_facts(walker, redirects: list[tuple[str, Text]], payload: Payload | None) -> None:
    """`> f` writes (a literal payload is remembered as the file's content), `>> f` appends,
    `< f` reads, `>& /dev/tcp/h/p` opens a network socket."""
    out: Collector = walker.out
    for op, target in redirects:
        path = target.value
        if path.startswith(("<(", ">(")):  # a process substitution: its commands are read where it stands
            continue
        if path.startswith("/dev/") and not path.startswith(("/dev/tcp/", "/dev/udp/", "/dev/sd", "/dev/nvme")):
            continue
        if path.startswith(("/dev/tcp/", "/dev/udp/")):
            host = target.slice(len("/dev/tcp/"))
            cut = host.value.find("/")
            out.host(host.slice(0, cut) if cut > 0 else host, walker.parser)
            out.operation("network_send", target, walker.parser, ("raw_socket",))
            out.target(target, walker.parser)
            continue
        if op in (">", ">|", "&>", ">&"):
            out.operation("write", target, walker.parser, ("redirect",))
        elif op in (">>", "&>>"):
            out.operation("append", target, walker.parser, ("redirect",))
        elif op == "<":
            out.operation("read", target, walker.parser, ("redirect",))
        else:
            continue
        if op == "<":
            out.target(target, walker.parser)
            continue
        plant(out, target, payload.text if payload is not None else None, walker.parser)  # what a cron line runs
        weakened(out, target, None, payload.text if payload is not None else None, walker.parser)
        content = payload.text.value if payload is not None and payload.text is not None else ""
        out.context.files[path] = out.context.files.get(path, "") + content if op.startswith(">>") else content


# an http(s) URL written in code or a command line, up to the quote, space or bracket that ends it
_HTTP_URL = re.compile(r"https?://[^\s'\"`)]+")
# curl's -k among its short options (`-k`, `-sSk`)
_CURL_INSECURE = re.compile(r"-[a-zA-Z]*k[a-zA-Z]*")
# a word that turns TLS certificate verification off, in any program (an option, a setting, an environment variable)
_TLS_OFF = re.compile(r"(?i)^(--insecure-skip-tls-verify(=true)?|--no-verify-ssl|--no-check-certificate|"
                      r"--skip-tls-verify|--tls-verify=false|--tlsverify=false|--disable-ssl-verification|"
                      r"node_tls_reject_unauthorized=['\"]?0['\"]?|git_ssl_no_verify=['\"]?(1|true)['\"]?|"
                      r"pythonhttpsverify=['\"]?0['\"]?|http\.sslverify=false)$")


_TLS_CLIENTS = {"curl", "mc", "skopeo", "grpcurl", "crane", "oras", "buildah", "regctl"}


def _tls_off(words: list[Text]) -> Text | None:
    """The word of a command that turns TLS certificate verification off: an option or variable of
    `_TLS_OFF`, an HTTP client's `--insecure` (curl's also as `-k`, alone or among short options:
    `-sSk`; other programs' `--insecure` means other things: `runserver --insecure`), or a setting set
    to false (`git config http.sslVerify false`, `npm config set strict-ssl false`)."""
    client = next((basename(w.value) for w in words[:3] if basename(w.value) in _TLS_CLIENTS), "")
    for k, w in enumerate(words):
        v = w.value
        if _TLS_OFF.match(v) or (client and v in ("--insecure", "-insecure")) or \
                (client == "curl" and _CURL_INSECURE.fullmatch(v)):
            return w
        if v.lower() in ("http.sslverify", "strict-ssl", "strict_ssl") and k + 1 < len(words) and \
                words[k + 1].value.lower() in ("false", "0", "no"):
            return w
    return None


# one substitution of a sed script: s/OLD/NEW/ with any delimiter
_SED_SUBSTITUTE = re.compile(r"(?:^|[;\n{])\s*s(.)((?:\\.|(?!\1).)*)\1((?:\\.|(?!\1).)*)\1")


def _options(words: list[Text], takes_value: set[str], anywhere: bool = False) -> tuple[list[Text], list[Text]]:
    """(option words, positional words); `--` ends options, and so does the first positional word
    unless options may come `anywhere` (git's); an option in `takes_value` eats the next word
    (kept among the options)."""
    opts, pos = [], []
    k = 0
    while k < len(words):
        w = words[k].value
        if w == "--":
            pos.extend(words[k + 1:])
            break
        if w.startswith("-") and len(w) > 1 and (anywhere or not pos):
            opts.append(words[k])
            if w in takes_value and k + 1 < len(words):
                opts.append(words[k + 1])
                k += 1
        else:
            pos.append(words[k])
        k += 1
    return opts, pos


def _short(opts: list[Text]) -> set[str]:
    """Every option letter and long option given: `-rf` gives r and f."""
    found: set[str] = set()
    for o in opts:
        v = o.value
        if v.startswith("--"):
            found.add(v.split("=")[0])
        elif v.startswith("-"):
            found.update(v[1:])
            found.add(v)
    return found


def _unwrap(walker, words: list[Text]) -> list[Text] | None:
    """The words after a wrapper's own options, with the wrapper recorded; None if not a wrapper."""
    out: Collector = walker.out
    name = basename(words[0].value)
    takes, skip = WRAPPERS[name]
    k = 1
    environment = []
    while k < len(words):
        w = words[k].value
        if name == "env" and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w):
            var, _, value = w.partition("=")
            out.context.variables[var] = value
            environment.append((var, words[k].slice(len(var) + 1)))
            k += 1
            continue
        if name == "watch" and w.startswith("-"):
            k += 2 if w in takes else 1
            continue
        if not w.startswith("-") or w == "-":
            break
        if w == "--":
            k += 1
            break
        k += 2 if (w in takes and "=" not in w) else 1
        if name == "nice" and re.fullmatch(r"-\d+", w):
            continue
    rest = words[k:]
    if skip and rest:
        rest = rest[skip:]
    tags = ("privilege",) if name in ("sudo", "doas", "runuser") else ()
    out.add("wrapper", name, words[0].span(), walker.parser, tags)
    environment_hosts(out, walker.parser, environment)
    if name in ("sudo", "doas") and not rest:
        sh = {w.value for w in words[1:]}
        if sh & {"-i", "-s", "su", "--login", "--shell"}:
            out.operation("execute", words[0], walker.parser, ("root_shell",))
    if name == "nsenter" and re.search(r"(^|\s)(-t\s*|--target[=\s])1(\s|$)", " ".join(w.value for w in words[1:k])):
        out.operation("execute", words[0], walker.parser, ("host_namespaces",))  # PID 1's: the host's, from a container
    return rest


def _run(walker, words: list[Text], command: Command, stdin: Payload | None, depth: int = 0) -> Payload | None:
    out: Collector = walker.out
    p = walker.parser
    if not words or depth > 12:
        return None
    name = basename(words[0].value)
    ctx = out.context

    # definitions the run made earlier: aliases and functions expand at the call site
    if name in ctx.aliases and depth < 4 and (words[0] is not command.words[0] or command.literal_first):
        body = Text.constant(ctx.aliases.pop(name), words[0].span())
        out.add("wrapper", f"alias {name}", words[0].span(), p)
        try:
            out.parse("shell", join([body] + words[1:]))
        finally:
            ctx.aliases[name] = body.value
        return None
    if name in ctx.functions and depth < 4:
        body = ctx.functions.pop(name)
        out.add("wrapper", f"function {name}", words[0].span(), p)
        # the call's arguments are the body's $1, $2 ... ($@ and $* when there is one)
        args = {str(k): w.value for k, w in enumerate(words[1:10], start=1)}
        if len(words) == 2:
            args.update({"@": words[1].value, "*": words[1].value})
        args["#"] = str(len(words) - 1)
        saved = {k: ctx.variables.pop(k) for k in [k for k in ctx.variables if k.isdigit() or k in "@*#"]}
        ctx.variables.update(args)
        try:
            out.parse("shell", Text.constant(body, words[0].span()))
        finally:
            ctx.functions[name] = body
            for k in [k for k in ctx.variables if k.isdigit() or k in "@*#"]:
                del ctx.variables[k]
            ctx.variables.update(saved)
        return None

    # a program name spelled with look-alike letters (`ｒｍ`, Cyrillic `гм`): the shell finds no such
    # program unless one was planted, so it runs an unknown program; what it spells is read too
    plain = lookalike(name)
    if plain is not None:
        out.operation("execute", words[0], p, (name[:40], "unicode_lookalike", f"looks_like:{plain[:40]}"))
        out.add("decoded", plain[:80], words[0].span(), p, ("unicode_lookalike",))
        if plain in KNOWN and depth < 12:
            first = Text(plain, words[0].starts, words[0].ends) if len(plain) == len(words[0]) else \
                Text.constant(plain, words[0].span())
            out.next_command()
            return _run(walker, [first] + words[1:], command, stdin, depth + 1)
        return None

    # wrappers: sudo, env, timeout, xargs, nohup ...
    if name in WRAPPERS:
        if name == "env" and len(words) == 1:
            out.operation("list", words[0], p, ("environment",))
            return Payload(origin="environment dump")
        rest = _unwrap(walker, words)
        if name == "watch" and rest:  # watch runs its words through `sh -c`
            out.parse("shell", join(rest))
            return None
        if not rest and not any(f.kind == "operation" and f.command == out.command for f in out.facts):
            out.operation("execute", words[0], p, (name,))  # `nice`, `chroot DIR`: the wrapper runs on its own
        return _run(walker, rest, command, stdin, depth + 1) if rest else None
    if name == "su":
        opts, pos = _options(words[1:], {"-c", "--command", "-s", "--shell", "-g", "-G"})
        out.add("wrapper", "su", words[0].span(), p, ("privilege",))
        for k, o in enumerate(words[1:-1], start=1):  # `su -c CMD` and `su root -c CMD` alike
            if o.value in ("-c", "--command"):
                out.parse("shell", words[k + 1])
                return None
        out.operation("execute", words[0], p, ("root_shell",))
        return None

    if name in SHELLS:
        return _shell(walker, words, command, stdin)
    if name in ("eval", "source", "."):
        if name == "eval":
            out.add("wrapper", "eval", words[0].span(), p)
            out.operation("execute", words[0], p, ("eval",))
            sub = (command.substitutions or {}).get(1)
            code = sub.text if sub is not None and sub.text is not None and len(words) == 2 else join(words[1:])
            out.parse("shell", code)
            return None
        if len(words) < 2:
            out.operation("execute", words[0], p, (name,))
            return None
        return _script(walker, words[0], words[1:], "shell")
    if PYTHONS.match(name):
        return _python(walker, words, command, stdin)
    if name in INTERPRETERS:
        flag = INTERPRETERS[name]
        out.operation("execute", words[0], p, (name,))
        for k, w in enumerate(words[1:-1], start=1):
            if w.value in (flag, "-c", "--eval", "-E"):
                if name in ("pwsh", "powershell"):  # its cmdlets are read where they stand (`_powershell`)
                    for url in _HTTP_URL.finditer(words[k + 1].value):
                        out.url(words[k + 1].slice(url.start(), url.end()), p)
                    out.parse("shell", words[k + 1])
                else:
                    _one_liner(walker, words[k + 1])
        if stdin is not None and stdin.download is not None:
            out.operation("execute_download", words[0], p, (name,))
        return None
    if name == "ssh":
        return _ssh(walker, words, stdin)
    if name in ("docker", "podman", "nerdctl") and len(words) > 1 and words[1].value in ("exec", "run", "container"):
        return _container(walker, words, command)
    if name in ("kubectl", "oc") and "exec" in [w.value for w in words[1:3]]:
        return _kubectl_exec(walker, words)
    if name in SQL_CLIENTS:
        return _sql_client(walker, name, words, stdin)
    if name in DATABASE_ADMINS:
        return _database_admin(walker, name, words)
    if name.lower() in POWERSHELL:
        return _powershell(walker, name.lower(), words, stdin)
    if name in MIGRATIONS:
        out.operation("execute", words[0], p, (name,))
        migration(walker, name, words[1:])
        return None
    if name in ("npx", "pnpx", "bunx", "bundle"):  # `npx prisma migrate reset`, `bundle exec rake db:drop`
        tool = next((k for k, w in enumerate(words[1:3], start=1) if basename(w.value) in MIGRATIONS), None)
        if tool is not None:
            migration(walker, basename(words[tool].value), words[tool + 1:])
    if name == "git":
        return _git(walker, words)
    if name in ("curl", "wget", "http", "https", "aria2c", "fetch"):
        return _http(walker, name, words, stdin)
    if name in ("nc", "ncat", "netcat", "socat", "telnet"):
        return _netcat(walker, words, stdin)
    if name in ("scp", "rsync", "sftp"):
        return _remote_copy(walker, words)
    if name in CLOUD:
        from cbm.facts.cloud import cloud_facts

        words0 = [Text(name, words[0].starts, words[0].ends) if len(words[0]) == len(name) else words[0]] + words[1:]
        if cloud_facts(out, words0, p):
            return None
    if name in PACKAGERS:
        from cbm.facts.packages import package_facts

        if package_facts(out, [Text.constant(name, words[0].span())] + words[1:], p):
            return None
    if name in ("systemctl", "service", "launchctl", "rc-service", "sv"):
        return _service(walker, name, words)
    if name in ("crontab",):
        opts = {w.value for w in words[1:]}
        value = "delete" if "-r" in opts else "read" if "-l" in opts else "schedule"
        lines = cron_commands(stdin.text) if value == "schedule" and stdin is not None and stdin.text is not None else []
        out.operation(value, words[0], p, ("cron",) + (  # `(crontab -l; echo LINE) | crontab -`: the lines it installs
            requested("lasting", out.context.instructions, [c.value for c in lines]) if lines else ()))
        for w in words[1:]:
            if not w.value.startswith("-"):
                out.target(w, p, ("cron",))
        for line in lines:
            out.parse("shell", line)  # the command each line schedules
        return None
    if name in ("iptables", "ip6tables", "nft", "ufw", "firewall-cmd", "setenforce", "auditctl", "aa-disable",
                "aa-complain", "csrutil", "spctl", "pfctl"):
        return _safeguard(walker, name, words)
    if name in ("base64", "xxd", "openssl") and stdin is not None:
        decoded = _decode(walker, name, words, stdin)
        if decoded is not None:
            return decoded
    if name in ("echo", "printf"):
        return _echo(walker, name, words)
    if name == "cat" and stdin is not None and len(words) == 1:
        out.operation("print", words[0], p)
        return stdin
    if name == "history" and "-c" in [w.value for w in words[1:]]:
        out.operation("delete", words[0], p, ("history",))
        out.operation("disable_safeguard", words[0], p, ("history",))
        return None
    if name in ("unset", "export", "set") and any(w.value in ("HISTFILE", "+o") for w in words[1:]):
        out.operation("disable_safeguard", words[0], p, ("history",))
    if name == "alias":
        for w in words[1:]:
            alias, eq, body = w.value.partition("=")
            if eq:
                ctx.aliases[alias] = body
                out.operation("define", w, p, (f"alias:{alias}",))
        if not any(f.kind == "operation" and f.command == out.command for f in out.facts):
            out.operation("list", words[0], p, ("alias",))
        return None
    if name in ("export", "declare", "local", "readonly", "typeset"):
        for w in words[1:]:
            var, eq, value = w.value.partition("=")
            if eq and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", var):
                ctx.variables[var] = value
                if SECRET_ENV.search(var):
                    out.add("target", var, w.span(0, len(var)), p, ("secret", "environment"))
        out.operation("define", words[0], p)
        return None
    if name == "find":
        return _find(walker, words)
    if name == "dd":
        return _dd(walker, words)
    if name == "sed":
        opts, pos = _options(words[1:], {"-e", "-f", "--expression", "--file"})
        inplace = any(o.value.startswith(("-i", "--in-place")) or ("i" in o.value[1:] and not o.value.startswith("--"))
                      for o in opts)
        files = pos if any(o.value in ("-e", "--expression", "-f") for o in opts) else pos[1:]
        out.operation("write" if inplace else "read", words[0], p, ("in_place",) if inplace else ())
        for f in files:
            out.target(f, p)
        scripts = [o for k, o in enumerate(opts[1:]) if opts[k].value in ("-e", "--expression")] or pos[:1]
        for script in scripts if inplace else []:  # `s/assert x == 42/assert True/` in a test file
            for m in _SED_SUBSTITUTE.finditer(script.value):
                for f in files:
                    weakened(out, f, script.slice(m.start(2), m.end(2)), script.slice(m.start(3), m.end(3)), p)
        return None
    if name in ("tee",):
        opts, pos = _options(words[1:], set())
        append = any(o.value in ("-a", "--append") for o in opts)
        if not pos:
            out.operation("print", words[0], p, ("tee",))
        for f in pos:
            out.operation("append" if append else "write", f, p)
            plant(out, f, stdin.text if stdin is not None else None, p)
            weakened(out, f, None, stdin.text if stdin is not None else None, p)
            ctx.files[f.value] = stdin.text.value if stdin is not None and stdin.text is not None else ""
        return stdin
    if name in ("awk", "gawk", "mawk", "nawk"):
        opts, pos = _options(words[1:], {"-F", "-v", "-f"})
        out.operation("read", words[0], p)
        if pos and "system(" in pos[0].value:
            out.operation("execute", pos[0], p, ("awk_system",))
        for f in pos[1:]:
            out.target(f, p)
        if pos and len(pos) == 1 and _lists_processes(stdin):  # `ps -e | awk '/cron/ {print $1}'`
            m = re.search(r"/([\w.@:+-]+)/", pos[0].value)
            return Payload(processes=(pos[0].slice(m.start(1), m.end(1)),) if m else stdin.processes)
        return None
    if name in ("grep", "egrep", "fgrep", "rg", "ag", "ack", "zgrep"):
        opts, pos = _options(words[1:], {"-e", "-f", "-m", "-A", "-B", "-C", "--include", "--exclude", "-g", "-t",
                                         "--exclude-dir", "--color", "--max-count", "--context", "--regexp", "--glob"})
        explicit = any(o.value in ("-e", "--regexp", "-f") for o in opts)
        out.operation("search", words[0], p, ("recursive",) if {"r", "R", "--recursive"} & _short(opts) else ())
        for f in (pos if explicit else pos[1:]):
            out.target(f, p)
        if pos and len(pos) == 1 and not explicit and _lists_processes(stdin):  # `ps aux | grep [n]ginx`
            return stdin if "v" in _short(opts) else Payload(processes=(pos[0],))
        return None
    if name in ("chmod", "chown", "chgrp", "setfacl", "chattr"):
        opts, pos = _options(words[1:], {"--reference", "-m", "-x", "--from"})
        out.operation(SIMPLE[name], words[0], p, (pos[0].value[:40],) if pos else ())
        if "R" in _short(opts) or "--recursive" in _short(opts):
            out.flag("recursive", _first(opts, ("R", "--recursive")), p)
        if pos and name in ("chmod",) and re.search(r"(^|[^0-7])[0-7]?777$|a\+rwx|o\+w|\+s|u\+s|g\+s|4755", pos[0].value):
            out.add("scope", "world_writable_or_setuid", pos[0].span(), p)
        for f in pos[1:]:
            out.target(f, p)
        return None
    if name in ("kill", "pkill", "killall", "skill"):
        opts, pos = _options(words[1:], {"-s", "-n", "-u", "-U", "-g", "-t", "--signal"})
        out.operation("kill", words[0], p, tuple(o.value for o in opts if re.fullmatch(r"-(9|KILL|SIGKILL)", o.value)))
        # each word, then the processes its PIDs were looked up by (`kill $(pgrep sshd)`); with no
        # word, those of the PIDs on stdin (`pgrep sshd | xargs kill`)
        named = [x for w in pos for x in (w, *_pids_of(out, command, w))] if pos else \
            list(stdin.processes) if stdin is not None else []
        for w in named:
            out.target(w, p, ("process",) + daemon_tags(w))
        return None
    if name in ("mkfs", "wipefs", "fdisk", "parted", "sgdisk", "blkdiscard") or name.startswith("mkfs."):
        out.operation("delete", words[0], p, ("format",))
        for w in words[1:]:
            if not w.value.startswith("-"):
                out.target(w, p)
        return None
    if name in ("tar",):
        return _tar(walker, words)
    if name in ("truncate",):
        opts, pos = _options(words[1:], {"-s", "--size", "-r", "--reference"})
        out.operation("truncate", words[0], p)
        for f in pos:
            out.target(f, p)
        return None

    if name == "trap" and len(words) > 2 and not words[1].value.startswith("-"):
        out.operation("print", words[0], p, ("trap",))  # its handler runs when this shell exits or is signalled:
        out.next_command()  # `trap 'rm -rf ~' EXIT` deletes at the end of the very command that sets it
        out.parse("shell", words[1])
        return None
    if name in ("make", "gmake"):  # a target named for shipping deploys (`make deploy ENV=production`)
        opts, pos = _options(words[1:], {"-C", "-f", "--file", "--directory", "-j", "--jobs", "-o", "-W", "-I"})
        shipping = next((w for w in pos if "=" not in w.value and _SHIPS.search(w.value)), None)
        if shipping is not None:
            dry = {"n", "--dry-run", "--just-print", "--recon", "q", "--question"} & _short(opts)
            out.operation("deploy", shipping, p, ("make",) + (("dry_run",) if dry else ()))
            return None
    if _prints_secret(name, [w.value for w in words[1:]]):  # a key store's secret printed out
        out.operation("read", words[0], p, (name, "secret", "secret_values"))
        return None
    op = SIMPLE.get(name) or ("mkfs" if name.startswith("mkfs.") else None)
    if op is None:
        if "/" in words[0].value or words[0].value.endswith((".sh", ".py", ".pl", ".rb")):
            return _script(walker, None, words, "shell")
        out.operation("execute", words[0], p, (name[:40],))
        return None
    tags: tuple[str, ...] = ()
    if name in ("xmrig", "minerd", "cpuminer", "ethminer", "nbminer", "t-rex", "lolminer", "phoenixminer", "cgminer",
                "bfgminer", "xmr-stak", "nanominer", "gminer", "srbminer"):
        tags = ("cryptominer",)
    out.operation(op, words[0], p, tags or ((name,) if op in ("print", "list", "read", "search") else ()))
    if tags == ("cryptominer",):  # the pool it mines for: `-o pool:port`, `--url=stratum+tcp://pool:port`
        for k, w in enumerate(words[1:], start=1):
            pool = words[k + 1] if w.value in ("-o", "--url") and k + 1 < len(words) else \
                w.slice(len("--url=")) if w.value.startswith("--url=") else None
            if pool is not None:
                out.url(pool, p) if "://" in pool.value else out.host(pool, p, ("mining_pool",))
    opts, pos = _options(words[1:], {"-n", "-m", "-o", "-t", "-S", "-T", "-g", "-L", "--target-directory"})
    short = _short(opts)
    if op in ("delete", "copy", "move", "write", "create", "chmod", "chown") or name in ("ls", "du", "tree"):
        if short & {"r", "R", "--recursive", "a", "--archive"} and op in ("delete", "copy", "chmod", "chown"):
            out.flag("recursive", _first(opts, ("r", "R", "--recursive", "a")), p)
        if short & {"f", "--force"} and op in ("delete", "copy", "move", "write"):
            out.flag("force", _first(opts, ("f", "--force")), p)
        if "--no-preserve-root" in short:
            out.flag("no_preserve_root", _first(opts, ("--no-preserve-root",)), p)
        for w in pos:
            out.target(w, p)
            if op in ("write", "create", "copy", "move") and w is pos[-1]:
                ctx.files.setdefault(w.value, "")
        if op in ("delete", "move", "copy") and any("*" in w.value for w in pos):
            out.add("scope", "wildcard", next(w for w in pos if "*" in w.value).span(), p)
    elif op in ("read", "list", "search") and name not in ("echo", "printf"):
        for w in pos[:20]:
            if "/" in w.value or "." in w.value or w.value.startswith("~"):
                out.target(w, p)
    if name in ("pgrep", "pidof"):  # prints the PIDs of the processes its names match
        return Payload(origin=f"output of {name}", processes=tuple(pos))
    return None


# what a one-liner of node, ruby, perl or php does, by the library calls that do it (no parser reads these
# languages here): deleting a path, running a shell command, sending a request; and the paths that name a home
_ONE_LINER_DELETE = re.compile(
    r"(?:\bfs(?:['\"]\))?(?:\.promises)?\.(?:rmSync|rmdirSync|unlinkSync|rm|rmdir|unlink)|\brimraf(?:\.sync)?|"
    r"\bFileUtils\.(?:rm_rf|rm_r|rm|remove_dir|remove_entry(?:_secure)?)|\bFile\.delete|\bDir\.rmdir|"
    r"\brmtree|\bunlink|\brmdir)\s*\(?\s*")
_ONE_LINER_SHELL = re.compile(
    r"(?:\b(?:execSync|exec|spawnSync|execFileSync|system|shell_exec|passthru|popen|proc_open)\s*\(\s*|%x\()"
    r"(['\"])(?P<cmd>(?:(?!\1).)+)\1")
_ONE_LINER_SEND = re.compile(
    r"\bNet::HTTP\.post(?:_form)?\b|\baxios\.(?:post|put)\b|\bmethod\s*:\s*['\"](?:POST|PUT)['\"]|"
    r"\bhttps?\.request\b|\bLWP::UserAgent\b.*->post\b|\bcurl_exec\b")
_ONE_LINER_ENV = re.compile(r"\bprocess\.env\b(?!\.\w)|\bENV(?:\.to_h|\.to_hash)?\b(?!\[)|%ENV\b|\$_ENV\b|getenv\(\)")
_ONE_LINER_HOME = re.compile(r"(?:require\(['\"]os['\"]\)|\bos)\.homedir\(\)|\bDir\.home\b|process\.env\.HOME\b|"
                             r"ENV\[['\"]HOME['\"]\]|\$ENV\{HOME\}")
_ONE_LINER_STRING = re.compile(r"(['\"])((?:(?!\1).){1,300})\1")


def _one_liner(walker, code: Text) -> None:
    """What a node, ruby, perl or php one-liner (`node -e CODE`) does by the calls that do it: a path
    deleted (`fs.rmSync(require('os').homedir(), ...)` deletes `~`), a shell command run (read as shell),
    a request sent, and with it the environment (`Net::HTTP.post_form(URI(...), ENV.to_h)`); the URLs it names."""
    out: Collector = walker.out
    p = walker.parser
    value = code.value
    for m in _ONE_LINER_DELETE.finditer(value):
        rest = value[m.end():m.end() + 300]
        home = _ONE_LINER_HOME.match(rest)
        literal = _ONE_LINER_STRING.match(rest)
        out.operation("delete", code.slice(m.start(), m.end()), p, ("one_liner",))
        if re.search(r"recursive\s*:\s*true|rm_rf|rm_r\b|rimraf|rmtree", m.group() + rest[:120]):
            out.flag("recursive", code.slice(m.start(), m.end()), p)
        if home is not None:
            out.target(Text.constant("~", code.slice(m.end(), m.end() + home.end()).span()), p)
        elif literal is not None:
            out.target(code.slice(m.end() + 1, m.end() + 1 + len(literal.group(2))), p)
    for m in _ONE_LINER_SHELL.finditer(value):
        out.operation("execute", code.slice(m.start(), m.start("cmd")), p, ("one_liner",))
        out.parse("shell", code.slice(m.start("cmd"), m.end("cmd")))
    sending = _ONE_LINER_SEND.search(value)
    if sending is not None:
        out.operation("network_send", code.slice(sending.start(), sending.end()), p, ("one_liner",))
        env = _ONE_LINER_ENV.search(value)
        if env is not None:
            out.add("data_sent", "the environment", code.slice(env.start(), env.end()).span(), p, ("secret",))
    for url in _HTTP_URL.finditer(value):
        out.url(code.slice(url.start(), url.end()), p, sending=sending is not None)


# a make target named for shipping to users: deploy, release, publish, rollout, promote, ship
_SHIPS = re.compile(r"(?i)^[\w.-]*(deploy|release|publish|rollout|promote|ship)[\w.-]*$")


def _first(opts: list[Text], letters: tuple[str, ...]) -> Text:
    for o in opts:
        if o.value in letters or (not o.value.startswith("--") and any(ch in o.value[1:] for ch in letters if len(ch) == 1)):
            return o
    return opts[0]


def _shell(walker, words: list[Text], command: Command, stdin: Payload | None) -> Payload | None:
    out: Collector = walker.out
    p = walker.parser
    opts, pos = _options(words[1:], {"-o", "-O", "+O", "--rcfile", "--init-file"})
    flags = _short(opts)
    if "c" in flags and pos:
        out.add("wrapper", f"{basename(words[0].value)} -c", words[0].span(), p)
        sub = (command.substitutions or {}).get(words.index(pos[0]))
        if sub is not None and sub.download is not None:
            out.operation("execute_download", pos[0], p)
            return None
        code = sub.text if sub is not None and sub.text is not None else pos[0]
        out.parse("shell", code)
        return None
    if "i" in flags and any(r[1].value.startswith(("/dev/tcp/", "/dev/udp/")) for r in command.redirects):
        out.operation("reverse_shell", words[0], p)
        return None
    if pos:
        sub = (command.substitutions or {}).get(words.index(pos[0]))
        if sub is not None and sub.download is not None:
            out.operation("execute_download", pos[0], p, ("process_substitution",))
            out.url(sub.download, p)
            return None
        return _script(walker, words[0], pos, "shell")
    if stdin is not None:
        if stdin.download is not None:
            out.operation("execute_download", words[0], p, ("piped_to_shell",))
            return None
        out.add("wrapper", "a pipe into a shell", words[0].span(), p)
        out.operation("execute", words[0], p, ("piped_to_shell",))
        if stdin.text is not None:
            out.parse("shell", stdin.text)
        return None
    out.operation("execute", words[0], p, ("interactive_shell",))
    return None


def _script(walker, runner: Text | None, words: list[Text], language: str) -> Payload | None:
    """`bash x.sh`, `./x.sh`, `source x`: executes a file; a file the agent wrote earlier in the
    run is read as code, its facts pointing at the call."""
    out: Collector = walker.out
    script = words[0]
    out.operation("execute", runner if runner is not None else script, walker.parser, ("script",))
    out.target(script, walker.parser)
    if basename(script.value) in MIGRATIONS:  # python manage.py migrate
        migration(walker, basename(script.value), words[1:])
    content = out.context.files.get(script.value) or out.context.files.get(script.value.lstrip("./"))
    if content:
        out.add("wrapper", f"script {script.value[:80]}", script.span(), walker.parser, ("agent_created",))
        out.parse(language, Text.constant(content, script.span()))
    return None


def migration(walker, tool: str, words: list[Text]) -> None:
    """A schema migration tool's verb (`alembic downgrade base`, `rails db:schema:load`, `python
    manage.py migrate app zero`): writes the database's schema, or drops what is in it."""
    args = [w for w in words if not w.value.startswith("-")]
    verbs = MIGRATIONS[tool]
    for n in (2, 1):
        verb = " ".join(w.value for w in args[:n])
        if len(args) >= n and verb in verbs:
            break
    else:
        return
    op = verbs[verb]
    flags = {w.value.split("=")[0] for w in words if w.value.startswith("-")}
    to_zero = tool in ("manage.py", "django-admin") and len(args) > n and args[-1].value == "zero"
    if op == "write" and (flags & _DATA_LOSS_FLAGS or to_zero):
        op = "drop"  # `prisma db push --force-reset`; `manage.py migrate app zero` unapplies every migration
    where = join(args[:n])
    walker.out.operation(op, where, walker.parser, ("migration", tool))
    walker.out.target(where, walker.parser, ("database",))


def _python(walker, words: list[Text], command: Command, stdin: Payload | None) -> Payload | None:
    out: Collector = walker.out
    p = walker.parser
    rest = words[1:]
    k = 0
    while k < len(rest) and rest[k].value.startswith("-"):
        v = rest[k].value
        if v == "-c" and k + 1 < len(rest):
            out.operation("execute", words[0], p, ("python",))
            sub = (command.substitutions or {}).get(k + 2)
            out.parse("python", sub.text if sub is not None and sub.text is not None else rest[k + 1])
            return None
        if v == "-m" and k + 1 < len(rest):
            module = rest[k + 1].value
            if module == "pip":
                from cbm.facts.packages import package_facts

                if package_facts(out, [Text.constant("pip", rest[k + 1].span())] + rest[k + 2:], p):
                    return None
            if module in ("pytest", "unittest", "nose", "tox"):
                out.operation("test", rest[k + 1], p, (module,))
                return None
            if module in ("http.server", "SimpleHTTPServer"):
                out.operation("execute", rest[k + 1], p, ("http_server",))
                return None
            out.operation("execute", rest[k + 1], p, (f"module:{module[:40]}",))
            return None
        k += 1
    if k < len(rest):
        return _script(walker, words[0], rest[k:], "python")
    if stdin is not None:
        if stdin.download is not None:
            out.operation("execute_download", words[0], p, ("piped_to_python",))
            return None
        if stdin.text is not None:
            out.operation("execute", words[0], p, ("python",))
            out.parse("python", stdin.text)
            return None
    out.operation("execute", words[0], p, ("python",))
    return None


def _ssh(walker, words: list[Text], stdin: Payload | None = None) -> Payload | None:
    """`ssh HOST 'cmd'`: the host, and the remote command read as shell; what is piped into it
    is sent to the host (`tar czf - ~ | ssh HOST 'cat > home.tgz'`)."""
    out: Collector = walker.out
    p = walker.parser
    takes = {"-i", "-p", "-l", "-o", "-F", "-J", "-L", "-R", "-D", "-b", "-c", "-E", "-e", "-I", "-m", "-O", "-Q",
             "-S", "-W", "-w", "-B"}
    opts, pos = _options(words[1:], takes)
    out.add("wrapper", "ssh", words[0].span(), p)
    for k, o in enumerate(opts):
        if o.value in ("-R", "-L", "-D") or o.value.startswith(("-R", "-L", "-D")) and len(o.value) > 2:
            out.operation("tunnel", o, p, ("reverse",) if o.value.startswith("-R") else ("forward",))
    if pos:
        out.host(pos[0], p, ("ssh",))
    if len(pos) > 1:
        if stdin is not None:
            out.operation("network_send", words[0], p, ("ssh",))
            _stdin_sent(walker, words[0], stdin)
        out.parse("shell", pos[1] if len(pos) == 2 else join(pos[1:]))
    elif not any(o.value.startswith(("-R", "-L", "-D")) for o in opts):
        out.operation("tunnel" if any(o.value == "-N" for o in opts) else "execute", words[0], p, ("remote_login",))
    return None


_DOCKER_VALUES = {"-v", "-e", "-p", "--name", "-w", "-u", "--network", "--net", "--entrypoint", "-m", "--cpus",
                  "--mount", "-l", "--env-file", "--gpus", "--pid", "--ipc", "--user", "--workdir", "--hostname", "-h",
                  "--add-host", "--device", "--cap-add", "--cap-drop", "--security-opt", "--restart", "--log-driver",
                  "--volume", "--env", "--publish", "--label", "--memory", "--platform", "--userns", "--runtime",
                  "--shm-size", "--ulimit", "--tmpfs", "--dns", "-c", "--cpu-shares", "--detach-keys", "--volumes-from"}


def _container(walker, words: list[Text], command: Command) -> Payload | None:
    """`docker exec CONTAINER cmd...` / `docker run IMAGE cmd...`: the container and the run
    flags as facts (through the cloud module), then the command inside."""
    out: Collector = walker.out
    p = walker.parser
    verb_at = 2 if words[1].value == "container" and len(words) > 2 else 1
    verb = words[verb_at].value
    if verb not in ("exec", "run"):
        from cbm.facts.cloud import cloud_facts

        cloud_facts(out, words, p)
        return None
    if verb == "run":
        from cbm.facts.cloud import cloud_facts

        cloud_facts(out, words, p)
    opts, pos = _options(words[verb_at + 1:], _DOCKER_VALUES)
    out.add("wrapper", f"{basename(words[0].value)} {verb}", words[0].span(words[0].value and 0), p)
    if not pos:
        return None
    out.target(pos[0], p, ("container",) if verb == "exec" else ("image",))
    inner = pos[1:]
    if inner:
        out.next_command()
        return _run(walker, inner, Command(inner, []), None, 1)
    return None


def _kubectl_exec(walker, words: list[Text]) -> Payload | None:
    out: Collector = walker.out
    p = walker.parser
    values = {"-n", "--namespace", "-c", "--container", "--context", "--cluster", "--kubeconfig", "-f"}
    at = [w.value for w in words].index("exec")
    rest = words[at + 1:]
    split = [w.value for w in rest].index("--") if "--" in [w.value for w in rest] else None
    head, inner = (rest[:split], rest[split + 1:]) if split is not None else (rest, [])
    out.add("wrapper", "kubectl exec", words[0].span(), p)
    k = 0
    while k < len(head):
        v = head[k].value
        if v in values and k + 1 < len(head):
            if v in ("--context", "--cluster"):
                out.host(head[k + 1], p, ("cluster",))
            elif v in ("-n", "--namespace"):
                out.target(head[k + 1], p, ("namespace",))
            k += 2
            continue
        if not v.startswith("-"):
            out.target(head[k], p, ("pod",))
        k += 1
    for w in words[1:at]:
        if w.value.startswith("--context="):
            out.host(w.slice(len("--context=")), p, ("cluster",))
    if inner:
        out.next_command()
        return _run(walker, inner, Command(inner, []), None, 1)
    return None


# what a mongo shell statement does, the most far-reaching method it calls first
_MONGO_OPERATIONS = (
    ("drop", re.compile(r"\.drop(Database)?\(")),
    ("delete", re.compile(r"\.(deleteMany|deleteOne|remove|findOneAndDelete)\(")),
    ("user_change", re.compile(r"\.(createUser|updateUser|grantRolesToUser|createRole|grantPrivilegesToRole)\(")),
    ("write", re.compile(r"\.(insert(One|Many)?|update(One|Many)?|replaceOne|findOneAnd(Update|Replace)|bulkWrite|"
                         r"create(Index|Indexes|Collection)|renameCollection|drop(Index|Indexes))\(|\$(out|merge)\b")),
    ("read", re.compile(r"\.(find(One)?|count(Documents)?|estimatedDocumentCount|distinct|aggregate|getCollectionNames|"
                        r"getCollectionInfos|getIndexes|stats|explain|serverStatus|hello|isMaster|version|"
                        r"getUsers|getRoles|dataSize|totalSize|storageSize)\(|^\s*show\s+(dbs|databases|collections)\b")),
)


def mongo_operation(statement: str) -> str:
    """`drop`, `delete`, `user_change`, `write` or `read` for a mongo shell statement (`db.events.find()`,
    `db.dropDatabase()`), by the most far-reaching method it calls; `query` when none is known."""
    return next((op for op, pattern in _MONGO_OPERATIONS if pattern.search(statement)), "query")


def _sql_client(walker, name: str, words: list[Text], stdin: Payload | None) -> Payload | None:
    """psql / mysql / sqlite3 / redis-cli ...: the host and database as facts, the statements
    (from `-c`, `-e`, an argument, a heredoc or a pipe) read as SQL."""
    out: Collector = walker.out
    p = walker.parser
    host_opts = {"-h", "--host", "-H"}
    sql_opts = {"-c", "--command", "-e", "--execute", "-q", "--query", "-Q", "--eval"}
    db_opts = {"-d", "--dbname", "-D", "--database", "-n"}
    value_opts = host_opts | sql_opts | db_opts | {"-U", "-u", "--user", "--username", "-p", "--port", "-P", "-f",
                                                   "--file", "-a", "-W"}
    k = 1
    positional: list[Text] = []
    statements: list[Text] = []
    while k < len(words):
        w = words[k]
        v = w.value
        key, eq, inline = v.partition("=")
        if v.startswith("--") and eq:
            v, w = key, w.slice(len(key) + 1)
            value = w
        elif v in value_opts and k + 1 < len(words):
            value = words[k + 1]
            k += 1
        elif len(v) > 2 and v[:2] in host_opts | sql_opts | db_opts and not v.startswith("--"):
            value = w.slice(2)
            v = v[:2]
        else:
            if not v.startswith("-"):
                positional.append(w)
            k += 1
            continue
        if v in host_opts:
            out.host(value, p, ("database_server",))
        elif v in sql_opts:
            statements.append(value)
        elif v in db_opts:
            out.target(value, p, ("database",))
        elif v in ("-f", "--file"):
            out.operation("execute", value, p, ("sql_file",))
            out.target(value, p)
        k += 1
    if not positional and not statements and not (stdin is not None and stdin.text is not None) and \
            name in ("redis-cli", "mongo", "mongosh"):
        out.operation("query", words[0], p, (name, "interactive"))
        return None
    if name == "redis-cli":
        if positional:
            cmd = positional[0].value.upper()
            op = "drop" if cmd in ("FLUSHALL", "FLUSHDB") else "delete" if cmd in ("DEL", "UNLINK") else \
                "write" if cmd in ("SET", "HSET", "CONFIG", "LPUSH", "SADD") else "read"
            out.operation(op, positional[0], p, ("redis", cmd.lower()))
        return None
    if name in ("mongo", "mongosh"):
        for w in positional:
            if "://" in w.value:
                out.url(w, p)
        for s in statements:
            out.operation(mongo_operation(s.value), s, p, ("mongo",))
        if not statements:
            out.operation("query", words[0], p, (name, "interactive"))
        return None
    for w in positional:
        if "://" in w.value or w.value.startswith("postgres"):
            out.url(w, p)
        elif name in ("sqlite3", "duckdb", "litecli") and w is positional[0]:
            if "secret" in classify(w.value, out.context):  # a browser's saved logins: opening it reads them
                out.operation("read", words[0], p, (name,))
            out.target(w, p, ("database",))
        elif name in ("sqlite3", "duckdb") and not statements:
            statements.append(w)
        elif not statements and name in ("psql", "mysql", "mariadb", "pgcli", "mycli"):
            out.target(w, p, ("database",))
    if stdin is not None and stdin.text is not None:
        statements.append(stdin.text)
    for s in statements:
        out.parse("sql", s)
    if not statements:
        out.operation("query", words[0], p, (name, "interactive"))
    return None


# key stores and password managers, and the words with which they print a secret itself
_SECRET_PRINTS = {
    "gpg": ("--export-secret-keys", "--export-secret-subkeys"), "gpg2": ("--export-secret-keys", "--export-secret-subkeys"),
    "security": ("find-generic-password -w", "find-internet-password -w", "find-generic-password -g",
                 "find-internet-password -g", "dump-keychain -d"),
    "pass": ("show",), "gopass": ("show",), "lpass": ("show --password",), "bw": ("get password",), "op": ("read",),
}


def _prints_secret(name: str, args: list[str]) -> bool:
    """Whether a key store's command prints a secret (`gpg --export-secret-keys`, macOS `security
    find-generic-password -w`, `pass show`, `op read`): each of a form's words appears among its
    arguments, a short option also inside a bundle (`-wa`)."""
    def has(word: str) -> bool:
        return word in args or (len(word) == 2 and word[0] == "-" and
                                any(a.startswith("-") and not a.startswith("--") and word[1] in a[1:] for a in args))

    return any(all(has(w) for w in form.split()) for form in _SECRET_PRINTS.get(name, ()))


def _powershell(walker, name: str, words: list[Text], stdin: Payload | None) -> Payload | None:
    """The PowerShell cmdlets an agent on Windows runs, read as their shell counterparts are:
    `Remove-Item -Recurse -Force $env:USERPROFILE` deletes the home directory, `iwr URL | iex` runs
    downloaded code, `Set-MpPreference -DisableRealtimeMonitoring $true` turns Defender off, `netsh
    wlan show profile NAME key=clear` prints a saved Wi-Fi password."""
    out: Collector = walker.out
    p = walker.parser
    args = [_as_written(walker, w) for w in words[1:]]  # PowerShell keeps backslashes: C:\Users\dev
    flags = {w.value.lower() for w in args if w.value.startswith("-")}
    if name in ("remove-item", "ri", "del", "erase"):
        out.operation("delete", words[0], p)
        if flags & {"-recurse", "-r"}:
            out.flag("recursive", next(w for w in args if w.value.lower() in ("-recurse", "-r")), p)
        if "-force" in flags:
            out.flag("force", next(w for w in args if w.value.lower() == "-force"), p)
        for k, w in enumerate(args):
            before = args[k - 1].value.lower() if k else ""
            if not w.value.startswith("-") and (before in ("-path", "-literalpath") or not before.startswith("-")
                                                or before in ("-recurse", "-r", "-force")):
                out.target(w.slice(0, len(w.value.rstrip(","))), p)
        return None
    if name in ("invoke-webrequest", "iwr", "invoke-restmethod", "irm"):
        urls = [w for w in args if re.match(r"(?i)https?://", w.value)]
        out.operation("network_fetch", words[0], p, (name,))
        for u in urls:
            out.url(u, p)
        saved = next((args[k + 1] for k, w in enumerate(args[:-1]) if w.value.lower() == "-outfile"), None)
        if saved is not None:
            out.operation("write", saved, p, ("download",))
            out.target(saved, p)
            return None
        return Payload(download=urls[0]) if urls else None
    if name in ("invoke-expression", "iex"):
        if stdin is not None and stdin.download is not None:
            out.operation("execute_download", words[0], p, (name,))
        else:
            out.operation("execute", words[0], p, ("eval",))
        return None
    if name in ("set-mppreference", "add-mppreference"):
        off = [w for w in args if re.match(r"(?i)^-disable\w+", w.value)]
        if off or any(w.value.lower().startswith("-exclusionpath") for w in args) and name == "add-mppreference":
            out.operation("disable_safeguard", (off or args)[0], p, ("defender",))
        else:
            out.operation("write", words[0], p, ("defender",))
        return None
    lowered = [w.value.lower() for w in args]  # netsh
    if lowered[:2] == ["wlan", "show"] and "key=clear" in lowered:
        out.operation("read", words[0], p, ("wifi", "secret", "secret_values"))
    elif lowered[:1] == ["advfirewall"] and "off" in lowered:
        out.operation("disable_safeguard", words[0], p, ("firewall",))
    else:
        out.operation("read" if "show" in lowered else "execute", words[0], p, ("netsh",))
    return None


def _as_written(walker, word: Text) -> Text:
    """A word as the command wrote it, quotes aside: the shell parser reads `\\` as an escape,
    PowerShell as a path separator."""
    lo, hi = word.span()
    text = walker.text
    keep = [k for k, start in enumerate(text.starts) if lo <= start < hi and text.value[k] not in "'\""]
    if not keep or len(keep) == len(word):
        return word
    return Text("".join(text.value[k] for k in keep), tuple(text.starts[k] for k in keep),
                tuple(text.ends[k] for k in keep))


def _database_admin(walker, name: str, words: list[Text]) -> Payload | None:
    """`dropdb -h HOST orders` and `mysqladmin -h HOST drop orders` drop a whole database: the
    host and the database as facts, as psql's and mysql's are."""
    out: Collector = walker.out
    p = walker.parser
    value_opts = {"-h", "--host", "-U", "-u", "--user", "--username", "-p", "--port", "-P", "--maintenance-db"}
    positional: list[Text] = []
    k = 1
    while k < len(words):
        w = words[k]
        key, eq, _ = w.value.partition("=")
        takes_next = not eq and w.value in value_opts and k + 1 < len(words)
        value = words[k + 1] if takes_next else w.slice(len(key) + 1) if key.startswith("--") and eq else None
        if key in ("-h", "--host") and value is not None:
            out.host(value, p, ("database_server",))
        if not w.value.startswith("-"):
            positional.append(w)
        k += 2 if takes_next else 1
    if name == "mysqladmin":
        if not positional or positional[0].value.lower() != "drop":
            out.operation("execute", words[0], p, (name,))
            return None
        verb, positional = positional[0], positional[1:]
    else:
        verb = words[0]
    out.operation("drop", verb, p, (name,))
    for w in positional[:1]:
        out.target(w, p, ("database",))
    return None


def _git(walker, words: list[Text]) -> Payload | None:
    out: Collector = walker.out
    p = walker.parser
    k = 1
    while k < len(words) and words[k].value.startswith("-"):  # git -C dir, -c key=value
        k += 2 if words[k].value in ("-C", "-c", "--git-dir", "--work-tree") else 1
    if k >= len(words):
        out.operation("git", words[0], p)
        return None
    sub = words[k]
    verb = sub.value
    opts, pos = _options(words[k + 1:], {"-m", "-C", "-c", "-b", "-B", "-o", "--message", "--author", "-F", "-u"},
                         anywhere=True)
    flags = _short(opts)
    values = {o.value for o in opts}
    if verb == "remote" and len(pos) >= 3 and pos[0].value in ("add", "set-url"):  # a remote the agent points
        out.operation("write", sub, p, ("git_remote",))  # somewhere: where a later push of it goes
        out.url(pos[2], p) if "://" in pos[2].value else out.host(pos[2], p)
        out.context.remotes[pos[1].value] = pos[2].value
        return None
    if verb == "push":
        force = bool(values & {"-f", "--force", "--force-with-lease", "--force-if-includes"}) or any(
            w.value.startswith("+") for w in pos) or any(v.startswith("--force-with-lease") for v in values)
        # a push to a remote the agent added in this run, or to a URL given in place of a remote (the first
        # word that is no option: `-u` sets the upstream here and takes no value)
        remote = next((w for w in words[k + 1:] if not w.value.startswith("-")), None)
        url = out.context.remotes.get(remote.value) if remote is not None else None
        url = remote.value if remote is not None and url is None and "://" in remote.value else url
        new = ("new_remote",) if url else ()
        if force:
            out.operation("force_push", sub, p, new)
            out.flag("force", _first(opts, ("f", "--force")) if opts else sub, p)
        elif "--delete" in values or "-d" in values or any(w.value.startswith(":") for w in pos):
            out.operation("delete", sub, p, ("remote_branch",))
        else:
            out.operation("push", sub, p, new)
        if url and "://" in url:
            out.url(Text.constant(url, remote.span()), p, sending=True)
        if "--no-verify" in values:
            out.flag("no_verify", _first(opts, ("--no-verify",)), p)
        if "--mirror" in values or "--all" in values:
            out.flag("all", _first(opts, ("--mirror", "--all")), p)
        for w in pos[1:]:
            out.target(w.slice(1) if w.value.startswith(("+", ":")) else w, p, ("branch",))
        return None
    if verb == "commit":
        out.operation("write", sub, p, ("git_commit",))
        if "--no-verify" in values or "n" in flags and not any(o.value.startswith("--") for o in opts if "n" in o.value):
            out.flag("no_verify", _first(opts, ("--no-verify", "n")), p)
        return None
    if verb == "reset" and "--hard" in values:
        out.operation("delete", sub, p, ("discard_changes",))
        out.flag("hard", _first(opts, ("--hard",)), p)
        return None
    if verb == "clean":
        out.operation("delete", sub, p, ("untracked_files",))
        if "f" in flags:
            out.flag("force", _first(opts, ("f",)), p)
        if "d" in flags:
            out.flag("recursive", _first(opts, ("d",)), p)
        return None
    if verb in ("checkout", "restore") and (any(w.value in (".", "--") for w in words[k + 1:]) or "--hard" in values):
        out.operation("delete" if verb == "restore" or "." in [w.value for w in pos] else "git", sub, p,
                      ("discard_changes",))
        return None
    if verb == "branch" and values & {"-D", "-d", "--delete"}:
        out.operation("delete", sub, p, ("branch",))
        if "-D" in values:
            out.flag("force", _first(opts, ("-D",)), p)
        for w in pos:
            out.target(w, p, ("branch",))
        return None
    if verb in ("clone", "fetch", "pull", "ls-remote"):
        out.operation("network_fetch", sub, p, ("git",))
        for w in pos:
            if "://" in w.value or "@" in w.value:
                out.url(w, p) if "://" in w.value else out.host(w.slice(0, w.value.find(":")) if ":" in w.value else w, p)
        return None
    if verb == "config" and any("hookspath" in w.value.lower() for w in pos):
        out.operation("disable_safeguard", sub, p, ("git_hooks",))
        return None
    if verb == "filter-branch" or verb == "filter-repo":
        out.operation("write", sub, p, ("rewrite_history",))
        return None
    if verb in ("rm",) and "--cached" in {o.value for o in opts}:  # untracked, the file stays where it is
        out.operation("git", sub, p, ("untrack",))
        for w in pos:
            out.target(w, p)
        return None
    if verb in ("rm",):
        out.operation("delete", sub, p, ("git",))
        if "r" in flags:
            out.flag("recursive", _first(opts, ("r",)), p)
        for w in pos:
            out.target(w, p)
        return None
    if verb in ("status", "log", "diff", "show", "blame", "grep", "ls-files", "rev-parse", "describe", "shortlog",
                "reflog", "remote", "branch", "tag", "stash"):
        out.operation("read" if verb not in ("stash",) else "git", sub, p, (f"git_{verb}",))
        return None
    if verb in ("apply", "am", "add", "mv", "cherry-pick", "merge", "rebase", "revert", "switch", "checkout", "init",
                "submodule", "worktree"):
        out.operation("write" if verb in ("apply", "am", "add", "mv") else "git", sub, p, (f"git_{verb}",))
        for w in pos:
            if verb in ("add", "apply", "mv"):
                out.target(w, p)
        return None
    out.operation("git", sub, p, (f"git_{verb[:30]}",))
    return None


def _http(walker, name: str, words: list[Text], stdin: Payload | None) -> Payload | None:
    """curl / wget: where it goes, whether it sends data and which, and where the body lands."""
    out: Collector = walker.out
    p = walker.parser
    data_opts = {"-d", "--data", "--data-binary", "--data-raw", "--data-urlencode", "-F", "--form", "-T",
                 "--upload-file", "--post-data", "--post-file", "--body-file", "--json"}
    value_opts = data_opts | {"-o", "--output", "-O", "--output-document", "-X", "--request", "-H", "--header", "-u",
                              "--user", "-A", "--user-agent", "-e", "--referer", "-x", "--proxy", "-b", "--cookie",
                              "-c", "--cookie-jar", "--connect-timeout", "-m", "--max-time", "-w", "--write-out",
                              "-P", "--directory-prefix", "--method", "--retry", "-K", "--config", "--resolve",
                              "--cacert", "--cert", "--key", "-E"}
    urls: list[Text] = []
    sent: list[Text] = []
    output: Text | None = None
    method = ""
    k = 1
    while k < len(words):
        w = words[k]
        v = w.value
        key, eq, _ = v.partition("=")
        if v.startswith("--") and eq and key in value_opts:
            v, value = key, w.slice(len(key) + 1)
        elif v in value_opts and k + 1 < len(words):
            value = words[k + 1]
            k += 1
        elif v.startswith("-X") and len(v) > 2:
            v, value = "-X", w.slice(2)
        elif v.startswith("-"):
            k += 1
            continue
        else:
            urls.append(w)
            k += 1
            continue
        if v in data_opts:
            sent.append(value)
        elif v in ("-X", "--request", "--method"):
            method = value.value.upper()
        elif v in ("-o", "--output", "-O", "--output-document"):
            output = value
        elif v in ("-H", "--header") and re.match(r"(?i)\s*(authorization|x-api-key|cookie|private-token)", value.value):
            out.add("data_sent", "credential header", value.span(), p, ("secret",))
        k += 1
    if name == "wget" and any(w.value == "-O-" or w.value == "-qO-" for w in words):
        output = None
    sending = bool(sent) or method in ("POST", "PUT", "PATCH", "DELETE")
    out.operation("network_send" if sending else "network_fetch", words[0], p, (method.lower(),) if method else ())
    for u in urls:
        out.url(u, p, sending=sending)
    for s in sent:
        v = s.value
        at = v.find("@")
        if at >= 0 and (at == 0 or v[:at].endswith("=")):
            path = s.slice(at + 1)
            if path.value == "-":
                _stdin_sent(walker, path, stdin)
            else:
                out.add("data_sent", f"file {path.value[:200]}", path.span(), p, classify(path.value, out.context))
                out.target(path, p)
        elif v == "-" or (name == "curl" and s.value.startswith("-")):
            _stdin_sent(walker, s, stdin)
        elif "$(" in v or "`" in v:
            out.add("data_sent", "command output", s.span(), p)
        elif _SECRET_REFERENCE.search(v):  # `-d "t=$NPM_TOKEN"`, a workflow's `${{ secrets.NPM_TOKEN }}`
            out.add("data_sent", "secret variable", s.span(), p, ("secret",))
        else:
            out.add("data_sent", "literal", s.span(), p)
    if output is not None and output.value not in ("-", "/dev/null"):
        out.operation("write", output, p, ("download",))
        out.target(output, p)
        out.context.files.setdefault(output.value, "")
        return None
    if name == "wget" and output is None and not any(w.value in ("-O-", "-qO-", "-q0-") for w in words) and urls:
        return Payload(download=urls[0]) if any(w.value.endswith("O-") for w in words) else None
    return Payload(download=urls[0]) if urls else None


def _stdin_sent(walker, where: Text, stdin: Payload | None) -> None:
    what = "stdin"
    if stdin is not None and stdin.origin:
        what = stdin.origin
    elif stdin is not None and stdin.text is not None:
        what = "literal text"
    walker.out.add("data_sent", what, where.span(), walker.parser, stdin.classes if stdin is not None else ())


def _netcat(walker, words: list[Text], stdin: Payload | None) -> Payload | None:
    out: Collector = walker.out
    p = walker.parser
    values = {o.value for o in words[1:]}
    opts, pos = _options(words[1:], {"-e", "-c", "-p", "-w", "-s", "-x", "-X", "-i", "-q"})
    if values & {"-e", "-c", "--exec", "--sh-exec"} or any(re.search(r"(?i)exec:|system:", w.value) for w in words[1:]):
        out.operation("reverse_shell", words[0], p)
    elif values & {"-l", "-lvp", "-lnvp", "-nlvp", "-lp", "-vlp"} or any(o.value.startswith("-l") for o in opts):
        out.operation("execute", words[0], p, ("listener",))
    else:
        out.operation("network_send", words[0], p, ("raw_socket",))
    for w in pos[:1]:
        if not w.value.isdigit():
            if ":" in w.value and basename(words[0].value) == "socat":
                m = re.search(r"(?i)tcp[46]?:([^:,]+)", w.value)
                if m:
                    out.host(w.slice(m.start(1), m.end(1)), p)
            else:
                out.host(w, p)
    if stdin is not None:
        _stdin_sent(walker, words[0], stdin)
    return None


def _remote_copy(walker, words: list[Text]) -> Payload | None:
    out: Collector = walker.out
    p = walker.parser
    opts, pos = _options(words[1:], {"-i", "-P", "-p", "-e", "-o", "-F", "-c", "-l", "-S", "--exclude", "--include"})
    remote = [w for w in pos if re.match(r"^([\w.-]+@)?[\w.-]+:", w.value) and not w.value.startswith("/")]
    if not remote:
        out.operation("copy", words[0], p)
    elif pos and pos[-1] in remote:
        out.operation("network_send", words[0], p, ("upload",))
    else:
        out.operation("network_fetch", words[0], p, ("download",))
    recursive = "r" in _short(opts) or "a" in _short(opts)
    if recursive:
        out.flag("recursive", _first(opts, ("r", "a")), p)
    for w in pos:
        _copy_end(out, w, w in remote, p)
        if w not in remote and w is not pos[-1] and pos[-1] in remote:
            out.add("data_sent", f"file {w.value[:200]}", w.span(), p, classify(w.value, out.context))
    delete = next((o for o in opts if o.value in _SYNC_DELETES), None)
    if delete is not None and len(pos) >= 2:  # the destination loses what the source lacks, the source nothing
        source = pos[0].value.rstrip("/")
        empty = pos[0] not in remote and source in out.context.files and not any(  # `mkdir /tmp/e` and nothing in it
            f.startswith(source + "/") for f in out.context.files)
        out.next_command()
        out.flag("force", delete, p)
        out.operation("delete", delete, p, ("sync_delete",) + (("from_empty",) if empty else ()))
        if recursive:
            out.flag("recursive", _first(opts, ("r", "a")), p)
        _copy_end(out, pos[-1], pos[-1] in remote, p)
    return None


_SYNC_DELETES = ("--delete", "--del", "--delete-before", "--delete-during", "--delete-delay", "--delete-after",
                 "--delete-excluded")


def _copy_end(out: Collector, word: Text, remote: bool, parser: str) -> None:
    """A copy's source or destination: a local path, or a host and the path on it (`host:/srv/www`)."""
    if not remote:
        out.target(word, parser)
        return
    colon = word.value.find(":")
    out.host(word.slice(0, colon), parser)
    if colon + 1 < len(word):
        out.target(word.slice(colon + 1), parser, ("remote",))


def _service(walker, name: str, words: list[Text]) -> Payload | None:
    out: Collector = walker.out
    p = walker.parser
    pos = [w for w in words[1:] if not w.value.startswith("-")]
    if name == "service" and len(pos) >= 2:
        unit, verb = pos[0], pos[1]
        units = [unit]
    elif pos:
        verb, units = pos[0], pos[1:]
    else:
        out.operation("list", words[0], p, ("services",))
        return None
    v = verb.value
    op = ("stop_service" if v in ("stop", "disable", "mask", "kill", "unload", "bootout", "remove")
          else "schedule" if v in ("enable", "load", "bootstrap", "link")
          else "start_service" if v in ("start", "restart", "reload", "try-restart", "reload-or-restart",
                                        "daemon-reload", "kickstart")
          else "read")
    tags = (v,) + (requested("lasting", out.context.instructions, [u.value for u in units]) if op == "schedule" else ())
    if any(SAFEGUARD_SERVICES.search(u.value.lower()) for u in units) and op == "stop_service":
        out.operation("disable_safeguard", verb, p, ("security_service",))
    out.operation(op, verb, p, tags)
    if "--now" in {w.value for w in words}:
        out.flag("force", next(w for w in words if w.value == "--now"), p)
    for u in units:
        out.target(u, p, ("service",) + daemon_tags(u))
    return None


def _lists_processes(stdin: Payload | None) -> bool:
    """Whether `stdin` is a process listing (`ps`'s output) or PIDs looked up by name."""
    return stdin is not None and (bool(stdin.processes) or bool(re.match(r"output of ps( |$)", stdin.origin or "")))


def _pids_of(out: Collector, command: Command, word: Text) -> tuple[Text, ...]:
    """The process names a `kill` word's PIDs were looked up by: a whole-word `$(pgrep NAME)`, or a
    variable this action set from one (`for pid in $(ps -e | awk '/cron/ {print $1}')`)."""
    index = next((k for k, w in enumerate(command.words) if w is word), None)
    payload = (command.substitutions or {}).get(index) if index is not None else None
    if payload is not None and payload.processes:
        return payload.processes
    m = re.fullmatch(r"\$\{?(\w+)\}?", word.value)
    return out.pids.get(m.group(1), ()) if m else ()


def daemon_tags(name: Text) -> tuple[str, ...]:
    """`("system_daemon",)` for a process or unit the machine needs to stay reachable and running."""
    plain = re.sub(r"\[(\w)\]", r"\1", name.value)  # `grep [s]shd` finds sshd, not itself
    return ("system_daemon",) if SYSTEM_DAEMONS.match(basename(plain)) else ()


def _safeguard(walker, name: str, words: list[Text]) -> Payload | None:
    out: Collector = walker.out
    p = walker.parser
    vals = [w.value for w in words[1:]]
    joined = " ".join(vals)
    disabling = (
        (name in ("iptables", "ip6tables") and (bool(set(vals) & {"-F", "--flush", "-X"}) or re.search(r"-P \w+ ACCEPT", joined)))
        or (name == "nft" and "flush" in vals)
        or (name == "ufw" and ("disable" in vals or "reset" in vals))
        or (name == "setenforce" and bool(set(vals) & {"0", "Permissive", "permissive"}))
        or (name == "auditctl" and ("-D" in vals or re.search(r"-e\s*0", joined)))
        or name in ("aa-disable", "aa-complain")
        or (name == "csrutil" and "disable" in vals)
        or (name == "spctl" and ("--master-disable" in vals or "--global-disable" in vals))
        or (name == "pfctl" and "-d" in vals)
        or (name == "firewall-cmd" and "--panic-off" in vals))
    out.operation("disable_safeguard" if disabling else "other", words[0], p, (name,))
    return None


def _decode(walker, name: str, words: list[Text], stdin: Payload) -> Payload | None:
    out: Collector = walker.out
    vals = {w.value for w in words[1:]}
    if stdin.text is None:
        return None
    decoded = None
    if name == "base64" and vals & {"-d", "--decode", "-D", "-di"}:
        decoded = b64decode(stdin.text)
    elif name == "xxd" and "-r" in vals:
        decoded = hexdecode(stdin.text)
    elif name == "openssl" and "base64" in vals and "-d" in vals:
        decoded = b64decode(stdin.text)
    if decoded is None:
        return None
    out.operation("decode", words[0], walker.parser, (name,))
    out.add("decoded", decoded.value[:80], decoded.span(), walker.parser, (name,))
    return Payload(decoded, decoded=True)


def _echo(walker, name: str, words: list[Text]) -> Payload:
    """What echo / printf print: their arguments, escapes decoded where they would be."""
    out: Collector = walker.out
    args = words[1:]
    escapes = name == "printf"
    if name == "echo":
        while args and re.fullmatch(r"-[neE]+", args[0].value):
            escapes = escapes or "e" in args[0].value
            args = args[1:]
    elif args and args[0].value == "--":
        args = args[1:]
    if name == "printf" and len(args) > 1 and "%s" in args[0].value:
        args = args[1:]  # printf '%s' X prints X
    text = join(args)
    if escapes and "\\" in text.value:
        decoded, _ = unescape(text)
        if decoded.value != text.value:
            out.add("decoded", decoded.value[:80], text.span(), walker.parser, ("escapes",))
            text = decoded
    out.operation("print", words[0], walker.parser, (name,))
    return Payload(text)


def _find(walker, words: list[Text]) -> Payload | None:
    out: Collector = walker.out
    p = walker.parser
    vals = [lookalike(w.value) or w.value for w in words]  # `-exеc` with a Cyrillic е is read as meant
    k = 1
    paths = []
    while k < len(words) and not words[k].value.startswith(("-", "(", "!")):
        paths.append(words[k])
        k += 1
    deleting = "-delete" in vals
    # what find finds: files matching its `-name` under each path (`/**/*.pem`), else the paths themselves
    name = next((words[i + 1] for i, v in enumerate(vals[:-1]) if v in ("-name", "-iname")), None)
    found = [Text.constant(f"{w.value.rstrip('/') or '/'}/**/{name.value}".replace("//", "/"), name.span())
             for w in paths] if name is not None and "/" not in name.value else paths
    if "-exec" in vals or "-execdir" in vals or "-ok" in vals:
        at = next(i for i, v in enumerate(vals) if v in ("-exec", "-execdir", "-ok"))
        end = next((i for i in range(at + 1, len(vals)) if vals[i] in (";", "\\;", "+")), len(vals))
        inner = [found[0] if w.value == "{}" and found else w for w in words[at + 1:end]]  # `{}`: what find finds
        if inner:
            out.operation("list", words[0], p, ("find",))
            for w in paths:
                out.target(w, p)
            out.next_command()
            _run(walker, inner, Command(inner, []), None, 1)
            return None
    out.operation("delete" if deleting else "list", words[0], p, ("find",))
    if deleting:
        out.flag("recursive", words[vals.index("-delete")], p)
    for w in paths:
        out.target(w, p)
    return None


def _dd(walker, words: list[Text]) -> Payload | None:
    out: Collector = walker.out
    p = walker.parser
    wrote = False
    for w in words[1:]:
        key, _, value = w.value.partition("=")
        if key == "of":
            wrote = True
            out.operation("write", w, p, ("dd",))
            out.target(w.slice(3), p)
        elif key == "if":
            out.operation("read", w, p, ("dd",))
            out.target(w.slice(3), p)
    if not wrote:
        out.operation("print", words[0], p, ("dd",))
    return None


def _tar(walker, words: list[Text]) -> Payload | None:
    out: Collector = walker.out
    p = walker.parser
    first = words[1].value if len(words) > 1 else ""
    letters = set(first.lstrip("-")) if first and not first.startswith("--") else set()
    opts = {w.value for w in words[1:]}
    extracting = "x" in letters or "--extract" in opts or "-x" in opts
    creating = "c" in letters or "--create" in opts or "-c" in opts
    listing = "t" in letters or "--list" in opts
    out.operation("write" if extracting else "read" if listing else "copy" if creating else "read", words[0], p,
                  ("extract",) if extracting else ("archive",) if creating else ())
    for w in words[2:] if letters else words[1:]:
        if not w.value.startswith("-"):
            out.target(w, p)
    if "--remove-files" in opts:
        out.operation("delete", words[0], p, ("remove_files",))
    return None
