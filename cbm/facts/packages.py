"""Package manager commands: what an install, a removal or a one-off `npx` run fetches, from
where, and whether a name looks like a typo of a popular package.

`package_facts` reads the argv of one simple command (quotes removed; `sudo`, `env` and the like
already unwrapped by the shell parser; `python -m pip` passed on from "pip") and writes:

- one `operation` on the verb. Installs, upgrades and removals are all "install": a removal
  changes the installed set the way an install does, so it is "install" tagged "uninstall" (and
  "upgrade" for upgrades), which keeps "delete" for files and resources. A one-off run of a
  package (`npx`, `uvx`, `pipx run`, `pnpm dlx`) is "execute". A manager's other common verbs
  map to read / list / search / test / build / network_fetch / push ("publish"), and
  `npm config set registry` / `pip config set global.index-url` to "write" tagged "config".
  The operation's tags: the manager, then what the whole command does ("uninstall", "upgrade",
  "global", "dry_run", "extra_index", "trusted_host", "unsigned", "break_system_packages").
- one `package` fact per package argument: value the bare name, span the whole argument
  (`requests==2.31.0`), tags: the manager; "pinned" or "unpinned" (left out for local paths,
  which have no version to pin); the source "index", "url", "git" or "local"; the command's
  "extra_index" / "trusted_host" / "unsigned" / "global" / "uninstall"; "typo_of:<name>" when
  the name is one or two edits from a popular package of its ecosystem without being one (see
  `typo_of`); "cryptominer" for a known miner.
- a `target` for a requirements or constraints file (tagged "requirements_file"; when the agent
  wrote that file earlier in the run, its requirements become package facts too) and for a
  local package path; a `url` fact for a non-default index; a `host` fact for a trusted host.

It returns False, writing nothing, for commands it does not read (`npm run-script` aside, an
unknown verb, `poetry run ...`), so the shell parser can treat them as ordinary commands.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from cbm.facts.base import PARSERS, Collector
from cbm.facts.text import Text

MINERS = frozenset({"xmrig", "minerd", "cpuminer", "ethminer", "nbminer", "t-rex", "lolminer", "phoenixminer",
                    "cgminer", "bfgminer", "xmr-stak", "nanominer", "gminer", "srbminer", "cpuminer-opt",
                    "xmrig-proxy"})

POPULAR_FILE = Path(__file__).with_name("popular_packages.json")

# --- what each manager's words mean ----------------------------------------------------------------

# Option roles. These take a value (the next word, or after `=`); every other role is a switch.
_VALUED = frozenset({"value", "index", "trusted", "requirements", "constraints", "editable", "version", "git",
                     "path", "package", "with", "command", "ref", "rev"})
# Actions -> (operation, the tag it adds to the operation and to its packages).
_ACTIONS = {
    "install": ("install", None), "sync": ("install", None), "upgrade": ("install", "upgrade"),
    "uninstall": ("install", "uninstall"), "execute": ("execute", None), "fetch": ("network_fetch", None),
    "list": ("list", None), "read": ("read", None), "search": ("search", None), "test": ("test", None),
    "build": ("build", None), "run": ("execute", "script"), "publish": ("push", "publish"),
    "config": ("write", "config"), "tap": ("install", "tap"),
}
_WITH_PACKAGES = {"install", "sync", "upgrade", "uninstall", "execute", "fetch", "tap"}
_SWITCH_TAGS = {"global": "global", "dry_run": "dry_run", "unsigned": "unsigned",
                "break_system": "break_system_packages"}


@dataclass(frozen=True)
class Manager:
    tag: str  # the manager's name in tags
    ecosystem: str  # whose names and version syntax: pypi, npm, conda, apt, rpm, apk, pacman, gem, cargo, go, brew, ...
    verbs: dict[str, str]  # verb (one or two words) -> action
    options: dict[str, str]  # option -> role
    default: str | None = None  # action when no verb is given (`yarn`, `npx pkg`)


def _opts(*groups: tuple[str, str]) -> dict[str, str]:
    """Options from ("-a --all", role) pairs."""
    return {name: role for names, role in groups for name in names.split()}


_PIP_OPTIONS = _opts(
    ("-r --requirement", "requirements"), ("-c --constraint", "constraints"), ("-e --editable", "editable"),
    ("-i --index-url --extra-index-url -f --find-links --index", "index"), ("--trusted-host", "trusted"),
    ("--dry-run", "dry_run"), ("--force-reinstall", "force"), ("-U --upgrade", "upgrade"),
    ("--break-system-packages", "break_system"), ("-y --yes", "yes"),
    ("-t --target --prefix --root --src --platform --python-version --implementation --abi --no-binary --only-binary "
     "--progress-bar --cache-dir --log --proxy --retries --timeout --exists-action --cert --client-cert -C "
     "--config-settings --global-option --install-option --report --upgrade-strategy --python -d --dest --format "
     "--path --root-user-action --keyring-provider --use-feature --use-deprecated --group -p --with --extra "
     "--default-index --index-strategy -P --upgrade-package --exclude-newer --project --directory", "value"),
)
_NPM_OPTIONS = _opts(
    ("-g --global", "global"), ("--registry", "index"), ("-f --force", "force"), ("--dry-run", "dry_run"),
    ("-p --package", "package"), ("-c --call", "command"), ("-y --yes", "yes"),
    ("--prefix --save-prefix --tag -w --workspace --cwd --filter -F -C --dir --cache --userconfig --omit --include "
     "--install-strategy --node-version --shell", "value"),
)
_PNPM_OPTIONS = {**_NPM_OPTIONS, "-w": "switch"}  # pnpm's -w is --workspace-root, a switch
_CONDA_OPTIONS = _opts(
    ("-c --channel", "index"), ("--file -f", "requirements"), ("-y --yes", "yes"), ("-d --dry-run", "dry_run"),
    ("--force --force-reinstall", "force"), ("-n --name -p --prefix --solver --repodata-fn --platform", "value"),
)
_APT_OPTIONS = _opts(
    ("-y --yes --assume-yes", "yes"), ("-s --simulate --dry-run --just-print --no-act", "dry_run"),
    ("--allow-unauthenticated --allow-insecure-repositories --no-check-gpg", "unsigned"),
    ("-o --option -t --target-release -c --config-file", "value"),
)
_RPM_OPTIONS = _opts(
    ("-y --assumeyes", "yes"), ("--nogpgcheck --no-gpg-checks --no-gpgcheck", "unsigned"),
    ("--assumeno", "dry_run"), ("--dry-run", "dry_run"), ("--repofrompath --from-repo", "index"),
    ("--enablerepo --disablerepo --setopt -x --exclude --installroot --releasever -c --config -r --repo --from "
     "--root -R --releasever --downloaddir --destdir", "value"),
)
_APK_OPTIONS = _opts(
    ("-X --repository", "index"), ("--allow-untrusted", "unsigned"), ("-s --simulate", "dry_run"),
    ("-t --virtual -p --root --arch --cache-dir --keys-dir -X", "value"),
)
_APK_OPTIONS["-X"] = "index"
_PACMAN_OPTIONS = _opts(
    ("--noconfirm", "yes"), ("--overwrite --config --root -b --dbpath --cachedir --arch --assume-installed --ignore "
                             "--ignoregroup", "value"), ("--print -p", "dry_run"),
)
_BREW_OPTIONS = _opts(("-f --force", "force"), ("--dry-run -n", "dry_run"), ("--appdir --fontdir", "value"))
_GEM_OPTIONS = _opts(
    ("-v --version", "version"), ("-s --source -a --add", "index"), ("-f --force", "force"), ("-y", "yes"),
    ("-i --install-dir -n --bindir --platform -P --trust-policy -g --file", "value"), ("-N --no-document", "switch"),
)
_CARGO_OPTIONS = _opts(
    ("--version --vers", "version"), ("--git", "git"), ("--path", "path"), ("--branch", "ref"), ("--tag --rev", "rev"),
    ("--registry --index", "index"), ("-f --force", "force"), ("--dry-run", "dry_run"),
    ("-F --features --root --target --target-dir -j --jobs --profile --bin --example --config -Z -p --package "
     "--manifest-path --rename", "value"),
)
_GO_OPTIONS = _opts(("-insecure", "unsigned"),
                    ("-tags -ldflags -gcflags -o -mod -modfile -p -C -pkgdir -exec", "value"))
_SNAP_OPTIONS = _opts(("--dangerous --devmode", "unsigned"), ("--channel --revision", "value"))
_OTHER_OPTIONS = _opts(("-y --yes --accept-package-agreements --confirm", "yes"), ("-f --force", "force"),
                       ("-s --source --registry", "index"), ("--version -v", "version"), ("--id --scope -e", "value"),
                       ("--dry-run", "dry_run"), ("--ignore-checksums", "unsigned"))

_PIP_VERBS = {"install": "install", "uninstall": "uninstall", "download": "fetch", "list": "list", "freeze": "list",
              "show": "read", "inspect": "read", "search": "search", "wheel": "build", "config": "config"}
_NPM_VERBS = {
    **dict.fromkeys("install i add in ins inst insta instal isnt isnta isntal isntall".split(), "install"),
    "ci": "sync", "clean-install": "sync", "install-clean": "sync",
    **dict.fromkeys("uninstall un unlink remove rm r".split(), "uninstall"),
    **dict.fromkeys("update up upgrade udpate".split(), "upgrade"),
    "exec": "execute", "x": "execute", **dict.fromkeys("run run-script rum urn start".split(), "run"),
    **dict.fromkeys("test t tst".split(), "test"), **dict.fromkeys("ls list la ll outdated".split(), "list"),
    **dict.fromkeys("view info show v audit".split(), "read"), **dict.fromkeys("search s se find".split(), "search"),
    "publish": "publish", "pack": "build", "config": "config", "set": "config",
}
_YARN_VERBS = {"add": "install", "install": "sync", "remove": "uninstall", "upgrade": "upgrade", "up": "upgrade",
               "global add": "install", "global remove": "uninstall", "global upgrade": "upgrade", "dlx": "execute",
               "run": "run", "test": "test", "list": "list", "info": "read", "why": "read", "publish": "publish",
               "npm publish": "publish", "config": "config"}
_PNPM_VERBS = {**{v: a for v, a in _NPM_VERBS.items() if v not in ("x",)}, "dlx": "execute"}
_BUN_VERBS = {"add": "install", "a": "install", "install": "install", "i": "install", "remove": "uninstall",
              "rm": "uninstall", "update": "upgrade", "x": "execute", "run": "run", "test": "test",
              "publish": "publish",
              "pm ls": "list", "outdated": "list"}
_CONDA_VERBS = {"install": "install", "create": "install", "remove": "uninstall", "uninstall": "uninstall",
                "update": "upgrade", "upgrade": "upgrade", "list": "list", "search": "search", "info": "read",
                "env create": "sync", "env update": "sync", "env remove": "uninstall", "env list": "list"}
_APT_VERBS = {"install": "install", "reinstall": "install", "remove": "uninstall", "purge": "uninstall",
              "autoremove": "uninstall", "autopurge": "uninstall", "update": "fetch", "upgrade": "upgrade",
              "full-upgrade": "upgrade", "dist-upgrade": "upgrade", "search": "search", "show": "read",
              "policy": "read", "list": "list", "download": "fetch", "source": "fetch"}
_RPM_VERBS = {"install": "install", "in": "install", "localinstall": "install", "reinstall": "install",
              "groupinstall": "install", "group install": "install", "remove": "uninstall", "rm": "uninstall",
              "erase": "uninstall", "autoremove": "uninstall", "update": "upgrade", "up": "upgrade",
              "upgrade": "upgrade", "dist-upgrade": "upgrade", "dup": "upgrade", "search": "search", "se": "search",
              "info": "read", "if": "read", "list": "list", "makecache": "fetch", "refresh": "fetch",
              "ref": "fetch", "download": "fetch"}
_PY_PROJECT_VERBS = {"add": "install", "remove": "uninstall", "install": "sync", "sync": "sync", "update": "upgrade",
                     "lock": "build", "build": "build", "publish": "publish", "show": "read", "list": "list",
                     "search": "search", "uninstall": "uninstall", "graph": "list"}

MANAGERS: dict[str, Manager] = {}
for _names, _manager in [
    ("pip pip3 pip2", Manager("pip", "pypi", _PIP_VERBS, _PIP_OPTIONS)),
    ("uv", Manager("uv", "pypi", {**{f"pip {v}": a for v, a in _PIP_VERBS.items()}, "pip sync": "sync",
                                  "add": "install", "remove": "uninstall", "sync": "sync", "tool install": "install",
                                  "tool uninstall": "uninstall", "tool upgrade": "upgrade", "tool run": "execute",
                                  "tool list": "list", "lock": "build", "build": "build", "publish": "publish"},
                   {**_PIP_OPTIONS, "--from": "package", "--with": "with"})),
    ("uvx", Manager("uv", "pypi", {}, {**_PIP_OPTIONS, "--from": "package", "--with": "with"}, "execute")),
    ("pipx", Manager("pipx", "pypi", {"install": "install", "uninstall": "uninstall", "reinstall": "install",
                                      "inject": "install", "upgrade": "upgrade", "run": "execute", "list": "list",
                                      "uninstall-all": "uninstall"},
                     {**_PIP_OPTIONS, "--spec": "package", "--pip-args": "value", "--python": "value"})),
    ("poetry", Manager("poetry", "pypi", _PY_PROJECT_VERBS,
                       {**_PIP_OPTIONS, **_opts(("--source -G --group -E --extras --python --platform", "value"))})),
    ("pdm rye", Manager("pdm", "pypi", _PY_PROJECT_VERBS, {**_PIP_OPTIONS, **_opts(("-G --group", "value"))})),
    ("pipenv", Manager("pipenv", "pypi", _PY_PROJECT_VERBS, _PIP_OPTIONS)),
    ("easy_install", Manager("easy_install", "pypi", {}, _PIP_OPTIONS, "install")),
    ("conda mamba micromamba", Manager("conda", "conda", _CONDA_VERBS, _CONDA_OPTIONS)),
    ("npm", Manager("npm", "npm", _NPM_VERBS, _NPM_OPTIONS)),
    ("npx pnpx", Manager("npm", "npm", {}, _NPM_OPTIONS, "execute")),
    ("yarn", Manager("yarn", "npm", _YARN_VERBS, _NPM_OPTIONS, "sync")),
    ("pnpm", Manager("pnpm", "npm", _PNPM_VERBS, _PNPM_OPTIONS)),
    ("bun", Manager("bun", "npm", _BUN_VERBS, _NPM_OPTIONS)),
    ("bunx", Manager("bun", "npm", {}, _NPM_OPTIONS, "execute")),
    ("gem", Manager("gem", "gem", {"install": "install", "i": "install", "uninstall": "uninstall",
                                   "update": "upgrade", "list": "list", "search": "search", "info": "read",
                                   "sources": "config", "push": "publish", "build": "build", "fetch": "fetch"},
                    _GEM_OPTIONS)),
    ("bundle", Manager("bundle", "gem", {"add": "install", "install": "sync", "remove": "uninstall",
                                         "update": "upgrade", "list": "list", "info": "read"}, _GEM_OPTIONS)),
    ("cargo", Manager("cargo", "cargo", {"install": "install", "uninstall": "uninstall", "add": "install",
                                         "remove": "uninstall", "rm": "uninstall", "build": "build", "b": "build",
                                         "test": "test", "t": "test", "run": "run", "r": "run", "publish": "publish",
                                         "search": "search", "fetch": "fetch", "check": "build"}, _CARGO_OPTIONS)),
    ("go", Manager("go", "go", {"install": "install", "get": "install", "build": "build", "test": "test",
                                "run": "run", "mod download": "fetch", "list": "list"}, _GO_OPTIONS)),
    ("apt apt-get aptitude", Manager("apt", "apt", _APT_VERBS, _APT_OPTIONS)),
    ("yum dnf microdnf tdnf", Manager("yum", "rpm", _RPM_VERBS, _RPM_OPTIONS)),
    ("zypper", Manager("zypper", "rpm", _RPM_VERBS,
                       {**_RPM_OPTIONS, **_opts(("-n --non-interactive", "yes"), ("-r --repo --from", "value"))})),
    ("apk", Manager("apk", "apk", {"add": "install", "del": "uninstall", "update": "fetch", "upgrade": "upgrade",
                                   "search": "search", "info": "read", "list": "list", "fetch": "fetch"},
                    _APK_OPTIONS)),
    ("pacman yay paru", Manager("pacman", "pacman", {}, _PACMAN_OPTIONS)),
    ("brew", Manager("brew", "brew", {"install": "install", "reinstall": "install", "upgrade": "upgrade",
                                      "uninstall": "uninstall", "remove": "uninstall", "rm": "uninstall",
                                      "tap": "tap", "untap": "uninstall", "list": "list", "ls": "list",
                                      "info": "read", "search": "search", "update": "fetch", "fetch": "fetch"},
                     _BREW_OPTIONS)),
    ("port", Manager("port", "port", {"install": "install", "uninstall": "uninstall", "upgrade": "upgrade",
                                      "selfupdate": "fetch", "search": "search", "info": "read",
                                      "installed": "list"}, {"-y": "dry_run", "-f": "force", "-N": "yes"})),
    ("snap", Manager("snap", "snap", {"install": "install", "remove": "uninstall", "refresh": "upgrade",
                                      "list": "list", "info": "read", "find": "search"}, _SNAP_OPTIONS)),
    ("flatpak", Manager("flatpak", "flatpak", {"install": "install", "uninstall": "uninstall", "update": "upgrade",
                                               "list": "list", "search": "search", "info": "read"},
                        _opts(("-y --assumeyes", "yes"), ("--no-gpg-verify", "unsigned"), ("--arch", "value")))),
    ("choco winget", Manager("choco", "choco", {"install": "install", "uninstall": "uninstall", "upgrade": "upgrade",
                                               "list": "list", "search": "search", "show": "read", "info": "read"},
                             _OTHER_OPTIONS)),
    ("composer", Manager("composer", "packagist", {"require": "install", "remove": "uninstall", "install": "sync",
                                                   "update": "upgrade", "global require": "install",
                                                   "global remove": "uninstall", "show": "read",
                                                   "search": "search"}, _OTHER_OPTIONS)),
]:
    for _name in _names.split():
        MANAGERS[_name] = _manager
del _names, _manager, _name

# Which popular list a manager's names are checked against.
_TYPO_LIST = {"pypi": "pypi", "conda": "pypi", "npm": "npm", "apt": "apt", "gem": "gem", "cargo": "cargo"}
# Indexes and channels that are the ecosystem's own (naming one is not an "extra" index).
_DEFAULT_INDEX_HOSTS = frozenset({
    "pypi.org", "pypi.python.org", "files.pythonhosted.org", "registry.npmjs.org", "registry.npmjs.com",
    "registry.yarnpkg.com", "rubygems.org", "index.crates.io", "crates.io", "proxy.golang.org",
    "conda.anaconda.org", "repo.anaconda.com",
})
_DEFAULT_CHANNELS = frozenset({"defaults", "conda-forge", "bioconda", "pytorch", "nvidia", "main", "anaconda", "r",
                               "crates-io"})

# --- the popular names and the typo check --------------------------------------------------------


@lru_cache(maxsize=1)
def popular() -> dict[str, tuple[str, ...]]:
    """Ecosystem -> its popular names, normalised, in the file's order."""
    raw = json.loads(POPULAR_FILE.read_text(encoding="utf-8"))
    return {eco: tuple(dict.fromkeys(normalise(eco, n) for n in names))
            for eco, names in raw.items() if isinstance(names, list)}


