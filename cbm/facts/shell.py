"""Shell: what a command line does, read with bashlex, unwrapped layer by layer.

Each simple command is unquoted (spans kept), its variables expanded where their values are
literal, and its wrappers peeled (`sudo`, `env`, `timeout`, `xargs`, `bash -c`, `ssh host`,
`docker exec`, `eval`, aliases and functions defined earlier). What remains is looked up in
`commands.py`'s tables. Payloads that flow through a pipe are followed: `echo BLOB | base64 -d
| sh` parses the decoded blob as shell, with every fact pointing at the blob; `curl URL | bash`
executes downloaded code. Where bashlex cannot parse a line, `shlex` tokens stand in and the
failure is a fact.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import posixpath
import re
import shlex
import unicodedata
from dataclasses import dataclass

import bashlex

from cbm.facts.base import Collector, register
from cbm.facts.text import Text, join


@dataclass
class Payload:
    """What a command writes to its stdout when that is known: literal text, decoded text,
    or downloaded content (`download` is the URL's Text)."""

    text: Text | None = None
    download: Text | None = None
    decoded: bool = False
    origin: str | None = None  # what the output is when its text is unknown: "file ~/.ssh/id_rsa", "environment"
    processes: tuple[Text, ...] = ()  # the output is the PIDs of the processes these names match (`pgrep sshd`)
    classes: tuple[str, ...] = ()  # the classes of the path it was read from (`tar czf - ~`: home)


@dataclass
class Command:
    words: list[Text]
    redirects: list[tuple[str, Text]]  # (operator, target word) e.g. (">", "out.txt")
    stdin: Text | None = None  # a heredoc or here-string body
    substitutions: dict[int, Payload] | None = None  # word index -> payload of a whole-word $(...)
    literal_first: bool = True  # the first word has no quotes or backslashes (else no alias applies)


# --- words -----------------------------------------------------------------------------------------

_ANSI = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "v": "\v",
         "\\": "\\", "'": "'", '"': '"', "?": "?"}
_VAR = re.compile(r"\$(\{([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#])\}|([A-Za-z_][A-Za-z0-9_]*|[0-9@*#]))")


def unescape(text: Text, i: int = 0, j: int | None = None, stop: str = "") -> tuple[Text, int]:
    """Decode `\\xHH`, `\\NNN`, `\\uHHHH` and C escapes (printf, `echo -e`, `$'...'`), each char
    mapped to its escape. Returns the decoded Text and where it stopped (at `stop` or `j`)."""
    s = text.value
    j = len(s) if j is None else j
    chars, starts, ends = [], [], []
    while i < j and s[i] not in stop:
        c = s[i]
        k = i + 1
        if c == "\\" and i + 1 < j:
            e = s[i + 1]
            m = None
            if e == "x":
                m = re.match(r"[0-9a-fA-F]{1,2}", s[i + 2:i + 4])
                c, k = (chr(int(m.group(), 16)), i + 2 + len(m.group())) if m else ("\\x", i + 2)
            elif e in "uU":
                m = re.match(r"[0-9a-fA-F]{1,8}" if e == "U" else r"[0-9a-fA-F]{1,4}", s[i + 2:i + 10])
                try:
                    c, k = (chr(int(m.group(), 16)), i + 2 + len(m.group())) if m else (e, i + 2)
                except (ValueError, OverflowError):
                    c, k = e, i + 2
            elif e in "01234567":
                m = re.match(r"[0-7]{1,3}", s[i + 1:i + 4] if e != "0" else s[i + 2:i + 5])
                if e == "0":
                    c, k = (chr(int(m.group(), 8)), i + 2 + len(m.group())) if m else ("\0", i + 2)
                else:
                    c, k = chr(int(m.group(), 8) & 0xFF), i + 1 + len(m.group())
            else:
                c, k = _ANSI.get(e, "\\" + e), i + 2
        start, end = text.starts[i], text.ends[k - 1]
        for ch in c:
            chars.append(ch)
            starts.append(start)
            ends.append(end)
        i = k
    return Text("".join(chars), tuple(starts), tuple(ends)), i


_SPECIAL = re.compile(r"['\"\\\\$]")  # what unquote acts on
_PLAIN = re.compile(r"[^'\"\\\\$]+")  # a run it keeps as it is


