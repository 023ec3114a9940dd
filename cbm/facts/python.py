"""Python: what a piece of code does, read with the standard `ast` module.

Code reaches us as a `python -c` argument, a tool's code argument or a notebook cell. Every
call is looked up by its qualified name (imports and `import ... as` resolved), or by its method
name on an object whose kind we know (`Path(...)`, `socket.socket()`, `requests.Session()`, a
database connection). Arguments that are string literals, or names assigned exactly once to
one, are read with their spans: `path = '/etc/passwd'; open(path)` points at the literal where
the name was assigned. Shell commands (`os.system`, `subprocess`), SQL (`cursor.execute`) and
code run by `exec` (also when it is base64-decoded first) are handed on to their own parsers.

Notebook cells may hold IPython syntax (`!ls`, `%pip install x`): when the code does not parse,
those lines go to the shell parser and the rest is parsed again.
"""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import codecs
import gzip
import lzma
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable

from cbm.facts.base import Collector, register
from cbm.facts.commands import daemon_tags
from cbm.facts.text import Text, join

PARSER = "ast"
_MAX_DEPTH = 12  # of name and expression resolution


# --- source positions -----------------------------------------------------------------------------

class _Source:
    """The code as a Text, and ast's (line, UTF-8 byte column) positions as character offsets."""

    def __init__(self, code: Text):
        self.code = code
        self.value = code.value
        self.starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", self.value)]

    def offset(self, line: int, col: int) -> int:
        start = self.starts[min(line, len(self.starts)) - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.value)
        text = self.value[start:end]
        if text.isascii():
            return start + col
        return start + len(text.encode("utf-8")[:col].decode("utf-8", "ignore"))

    def bounds(self, node: ast.AST) -> tuple[int, int]:
        a = self.offset(node.lineno, node.col_offset)
        b = self.offset(node.end_lineno or node.lineno, node.end_col_offset or node.col_offset)
        return a, max(a, b)

    def text(self, node: ast.AST) -> Text:
        a, b = self.bounds(node)
        return self.code.slice(a, b)


_PREFIX = re.compile(r"([rRbBuUfF]{0,2})('''|\"\"\"|'|\")")
_SIMPLE_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
                   "t": "\t", "v": "\v"}


def _unescape(code: Text, i: int, j: int) -> Text:
    """The characters of a (non-raw) Python string body, escapes decoded, each mapped to its escape."""
    s = code.value
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []

    def put(ch: str, a: int, b: int) -> None:
        span = code.span(a, b)
        chars.append(ch)
        starts.append(span[0])
        ends.append(span[1])

    while i < j:
        c = s[i]
        if c != "\\" or i + 1 >= j:
            put(c, i, i + 1)
            i += 1
            continue
        e = s[i + 1]
        if e in _SIMPLE_ESCAPES:
            put(_SIMPLE_ESCAPES[e], i, i + 2)
            i += 2
        elif e in "\r\n":  # a line continuation inside the literal
            i += 2 + (s[i + 1:i + 3] == "\r\n")
        elif e in "01234567":
            m = re.match(r"[0-7]{1,3}", s[i + 1:i + 4])
            put(chr(int(m.group(), 8)), i, i + 1 + m.end())
            i += 1 + m.end()
        elif e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            try:
                put(chr(int(s[i + 2:i + 2 + width], 16)), i, i + 2 + width)
                i += 2 + width
            except ValueError:
                put(c, i, i + 1)
                i += 1
        elif e == "N" and s[i + 2:i + 3] == "{":
            k = s.find("}", i)
            try:
                put(unicodedata.lookup(s[i + 3:k]), i, k + 1)
                i = k + 1
            except (KeyError, ValueError):
                put(c, i, i + 1)
                i += 1
        else:
            put(c, i, i + 1)
            i += 1
    return Text("".join(chars), tuple(starts), tuple(ends))


# --- IPython syntax -----------------------------------------------------------------------------------

_SHELL_MAGICS = {"pip", "conda", "mamba", "cd", "ls", "rm", "mkdir", "rmdir", "cp", "mv", "cat", "less", "more",
                 "man", "ldir", "lf", "ll", "lsmagic"}
_SHELL_CELLS = re.compile(r"%%(bash|sh|zsh|system|script[ \t]+\S*(?:ba|z|)sh)\b")


def _without_magics(out: Collector, text: Text) -> Text | None:
    """The code with IPython lines replaced by `pass` (their shell commands handed on), the
    common indentation removed; None when the whole cell is a shell or file-writing cell."""
    s = text.value
    lines = [(m.start(), m.end(), m.group(1)) for m in re.finditer(r"([^\r\n]*)(?:\r\n|\r|\n|$)", s) if m.end() > m.start()]
    body = [ln for ln in lines if ln[2].strip()]
    if not body:
        return None
    first = body[0]
    head = first[2].strip()
    rest = text.slice(first[1])
    if _SHELL_CELLS.match(head):
        out.next_command()
        out.parse("shell", rest)
        return None
    m = re.match(r"%%(writefile|file)[ \t]+(-a[ \t]+)?(\S+)", head)
    if m:
        out.next_command()
        at = first[0] + first[2].index(m.group(3))
        out.operation("append" if m.group(2) else "write", text.slice(first[0], at).strip(), PARSER, ("ipython",))
        out.target(text.slice(at, at + len(m.group(3))), PARSER)
        return None
    indent = min(len(ln[2]) - len(ln[2].lstrip()) for ln in body)
    pieces: list[Text] = []
    for start, end, line in lines:
        stripped = line.lstrip()
        lead = len(line) - len(stripped)
        at = start + lead  # where the statement begins
        shell: Text | None = None
        replace = False
        if stripped.startswith("%%"):  # another cell magic (%%time, %%capture): the rest is Python
            replace = True
        elif stripped.startswith("!"):
            shell, replace = text.slice(at + 1 + stripped.startswith("!!"), start + len(line)), True
        elif re.match(r"[A-Za-z_][\w.]*\s*=\s*!", stripped):
            shell, replace = text.slice(at + stripped.index("!") + 1, start + len(line)), True
        elif stripped.startswith("%"):
            name = re.match(r"%+(\w*)", stripped).group(1)
            if name in _SHELL_MAGICS:
                shell = text.slice(at + 1, start + len(line))
            elif name in ("sx", "system", "sh"):
                shell = text.slice(at + 1 + len(name), start + len(line))
            replace = True
        elif re.match(r"(pip3?|conda|mamba|apt(-get)?)[ \t]+(install|uninstall|remove)\b", stripped):
            shell, replace = text.slice(at, start + len(line)), True
        elif re.fullmatch(r"[\w.]+\?\??|\?\??[\w.]+", stripped.rstrip()):  # help: `os.system?`
            replace = True
        if shell is not None and shell.value.strip():
            out.next_command()
            out.parse("shell", shell.strip())
        if replace:
            keep = max(lead - indent, 0)
            pieces.append(Text.constant(" " * keep + "pass", text.span(start, start + max(len(line), 1))))
            pieces.append(text.slice(start + len(line), end))
        else:
            pieces.append(text.slice(min(start + indent, start + lead), end))
    code = pieces[0]
    for piece in pieces[1:]:
        code = code + piece
    return code