def normalise(ecosystem: str, name: str) -> str:
    """The form under which an index treats two names as one: PyPI folds case and runs of `-_.`
    (PEP 503), crates.io folds `-` and `_`, the others fold case."""
    name = name.strip().lower()
    if ecosystem in ("pypi", "conda"):
        return re.sub(r"[-_.]+", "-", name)
    if ecosystem == "cargo":
        return name.replace("_", "-")
    return name


def _deletions(word: str, depth: int) -> set[str]:
    """`word` and every string made from it by deleting up to `depth` characters."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))} - found
        found |= frontier
    return found


@lru_cache(maxsize=None)
def _index(ecosystem: str) -> tuple[dict[str, tuple[str, ...]], dict[str, int]]:
    """Deletion neighbourhood of the popular names (up to 2 deletions) -> the names, and each
    name's rank. Two names within edit distance k share a string reachable from both by at most
    k deletions, so a lookup finds every candidate; `distance` then checks it."""
    names = popular().get(ecosystem, ())
    index: dict[str, list[str]] = {}
    for name in names:
        for variant in _deletions(name, 2):
            index.setdefault(variant, []).append(name)
    return {k: tuple(v) for k, v in index.items()}, {n: i for i, n in enumerate(names)}


def distance(a: str, b: str, bound: int) -> int:
    """Optimal string alignment distance (insert, delete, substitute, swap two neighbours: one
    edit each) of `a` and `b`, or `bound + 1` as soon as it is certain to exceed `bound`."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        ca = a[i - 1]
        for j in range(1, len(b) + 1):
            cb = b[j - 1]
            v = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                v = min(v, before[j - 2] + 1)
            row[j] = v
        if min(row) > bound:
            return bound + 1
        before, previous = previous, row
    return previous[-1]