def unquote(text: Text, variables: dict[str, str]) -> Text:
    """A shell word as the command receives it: quotes removed, `$'...'` decoded, literal
    variables expanded (mapped to the `$NAME` that named them), each char keeping its span."""
    s = text.value
    if not _SPECIAL.search(s):  # most words: nothing to remove, decode or expand
        return text
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []

    def keep(i: int, j: int) -> None:  # the word's own characters i:j
        chars.append(s[i:j])
        starts.extend(text.starts[i:j])
        ends.extend(text.ends[i:j])

    def add(part: Text) -> None:
        chars.append(part.value)
        starts.extend(part.starts)
        ends.extend(part.ends)

    i, n = 0, len(s)
    quote = ""
    while i < n:
        c = s[i]
        if quote == "'":
            close = s.find("'", i)
            close = n if close < 0 else close
            keep(i, close)
            if close < n:
                quote = ""
            i = close + 1
        elif c == "'" and not quote:
            quote = "'"
            i += 1
        elif c == "$" and s.startswith("$'", i) and not quote:
            decoded, i = unescape(text, i + 2, n, stop="'")
            add(decoded)
            i += 1
        elif c == '"':
            quote = "" if quote == '"' else '"'
            i += 1
        elif c == "\\" and i + 1 < n:
            nxt = s[i + 1]
            if quote == '"' and nxt not in '$`"\\\n':
                keep(i, i + 1)
                i += 1
            else:
                if nxt != "\n":
                    add(Text(nxt, (text.starts[i],), (text.ends[i + 1],)))
                i += 2
        elif c == "$":
            m = _VAR.match(s, i)
            name = m and (m.group(2) or m.group(3))
            if m and name in variables:
                add(Text.constant(variables[name], text.span(i, m.end())))
                i = m.end()
            else:
                keep(i, i + 1)
                i += 1
        else:
            m = _PLAIN.match(s, i)
            j = m.end() if m and m.end() > i else i + 1
            keep(i, j)
            i = j
    return Text("".join(chars), tuple(starts), tuple(ends))


def _merge(payloads: list[Payload | None]) -> Payload | None:
    """What a list of commands prints, as far as known: the last one's text, and what the others
    print when that is unknown (`(crontab -l; echo LINE)` prints the crontab, then LINE)."""
    known = [p for p in payloads if p is not None]
    if len(known) < 2 or known[-1].text is None:
        return known[-1] if known else None
    last = known[-1]
    return Payload(last.text, last.download, last.decoded, next((p.origin for p in known if p.origin), None),
                   last.processes)


def _heredoc_body(text: Text, node) -> Text:
    body = text.slice(node.pos[0], node.pos[1])
    cut = body.value.rfind("\n")
    return body.slice(0, cut + 1) if cut >= 0 else body


# --- reading the command line -----------------------------------------------------------------------

_URL_VALUE = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)  # postgres://, mysql://, redis://, https://
_HOST_VARIABLE = re.compile(r"HOST(NAME)?$|(^|_)SERVER$")  # PGHOST, DB_HOST, MYSQL_HOST, REDIS_SERVER


def environment_hosts(out: Collector, parser: str, assigned: list[tuple[str, Text]]) -> None:
    """The hosts a command's own environment points it at: `DATABASE_URL=postgres://app@db-prod-1/orders
    alembic upgrade head` or `env PGHOST=db-prod-1 psql` acts on db-prod-1 (the host covers the command)."""
    for name, value in assigned:
        if _URL_VALUE.match(value.value.strip()):
            out.url(value, parser)
        elif _HOST_VARIABLE.search(name.upper()):
            out.host(value, parser)


def _skips_hooks(name: str, value: str) -> bool:
    """Whether a variable set for a git command skips the repository's hooks, as --no-verify does:
    pre-commit's `SKIP=eslint,mypy`, husky's `HUSKY=0` and `HUSKY_SKIP_HOOKS=1`."""
    return (name == "SKIP" and bool(value.strip())) or (name == "HUSKY" and value == "0") or \
        (name == "HUSKY_SKIP_HOOKS" and value.lower() in ("1", "true"))