def _parse(out: Collector, text: Text) -> tuple[ast.Module, Text] | None:
    """The module tree, after a second try without IPython syntax; a parse_error when neither works."""
    try:
        return ast.parse(text.value), text
    except (SyntaxError, ValueError) as exc:
        error = exc
    code = _without_magics(out, text)
    if code is None:
        return None
    if code.value != text.value:
        try:
            return ast.parse(code.value), code
        except (SyntaxError, ValueError) as exc:
            error = exc
    where = f" (line {error.lineno})" if isinstance(error, SyntaxError) and error.lineno else ""
    message = error.msg if isinstance(error, SyntaxError) else str(error)
    out.add("parse_error", f"ast: {message}{where}"[:160], text.span(), PARSER)
    return None


@register("python")
def parse_python(out: Collector, text: Text) -> None:
    """Facts of Python code (a script, a `-c` argument, a notebook cell)."""
    parsed = _parse(out, text)
    if parsed is not None:
        tree, code = parsed
        _Reader(out, _Source(code), tree).run()


# --- what calls do ------------------------------------------------------------------------------------

# Qualified name -> handler (a `_Reader.on_*` method name, and its argument).
_CALLS: dict[str, tuple[str, str]] = {}


def _calls(handler: str, arg: str, *names: str) -> None:
    for name in names:
        _CALLS[name] = (handler, arg)


_calls("shell", "0", "os.system", "os.popen", "os.popen2", "os.popen3", "subprocess.run", "subprocess.call",
       "subprocess.check_call", "subprocess.check_output", "subprocess.Popen", "subprocess.getoutput",
       "subprocess.getstatusoutput", "commands.getoutput", "commands.getstatusoutput", "pty.spawn",
       "asyncio.create_subprocess_shell", "platform.popen")
_calls("shell", "1", "os.execv", "os.execve", "os.execvp", "os.execvpe", "os.posix_spawn", "os.posix_spawnp")
_calls("shell", "1:", "os.execl", "os.execlp")
_calls("shell", "1:-1", "os.execle", "os.execlpe")
_calls("shell", "2", "os.spawnv", "os.spawnve", "os.spawnvp", "os.spawnvpe")
_calls("shell", "2:", "os.spawnl", "os.spawnlp")
_calls("shell", "0:", "asyncio.create_subprocess_exec")
_calls("file", "delete:1", "os.remove", "os.unlink", "os.rmdir", "os.removedirs", "shutil.rmtree")
_calls("file", "copy:2", "shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree", "distutils.dir_util.copy_tree")
_calls("file", "move:2", "shutil.move", "os.rename", "os.replace", "os.renames")
_calls("file", "chmod:1", "os.chmod", "os.lchmod")
_calls("file", "chown:1", "os.chown", "os.lchown", "shutil.chown")
_calls("file", "list:1", "os.listdir", "os.scandir", "os.walk", "glob.glob", "glob.iglob", "os.fwalk")
_calls("file", "create:1", "os.makedirs", "os.mkdir", "os.mkfifo", "os.mknod")
_calls("file", "create:2", "os.symlink", "os.link")
_calls("file", "truncate:1", "os.truncate")
_calls("file", "change_directory:1", "os.chdir")
_calls("file", "kill:0", "os.kill", "os.killpg", "signal.pthread_kill")
_calls("open", "", "open", "io.open", "codecs.open", "builtins.open", "os.open", "os.fdopen")
for _module in ("requests", "httpx", "niquests", "grequests"):
    _calls("http", "", *(f"{_module}.{verb}" for verb in ("get", "head", "options", "post", "put", "patch", "delete",
                                                          "request", "stream")))
_calls("urlopen", "", "urllib.request.urlopen", "urllib2.urlopen", "urllib.urlopen", "six.moves.urllib.request.urlopen")
_calls("urlretrieve", "", "urllib.request.urlretrieve", "urllib.urlretrieve", "wget.download")
_calls("host", "fetch", "http.client.HTTPConnection", "http.client.HTTPSConnection", "httplib.HTTPConnection",
       "httplib.HTTPSConnection", "telnetlib.Telnet")
_calls("host", "send", "smtplib.SMTP", "smtplib.SMTP_SSL", "ftplib.FTP", "ftplib.FTP_TLS")
_calls("connect", "0", "socket.create_connection")
_calls("dup2", "", "os.dup2")
_calls("eval", "", "eval", "exec", "compile", "builtins.eval", "builtins.exec", "execfile")
_calls("deserialize", "", "pickle.loads", "pickle.load", "cPickle.loads", "cPickle.load", "_pickle.loads",
       "_pickle.load", "dill.loads", "dill.load", "cloudpickle.loads", "cloudpickle.load", "marshal.loads",
       "marshal.load", "shelve.open", "jsonpickle.decode", "joblib.load", "pandas.read_pickle", "yaml.unsafe_load",
       "yaml.unsafe_load_all", "yaml.load", "yaml.load_all", "numpy.load", "torch.load")
_calls("database", "", "sqlite3.connect", "duckdb.connect", "psycopg2.connect", "psycopg.connect", "pymysql.connect",
       "MySQLdb.connect", "mysql.connector.connect", "pyodbc.connect", "cx_Oracle.connect", "oracledb.connect",
       "sqlalchemy.create_engine", "pymongo.MongoClient", "redis.Redis", "redis.StrictRedis", "redis.from_url",
       "asyncpg.connect")
_calls("sql", "0", "pandas.read_sql", "pandas.read_sql_query")
_calls("navigate", "", "webbrowser.open", "webbrowser.open_new", "webbrowser.open_new_tab")
_calls("pip", "", "pip.main", "pip._internal.main", "pip._internal.cli.main.main")
_DECODERS = {"base64.b64decode", "base64.standard_b64decode", "base64.urlsafe_b64decode", "base64.decodebytes",
             "base64.decodestring", "base64.b32decode", "base64.b16decode", "base64.a85decode", "base64.b85decode",
             "binascii.a2b_base64", "binascii.unhexlify", "binascii.a2b_hex", "bytes.fromhex", "codecs.decode",
             "zlib.decompress", "gzip.decompress", "bz2.decompress", "lzma.decompress"}
_calls("decode", "", *_DECODERS)