def _allowed_edits(name: str) -> int:
    """Edits a name may be from a popular one and still count as its typo: none for names of 3
    characters or fewer (too many real short names sit one edit apart), 1 up to 8, 2 beyond
    (for `@scope/name`, by the name's length). Two edits in a name of 6 to 8 characters mostly
    reach a different real package (`hiredis`/`redis`, `tablib`/`joblib`), so they do not count."""
    core = name.rsplit("/", 1)[-1]
    return 0 if len(core) <= 3 else 1 if len(core) <= 8 else 2


def _other_word(a: str, b: str) -> bool:
    """Whether two hyphenated names differ only in one short word (`pytest-env`, `pytest-cov`):
    a different plugin of the same family rather than a typo."""
    pa, pb = a.split("-"), b.split("-")
    if len(pa) != len(pb):
        return False
    diff = [(x, y) for x, y in zip(pa, pb) if x != y]
    return len(diff) == 1 and max(len(diff[0][0]), len(diff[0][1])) <= 4


@lru_cache(maxsize=4096)
def typo_of(ecosystem: str, name: str) -> str | None:
    """The popular package `name` is likely a typo of (closest first, then most popular), or None
    when it is a popular name itself or near none."""
    eco = _TYPO_LIST.get(ecosystem)
    if eco is None:
        return None
    key = normalise(ecosystem, name)
    index, rank = _index(eco)
    if key in rank:
        return None
    bound = _allowed_edits(key)
    if bound == 0:
        return None
    candidates = {c for variant in _deletions(key, bound) for c in index.get(variant, ())}
    best: tuple[int, int, str] | None = None
    for candidate in candidates:
        d = distance(key, candidate, bound)
        if d == 2 and _other_word(key, candidate):
            continue
        if 0 < d <= bound and (best is None or (d, rank[candidate]) < best[:2]):
            best = (d, rank[candidate], candidate)
    return best[2] if best else None