class _Walker:
    """Turns bashlex's tree into pipelines of `Command`s, in order, and runs them."""

    def __init__(self, out: Collector, text: Text, parser: str):
        self.out, self.text, self.parser = out, text, parser

    def visit(self, node) -> Payload | None:
        kind = node.kind
        if kind == "list":
            return _merge([self.visit(part) for part in node.parts if part.kind != "operator"])
        if kind == "pipeline":
            commands = [p for p in node.parts if p.kind != "pipe"]
            payload = None
            for k, c in enumerate(commands):
                payload = self.visit_stage(c, payload)
            return payload
        if kind == "command":
            return self.visit_stage(node, None)
        if kind == "compound":
            payload = _merge([self.visit(part) for part in node.list if part.kind not in ("reservedword", "operator")])
            for r in getattr(node, "redirects", []) or []:
                self._redirect_facts(r)
            return payload
        if kind in ("for", "while", "until", "if", "case"):
            loop = node.parts[1].word if kind == "for" and len(node.parts) > 1 and node.parts[1].kind == "word" else None
            for part in node.parts:
                if part.kind not in ("reservedword", "operator", "word"):
                    self.visit(part)
                elif part.kind == "word":
                    payload = self._substitutions(part)
                    if loop is not None and payload is not None and payload.processes:  # `for pid in $(pgrep x)`
                        self.out.pids[loop] = payload.processes
            return None
        if kind == "function":
            name = node.name.word
            body = node.body
            self.out.context.functions[name] = self.text.value[body.pos[0]:body.pos[1]]
            self.out.next_command()
            self.out.operation("define", self.text.slice(node.pos[0], node.pos[1]), self.parser, (f"function:{name}",))
            return None
        return None

    def visit_stage(self, node, stdin: Payload | None) -> Payload | None:
        if node.kind != "command":
            return self.visit(node)
        words: list[Text] = []
        redirects: list[tuple[str, Text]] = []
        heredoc: Text | None = None
        subs: dict[int, Payload] = {}
        assigned: list = []
        literal = True
        variables = self.out.context.variables
        for part in node.parts:
            if part.kind == "assignment":
                name, _, value = part.word.partition("=")
                raw = self.text.slice(part.pos[0], part.pos[1])
                eq = raw.value.find("=")
                payload = self._substitutions(part)
                if payload is not None and payload.processes:  # `pid=$(pgrep sshd)`
                    self.out.pids[name] = payload.processes
                if not words:
                    value_text = unquote(raw.slice(eq + 1), variables)
                    if "$(" not in value_text.value and "`" not in value_text.value:
                        variables[name] = value_text.value
                    else:
                        variables.pop(name, None)
                    assigned.append((name, raw, value_text))
                    continue
                words.append(unquote(raw, variables))
            elif part.kind == "word":
                payload = self._substitutions(part)
                if payload is not None:
                    subs[len(words)] = payload
                if not words:
                    literal = not re.search(r"[\\'\"]", self.text.value[part.pos[0]:part.pos[1]])
                words.append(unquote(self.text.slice(part.pos[0], part.pos[1]), variables))
            elif part.kind == "redirect":
                if getattr(part, "heredoc", None) is not None:
                    heredoc = _heredoc_body(self.text, part.heredoc)
                elif part.type == "<<<" and not isinstance(part.output, int):
                    heredoc = unquote(self.text.slice(part.output.pos[0], part.output.pos[1]), variables)
                elif not isinstance(part.output, int):
                    self._substitutions(part.output)
                    redirects.append((part.type, unquote(self.text.slice(part.output.pos[0], part.output.pos[1]),
                                                         variables)))
        if heredoc is not None:
            stdin = Payload(heredoc)
        if not words:
            if redirects:  # `> file` alone truncates it
                self.out.next_command()
                for op, target in redirects:
                    if op in (">", ">|"):
                        self.out.operation("truncate", target, self.parser)
                        self.out.target(target, self.parser)
            elif assigned:  # `X=/etc` alone sets a shell variable
                self.out.next_command()
                for name, raw, _ in assigned:
                    self.out.operation("define", raw, self.parser, (f"variable:{name[:40]}",))
            return None
        if assigned:
            self.out.next_command()
            environment_hosts(self.out, self.parser, [(name, value) for name, _, value in assigned])
        from cbm.facts.commands import run_command

        payload = run_command(self, Command(words, redirects, heredoc, subs, literal), stdin)
        if words[0].value == "git":  # with the git command's own facts, as its --no-verify would be
            for name, raw, value in assigned:
                if _skips_hooks(name, value.value):
                    self.out.flag("no_verify", raw, self.parser)
        return payload

    def _substitutions(self, node) -> Payload | None:
        """Run the `$(...)`, backtick and `<(...)` parts of a word; the payload of a word that
        is exactly one substitution (so `bash -c "$(echo X | base64 -d)"` can read it)."""
        last, whole = None, False
        for part in getattr(node, "parts", []) or []:
            if part.kind in ("commandsubstitution", "processsubstitution"):
                if re.match(r"\$\(:(\s|\)|$)", self.text.value[part.pos[0]:part.pos[1] + 1]):
                    continue  # `$(:)` does nothing (and stands for an arithmetic expansion, see _REWRITES)
                self.out.next_command()
                last = self.visit(part.command)
                span = self.text.value[node.pos[0]:node.pos[1]]
                span = (span.partition("=")[2] if node.kind == "assignment" else span).strip("\"'")
                whole = span.startswith(("$(", "`", "<(")) and span.endswith((")", "`"))
        return last if whole else None

    def _redirect_facts(self, node) -> None:
        if node.kind == "redirect" and not isinstance(node.output, int):
            self._substitutions(node.output)  # `done < <(ps ...)` runs ps
            target = unquote(self.text.slice(node.output.pos[0], node.output.pos[1]), self.out.context.variables)
            from cbm.facts.commands import redirect_facts

            redirect_facts(self, [(node.type, target)], None)