_KILLS = ("kill", "terminate", "send_signal")  # a process's methods that stop it
# (receiver kind, method) -> handler; kind "" is any receiver (the method name alone is telling).
_METHODS: dict[tuple[str, str], tuple[str, str]] = {
    **{("http", verb): ("http", "") for verb in ("get", "head", "options", "post", "put", "patch", "delete",
                                                  "request", "stream")},
    ("http_conn", "request"): ("http_conn", ""), ("http_conn", "putrequest"): ("http_conn", ""),
    ("socket", "connect"): ("connect", "0"), ("socket", "connect_ex"): ("connect", "0"),
    ("socket", "sendto"): ("connect", "1"),
    **{("", m): ("sql", "0") for m in ("execute", "executemany", "executescript", "exec_driver_sql", "read_sql",
                                       "read_sql_query")},
    ("spark", "sql"): ("sql", "0"),
    ("", "exec_command"): ("shell", "0"),
    ("ipython", "system"): ("shell", "0"), ("ipython", "getoutput"): ("shell", "0"),
    ("ipython", "run_line_magic"): ("magic", ""), ("ipython", "run_cell_magic"): ("magic", ""),
    **{("", m): ("path", op) for m, op in (("unlink", "delete"), ("rmdir", "delete"), ("read_text", "read"),
                                            ("read_bytes", "read"), ("write_text", "write"), ("write_bytes", "write"),
                                            ("iterdir", "list"), ("rglob", "list"), ("touch", "create"),
                                            ("symlink_to", "create"), ("hardlink_to", "create"))},
    **{("path", m): ("path", op) for m, op in (("open", "open"), ("rename", "move"), ("replace", "move"),
                                                ("chmod", "chmod"), ("lchmod", "chmod"), ("mkdir", "create"),
                                                ("glob", "list"), ("walk", "list"))},
    **{("process", m): ("file", "kill:0") for m in _KILLS},
    ("ssh", "connect"): ("host", "send"),
}

_KINDS: dict[str, str] = {
    **dict.fromkeys(("pathlib.Path", "pathlib.PosixPath", "pathlib.PurePath", "pathlib.PurePosixPath",
                     "pathlib.WindowsPath", "Path", "PosixPath", "pathlib.Path.home", "pathlib.Path.cwd",
                     "Path.home", "Path.cwd"), "path"),
    **dict.fromkeys(("socket.socket", "socket.create_connection", "socket.fromfd", "ssl.wrap_socket", "socket"),
                    "socket"),
    **dict.fromkeys(("requests.Session", "requests.session", "httpx.Client", "httpx.AsyncClient",
                     "aiohttp.ClientSession", "urllib3.PoolManager", "niquests.Session"), "http"),
    **dict.fromkeys(("http.client.HTTPConnection", "http.client.HTTPSConnection", "httplib.HTTPConnection",
                     "httplib.HTTPSConnection"), "http_conn"),
    **dict.fromkeys(("sqlite3.connect", "duckdb.connect", "psycopg2.connect", "psycopg.connect", "pymysql.connect",
                     "MySQLdb.connect", "mysql.connector.connect", "pyodbc.connect", "sqlalchemy.create_engine",
                     "cx_Oracle.connect", "oracledb.connect"), "db"),
    **dict.fromkeys(("psutil.Process", "subprocess.Popen"), "process"),
    "get_ipython": "ipython", "IPython.get_ipython": "ipython", "paramiko.SSHClient": "ssh", "ftplib.FTP": "ftp",
    "pyspark.sql.SparkSession.builder.getOrCreate": "spark",
}
# Calls that give back objects of a kind one at a time: `for proc in psutil.process_iter()`.
_ITERATORS = {"psutil.process_iter": "process"}
# Methods that give back an object of the receiver's kind.
_SAME_KIND = {"path": {"expanduser", "resolve", "absolute", "joinpath", "with_name", "with_suffix", "parent",
                       "with_stem"},
              "db": {"cursor", "connect", "begin", "raw_connection", "execute"}, "socket": {"accept"}}
_HTTP_SENDING = {"post", "put", "patch", "delete"}
_RECEIVE = {"recv", "recvfrom", "recvmsg"}  # socket methods that read what the other end sent
_STRING_PASS = {"str", "os.fspath", "os.path.expanduser", "os.path.abspath", "os.path.realpath", "os.path.normpath",
                "os.path.expandvars", "shlex.quote", "pipes.quote", "textwrap.dedent", "sqlalchemy.text",
                "sqlalchemy.sql.text", "text", "inspect.cleandoc"}


_PLAIN = frozenset({ast.Name, ast.Attribute, ast.Constant, ast.keyword, ast.Expr, ast.BinOp, ast.Compare,
                    ast.Subscript, ast.List, ast.Tuple, ast.Dict, ast.If, ast.Return, ast.JoinedStr,
                    ast.FormattedValue, ast.BoolOp, ast.UnaryOp, ast.arguments, ast.alias, ast.Module})


def _walk(tree: ast.AST) -> list[ast.AST]:
    """Every node below `tree` (any order), skipping the Load/Store markers; quicker than ast.walk."""
    out: list[ast.AST] = []
    stack = [tree]
    node_type = ast.AST
    while stack:
        node = stack.pop()
        out.append(node)
        for name in node._fields:
            if name == "ctx":
                continue
            value = getattr(node, name, None)
            if value.__class__ is list:
                stack.extend(x for x in value if isinstance(x, node_type))
            elif isinstance(value, node_type):
                stack.append(value)
    return out