def is_miner(name: str) -> bool:
    """Whether a package or program name is a known cryptocurrency miner (`xmrig`, `xmrig-proxy`)."""
    n = name.strip().lower().rsplit("/", 1)[-1]
    return n in MINERS or any(n.startswith(m + sep) for m in MINERS for sep in "-_.")


# --- reading one package argument ------------------------------------------------------------------

_ARCHIVE = re.compile(r"\.(whl|tar\.gz|tgz|tar\.bz2|tar\.xz|zip|egg|deb|rpm|apk|gem|crate|conda|pkg\.tar\.(zst|xz|gz)"
                      r"|nupkg|snap|flatpakref)$", re.I)
_GIT_PREFIX = ("git+", "git://", "git@", "github:", "gitlab:", "bitbucket:", "gist:", "ssh://")
_URL = re.compile(r"^(https?|ftp|file)://", re.I)
_EXACT = re.compile(r"^v?\d+(\.\d+)*([-+._]?[A-Za-z0-9.+-]*)?$")
_HASH = re.compile(r"^[0-9a-f]{7,40}$")
_PEP440 = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")
_NPM_NAME = re.compile(r"^(@[^/@\s]+/[^@\s]+|[^@\s]+)(?:@(.*))?$")


@dataclass
class Spec:
    name: str
    source: str  # index / url / git / local
    pinned: bool | None  # None: no version applies (a local path)