# bashlex fails on a quoted heredoc delimiter (`<<'EOF'`); the same text with the quotes blanked parses
# alike, and keeps every offset
_QUOTED_DELIMITER = re.compile(r"(<<-?)\s*(['\"])(\w+)\2")


@functools.lru_cache(maxsize=2048)
def _parse_tree(source: str) -> list:
    """bashlex's trees, cached by text: agents repeat commands (`git status`, `cd /repo && ...`), and
    the walk never mutates a tree."""
    return bashlex.parse(source)


# bashlex's grammar lacks some of bash's: `[[ ]]`, arithmetic `$(( ))`, `$[ ]`, `(( ))` and `for ((;;))`,
# array assignments `a=(x y)`, the `time` keyword, and `do` on its own line inside `if`. A line that
# fails is read again with each rewritten to text of the same length that means the same to us
# (`[ ]`, a no-op `:`, a quoted word), so every offset still points at the original. Each rewrite:
# (pattern, replacement, whether the walker reads the replacement too or only bashlex does).
_COMMAND_START = r"(^|[;&|\n({]\s*|\b(?:then|do|else|if|elif|while|until|!)\s+)"
_REWRITES: list[tuple[re.Pattern, object, bool]] = [
    (re.compile(r"\[\[(\s[^\n]*?\s)\]\]"),
     lambda m: "[ " + (m.group(1) if re.search(r"\$\(|`", m.group(1)) else re.sub(r"[()<>|&;]", " ", m.group(1)))
     + " ]", True),
    (re.compile(r"\$\(\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*?\)\)"), lambda m: "$(:" + " " * (len(m.group()) - 4) + ")",
     True),
    (re.compile(r"\$\[[^\[\]\n]*\]"), lambda m: "$(:" + " " * (len(m.group()) - 4) + ")", True),
    (re.compile(r"\bfor\s*\(\([^\n]*?\)\)"), lambda m: "for _ in 1".ljust(len(m.group())), True),
    (re.compile(_COMMAND_START + r"\(\([^\n]*?\)\)"), lambda m: m.group(1) + ":".ljust(len(m.group()) - len(m.group(1))),
     True),
    (re.compile(r"([\w\]]\+?=)\(([^()']*)\)"), lambda m: m.group(1) + "'" + m.group(2) + "'", True),
    (re.compile(r"([\w\]]\+?=)\(([^()\"$`]*)\)"), lambda m: m.group(1) + '"' + m.group(2) + '"', True),
    (re.compile(_COMMAND_START + r"time(?=\s)"), lambda m: m.group(1) + "TIME", False),
    (re.compile(r"([^;&|\s])([ \t]*)\n(\s*do\b)"), lambda m: m.group(1) + m.group(2) + ";" + m.group(3), True),
]


def _rewrite(source: str) -> tuple[str, str]:
    """(what bashlex reads, what the walker reads): `source` with the constructs bashlex lacks
    rewritten, every offset kept."""
    parsed, walked = source, source
    for pattern, replace, both in _REWRITES:
        edits = [(m.start(), m.end(), replace(m)) for m in pattern.finditer(parsed)]
        for start, end, new in reversed(edits):
            if len(new) != end - start:
                continue
            parsed = parsed[:start] + new + parsed[end:]
            if both:
                walked = walked[:start] + new + walked[end:]
    return parsed, walked


