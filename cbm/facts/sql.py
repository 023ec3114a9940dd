"""SQL: what a statement does to which tables, read with sqlglot in whichever dialect parses it.

The text is split into statements first (quotes, comments and `$$` bodies respected), so that
each statement gets its own command group and its own dialect: the one that read the previous
statement is tried first, then postgres, mysql, sqlite, tsql and sqlglot's generic dialect.

What a statement does (its operation, flags, WHERE scope, row limit) is read from a light
token stream of our own, the same for every dialect and for statements sqlglot cannot read
(those still get their facts, after a `parse_error`). sqlglot's tree gives the tables, with the
character positions of their identifiers. psql meta-commands (`\\dt`, `\\c db`) and sqlite
dot-commands (`.tables`) are read as the client commands they are. Embedded shell commands
(`COPY ... TO PROGRAM`, `xp_cmdshell`) and dynamic SQL (`EXEC('...')`) are handed on.
"""

from __future__ import annotations

import logging
import re
from typing import NamedTuple

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel

from cbm.facts.base import Collector, register
from cbm.facts.text import Text

PARSER = "sqlglot"


class _NoFallbackWarning(logging.Filter):
    """sqlglot warns each time it reads a statement as a generic Command; that is expected here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


logging.getLogger("sqlglot").addFilter(_NoFallbackWarning())

_GRANTS = tuple(getattr(exp, name) for name in ("Grant", "Revoke") if hasattr(exp, name))  # Revoke is recent
_DIALECTS: tuple[tuple[str, Dialect], ...] = tuple(
    (name or "generic", Dialect.get_or_raise(name or None)) for name in ("postgres", "mysql", "sqlite", "tsql", ""))

# --- tokens ----------------------------------------------------------------------------------------

_LEX = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z)|\#(?![\w\#])[^\n]*)
  | (?P<string>(?:[EeNnBbXx](?='))?'(?:[^'\\]|\\.|'')*(?:'|\Z))
  | (?P<dollar>\$(?P<tag>[A-Za-z_]\w*)?\$.*?(?:\$(?P=tag)\$|\Z))
  | (?P<ident>"(?:[^"]|"")*(?:"|\Z)|`(?:[^`]|``)*(?:`|\Z)|\[[^\]\n]*(?:\]|\Z))
  | (?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
  | (?P<word>[A-Za-z_@\#$][\w@\#$]*)
  | (?P<punct>.)
""", re.X | re.S)


class _Tok(NamedTuple):
    kind: str  # word, string, dollar, ident, number, punct
    upper: str  # the token's text, upper-cased for words
    start: int
    end: int
    depth: int  # parenthesis depth


def _lex(s: str) -> list[_Tok]:
    out: list[_Tok] = []
    depth = 0
    make = tuple.__new__  # a NamedTuple without its Python-level __new__: lexing is on the hot path
    for m in _LEX.finditer(s):
        kind = m.lastgroup
        if kind == "space" or kind == "comment":
            continue
        if kind == "tag":  # the named group inside `dollar`
            kind = "dollar"
        value = m.group()
        if kind == "word":
            value = value.upper()
        elif value == ")":
            depth = depth - 1 if depth else 0
        out.append(make(_Tok, (kind, value, m.start(), m.end(), depth)))
        if value == "(":
            depth += 1
    return out


# --- splitting into statements -----------------------------------------------------------------------

_META_LINE = re.compile(r"\\[A-Za-z!?+]*|\.[a-z]+\b")
_SPECIAL = re.compile(r"--|/\*|[;'\"`$\n#]")
_QUOTED = {"'": re.compile(r"'(?:[^'\\]|\\.|'')*'", re.S), '"': re.compile(r'"(?:[^"]|"")*"'),
           "`": re.compile(r"`(?:[^`]|``)*`")}
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_]\w*)?\$")
_GO_LINE = re.compile(r"\n[ \t]*GO[ \t]*(?=\r?\n|\Z)", re.I)
_LEADING = re.compile(r"(?:\s+|--[^\n]*|/\*.*?(?:\*/|\Z)|\#(?![\w\#])[^\n]*)*", re.S)