def _exact(version: str, parts: int = 1) -> bool:
    """Whether a version names one release (`1.2.3`, `v2.0.1`, `==1.4`), not a range or tag;
    `parts`: the numbers it needs (npm, cargo and go read `1.2` as a range)."""
    v = version.strip()
    return (bool(_EXACT.match(v)) and not re.search(r"(^|\.)[xX*](\.|$)", v)
            and len(re.match(r"^v?(\d+(\.\d+)*)", v).group(1).split(".")) >= parts)


def _name_from_location(location: str, ecosystem: str) -> tuple[str, bool]:
    """Package name and whether a version is fixed, from a URL or path (`.../requests-2.31.0-py3-none-any.whl`,
    `git+https://github.com/psf/requests@v2.31.0#egg=requests`)."""
    egg = re.search(r"[#&]egg=([A-Za-z0-9._-]+)", location)
    base = re.split(r"[#?]", location, maxsplit=1)[0].rstrip("/")
    ref = ""
    tail = base.rsplit("/", 1)[-1] if "/" in base else base.rsplit(":", 1)[-1]
    if "@" in tail and not _ARCHIVE.search(tail):
        tail, ref = tail.split("@", 1)
    if "#" in location and not egg:
        ref = location.split("#", 1)[1]
    tail = re.sub(r"\.git$", "", tail)
    pinned = bool(ref) and bool(_HASH.match(ref) or _exact(ref))
    if _ARCHIVE.search(tail):
        stem = _ARCHIVE.sub("", tail)
        m = re.match(r"^(.+?)[-_]v?(\d[^-]*)(-.*)?$", stem)
        if m:
            tail, pinned = m.group(1), True
        else:
            tail = stem
    if egg:
        tail = egg.group(1)
        tail, _, ver = tail.partition("==")
        pinned = pinned or bool(ver)
    return (tail or location), pinned