@register("shell")
def parse_shell(out: Collector, text: Text) -> None:
    """Facts of a shell command line (any number of commands, pipes, lists, heredocs)."""
    if "<<" in text.value and not text.value.endswith("\n"):  # a heredoc may end the text without a newline
        end = text.span()[1]
        text = text + Text.constant("\n", (end, end))
    source = _QUOTED_DELIMITER.sub(lambda m: m.group(1) + " " + m.group(3) + " ", text.value)
    try:
        trees = _parse_tree(source)
    except Exception as exc:  # bashlex raises several types; its failure is a fact, then shlex reads the line
        parsed, walked = _rewrite(source)
        try:
            trees = _parse_tree(parsed) if parsed != source else None
        except Exception:
            trees = None
        if trees is None:
            message = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            out.add("parse_error", f"bashlex: {message}", text.span(), "bashlex")
            _fallback(out, text)
            return
        text = Text(walked, text.starts, text.ends)
    walker = _Walker(out, text, "bashlex")
    for tree in trees:
        walker.visit(tree)


_OPERATORS = {"|", "||", "&&", ";", "&", ";;", "|&", "\n"}


def _fallback(out: Collector, text: Text) -> None:
    """shlex tokens for a line bashlex rejects: words split at `|`, `;`, `&&`, `||`, with their
    raw positions recovered from the lexer's stream, so spans still point at the words."""
    walker = _Walker(out, text, "shlex")
    stream = io.StringIO(text.value)
    lexer = shlex.shlex(stream, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = ""
    stages: list[list[Text]] = [[]]
    pipes: list[bool] = []
    position = 0
    while True:
        try:
            token = lexer.get_token()
        except ValueError as exc:  # unclosed quote: the rest is one word
            out.add("parse_error", f"shlex: {exc}", text.span(position), "shlex")
            rest = text.slice(position).strip()
            if rest.value:
                stages[-1].append(unquote(rest, out.context.variables))
            break
        if token is None or token == lexer.eof:
            break
        end = stream.tell() - len(lexer._pushback_chars)
        start = position
        while start < end and text.value[start].isspace():
            start += 1
        raw_end = end
        while raw_end > start and text.value[raw_end - 1].isspace():
            raw_end -= 1
        position = end
        if token in _OPERATORS:
            pipes.append(token in ("|", "|&"))
            stages.append([])
            continue
        stages[-1].append(unquote(text.slice(start, raw_end), out.context.variables))
    from cbm.facts.commands import run_command

    payload = None
    for k, words in enumerate(stages):
        piped = k > 0 and pipes[k - 1]
        if words:
            payload = run_command(walker, Command(words, []), payload if piped else None)


# --- payload decoding -------------------------------------------------------------------------------

def b64decode(text: Text) -> Text | None:
    """The base64 payload decoded, every char mapped to the blob; None when it is not base64 text."""
    blob = re.sub(r"\s+", "", text.value)
    if len(blob) < 4 or not re.fullmatch(r"[A-Za-z0-9+/=_-]+", blob):
        return None
    try:
        data = base64.b64decode(blob + "=" * (-len(blob) % 4), altchars=b"-_" if "-" in blob or "_" in blob else None)
        decoded = data.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return Text.constant(decoded, text.span())


def hexdecode(text: Text) -> Text | None:
    blob = re.sub(r"\s+|\\x|0x", "", text.value)
    try:
        decoded = bytes.fromhex(blob).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    return Text.constant(decoded, text.span())


# letters of other scripts that look like Latin ones (after NFKC has folded fullwidth `ｒｍ` to `rm`)
_CONFUSABLES = str.maketrans("аеһіјорԛгѕԝхуԁмтсаοαρνιυкАВЕНІЈКМОРСТХ", "aehijopqrswxydmtcaoapviukABEHIJKMOPCTX")


def lookalike(word: str) -> str | None:
    """The ASCII word a Unicode look-alike spells (`ｒｍ`, Cyrillic `гм`), or None when `word` is
    plain ASCII or no look-alike of one."""
    if word.isascii():
        return None
    plain = unicodedata.normalize("NFKC", word).translate(_CONFUSABLES)
    return plain if plain.isascii() and plain != word else None


def basename(word: str) -> str:
    return posixpath.basename(word.rstrip("/")) or word


def parse_argv(out: Collector, words: list[Text]) -> None:
    """An argument vector given as a list (`{"cmd": ["bash", "-lc", "..."]}`): one command whose
    words are already split and unquoted."""
    from cbm.facts.commands import run_command

    if words:
        run_command(_Walker(out, words[0], "argv"), Command(list(words), []), None)