class _Reader:
    """One module's facts: a first pass learns imports and single assignments, a second reads
    every call in source order."""

    def __init__(self, out: Collector, src: _Source, tree: ast.Module):
        self.out, self.src, self.tree = out, src, tree
        self.aliases: dict[str, str] = {}
        self.values: dict[str, ast.expr] = {}
        self.done: set[int] = set()  # calls already read as part of another (a decode inside exec)
        self.connects: list[ast.Call] = []
        self.dup2 = False
        self.spawn_fileno = False  # a shell spawned with a socket's fileno() as stdin/stdout
        self.spawns = 0
        self.remote_commands: list[ast.Call] = []  # commands or code run from what a socket received
        self.loop_kinds: dict[str, str] = {}  # a loop variable over `psutil.process_iter()`: "process"
        self.looked_up: dict[int, list[Text]] = {}  # a kill in such a loop (by id): the names it is guarded by

    # -- first pass --
    def run(self) -> None:
        counts: Counter[str] = Counter()
        values: dict[str, ast.expr] = {}
        calls: list[ast.Call] = []
        loops: list[tuple[ast.expr, ast.expr, list[ast.AST], list[ast.expr]]] = []  # target, iter, body, conditions
        for node in _walk(self.tree):
            cls = node.__class__
            if cls is ast.Call:
                calls.append(node)
            elif cls in _PLAIN:
                continue
            elif cls is ast.Import:
                for a in node.names:
                    if a.asname:
                        self.aliases[a.asname] = a.name
                    else:
                        root = a.name.split(".")[0]
                        self.aliases[root] = root
            elif cls is ast.ImportFrom:
                if node.module and not node.level:
                    for a in node.names:
                        self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
            elif cls is ast.Assign:
                for target in node.targets:
                    self._bind(target, node.value, counts, values)
            elif cls is ast.AnnAssign or cls is ast.NamedExpr:
                self._bind(node.target, node.value, counts, values)
            elif cls in (ast.AugAssign, ast.For, ast.AsyncFor, ast.comprehension):
                self._bind(node.target, None, counts, values)
                if cls is ast.For or cls is ast.AsyncFor:
                    loops.append((node.target, node.iter, node.body, []))
            elif cls in (ast.ListComp, ast.SetComp, ast.GeneratorExp):
                loops += [(g.target, g.iter, [node.elt], g.ifs) for g in node.generators]
            elif cls is ast.withitem:
                if node.optional_vars is not None:
                    self._bind(node.optional_vars, node.context_expr, counts, values)
            elif cls is ast.arg:
                counts[node.arg] += 1
            elif cls in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
                counts[node.name] += 1
            elif cls is ast.ExceptHandler and node.name:
                counts[node.name] += 1
        self.values = {name: v for name, v in values.items() if counts[name] == 1}
        for loop in loops:
            self.iterate(*loop)
        calls.sort(key=lambda c: (c.lineno, c.col_offset, -(c.end_lineno or 0), -(c.end_col_offset or 0)))
        for call in calls:
            self.call(call)
        self.reverse_shell()

    @staticmethod
    def _bind(target: ast.AST, value: ast.expr | None, counts: Counter, values: dict) -> None:
        if isinstance(target, ast.Name):
            counts[target.id] += 1
            if value is not None:
                values[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            same = isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts)
            for k, elt in enumerate(target.elts):
                _Reader._bind(elt, value.elts[k] if same else None, counts, values)
        elif isinstance(target, ast.Starred):
            _Reader._bind(target.value, None, counts, values)

    def iterate(self, target: ast.expr, iterable: ast.expr, body: list[ast.AST], conditions: list[ast.expr]) -> None:
        """A loop over processes (`for proc in psutil.process_iter()`): its variable is a process, and
        a kill of it inside the loop kills the processes its guards name (`if "sshd" in proc.name()`,
        not `"sshd" not in ...`)."""
        if not (isinstance(target, ast.Name) and isinstance(iterable, ast.Call)):
            return
        kind = _ITERATORS.get(self.qual(iterable.func))
        if kind is None:
            return
        self.loop_kinds[target.id] = kind
        nodes = [n for part in body for n in _walk(part)]
        guards = [n for n in nodes if isinstance(n, ast.If)]
        for call in nodes:
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in _KILLS \
                    and isinstance(call.func.value, ast.Name) and call.func.value.id == target.id:
                tests = conditions + [g.test for g in guards if any(n is call for b in g.body for n in _walk(b))]
                self.looked_up[id(call)] = [t for test in tests for t in self.named(test)]

    def named(self, test: ast.expr) -> list[Text]:
        """The strings a condition holds a value equal to or among (`name == "sshd"`, `"cron" in cmd`,
        `name in ("a", "b")`), through `and` / `or`; a negated test names none."""
        if isinstance(test, ast.BoolOp):
            return [t for value in test.values for t in self.named(value)]
        if not isinstance(test, ast.Compare) or not all(isinstance(op, (ast.Eq, ast.In)) for op in test.ops):
            return []
        found = []
        for side in [test.left, *test.comparators]:
            for c in side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]:
                if isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value.strip():
                    found.append(self.literal(c))
        return found

    # -- names, kinds, strings --
    def resolve(self, node: ast.AST, depth: int = 0) -> ast.AST:
        """A name assigned exactly once stands for its value."""
        while isinstance(node, ast.Name) and node.id in self.values and depth < _MAX_DEPTH:
            node = self.values[node.id]
            depth += 1
        return node

    def qual(self, node: ast.AST, depth: int = 0) -> str:
        """The dotted, import-resolved name of a callable (`sp.run` -> `subprocess.run`)."""
        if depth > _MAX_DEPTH:
            return ""
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return self.aliases[node.id]
            value = self.values.get(node.id)
            if isinstance(value, (ast.Name, ast.Attribute)):
                return self.qual(value, depth + 1)
            return node.id
        if isinstance(node, ast.Attribute):
            base = self.qual(node.value, depth + 1)
            return f"{base}.{node.attr}" if base else ""
        if isinstance(node, ast.Call):  # __import__('os').system, getattr(os, 'system')
            name = self.qual(node.func, depth + 1)
            if name in ("__import__", "importlib.import_module") and node.args:
                module = self.string(node.args[0])
                return module.value if module is not None else ""
            if name == "getattr" and len(node.args) >= 2:
                attr = self.string(node.args[1])
                base = self.qual(node.args[0], depth + 1)
                return f"{base}.{attr.value}" if attr is not None and base else ""
        return ""

    def kind(self, node: ast.AST, depth: int = 0) -> str:
        """What kind of object an expression gives: "path", "socket", "http", "db", ... or ""."""
        node = self.resolve(node)
        if depth > _MAX_DEPTH:
            return ""
        if isinstance(node, ast.Call):
            name = self.qual(node.func)
            if name in _KINDS:
                return _KINDS[name]
            if name.endswith(".getOrCreate"):
                return "spark"
            if isinstance(node.func, ast.Attribute):
                base = self.kind(node.func.value, depth + 1)
                if node.func.attr in _SAME_KIND.get(base, ()):
                    return base
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return "path" if self.kind(node.left, depth + 1) == "path" else ""
        elif isinstance(node, ast.Attribute):
            base = self.kind(node.value, depth + 1)
            return base if node.attr in _SAME_KIND.get(base, ()) else ""
        elif isinstance(node, ast.Name) and node.id == "spark":
            return "spark"
        elif isinstance(node, ast.Name):
            return self.loop_kinds.get(node.id, "")
        return ""

    def literal(self, node: ast.Constant) -> Text:
        """A str/bytes literal's value, mapped character by character where its source allows."""
        value = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
        a, b = self.src.bounds(node)
        raw = self.src.value[a:b]
        m = _PREFIX.match(raw)
        if m and len(raw) >= m.end() + len(m.group(2)) and raw.endswith(m.group(2)):
            i, j = a + m.end(), b - len(m.group(2))
            if self.src.value[i:j] == value:
                return self.src.code.slice(i, j)
            if "r" not in m.group(1).lower():
                decoded = _unescape(self.src.code, i, j)
                if decoded.value == value:
                    return decoded
        return Text.constant(value, self.src.code.span(a, b))

    def placeholder(self, node: ast.AST) -> Text:
        """An unknown value inside a string we know in part: `${name}`, pointing at the expression."""
        name = self.qual(node) if isinstance(node, (ast.Name, ast.Attribute)) else ""
        name = re.sub(r"\W", "_", name) or "value"
        return Text.constant("${" + name + "}", self.src.text(node).span())

    def string(self, node: ast.AST | None, loose: bool = False, depth: int = 0) -> Text | None:
        """The string an expression evaluates to, when it is built from literals (names assigned
        once, `+`, f-strings, `os.path.join`, `Path(...) / ...`, decoders). With `loose`, unknown
        parts of a partly known string become `${name}` placeholders."""
        if node is None or depth > _MAX_DEPTH:
            return None
        d = depth + 1

        def part(sub: ast.AST) -> Text | None:
            got = self.string(sub, loose, d)
            return got if got is not None or not loose else self.placeholder(sub)

        if isinstance(node, ast.Constant):
            if isinstance(node.value, (str, bytes)):
                return self.literal(node)
            if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
                source = self.src.text(node)
                return source if source.value == str(node.value) else Text.constant(str(node.value), source.span())
            return None
        if isinstance(node, ast.Name):
            value = self.values.get(node.id)
            return self.string(value, loose, d) if value is not None else None
        if isinstance(node, ast.Attribute):
            name = self.qual(node)
            if name == "sys.executable":
                return Text.constant("python", self.src.text(node).span())
            if name in ("os.sep", "os.path.sep"):
                return Text.constant("/", self.src.text(node).span())
            return None
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Add):
                left, right = part(node.left), part(node.right)
                return left + right if left is not None and right is not None else None
            if isinstance(node.op, ast.Mod):  # "..." % args: the format string
                return self.string(node.left, loose, d)
            if isinstance(node.op, ast.Div) and self.kind(node.left) == "path":
                return self.path(node, loose, d)
            return None
        if isinstance(node, ast.JoinedStr):
            return self.fstring(node, loose, d)
        if isinstance(node, ast.Call):
            return self.call_string(node, loose, d, part)
        return None

    def fstring(self, node: ast.JoinedStr, loose: bool, depth: int) -> Text | None:
        a, b = self.src.bounds(node)
        pos = a
        parts: list[Text] = []
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                at = self.src.value.find(value.value, pos, b)
                if at >= 0:
                    parts.append(self.src.code.slice(at, at + len(value.value)))
                    pos = at + len(value.value)
                else:
                    parts.append(Text.constant(value.value, self.src.code.span(a, b)))
            elif isinstance(value, ast.FormattedValue):
                got = self.string(value.value, loose, depth)
                if got is None:
                    if not loose:
                        return None
                    got = self.placeholder(value.value)
                    if not (a <= self.src.bounds(value.value)[0] <= b):  # a position ast got wrong
                        got = Text.constant(got.value, self.src.code.span(a, b))
                parts.append(got)
                pos = max(pos, self.src.bounds(value.value)[1]) if value.value.lineno else pos
        return join(parts, "") if parts else Text.constant("", self.src.code.span(a, b))

    def call_string(self, node: ast.Call, loose: bool, depth: int, part: Callable) -> Text | None:
        func = node.func
        name = self.qual(func)
        if name in _DECODERS or (isinstance(func, ast.Attribute) and func.attr == "decode"
                                 and isinstance(self.resolve(func.value), ast.Call)):
            return self.decoded(node)
        if name in _STRING_PASS and node.args:
            return self.string(node.args[0], loose, depth)
        if name in ("os.path.join", "posixpath.join", "ntpath.join") and node.args:
            parts = [part(arg) for arg in node.args]
            if any(p is None for p in parts):
                return None
            start = max((k for k, p in enumerate(parts) if p.value.startswith("/")), default=0)
            out = parts[start]
            for p in parts[start + 1:]:
                sep = "" if out.value.endswith("/") else "/"
                out = out + Text.constant(sep, (p.span()[0], p.span()[0])) + p if sep else out + p
            return out
        if isinstance(func, ast.Attribute):
            receiver = self.resolve(func.value)
            if func.attr == "format" or func.attr in ("strip", "lstrip", "rstrip", "encode", "decode"):
                return self.string(func.value, loose, depth)
            if func.attr == "join" and node.args and isinstance(self.resolve(node.args[0]), (ast.List, ast.Tuple)):
                sep = self.string(receiver, False, depth)
                items = [part(e) for e in self.resolve(node.args[0]).elts]
                if sep is None or any(i is None for i in items):
                    return None
                return join(items, sep.value)
        if self.kind(node) == "path":
            return self.path(node, loose, depth)
        return None

    def path(self, node: ast.AST, loose: bool = False, depth: int = 0) -> Text | None:
        """The path a `Path(...)` expression names (`Path.home() / '.ssh'` is `~/.ssh`)."""
        node = self.resolve(node)
        if depth > _MAX_DEPTH:
            return None
        d = depth + 1
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            left = self.path(node.left, loose, d)
            right = self.string(node.right, loose, d)
            if right is None and loose:
                right = self.placeholder(node.right)
            if left is None or right is None:
                return None
            return left + Text.constant("/", (right.span()[0], right.span()[0])) + right
        if isinstance(node, ast.Call):
            name = self.qual(node.func)
            span = self.src.text(node).span()
            if name.endswith(".home") or name == "os.path.expanduser":
                return Text.constant("~", span) if name.endswith(".home") else self.string(node.args[0], loose, d)
            if name.endswith(".cwd"):
                return Text.constant(".", span)
            if _KINDS.get(name) == "path":
                if not node.args:
                    return Text.constant(".", span)
                parts = [self.string(arg, loose, d) for arg in node.args]
                return join(parts, "/") if all(p is not None for p in parts) else None
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("expanduser", "resolve", "absolute"):
                return self.path(node.func.value, loose, d)
            if isinstance(node.func, ast.Attribute) and node.func.attr == "joinpath":
                left = self.path(node.func.value, loose, d)
                parts = [self.string(arg, loose, d) for arg in node.args]
                if left is None or any(p is None for p in parts):
                    return None
                return join([left, *parts], "/")
        return self.string(node, loose, d) if not isinstance(node, ast.Call) else None

    def decoded(self, node: ast.Call) -> Text | None:
        """A decoded literal (base64, hex, compressed), every character mapped to the blob, with a
        `decoded` fact; None when it is not a literal or does not decode to text."""
        got = self.decode_bytes(node, 0)
        if got is None:
            return None
        data, span = got
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if id(node) not in self.done:
            for sub in ast.walk(node):  # the decoders inside are read with it
                if isinstance(sub, ast.Call):
                    self.done.add(id(sub))
            self.out.add("decoded", value[:80], span, PARSER)
        return Text.constant(value, span)

    def decode_bytes(self, node: ast.AST, depth: int) -> tuple[bytes, tuple[int, int]] | None:
        node = self.resolve(node)
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            text = self.literal(node)
            data = node.value if isinstance(node.value, bytes) else node.value.encode("utf-8", "surrogatepass")
            return data, text.span()
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("encode", "decode") and not node.args[1:]:
            inner = self.decode_bytes(func.value, depth + 1)
            if inner is None or func.attr == "encode":
                return inner
            codec = self.string(node.args[0]) if node.args else None
            if codec is not None and codec.value.lower().replace("-", "_") in ("hex", "base64", "rot13", "rot_13",
                                                                               "zlib", "bz2"):
                return self._codec(inner, codec.value)
            return inner
        name = self.qual(func)
        if name not in _DECODERS or not node.args:
            return None
        inner = self.decode_bytes(node.args[0], depth + 1)
        if inner is None:
            return None
        data, span = inner
        try:
            if name == "codecs.decode":
                codec = self.string(node.args[1]) if len(node.args) > 1 else None
                return self._codec(inner, codec.value if codec is not None else "utf-8")
            if name in ("bytes.fromhex", "binascii.unhexlify", "binascii.a2b_hex", "base64.b16decode"):
                return bytes.fromhex(re.sub(rb"\s+", b"", data).decode("ascii")), span
            if name in ("zlib.decompress", "gzip.decompress", "bz2.decompress", "lzma.decompress"):
                module = {"zlib": zlib, "gzip": gzip, "bz2": bz2, "lzma": lzma}[name.split(".")[0]]
                return module.decompress(data), span
            decoder = {"base64.b32decode": base64.b32decode, "base64.a85decode": base64.a85decode,
                       "base64.b85decode": base64.b85decode}.get(name)
            if decoder is not None:
                return decoder(data), span
            blob = re.sub(rb"\s+", b"", data)
            if b"-" in blob or b"_" in blob:
                blob = blob.replace(b"-", b"+").replace(b"_", b"/")
            return base64.b64decode(blob + b"=" * (-len(blob) % 4)), span
        except (binascii.Error, ValueError, zlib.error, OSError, EOFError, lzma.LZMAError, UnicodeError):
            return None

    @staticmethod
    def _codec(inner: tuple[bytes, tuple[int, int]], codec: str) -> tuple[bytes, tuple[int, int]] | None:
        data, span = inner
        name = codec.lower().replace("-", "_")
        try:
            if name in ("rot13", "rot_13"):
                return codecs.decode(data.decode("utf-8"), "rot13").encode("utf-8"), span
            if name in ("hex", "base64", "zlib", "bz2"):
                return codecs.decode(data, name), span
        except (binascii.Error, ValueError, zlib.error, OSError, UnicodeError):
            return None
        return inner

    # -- arguments --
    @staticmethod
    def arg(node: ast.Call, index: int, *names: str) -> ast.expr | None:
        for kw in node.keywords:
            if kw.arg in names:
                return kw.value
        if index < len(node.args) and not isinstance(node.args[index], ast.Starred):
            return node.args[index]
        return None

    @staticmethod
    def keyword(node: ast.Call, name: str) -> ast.expr | None:
        return next((kw.value for kw in node.keywords if kw.arg == name), None)

    def target(self, node: ast.AST | None, tags: tuple[str, ...] = ()) -> None:
        text = self.string(node, loose=True) if node is not None else None
        if text is None and node is not None and self.kind(node) == "path":
            text = self.path(node, loose=True)
        if text is not None and text.value.strip() and text.value.strip() != ":memory:":
            self.out.target(text, PARSER, tags)

    def argv(self, node: ast.AST | None) -> Text | None:
        """A command as shell text: a string as it is, a list of words quoted and joined."""
        node = self.resolve(node) if node is not None else None
        if node is None:
            return None
        if isinstance(node, (ast.List, ast.Tuple)):
            return self.words(node.elts)
        if isinstance(node, ast.Call):
            name = self.qual(node.func)
            if name == "shlex.split" and node.args:
                return self.string(node.args[0], loose=True)
            if isinstance(node.func, ast.Attribute) and node.func.attr == "split" and not node.args:
                return self.string(node.func.value, loose=True)
        return self.string(node, loose=True)

    def words(self, elts: list[ast.expr]) -> Text | None:
        words: list[Text] = []
        for elt in elts:
            if isinstance(elt, ast.Starred):
                inner = self.resolve(elt.value)
                if isinstance(inner, (ast.List, ast.Tuple)):
                    more = self.words(inner.elts)
                    if more is not None:
                        words.append(more)
                    continue
                words.append(self.placeholder(elt.value))
                continue
            word = self.string(elt, loose=True)
            if word is not None and not word.value:  # an empty argument: '' at the literal
                words.append(Text.constant("''", self.src.text(elt).span()))
                continue
            words.append(_quote(word) if word is not None else self.placeholder(elt))
        return join(words) if words else None

    # -- the second pass: calls --
    def call(self, node: ast.Call) -> None:
        if id(node) in self.done:
            return
        name = self.qual(node.func)
        handler = _CALLS.get(name)
        if handler is None and name.startswith("os.exec"):
            handler = ("shell", "1" if "v" in name[7:] else "1:")
        if handler is None and isinstance(node.func, ast.Attribute):
            kind = self.kind(node.func.value)
            handler = _METHODS.get((kind, node.func.attr)) or _METHODS.get(("", node.func.attr))
            if handler is None and not kind and self.socket_address(node):
                handler = ("connect", "0")
        if handler is None:
            return
        self.out.next_command()
        method, arg = handler
        getattr(self, "on_" + method)(node, name, arg)

    def on_shell(self, node: ast.Call, name: str, arg: str) -> None:
        """`os.system(cmd)`, `subprocess.run([...])`, `os.execl(path, argv...)`: run a command."""
        self.out.operation("execute", self.src.text(node.func), PARSER)
        self.spawns += 1
        self.note_remote(node)
        if any(kw.arg in ("stdin", "stdout", "stderr") and "fileno" in ast.dump(kw.value) for kw in node.keywords):
            self.spawn_fileno = True
        if ":" in arg:
            a, _, b = arg.partition(":")
            elts = node.args[int(a):int(b) if b else None] or node.args[:1]
            command = self.words(elts)
        else:
            command = self.argv(self.arg(node, int(arg), "args", "cmd", "command", "argv"))
        if command is not None and command.value.strip():
            self.out.parse("shell", command)

    def on_file(self, node: ast.Call, name: str, arg: str) -> None:
        """File operations (`os.remove`, `shutil.rmtree`, `shutil.copy`, `os.chmod`, `os.kill`)."""
        op, _, count = arg.partition(":")
        self.out.operation(op, self.src.text(node.func), PARSER, self.mode_tags(node, op))
        if name in ("shutil.rmtree", "shutil.copytree", "distutils.dir_util.copy_tree"):
            self.out.flag("recursive", self.src.text(node.func), PARSER)
        ignore = self.keyword(node, "ignore_errors")
        if isinstance(ignore, ast.Constant) and ignore.value is True:
            self.out.flag("force", self.src.text(ignore), PARSER)
        for k in range(int(count or 0)):
            names = ("path", "src", "top", "pathname", "dirname", "name") if k == 0 else ("dst",)
            self.target(self.arg(node, k, *names))
        pid = self.resolve(self.arg(node, 0, "pid")) if op == "kill" and node.args else None
        found = [self.src.text(pid)] if isinstance(pid, ast.Constant) and type(pid.value) is int else []  # PID 1: init
        found += self.looked_up.get(id(node), [])  # `proc.kill()` in a loop over processes
        for text in found:
            self.out.target(text, PARSER, ("process",) + daemon_tags(text))

    def mode_tags(self, node: ast.Call, op: str) -> tuple[str, ...]:
        mode = self.arg(node, 1, "mode") if op == "chmod" else None
        if isinstance(mode, ast.Constant) and isinstance(mode.value, int) and mode.value & 0o002:
            return ("world_writable",)
        return ()

    def on_open(self, node: ast.Call, name: str, arg: str) -> None:
        """`open(path, mode)`: read, write or append by the mode."""
        path = self.arg(node, 0, "file", "path", "filename")
        if name == "os.open":
            flags = ast.unparse(self.arg(node, 1, "flags") or ast.Constant(0))
            op = "append" if "O_APPEND" in flags else "write" if re.search(r"O_(WRONLY|RDWR|CREAT|TRUNC)", flags) else "read"
        else:
            op = self.mode_op(self.arg(node, 1, "mode"))
        self.out.operation(op, self.src.text(node.func), PARSER)
        if name != "os.fdopen":
            self.target(path)

    def mode_op(self, mode_node: ast.AST | None) -> str:
        mode = self.string(mode_node) if mode_node is not None else None
        value = mode.value if mode is not None else "r"
        if "a" in value:
            return "append"
        if "w" in value or "x" in value or "+" in value:
            return "write"
        return "read"

    def on_path(self, node: ast.Call, name: str, op: str) -> None:
        """`Path(p).unlink()`, `.write_text()`, `.read_text()`, `.open(mode)`, `.rename(q)`."""
        if op == "open":
            op = self.mode_op(self.arg(node, 0, "mode"))
        self.out.operation(op, self.src.text(node.func), PARSER, self.chmod_tags(node) if op == "chmod" else ())
        receiver = node.func.value
        self.target(receiver)
        if op in ("move", "create") and node.args:
            self.target(node.args[0])

    def chmod_tags(self, node: ast.Call) -> tuple[str, ...]:
        mode = self.arg(node, 0, "mode")
        if isinstance(mode, ast.Constant) and isinstance(mode.value, int) and mode.value & 0o002:
            return ("world_writable",)
        return ()

    def on_http(self, node: ast.Call, name: str, arg: str) -> None:
        """`requests.get/post(...)`, a session's or client's methods: fetch, or send data."""
        verb = node.func.attr if isinstance(node.func, ast.Attribute) else name.rsplit(".", 1)[-1]
        url = self.arg(node, 0, "url")
        if verb in ("request", "stream"):
            method = self.string(self.arg(node, 0, "method"))
            verb = method.value.lower() if method is not None else "get"
            url = self.arg(node, 1, "url")
        payload = any(kw.arg in ("data", "json", "files", "content", "body", "fields") for kw in node.keywords)
        payload = payload or (verb in ("post", "put", "patch") and len(node.args) > 1)
        sending = verb in _HTTP_SENDING and (payload or verb == "delete")
        self.out.operation("network_send" if sending else "network_fetch", self.src.text(node.func), PARSER,
                           (verb.upper(),))
        self.url(url, sending)

    def url(self, node: ast.AST | None, sending: bool) -> None:
        text = self.string(node, loose=True) if node is not None else None
        if text is not None and text.value.strip():
            self.out.url(text, PARSER, sending=sending)

    def on_urlopen(self, node: ast.Call, name: str, arg: str) -> None:
        target = self.resolve(self.arg(node, 0, "url"))
        data = self.arg(node, 1, "data")
        if isinstance(target, ast.Call) and self.qual(target.func).endswith("Request"):
            data = data or self.arg(target, 1, "data")
            method = self.string(self.keyword(target, "method"))
            if method is not None and method.value.upper() in ("POST", "PUT", "PATCH", "DELETE"):
                data = data or target
            target = self.arg(target, 0, "url")
        sending = data is not None and not (isinstance(data, ast.Constant) and data.value is None)
        self.out.operation("network_send" if sending else "network_fetch", self.src.text(node.func), PARSER)
        self.url(target, sending)

    def on_urlretrieve(self, node: ast.Call, name: str, arg: str) -> None:
        self.out.operation("network_fetch", self.src.text(node.func), PARSER)
        self.url(self.arg(node, 0, "url"), False)
        self.target(self.arg(node, 1, "filename", "out"))

    def on_host(self, node: ast.Call, name: str, arg: str) -> None:
        """A connection opened by host name (`HTTPConnection(host)`, `smtplib.SMTP(host)`)."""
        host = self.string(self.arg(node, 0, "host", "hostname"))
        self.out.operation("network_send" if arg == "send" else "network_fetch", self.src.text(node.func), PARSER)
        if host is not None:
            self.out.host(host, PARSER)

    def on_http_conn(self, node: ast.Call, name: str, arg: str) -> None:
        method = self.string(self.arg(node, 0, "method"))
        verb = method.value.lower() if method is not None else "get"
        sending = verb in _HTTP_SENDING
        self.out.operation("network_send" if sending else "network_fetch", self.src.text(node.func), PARSER,
                           (verb.upper(),))

    def on_connect(self, node: ast.Call, name: str, arg: str) -> None:
        """`sock.connect((host, port))`, `socket.create_connection((host, port))`: a raw connection,
        which can carry anything out."""
        self.out.operation("network_send", self.src.text(node.func), PARSER, ("socket",))
        self.connects.append(node)
        address = self.resolve(self.arg(node, int(arg), "address"))
        if isinstance(address, ast.Tuple) and address.elts:
            host = self.string(address.elts[0])
            port = address.elts[1] if len(address.elts) > 1 else None
            port = self.resolve(port) if port is not None else None
            tags = (f"port:{port.value}",) if isinstance(port, ast.Constant) and isinstance(port.value, int) else ()
            if host is not None:
                self.out.host(host, PARSER, tags)

    def on_dup2(self, node: ast.Call, name: str, arg: str) -> None:
        self.dup2 = True

    def on_eval(self, node: ast.Call, name: str, arg: str) -> None:
        """`exec`/`eval`/`compile`: run code; a literal (or decoded literal) is read as Python."""
        self.out.operation("execute", self.src.text(node.func), PARSER, (name.rsplit(".", 1)[-1],))
        self.note_remote(node)
        code = self.string(self.arg(node, 0, "source", "object"))
        if code is not None and code.value.strip():
            self.out.parse("python", code)

    def on_decode(self, node: ast.Call, name: str, arg: str) -> None:
        """A decoder on a literal, not used by anything we read: the payload is still a fact."""
        self.decoded(node)

    def on_deserialize(self, node: ast.Call, name: str, arg: str) -> None:
        """Unpickling and unsafe YAML loading run code chosen by whoever wrote the data."""
        if name in ("yaml.load", "yaml.load_all"):
            loader = self.arg(node, 1, "Loader")
            if loader is not None and "Safe" in ast.unparse(loader):
                return
        if name == "numpy.load":
            allow = self.keyword(node, "allow_pickle")
            if not (isinstance(allow, ast.Constant) and allow.value is True):
                return
        if name == "torch.load":
            weights = self.keyword(node, "weights_only")
            if isinstance(weights, ast.Constant) and weights.value is True:
                return
        self.out.operation("execute", self.src.text(node.func), PARSER, ("deserialize",))
        if name == "shelve.open" or name == "pandas.read_pickle":
            self.target(self.arg(node, 0, "filename", "filepath_or_buffer"))

    def on_database(self, node: ast.Call, name: str, arg: str) -> None:
        """A database connection: its file (sqlite) or its host (servers)."""
        first = self.arg(node, 0, "database", "dsn", "url", "host")
        if name in ("sqlite3.connect", "duckdb.connect"):
            self.target(first, ("database",))
            return
        text = self.string(first, loose=True) if first is not None else None
        if text is not None and "://" in text.value:
            self.out.url(text, PARSER)
        host = self.string(self.keyword(node, "host"))
        if host is not None:
            self.out.host(host, PARSER, ("database",))

    def on_sql(self, node: ast.Call, name: str, arg: str) -> None:
        """`cursor.execute(sql)`, `pd.read_sql(sql, con)`: the SQL is read by the SQL parser."""
        sql = self.string(self.arg(node, int(arg), "sql", "statement", "query", "sql_script", "operation"), loose=True)
        if sql is not None and sql.value.strip():
            self.out.parse("sql", sql)

    def on_magic(self, node: ast.Call, name: str, arg: str) -> None:
        """`get_ipython().run_line_magic('pip', 'install x')`, `run_cell_magic('bash', '', script)`."""
        magic = self.string(self.arg(node, 0, "magic_name"))
        if magic is None:
            return
        if node.func.attr == "run_cell_magic":
            body = self.string(self.arg(node, 2, "cell"))
            if body is not None and magic.value in ("bash", "sh", "script", "system"):
                self.out.parse("shell", body)
            return
        line = self.string(self.arg(node, 1, "line"), loose=True)
        if magic.value in _SHELL_MAGICS:
            command = join([magic, line]) if line is not None else magic
        elif magic.value in ("sx", "system"):
            command = line
        else:
            return
        if command is not None:
            self.out.parse("shell", command)

    def on_pip(self, node: ast.Call, name: str, arg: str) -> None:
        """`pip.main(['install', 'x'])` is `pip install x`."""
        args = self.resolve(self.arg(node, 0, "args"))
        if isinstance(args, (ast.List, ast.Tuple)):
            words = self.words(args.elts)
            if words is not None:
                self.out.parse("shell", Text.constant("pip", self.src.text(node.func).span()) +
                               Text.constant(" ", (words.span()[0],) * 2) + words)

    def on_navigate(self, node: ast.Call, name: str, arg: str) -> None:
        self.out.operation("navigate", self.src.text(node.func), PARSER)
        self.url(self.arg(node, 0, "url"), False)

    def socket_address(self, node: ast.Call) -> bool:
        """`x.connect((host, port))` in code that imports `socket`, where `x` is a socket we could not
        follow (a function's parameter): the (host, port) pair is a socket's address."""
        if node.func.attr not in ("connect", "connect_ex") or len(node.args) != 1:
            return False
        address = self.resolve(node.args[0])
        return isinstance(address, ast.Tuple) and len(address.elts) == 2 and \
            any(m.split(".")[0] == "socket" for m in self.aliases.values())

    def received(self, node: ast.AST, depth: int = 0) -> bool:
        """Whether an expression carries data read from a socket: a `.recv(...)` in it, or a name
        bound (once) to such an expression (`command = data.decode().strip()`)."""
        for n in ast.walk(node):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _RECEIVE:
                return True
            if isinstance(n, ast.Name) and n.id in self.values and depth < _MAX_DEPTH \
                    and self.received(self.values[n.id], depth + 1):
                return True
        return False

    def note_remote(self, node: ast.Call) -> None:
        if any(self.received(a) for a in [*node.args, *(kw.value for kw in node.keywords)]):
            self.remote_commands.append(node)

    def reverse_shell(self) -> None:
        """A socket connection whose file descriptors become a shell's stdin and stdout, or a loop
        that runs whatever commands or code a socket sends (a remote shell without `dup2`)."""
        if self.connects and self.spawns and (self.dup2 or self.spawn_fileno):
            self.out.next_command()
            self.out.operation("reverse_shell", self.src.text(self.connects[0]), PARSER)
        elif self.remote_commands:
            self.out.next_command()
            first = self.connects[0] if self.connects else self.remote_commands[0]
            self.out.operation("reverse_shell", self.src.text(first), PARSER, ("command_channel",))


_SAFE_WORD = re.compile(r"[\w@%+=:,./-]+")


def _quote(word: Text) -> Text:
    """A word quoted for the shell where it needs it, the quotes mapped to its edges."""
    value = word.value
    if not value:
        return Text.constant("''", word.span())
    if _SAFE_WORD.fullmatch(value) or (value.startswith("${") and value.endswith("}")):
        return word
    a, b = word.span()
    if "'" not in value:
        return Text.constant("'", (a, a)) + word + Text.constant("'", (b, b))
    if not re.search(r"[\"$`\\!]", value):
        return Text.constant('"', (a, a)) + word + Text.constant('"', (b, b))
    return word