def _is_local(arg: str) -> bool:
    return arg in (".", "..") or arg.startswith(("./", "../", "/", "~", "file:")) or bool(_ARCHIVE.search(arg))


def read_spec(ecosystem: str, arg: str) -> Spec:
    """Name, source and pinning of one package argument, by the ecosystem's syntax."""
    a = arg.strip()
    if ecosystem in ("pypi", "conda") and (" @ " in a or re.match(r"^[A-Za-z0-9._-]+(\[[^\]]*\])?\s*@\s*[\w+]+://", a)):
        name, _, location = a.partition("@")  # PEP 508 direct reference: `name @ url`
        spec = read_spec(ecosystem, location.strip())
        return Spec(re.sub(r"\[.*\]", "", name).strip(), spec.source, spec.pinned)
    if a.startswith(_GIT_PREFIX) or re.match(r"^https?://(www\.)?(github\.com|gitlab\.com|bitbucket\.org)/[^/]+/[^/]+"
                                             r"(\.git)?(@[^/]*)?(#.*)?/?$", a):
        name, pinned = _name_from_location(a, ecosystem)
        return Spec(name, "git", pinned)
    if _URL.match(a):
        name, pinned = _name_from_location(a, ecosystem)
        return Spec(name, "url", pinned)  # http(s), ftp and file:// URLs alike
    if ecosystem == "go":
        if a.startswith((".", "/")):
            return Spec(a, "local", None)
        path, _, version = a.partition("@")
        return Spec(path, "index", _exact(version, 3) or bool(_HASH.match(version)))
    if _is_local(a):
        if _ARCHIVE.search(a):
            name, pinned = _name_from_location(a, ecosystem)
            return Spec(name, "local", pinned or None)
        return Spec(a, "local", None)
    if ecosystem == "npm":
        if a.startswith("npm:"):
            a = a[4:]
        if "@npm:" in a:  # alias@npm:real@version
            a = a.split("@npm:", 1)[1]
        if re.match(r"^[\w.-]+/[\w.-]+(#.*)?$", a):  # user/repo: a GitHub shortcut
            name, pinned = _name_from_location(a, ecosystem)
            return Spec(name, "git", pinned)
        m = _NPM_NAME.match(a)
        if m:
            version = (m.group(2) or "").lstrip("=")
            return Spec(m.group(1), "index", _exact(version, 3))
        return Spec(a, "index", False)
    if ecosystem in ("pypi", "conda"):
        if "::" in a:  # conda channel::name
            a = a.split("::", 1)[1]
        m = _PEP440.match(a.split(";", 1)[0])
        if not m:
            return Spec(a, "index", False)
        name, rest = m.group(1), m.group(3).strip()
        if rest.startswith("@"):  # poetry, uv: name@1.2.3, name@^1.2, name@latest
            return Spec(name, "index", _exact(rest[1:].strip().lstrip("=")))
        pin = re.match(r"^(===?|=)\s*([^,;*\s]+)$", rest)  # `=1.2` is conda's pin
        if ecosystem == "pypi" and rest.startswith("=") and not rest.startswith("=="):
            pin = None
        return Spec(name, "index", bool(pin) and _exact(pin.group(2)))
    if ecosystem in ("cargo", "brew", "snap"):
        name, _, version = a.partition("@")
        if ecosystem == "brew" and name.count("/") == 2:  # user/tap/formula: a third-party tap
            return Spec(name, "git", False)
        return Spec(name, "index", bool(version) and (ecosystem == "brew" or _exact(version.lstrip("="), 3)))
    if ecosystem == "gem":
        name, _, version = a.partition(":")
        return Spec(name, "index", bool(version) and _exact(version))
    if ecosystem in ("apt", "apk", "pacman", "port", "choco", "flatpak"):
        m = re.match(r"^([^=<>~]+?)(=|~|>=|<=|>|<)(.+)$", a)
        if m:
            return Spec(m.group(1).split(":")[0].split("/")[0], "index", m.group(2) == "=")
        return Spec(a.split(":")[0].split("/")[0], "index", False)
    if ecosystem == "rpm":
        m = re.match(r"^(.+?)-(\d+(\.\d+)+[^/]*)$", a)
        if m:
            return Spec(m.group(1), "index", True)
        return Spec(a, "index", False)
    if ecosystem == "packagist":
        name, _, version = a.partition(":")
        return Spec(name, "index", bool(version) and _exact(version))
    return Spec(a, "index", False)


# --- the command ----------------------------------------------------------------------------------


@dataclass
class _Option:
    name: str
    word: Text
    value: Text | None


