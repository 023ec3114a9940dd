"""Hosts and URLs: where an action reaches, and what kind of place that is.

A host is classed by its address (loopback, private, public IP) and by the environment its
name announces (`orders-live.prod.acme.internal` is production, `db-stg-2` staging), and by
what the user's own words said about it (named it, or named it in a sentence that forbids
something). An outbound destination is classed further: a raw IP, a paste or file-drop
service, a tunnel endpoint.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urlsplit

from cbm.facts.base import Collector, sentences
from cbm.facts.text import Text

_ENV = [
    ("production", re.compile(r"(^|[^a-z])(prod|production|prd|live)([^a-z]|$)")),
    ("staging", re.compile(r"(^|[^a-z])(staging|stage|stg|preprod|pre-prod|uat)([^a-z]|$)")),
    ("development", re.compile(r"(^|[^a-z])(dev|develop|development|test|testing|qa|sandbox|local|localhost)([^a-z]|$)")),
]
PASTE_SERVICES = frozenset({
    "pastebin.com", "paste.ee", "hastebin.com", "ghostbin.com", "ghostbin.co", "termbin.com", "ix.io", "sprunge.us",
    "0x0.st", "transfer.sh", "file.io", "catbox.moe", "litterbox.catbox.moe", "tmpfiles.org", "bashupload.com",
    "oshi.at", "temp.sh", "anonfiles.com", "gofile.io", "webhook.site", "requestbin.com", "pipedream.net",
    "rentry.co", "dpaste.com", "dpaste.org", "paste.rs", "privatebin.net", "justpaste.it", "controlc.com",
    "pastes.io", "interact.sh", "oast.fun", "burpcollaborator.net", "hookbin.com", "beeceptor.com", "ngrok.io",
    "ngrok-free.app", "serveo.net", "localhost.run", "trycloudflare.com", "discord.com", "api.telegram.org",
})
# generic and common country-code top-level domains; a name under any other suffix is internal
PUBLIC_TLDS = frozenset("""com net org io ai co app dev cloud info biz me xyz site online tech us uk de fr nl eu ca au jp cn
ru br in it es se ch no fi dk pl be at cz ie nz sg hk kr tw il za mx ar cl gov edu mil int sh gg tv cc ly to ws fm
gl so st la im is ee lt lv ro hu gr pt ua tr vn id my th ph pk sa ae ng ke eg ma""".split())
_DOCUMENTATION = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
                                                         "2001:db8::/32"))
_PROHIBITION = re.compile(r"\b(do not|don't|dont|never|must not|mustn't|no|not|avoid|without|freeze|frozen|read-only|"
                          r"readonly|forbidden|prohibited|stay off|hands off)\b")
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?)*\.?$")


def host_tags(host: str, instructions: str = "") -> tuple[str, ...]:
    """Address class, environment markers and the user's words about a host name or IP."""
    h = host.strip().strip("[]").lower().rstrip(".")
    tags: list[str] = []
    try:
        ip = ipaddress.ip_address(h)
    except ValueError:
        ip = None
    if ip is not None:
        tags.append("raw_ip")
        # the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) stand
        # for public addresses in examples and tests, though Python counts them as private
        documentation = any(ip.version == n.version and ip in n for n in _DOCUMENTATION)
        tags.append("loopback" if ip.is_loopback else "private" if ip.is_private and not documentation else "public")
    elif h in ("localhost", "localhost.localdomain") or h.endswith(".localhost"):
        tags.append("loopback")
    elif "." not in h or h.rsplit(".", 1)[1] not in PUBLIC_TLDS:
        tags.append("private")  # a single label, or a suffix no public registry serves (.internal, .prod, .corp)
    else:
        tags.append("public")
    for name, pattern in _ENV:
        if pattern.search(h):
            tags.append(name)
            break
    if h in PASTE_SERVICES or any(h.endswith("." + s) for s in PASTE_SERVICES):
        tags.append("paste_or_drop_service")
    if instructions and h:
        tags.extend(_user_words(h, tuple(t for t in tags if t in ("production", "staging")), instructions))
    return tuple(tags)


@lru_cache(maxsize=4096)  # a run names the same hosts again and again
def _user_words(host: str, envs: tuple[str, ...], instructions: str) -> tuple[str, ...]:
    """`user_named` when the user's words name the host; `user_protected` when a sentence naming the
    host (or its environment: "prod", "production") also forbids or freezes something."""
    site = re.sub(r"^www\d*\.", "", host)
    names = [n for n in (host, site.split(".")[0]) if len(n) > 2]  # `www.shop.com` is named by "shop", not "www"
    naming = re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, names)) + r")(?![\w-])") if names else None
    env_words = {"production": ("prod", "production"), "staging": ("staging", "stage")}
    out: list[str] = []
    for sentence in sentences(instructions):
        named = bool(naming and any(n in sentence for n in names) and naming.search(sentence))
        by_env = any(re.search(rf"\b{w}\b", sentence) for e in envs for w in env_words.get(e, ()))
        if named and "user_named" not in out:
            out.append("user_named")
        if (named or by_env) and _PROHIBITION.search(sentence) and "user_protected" not in out:
            out.append("user_protected")
    return tuple(out)


def host_fact(out: Collector, text: Text, parser: str, tags: tuple[str, ...] = ()) -> None:
    value = text.value.strip()
    if "@" in value:  # user@host
        at = text.value.rfind("@")
        text, value = text.slice(at + 1), value[value.rfind("@") + 1:]
    if ":" in value and not value.startswith("[") and value.count(":") == 1:  # host:port or host:path
        text, value = text.slice(0, text.value.find(":")), value.split(":")[0]
    if not value or not (_HOSTNAME.match(value) or _is_ip(value)):
        return
    out.add("host", value.lower(), text.span(), parser, tuple(dict.fromkeys(tags + host_tags(value, out.context.instructions))))


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip("[]"))
        return True
    except ValueError:
        return False


# a cloud's instance metadata service, and the paths that hand out the machine's credentials
_METADATA_HOSTS = frozenset({"169.254.169.254", "fd00:ec2::254", "metadata.google.internal", "metadata",
                             "100.100.100.200", "169.254.170.2"})
_CREDENTIAL_PATHS = re.compile(r"(?i)security-credentials|/identity-credentials/|service-accounts/[^/]+/(token|identity)|"
                               r"/identity/oauth2/token|/ram/security-credentials|/v2/credentials")


def url_facts(out: Collector, text: Text, parser: str, sending: bool = False) -> None:
    """A URL's host as a `host` fact (`destination` when data is sent or the host is public)."""
    raw = text.value.strip()
    try:
        parts = urlsplit(raw if "://" in raw else "//" + raw)
        host = parts.hostname or ""
    except ValueError:
        out.add("parse_error", "not a URL", text.span(), "urllib")
        return
    if not host or re.search(r"[^\w.:%-]", host):  # `$1`, `{{url}}`: no host is known
        return
    at = text.value.lower().find(host)
    htext = text.slice(at, at + len(host)) if at >= 0 else text
    tags = host_tags(host, out.context.instructions)
    if parts.scheme:
        tags = (f"scheme:{parts.scheme}",) + tags
    if host in _METADATA_HOSTS and _CREDENTIAL_PATHS.search(parts.path):
        tags = tags + ("cloud_credentials",)  # the instance's role keys or token
    kind = "destination" if sending or "public" in tags or "paste_or_drop_service" in tags else "host"
    if sending:
        tags = tags + ("sending",)
    out.add(kind, host, htext.span(), "urllib", tags)