def _statements(s: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each statement; kind is "sql", "psql" (a backslash meta-command,
    one line) or "dot" (a sqlite dot-command, one line). Semicolons inside quotes, comments and
    dollar-quoted bodies do not split; a T-SQL `GO` line does."""
    out: list[tuple[int, int, str]] = []
    i, n = 0, len(s)
    while True:
        i = _LEADING.match(s, i).end()
        if i >= n:
            return out
        if s[i] == "\\" or (s[i] == "." and _META_LINE.match(s, i)):
            j = s.find("\n", i)
            j = n if j < 0 else j
            out.append((i, j, "psql" if s[i] == "\\" else "dot"))
            i = j
            continue
        start, end = i, n
        while True:
            m = _SPECIAL.search(s, i)
            if m is None:
                i = n
                break
            c, j = m.group(), m.start()
            if c == ";":
                end, i = j, j + 1
                break
            if c == "\n":
                go = _GO_LINE.match(s, j)
                if go:
                    end, i = j, go.end()
                    break
                i = j + 1
            elif c == "--" or (c == "#" and not _is_word_char(s, j + 1)):
                k = s.find("\n", j)
                i = n if k < 0 else k
            elif c == "/*":
                k = s.find("*/", j + 2)
                i = n if k < 0 else k + 2
            elif c in _QUOTED:
                q = _QUOTED[c].match(s, j)
                i = q.end() if q else n
            elif c == "$":
                tag = _DOLLAR_TAG.match(s, j)
                if tag:
                    k = s.find(tag.group(), tag.end())
                    i = n if k < 0 else k + len(tag.group())
                else:
                    i = j + 1
            else:
                i = j + 1
        if s[start:end].strip():
            out.append((start, end, "sql"))
        if i >= n:
            return out


def _is_word_char(s: str, i: int) -> bool:
    return i < len(s) and (s[i].isalnum() or s[i] in "_#")


# --- the vocabulary ----------------------------------------------------------------------------------

_KIND_TAG = {"TABLE": "table", "TABLES": "table", "DATABASE": "database", "DATABASES": "database",
             "SCHEMA": "schema", "SCHEMAS": "schema", "VIEW": "view", "INDEX": "index", "USER": "user", "ROLE": "user",
             "LOGIN": "user", "SEQUENCE": "sequence", "FUNCTION": "function", "PROCEDURE": "procedure",
             "PROC": "procedure", "TRIGGER": "trigger", "TYPE": "type", "EXTENSION": "extension", "DOMAIN": "domain",
             "TABLESPACE": "tablespace", "EVENT": "event", "POLICY": "policy", "RULE": "rule", "SERVER": "server",
             "PUBLICATION": "publication", "SUBSCRIPTION": "subscription", "COLLECTION": "table", "KEYSPACE": "database",
             "WAREHOUSE": "warehouse", "STAGE": "stage", "OWNED": "user"}
_MODIFIERS = {"OR", "REPLACE", "TEMPORARY", "TEMP", "MATERIALIZED", "UNIQUE", "GLOBAL", "LOCAL", "UNLOGGED",
              "EXTERNAL", "FOREIGN", "CLUSTERED", "NONCLUSTERED", "VIRTUAL", "RECURSIVE", "SECURE", "TRANSIENT",
              "VOLATILE", "FULLTEXT", "SPATIAL", "ONLINE", "CONCURRENTLY", "ALGORITHM", "DEFINER", "SQL", "SECURITY",
              "ONLY", "TRUSTED", "PROCEDURAL", "LANGUAGE"}
_USER_KINDS = {"USER", "ROLE", "LOGIN", "OWNED"}
_ELEVATED = {"ALL", "SUPERUSER", "CREATEROLE", "BYPASSRLS", "REPLICATION", "RDS_SUPERUSER", "CLOUDSQLSUPERUSER",
             "AZURE_PG_ADMIN", "SYSADMIN", "DB_OWNER", "DBA", "ACCOUNTADMIN", "SECURITYADMIN", "ADMIN", "SUPER",
             "PG_WRITE_SERVER_FILES", "PG_EXECUTE_SERVER_PROGRAM", "PG_READ_SERVER_FILES"}
_MAINTENANCE = {"VACUUM", "ANALYZE", "ANALYSE", "REINDEX", "OPTIMIZE", "CHECKPOINT", "CLUSTER", "REPAIR", "CHECK",
                "FLUSH", "DBCC", "DISCARD", "PURGE", "RESET", "REFRESH"}
_READ = {"SELECT", "VALUES", "TABLE", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "HELP", "SUMMARIZE", "FROM", "PIVOT",
         "UNPIVOT"}
_WRITE = {"UPDATE", "INSERT", "MERGE", "REPLACE", "UPSERT", "RESTORE", "IMPORT", "LOAD", "RENAME"}
_EXECUTE = {"CALL", "EXEC", "EXECUTE", "DO"}
_OTHER = {"WITH", "GRANT", "REVOKE", "DENY", "SET", "COPY", "DROP", "TRUNCATE", "DELETE", "ALTER", "CREATE", "USE",
          "BEGIN", "START", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END", "ABORT", "LOCK", "UNLOCK", "PRAGMA",
          "ATTACH", "DETACH", "DECLARE", "PREPARE", "DEALLOCATE", "LISTEN", "NOTIFY", "UNLISTEN", "COMMENT",
          "SECURITY", "BACKUP", "KILL", "SHUTDOWN", "INSTALL", "UNINSTALL", "EXPORT", "UNLOAD", "CACHE", "UNCACHE",
          "MSCK", "PRINT", "RAISERROR", "THROW", "IF", "WHILE", "RETURN", "OPEN", "CLOSE", "FETCH", "GO", "BULK",
          "HANDLER", "SOURCE", "CONNECT", "DISCONNECT", "REASSIGN", "WAITFOR", "UPGRADE"}
_STATEMENT_WORDS = _MAINTENANCE | _READ | _WRITE | _EXECUTE | _OTHER
_GUARDED = {"DROP", "DELETE", "TRUNCATE", "UPDATE", "INSERT", "ALTER", "CREATE", "GRANT", "REVOKE", "EXEC",
            "EXECUTE", "SELECT", "MERGE", "WITH"}
_MAIN_VERBS = {"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE", "REPLACE"}
_CLAUSE_END = {"ORDER", "LIMIT", "RETURNING", "OFFSET", "FETCH", "OPTION", "GROUP", "OUTPUT", "HAVING", "WINDOW"}
_FILE_FUNCTIONS = {"PG_READ_FILE": "read", "PG_READ_BINARY_FILE": "read", "LOAD_FILE": "read", "LO_IMPORT": "read",
                   "PG_LS_DIR": "list", "LO_EXPORT": "write", "PG_FILE_WRITE": "write", "READFILE": "read",
                   "WRITEFILE": "write", "LOAD_EXTENSION": "execute", "SYS_EXEC": "execute", "SYS_EVAL": "execute",
                   "PG_TERMINATE_BACKEND": "kill", "PG_CANCEL_BACKEND": "kill"}


# --- the parser ----------------------------------------------------------------------------------------

@register("sql")
def parse_sql(out: Collector, text: Text) -> None:
    """Facts of SQL text: any number of statements, in any of the common dialects."""
    s = text.value
    preferred: list[int] = []
    for start, end, kind in _statements(s):
        stmt = text.slice(start, end).strip()
        if not stmt.value or stmt.value.upper() == "GO":  # a T-SQL batch separator
            continue
        if kind == "psql":
            _psql(out, stmt)
        elif kind == "dot":
            _dot(out, stmt)
        else:
            _statement(out, stmt, preferred)


def _statement(out: Collector, stmt: Text, preferred: list[int]) -> None:
    toks = _lex(stmt.value)
    if not toks:
        return
    first = toks[0]
    if not (first.upper in _STATEMENT_WORDS or first.upper == "("):
        out.add("parse_error", "sqlglot: not an SQL statement", stmt.span(), PARSER)
        return
    if first.upper in ("IF", "WHILE", "ELSE", "BEGIN"):  # T-SQL control flow: the statement it guards
        for tok in toks[1:]:
            if tok.depth == 0 and tok.kind == "word" and tok.upper in _GUARDED:
                _statement(out, stmt.slice(tok.start), preferred)
                return
    out.next_command()
    tree, error = _sqlglot(stmt.value, preferred)
    if error:
        out.add("parse_error", f"sqlglot: {error}", stmt.span(), PARSER)
    _Statement(out, stmt, toks, tree).facts()


def _sqlglot(sql: str, preferred: list[int]) -> tuple[exp.Expression | None, str]:
    """The tree of one statement from the first dialect that reads it (the last one that worked
    is tried first), or the first dialect's error message."""
    order = preferred + [k for k in range(len(_DIALECTS)) if k not in preferred]
    first_error = ""
    for k in order:
        _, dialect = _DIALECTS[k]
        try:
            trees = dialect.parse(sql, error_level=ErrorLevel.IMMEDIATE)
        except Exception as exc:  # ParseError, TokenError, or a sqlglot bug: the next dialect may still read it
            if not first_error:
                first_error = (str(exc).splitlines() or [type(exc).__name__])[0][:120]
            continue
        trees = [t for t in trees if t is not None]
        if not trees:
            return None, ""
        preferred[:] = [k]
        return trees[0], ""
    return None, first_error or "unreadable"


class _Statement:
    """The facts of one statement, from its tokens and (when sqlglot read it) its tree."""

    def __init__(self, out: Collector, stmt: Text, toks: list[_Tok], tree: exp.Expression | None):
        self.out, self.stmt, self.toks, self.tree = out, stmt, toks, tree
        self.nested: list[tuple[str, Text]] = []  # code of another language, handed on at the end
        self.files: list[Text] = []  # files the statement writes or reads (COPY, INTO OUTFILE)

    # -- helpers --
    def text(self, i: int, j: int | None = None) -> Text:
        """Tokens i..j (inclusive) as a slice of the statement."""
        j = i if j is None else j
        return self.stmt.slice(self.toks[i].start, self.toks[j].end)

    def word(self, i: int) -> str:
        return self.toks[i].upper if 0 <= i < len(self.toks) else ""

    def literal(self, i: int) -> Text:
        """A string token's content, quotes removed and doubled quotes undone, spans kept."""
        tok = self.toks[i]
        raw = self.stmt.slice(tok.start, tok.end)
        if tok.kind == "dollar":
            m = re.match(r"\$\w*\$", raw.value)
            k = m.end() if m else 0
            return raw.slice(k, len(raw) - k if len(raw) >= 2 * k else None)
        skip = 1 if raw.value[:1] not in "'\"`[" else 0
        inner = raw.slice(skip + 1, len(raw) - 1 if len(raw) > skip + 1 and raw.value[-1] in "'\"`]" else None)
        q = raw.value[skip]
        if q * 2 not in inner.value:
            return inner
        pieces, k = [], 0
        while True:
            j = inner.find(q * 2, k)
            if j < 0:
                pieces.append(inner.slice(k))
                break
            pieces.append(inner.slice(k, j + 1))
            k = j + 2
        joined = pieces[0]
        for p in pieces[1:]:
            joined = joined + p
        return joined

    def verb(self) -> int:
        """Index of the statement's main keyword: the first, for `WITH ...` the verb after the CTEs,
        and for `EXPLAIN ANALYZE ...` the statement's own (ANALYZE runs it: `EXPLAIN ANALYZE DELETE` deletes)."""
        first = self.toks[0].upper
        if first == "EXPLAIN" and any(t.upper in ("ANALYZE", "ANALYSE") for t in self.toks[1:8]):
            return next((k for k, tok in enumerate(self.toks[1:], 1)
                         if tok.depth == 0 and tok.kind == "word" and tok.upper in _MAIN_VERBS | {"WITH"}), 0)
        if first != "WITH":
            return 0
        for k, tok in enumerate(self.toks[1:], 1):
            if tok.depth == 0 and tok.kind == "word" and tok.upper in _MAIN_VERBS:
                return k
        return 0

    def head(self, v: int) -> tuple[int, str]:
        """Index of the last keyword of the operation phrase (`DROP TABLE`, `CREATE OR REPLACE
        VIEW`, `DELETE FROM`) and the object kind it names ("" when none)."""
        verb = self.word(v)
        if verb == "SET" and self.word(v + 1) == "PASSWORD":
            return v + 1, "USER"
        if verb in ("DELETE", "MERGE") and self.word(v + 1) in ("FROM", "INTO"):
            return v + 1, ""
        if verb in ("INSERT", "REPLACE", "UPSERT") and self.word(v + 1) in ("INTO", "OVERWRITE", "IGNORE"):
            k = v + 1 + (self.word(v + 2) == "INTO")
            return k, ""
        for k in range(v + 1, min(v + 6, len(self.toks))):
            w = self.toks[k]
            if w.kind != "word":
                break
            if w.upper in _KIND_TAG:
                return k, w.upper
            if w.upper not in _MODIFIERS:
                break
        return v, ""

    # -- facts --
    def facts(self) -> None:
        v = self.verb()
        verb = self.word(v)
        h, kind = self.head(v)
        op, tags = self.operation(v, verb, kind)
        self.out.operation(op, self.text(v, h), PARSER, tags)
        for file in self.files:
            self.out.target(file, PARSER, ("file",))
        self.flags()
        if op in ("delete", "write") and verb in ("DELETE", "UPDATE"):
            self.where(v)
        self.limit()
        if not self.tree_targets(kind):
            self.keyword_targets(verb, kind, h)
        self.special(verb, v)
        for language, code in self.nested:
            self.out.parse(language, code)

    def elevates(self, v: int, verb: str) -> tuple[str, ...]:
        """`("grant",)` when a GRANT, CREATE ROLE or ALTER ROLE hands out everything or an admin's
        power (`GRANT ALL`, `ALTER ROLE x SUPERUSER`, `GRANT rds_superuser TO x`), not a narrow right:
        a GRANT's privileges or roles are read up to its ON or TO (`GRANT SELECT ON ALL TABLES ...
        TO admin` is narrow), a role's options after its name."""
        words = [t.upper for t in self.toks[v + 1:] if t.kind == "word"]
        if verb == "GRANT":
            words = words[:next((k for k, w in enumerate(words) if w in ("ON", "TO")), len(words))]
        else:  # CREATE / ALTER ROLE name ...: the name is no option
            at = next((k for k, w in enumerate(words) if w in _USER_KINDS), None)
            words = words[at + 2:] if at is not None else words
        return ("grant",) if set(words) & _ELEVATED else ()

    def operation(self, v: int, verb: str, kind: str) -> tuple[str, tuple[str, ...]]:
        nxt = self.word(v + 1)
        if verb == "DROP":
            return ("user_change" if kind in _USER_KINDS else "drop"), ()
        if verb == "TRUNCATE":
            return "truncate", ()
        if verb == "DELETE":
            return "delete", ()
        if verb in ("ALTER", "RENAME"):
            return ("user_change", self.elevates(v, verb)) if kind in _USER_KINDS else ("write", ())
        if verb == "CREATE":
            return ("user_change", self.elevates(v, verb)) if kind in _USER_KINDS else ("create", ())
        if verb == "GRANT":
            return "user_change", self.elevates(v, verb)
        if verb in ("REVOKE", "DENY", "REASSIGN") or (verb == "SET" and nxt == "PASSWORD"):
            return "user_change", ()
        if verb == "COPY":
            return self.copy_operation(v), ()
        if verb == "LOAD" and nxt not in ("DATA", "XML"):
            return "execute", ("load",)
        if verb in _WRITE:
            return "write", ()
        if verb in _READ or verb == "(" or verb == "WITH":
            return "read", ()
        if verb in _EXECUTE:
            return "execute", ()
        if verb in _MAINTENANCE:
            return "query", (verb.lower(),)
        if verb == "BACKUP":
            return "copy", ()
        if verb == "KILL":
            return "kill", ()
        if verb == "SHUTDOWN":
            return "stop_service", ()
        if verb == "INSTALL":
            return "install", ()
        return "query", ()

    def copy_operation(self, v: int) -> str:
        """`COPY t TO PROGRAM 'cmd'` executes a command; `COPY t TO 'file'` writes a file, `FROM
        'file'` loads a table from one; to STDOUT it is a read."""
        for k in range(v + 1, len(self.toks)):
            if self.toks[k].depth == 0 and self.word(k) in ("TO", "FROM"):
                direction = self.word(k)
                if self.word(k + 1) == "PROGRAM":
                    if k + 2 < len(self.toks) and self.toks[k + 2].kind in ("string", "dollar"):
                        self.nested.append(("shell", self.literal(k + 2)))
                    return "execute"
                if k + 1 < len(self.toks) and self.toks[k + 1].kind in ("string", "dollar"):
                    self.files.append(self.literal(k + 1))
                    return "write"
                return "read" if direction == "TO" else "write"
        return "query"

    def flags(self) -> None:
        toks = self.toks
        for k, tok in enumerate(toks):
            if tok.kind != "word":
                continue
            if tok.upper == "CASCADE" and self.word(k - 1) not in ("DELETE", "UPDATE"):
                self.out.flag("cascade", self.text(k), PARSER)
            elif tok.upper == "IF" and self.word(k + 1) == "EXISTS":
                self.out.flag("if_exists", self.text(k, k + 1), PARSER)

    def where(self, v: int) -> None:
        """`where` (span: the clause), `all_rows` for a clause that is always true (`WHERE 1=1`,
        `... OR 1=1`), or `no_where` (span: the statement)."""
        toks = self.toks
        for k in range(v + 1, len(toks)):
            if toks[k].depth == 0 and toks[k].upper == "WHERE":
                end = k
                while end + 1 < len(toks) and not (toks[end + 1].depth == 0 and toks[end + 1].upper in _CLAUSE_END):
                    end += 1
                value = "all_rows" if _always_true(toks[k + 1:end + 1]) else "where"
                self.out.add("scope", value, self.text(k, end).span(), PARSER)
                return
        self.out.add("scope", "no_where", self.stmt.span(), PARSER)

    def limit(self) -> None:
        toks = self.toks
        for k, tok in enumerate(toks):
            if tok.depth or tok.kind != "word":
                continue
            n = -1
            if tok.upper == "LIMIT" and self.toks_kind(k + 1) == "number":
                n = k + 1
                if self.word(k + 2) == "," and self.toks_kind(k + 3) == "number":  # MySQL LIMIT offset, count
                    n = k + 3
            elif tok.upper == "TOP":
                n = k + 1 if self.toks_kind(k + 1) == "number" else k + 2 if self.toks_kind(k + 2) == "number" else -1
            elif tok.upper == "FETCH" and self.word(k + 1) in ("FIRST", "NEXT") and self.toks_kind(k + 2) == "number":
                n = k + 2
            if n > 0:
                self.out.add("scope", f"rows:{toks[n].upper}", self.text(k, n).span(), PARSER)
                return

    def toks_kind(self, i: int) -> str:
        return self.toks[i].kind if 0 <= i < len(self.toks) else ""

    # -- targets --
    def tree_targets(self, kind: str) -> bool:
        """Targets from sqlglot's tree; False when the tree has none to give (no tree, a generic
        Command, or a statement type without tables)."""
        tree = self.tree
        if tree is None or isinstance(tree, exp.Command):
            return False
        tag = _KIND_TAG.get(kind, "table")
        tables: list[tuple[exp.Expression, str]] = []
        if isinstance(tree, exp.Drop):
            tag = _KIND_TAG.get(str(tree.args.get("kind") or "").upper(), tag)
            tables = [(t, tag) for t in (tree.args.get("tables") or [tree.this]) if t is not None]
        elif isinstance(tree, exp.TruncateTable):
            tag = "database" if tree.args.get("is_database") else "table"
            tables = [(t, tag) for t in tree.expressions]
        elif isinstance(tree, exp.Delete):
            tables = [(t, "table") for t in (tree.args.get("tables") or [tree.this]) if t is not None]
        elif isinstance(tree, (exp.Update, exp.Insert, exp.Merge, exp.Alter, exp.Copy, exp.Describe)):
            tables = [(tree.this, tag)]
        elif isinstance(tree, exp.Create):
            tag = _KIND_TAG.get(str(tree.args.get("kind") or "").upper(), tag)
            this = tree.this
            if isinstance(this, exp.Index):
                tables = [(this.args.get("table"), "table")]
            else:
                tables = [(this, tag)]
        elif isinstance(tree, exp.Use):
            tables = [(tree.this, "database")]
        elif isinstance(tree, _GRANTS):
            securable = tree.args.get("securable")
            tables = [(securable, "table")] if securable is not None and "*" not in securable.sql() else []
            tables += [(p.this, "user") for p in tree.args.get("principals") or [] if p is not None]
        elif isinstance(tree, exp.Query):
            found_tables, ctes = [], set()
            for node in tree.walk():  # one walk for both: walking the tree is most of the cost here
                if isinstance(node, exp.Table):
                    found_tables.append(node)
                elif isinstance(node, exp.CTE):
                    ctes.add(node.alias_or_name.lower())
            tables = [(t, "table") for t in found_tables if t.name and t.name.lower() not in ctes]
        else:
            return False
        found = False
        for node, tag in tables:
            name = _name_text(self.stmt, node)
            if name is not None and name.value.strip():
                self.out.target(name, PARSER, (tag,))
                found = True
        return found or isinstance(tree, exp.Query)

    def keyword_targets(self, verb: str, kind: str, h: int) -> None:
        """Names after the operation phrase (`DROP TABLE IF EXISTS a, b`), for statements
        sqlglot read only as a generic command or not at all."""
        tag = _KIND_TAG.get(kind, "table")
        if verb in ("GRANT", "REVOKE", "DENY"):
            self.grant_targets()
            return
        if verb == "SET":
            if self.word(h) == "PASSWORD" and self.word(h + 1) == "FOR":
                self.name_at(h + 2, "user")
            return
        if verb not in ("DROP", "TRUNCATE", "DELETE", "UPDATE", "INSERT", "REPLACE", "UPSERT", "ALTER", "CREATE",
                        "RENAME", "COPY", "MERGE", "USE", "DESCRIBE", "DESC", "LOCK", "VACUUM", "ANALYZE",
                        "OPTIMIZE", "REINDEX", "BACKUP", "RESTORE", "SELECT"):
            return
        if verb == "USE":
            tag = "database"
        if verb == "SELECT":  # a SELECT sqlglot could not read: the names after FROM and JOIN
            for k, tok in enumerate(self.toks):
                if tok.upper in ("FROM", "JOIN") and tok.kind == "word":
                    self.name_at(k + 1, "table")
            return
        k = h + 1
        while self.word(k) in ("IF", "NOT", "EXISTS", "ONLY", "TABLE", "FROM", "LOW_PRIORITY", "QUICK", "IGNORE",
                               "FULL", "VERBOSE", "INTO"):
            k += 1
        while k < len(self.toks):
            k = self.name_at(k, tag)
            if k < 0 or self.word(k) != "," or verb not in ("DROP", "TRUNCATE", "LOCK", "VACUUM", "ANALYZE",
                                                             "OPTIMIZE"):
                break
            k += 1

    def grant_targets(self) -> None:
        for k, tok in enumerate(self.toks):
            if tok.depth or tok.kind != "word":
                continue
            if tok.upper == "ON":
                j = k + 1
                while self.word(j) in ("TABLE", "ALL", "TABLES", "IN", "SCHEMA", "DATABASE", "SEQUENCE", "FUNCTION"):
                    j += 1
                if self.word(j) != "*":
                    self.name_at(j, "schema" if "SCHEMA" in {self.word(x) for x in range(k + 1, j)} else "table")
            elif tok.upper in ("TO", "FROM"):
                j = k + 1
                while j < len(self.toks):
                    end = self.host_end(j)
                    if self.toks[j].kind in ("word", "string", "ident") and self.word(j) not in ("WITH", "GRANTED"):
                        self.out.target(self.text(j, end), PARSER, ("user",))
                    if self.word(end + 1) != ",":
                        break
                    j = end + 2

    def name_at(self, k: int, tag: str) -> int:
        """A dotted name (or `'user'@'host'`) starting at token k as a target; returns the index
        after it (-1 if none)."""
        if k >= len(self.toks) or self.toks[k].kind not in ("word", "ident", "string"):
            return -1
        if self.toks[k].kind == "word" and self.toks[k].upper in ("SELECT", "WHERE", "SET", "AS", "WITH"):
            return -1
        end = k
        while self.word(end + 1) == "." and self.toks_kind(end + 2) in ("word", "ident"):
            end += 2
        host = self.host_end(end)
        if host > end:  # an account: the raw characters, quotes and all
            self.out.target(self.text(k, host), PARSER, (tag,))
            return host + 1
        parts = [self.literal(x) if self.toks[x].kind in ("ident", "string") else self.text(x)
                 for x in range(k, end + 1, 2)]
        name = parts[0]
        for p in parts[1:]:
            name = name + Text.constant(".", (p.span()[0], p.span()[0])) + p
        self.out.target(name, PARSER, (tag,))
        return end + 1

    def host_end(self, end: int) -> int:
        """The last token of `@host` after token `end` (`end` itself when there is none)."""
        nxt = self.word(end + 1)
        if nxt == "@" and self.toks_kind(end + 2) in ("string", "word", "ident", "number"):
            return end + 2
        if nxt.startswith("@") and len(nxt) > 1:
            return end + 1
        return end

    # -- commands inside SQL --
    def special(self, verb: str, v: int) -> None:
        """Shell commands, file access and dynamic SQL anywhere in the statement."""
        toks = self.toks
        for k, tok in enumerate(toks):
            if tok.kind != "word":
                continue
            name = tok.upper.split(".")[-1]
            if name == "XP_CMDSHELL" or tok.upper.endswith("XP_CMDSHELL"):
                arg = self.string_after(k)
                self.out.operation("execute", self.text(k), PARSER, ("xp_cmdshell",))
                if arg is not None:
                    self.nested.append(("shell", arg))
            elif name == "SP_CONFIGURE" and any(t.kind == "string" and "xp_cmdshell" in t.upper.lower() for t in toks):
                self.out.operation("disable_safeguard", self.text(k), PARSER, ("xp_cmdshell",))
            elif name in _FILE_FUNCTIONS and self.word(k + 1) == "(":
                op = _FILE_FUNCTIONS[name]
                self.out.operation(op, self.text(k), PARSER, (name.lower(),))
                arg = self.string_after(k)
                if arg is not None and op in ("read", "write", "list"):
                    self.out.target(arg, PARSER, ("file",))
            elif tok.upper in ("OUTFILE", "DUMPFILE") and self.word(k - 1) == "INTO":
                self.out.operation("write", self.text(k - 1, k), PARSER, ("into_outfile",))
                arg = self.string_after(k)
                if arg is not None:
                    self.out.target(arg, PARSER, ("file",))
            elif tok.upper == "INFILE" and verb == "LOAD":
                arg = self.string_after(k)
                if arg is not None:
                    self.out.target(arg, PARSER, ("file",))
            elif tok.upper in ("EXEC", "EXECUTE", "SP_EXECUTESQL") and k >= v:
                arg = self.string_after(k, skip=("IMMEDIATE", "SP_EXECUTESQL", "DBO", ".", "SYS"))
                if arg is not None and "XP_CMDSHELL" not in {t.upper for t in toks}:
                    self.nested.append(("sql", arg))

    def string_after(self, k: int, skip: tuple[str, ...] = ()) -> Text | None:
        """The string literal right after token k (past `(`, `=`, `N` prefixes and `skip` words)."""
        j = k + 1
        while j < len(self.toks) and (self.toks[j].upper in ("(", "=", "N", "@COMMAND", "@STMT") or self.word(j) in skip):
            j += 1
        if j < len(self.toks) and self.toks[j].kind in ("string", "dollar"):
            return self.literal(j)
        return None


def _always_true(toks: list[_Tok]) -> bool:
    """A WHERE clause with a top-level disjunct that is always true: `1=1`, `TRUE`, `'a'='a'`."""
    disjunct: list[_Tok] = []
    base = min((t.depth for t in toks), default=0)
    for tok in toks + [_Tok("word", "OR", 0, 0, base)]:
        if tok.upper == "OR" and tok.depth == base:
            vals = [t.upper for t in disjunct if t.upper not in ("(", ")")]
            if vals in (["TRUE"], ["1"]) or (len(vals) == 3 and vals[1] == "=" and vals[0] == vals[2]
                                              and disjunct and disjunct[0].kind in ("number", "string")):
                return True
            disjunct = []
        else:
            disjunct.append(tok)
    return False


def _name_text(stmt: Text, node: exp.Expression | None) -> Text | None:
    """The characters of a table/database name in the statement: its identifier parts, quotes
    removed, joined by dots (each part mapped to its own characters)."""
    if node is None:
        return None
    if isinstance(node, exp.Schema):
        node = node.this
    if isinstance(node, exp.Table):
        parts = [p for p in node.parts if isinstance(p, exp.Identifier)]
    elif isinstance(node, exp.Identifier):
        parts = [node]
    else:
        return None
    texts: list[Text] = []
    for part in parts:
        meta = part.meta
        if "start" in meta and "end" in meta:
            a, b = meta["start"], meta["end"] + 1
            if part.args.get("quoted") and b - a >= 2 and stmt.value[a] in "\"`[":
                a, b = a + 1, b - 1
            elif part.args.get("temporary") and a > 0 and stmt.value[a - 1] == "#":  # T-SQL #temp table
                a -= 1
            texts.append(stmt.slice(a, b))
        else:  # no position from sqlglot: the name's first occurrence in the statement
            at = stmt.value.lower().find(part.name.lower())
            texts.append(stmt.slice(at, at + len(part.name)) if at >= 0 else Text.constant(part.name, stmt.span()))
    if not texts:
        return None
    name = texts[0]
    for t in texts[1:]:
        name = name + Text.constant(".", (t.span()[0], t.span()[0])) + t
    return name


# --- client commands --------------------------------------------------------------------------------

_PSQL = {"l": "list", "list": "list", "c": "read", "connect": "read", "conninfo": "read", "i": "execute",
         "ir": "execute", "include": "execute", "o": "write", "out": "write", "w": "write", "g": "query", "gx": "query",
         "!": "execute", "copy": "write", "q": "other", "x": "other", "timing": "other", "pset": "other",
         "set": "other", "echo": "other", "h": "read", "help": "read", "?": "read", "e": "write", "ef": "read", "sf": "read"}


def _psql(out: Collector, stmt: Text) -> None:
    """A psql backslash command: `\\l` and `\\dt` list, `\\d t` reads t's definition, `\\c db`
    connects, `\\! cmd` runs a shell command, `\\copy` is a client-side COPY."""
    m = re.match(r"\\([A-Za-z?!]+|!)(\+?)[ \t]*", stmt.value)
    if not m:
        return
    name = m.group(1).lower()
    arg = stmt.slice(m.end()).strip()
    out.next_command()
    if name.startswith("!"):
        out.operation("execute", stmt.slice(0, 2), PARSER, ("psql",))
        out.parse("shell", stmt.slice(2).strip())
        return
    if name == "copy":
        _statement(out, stmt.slice(1), [])
        return
    if name.startswith("d"):
        op = "read" if arg.value else "list"
    else:
        op = _PSQL.get(name, "other")
    out.operation(op, stmt.slice(0, m.end(2)), PARSER, ("psql",))
    if arg.value and op != "other":
        word = arg.slice(0, len(arg.value.split()[0]))
        tag = "database" if name in ("c", "connect") else "file" if op in ("execute", "write") else "table"
        out.target(word, PARSER, (tag,))


_DOT = {"tables": "list", "databases": "list", "indexes": "list", "indices": "list", "schema": "read",
        "fullschema": "read", "dump": "read", "show": "read", "dbinfo": "read", "read": "execute",
        "output": "write", "once": "write", "import": "write", "backup": "copy", "save": "copy", "restore": "write",
        "open": "read", "load": "execute", "shell": "execute", "system": "execute"}


def _dot(out: Collector, stmt: Text) -> None:
    """A sqlite3 dot-command: `.tables`, `.schema t`, `.shell cmd`, `.read file`."""
    m = re.match(r"\.([a-z]+)[ \t]*", stmt.value)
    if not m:
        return
    name = m.group(1)
    arg = stmt.slice(m.end()).strip()
    out.next_command()
    op = _DOT.get(name, "other")
    out.operation(op, stmt.slice(0, len(m.group(1)) + 1), PARSER, ("sqlite",))
    if name in ("shell", "system"):
        out.parse("shell", arg)
    elif arg.value and op != "other":
        word = arg.slice(0, len(arg.value.split()[0]))
        out.target(word, PARSER, ("table",) if op in ("read", "list") else ("file",))