def _scan(args: list[Text], options: dict[str, str], stop_after: int | None = None
          ) -> tuple[list[_Option], list[Text]]:
    """Options (with their values) and positional words; after `stop_after` positionals, or `--`,
    the remaining words are positional and not read as options."""
    opts: list[_Option] = []
    pos: list[Text] = []
    k = 0
    while k < len(args):
        word = args[k]
        v = word.value
        if stop_after is not None and len(pos) >= stop_after:
            pos.extend(args[k:])
            break
        if v == "--":
            pos.extend(args[k + 1:])
            break
        if len(v) > 1 and v.startswith("-") and not re.match(r"^-\d", v):
            name, eq, _ = v.partition("=")
            if eq:
                opts.append(_Option(name, word, word.slice(len(name) + 1)))
            elif v in options:
                takes = options[v] in _VALUED and k + 1 < len(args)
                opts.append(_Option(v, word, args[k + 1] if takes else None))
                k += takes
            elif not v.startswith("--") and len(v) > 2 and options.get(v[:2]) in _VALUED:
                opts.append(_Option(v[:2], word, word.slice(2)))  # -rrequirements.txt, -ihttps://...
            elif not v.startswith("--") and len(v) > 2:
                opts.extend(_Option("-" + ch, word, None) for ch in v[1:])  # -yq: -y -q
            else:
                opts.append(_Option(v, word, None))
        else:
            pos.append(word)
        k += 1
    return opts, pos


def _verb(manager: Manager, pos: list[Text]) -> tuple[str | None, list[Text], list[Text]]:
    """The action, the verb's words and the positionals after it."""
    if len(pos) >= 2 and f"{pos[0].value} {pos[1].value}" in manager.verbs:
        return manager.verbs[f"{pos[0].value} {pos[1].value}"], pos[:2], pos[2:]
    if pos and pos[0].value in manager.verbs:
        return manager.verbs[pos[0].value], pos[:1], pos[1:]
    if manager.default is not None and (not pos or manager.default == "execute" or not manager.verbs):
        return manager.default, [], pos
    return None, [], pos


def _pacman_action(opts: list[_Option]) -> tuple[str | None, Text | None]:
    """pacman's verb is an option: -S (install; -Ss search, -Si info), -R remove, -U local file, -Q query."""
    for o in opts:
        word = o.word.value
        m = re.match(r"^-([SRUQ])([a-zA-Z]*)$", word)
        long = {"--sync": "S", "--remove": "R", "--upgrade": "U", "--query": "Q"}.get(word)
        if m or long:
            op, rest = (m.group(1), m.group(2)) if m else (long, "")
            if op == "S":
                if "s" in rest:
                    return "search", o.word
                if "i" in rest:
                    return "read", o.word
                if "c" in rest and "u" not in rest:
                    return None, None
                return ("upgrade" if "u" in rest else "install"), o.word
            return {"R": "uninstall", "U": "install", "Q": "list"}[op], o.word
    return None, None


def _join(words: list[Text]) -> Text:
    out = words[0]
    for w in words[1:]:
        out = out + Text.constant(" ", (out.span()[1], w.span()[0])) + w
    return out


def package_facts(out: Collector, argv: list[Text], parser: str) -> bool:
    """Facts of one package manager command; True when argv is one this module reads."""
    if not argv:
        return False
    program = argv[0].value.rsplit("/", 1)[-1].lower()
    args = argv[1:]
    if re.match(r"^python[0-9.]*$", program) and len(args) >= 2 and args[0].value == "-m":
        program, args = args[1].value, args[2:]
    program = re.sub(r"^pip[0-9.-]+$", "pip", program)
    manager = MANAGERS.get(program)
    if manager is None:
        return False
    opts, pos = _scan(args, manager.options)
    if manager.ecosystem == "pacman":
        action, verb = _pacman_action(opts)
        verb_words, rest = ([verb] if verb is not None else []), pos
    else:
        action, verb_words, rest = _verb(manager, pos)
    if action == "execute":  # the words after the package are the package's own arguments
        before = len(pos) - len(rest)
        opts, pos = _scan(args, manager.options, stop_after=before + 1)
        rest = pos[before:before + 1]
    if action is None or action == "config" and not _names_index(manager, opts, rest):
        return False
    roles = [(manager.options.get(o.name, "switch"), o) for o in opts]
    extra = [(role, o.value) for role, o in roles
             if role == "index" and o.value is not None and _extra_index(o.value.value, manager)]
    if action == "config":
        extra += [("index", w) for w in rest if _URL.match(w.value) and _extra_index(w.value, manager)]
    trusted = [o.value for role, o in roles if role == "trusted" and o.value is not None]

    operation, action_tag = _ACTIONS[action]
    command_tags = [action_tag] if action_tag in ("uninstall", "upgrade", "tap") else []
    if verb_words and verb_words[0].value == "global":
        command_tags.append("global")
    command_tags += [_SWITCH_TAGS[role] for role, _ in roles if role in _SWITCH_TAGS]
    command_tags += ["extra_index"] * bool(extra) + ["trusted_host"] * bool(trusted)
    command_tags = list(dict.fromkeys(command_tags))
    verb_text = _join(verb_words) if verb_words else argv[0]
    out.operation(operation, verb_text, parser, tuple(t for t in dict.fromkeys([manager.tag, action_tag, *command_tags])
                                                      if t))
    for _, value in extra:
        if "://" in value.value:
            out.url(value, parser)
        elif _is_local(value.value):
            out.target(value, parser, ("package_index",))
    for value in trusted:
        out.host(value, parser, ("trusted_host",))
    for role, o in roles:
        if role == "force":
            out.flag("force", o.word, parser)
        elif role == "yes" and action == "uninstall":
            out.flag("auto_approve", o.word, parser)
        elif role == "command" and o.value is not None and "shell" in PARSERS:
            out.parse("shell", o.value)
    if action not in _WITH_PACKAGES:
        return True

    tags = (manager.tag, *command_tags)
    version = next((o.value for r, o in roles if r == "version" and o.value is not None), None)
    pinned_ref = any(r == "rev" and o.value is not None for r, o in roles)
    git = next((o.value for r, o in roles if r == "git" and o.value is not None), None)
    packages: list[tuple[Text, tuple[str, ...]]] = []
    if action == "execute":
        listed = [o.value for r, o in roles if r == "package" and o.value is not None]
        packages += [(w, ("executed",)) for w in (listed or rest[:1])]
        packages += [(o.value, ("executed",)) for r, o in roles if r == "with" and o.value is not None]
    else:
        packages += [(w, ()) for w in rest]
        packages += [(o.value, ("editable",)) for r, o in roles if r == "editable" and o.value is not None]
        packages += [(o.value, ()) for r, o in roles if r in ("package", "with") and o.value is not None]
    for word, more in packages:
        spec = Spec(word.value, "git", pinned_ref) if git is not None else read_spec(manager.ecosystem, word.value)
        _package(out, parser, manager.ecosystem, word, spec, tags + more, version)
    if git is not None:
        if not packages:
            name, pinned = _name_from_location(git.value, manager.ecosystem)
            _package(out, parser, manager.ecosystem, git, Spec(name, "git", pinned or pinned_ref), tags, None,
                     locate=False)
        out.url(git, parser)
    for role, o in roles:
        if o.value is None:
            continue
        if role == "path":
            _package(out, parser, manager.ecosystem, o.value, Spec(o.value.value, "local", None), tags, None)
        elif role in ("requirements", "constraints"):
            _requirements(out, parser, manager, o.value, tags, role)
    return True


def _names_index(manager: Manager, opts: list[_Option], rest: list[Text]) -> bool:
    """Whether a `config` / `sources` command sets the package index (the only config read here)."""
    if any(manager.options.get(o.name) == "index" for o in opts):
        return True
    words = " ".join(w.value for w in rest).lower()
    return bool(re.search(r"\b(set|add|-a)\b.*(registry|index-url|index_url|extra-index-url|channels?|source)", words))


def _extra_index(value: str, manager: Manager) -> bool:
    """Whether an index, registry or channel is other than the ecosystem's own."""
    if "://" in value:
        try:
            host = (urlsplit(value).hostname or "").lower()
        except ValueError:
            return True
        if host == "conda.anaconda.org":
            return not re.search(r"conda\.anaconda\.org/(conda-forge|bioconda|pytorch|nvidia)(/|$)", value)
        return host not in _DEFAULT_INDEX_HOSTS
    if manager.ecosystem == "conda" or manager.tag == "cargo":
        return value.lower() not in _DEFAULT_CHANNELS
    return True


def _package(out: Collector, parser: str, ecosystem: str, word: Text, spec: Spec, tags: tuple[str, ...],
             version: Text | None, locate: bool = True) -> None:
    """One package fact; with `locate`, also the URL or path the package comes from."""
    pinned = spec.pinned
    if version is not None and spec.source == "index":
        pinned = _exact(version.value.lstrip("="))
    found = list(tags)
    if pinned is not None:
        found.append("pinned" if pinned else "unpinned")
    found.append(spec.source)
    if spec.source == "index":
        typo = typo_of(ecosystem, spec.name)
        if typo:
            found.append(f"typo_of:{typo}")
    if is_miner(spec.name):
        found.append("cryptominer")
    name = spec.name.strip()[:200] or word.value[:200]
    out.add("package", name, word.span(), parser, tuple(dict.fromkeys(found)))
    if not locate:
        return
    if spec.source in ("url", "git") and "://" in word.value:
        at = word.value.find("://")
        start = max(word.value.rfind(c, 0, at) + 1 for c in "+ @")  # git+https://, `name @ https://`
        out.url(word.slice(start), parser)
    elif spec.source == "local":
        out.target(word, parser, ("package_source",))


def _requirements(out: Collector, parser: str, manager: Manager, path: Text, tags: tuple[str, ...],
                  role: str) -> None:
    """A requirements (or constraints) file as a target; when the agent wrote it earlier in the run,
    its requirements become package facts at the file argument's span."""
    out.target(path, parser, ("requirements_file",) if role == "requirements" else ("constraints_file",))
    if role != "requirements":
        return
    content = out.context.files.get(path.value) or out.context.files.get(path.value.removeprefix("./"))
    if not content:
        return
    at = Text.constant(path.value, path.span())
    lines = content.splitlines()[:500]
    extra = ["extra_index" for ln in lines if re.match(r"^\s*(-i|--index-url|--extra-index-url)\b", ln)]
    for line in lines:
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        spec = read_spec(manager.ecosystem, line)
        _package(out, parser, manager.ecosystem, at, spec, tags + ("requirements_file",) + tuple(extra[:1]), None,
                 locate=False)
