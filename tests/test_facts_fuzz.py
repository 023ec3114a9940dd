"""Action facts never raise, whatever the agent wrote: random text as a shell command, shell-ish
strings, SQL-ish strings, byte soup as Python, random JSON arguments for random tools, and raw
argument text that is not JSON. Every span lies within the raw text.

The examples are derived deterministically, so a failure reproduces.
"""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cbm.facts import Fact, facts
from cbm.trajectory import Step

FUZZ = settings(max_examples=1500, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


# a parser's own complaint ("bashlex: ...", "ast: ...") is a fact about the input; one of these is a
# bug of ours that the last line of defence turned into a fact
BUGS = re.compile(r"^(IndexError|KeyError|AttributeError|TypeError|NameError|UnboundLocalError|AssertionError|"
                  r"ZeroDivisionError|StopIteration|RecursionError|OverflowError)\b")


def _check(tool: str, raw: str, arguments: dict | None, earlier: tuple[Step, ...] = ()) -> list[Fact]:
    found = facts(Step("tool_call", raw, tool_name=tool, arguments=arguments), earlier)
    for f in found:
        assert isinstance(f, Fact)
        assert 0 <= f.span[0] <= f.span[1] <= len(raw), (f, len(raw))
        assert isinstance(f.value, str) and isinstance(f.tags, tuple)
        assert not (f.kind == "parse_error" and BUGS.match(f.value)), (f, raw[:300])
    return found


def _call(tool: str, key: str, value: str) -> list[Fact]:
    arguments = {key: value}
    return _check(tool, json.dumps(arguments), arguments) + _check(tool, json.dumps(arguments, ensure_ascii=False),
                                                                  arguments)


SHELL_WORDS = ["rm", "-rf", "/", "sudo", "bash", "sh", "-c", "base64", "-d", "EOF", "<<EOF", "<<'EOF'", "cat", "echo",
               "curl", "http://x.example.com", "|", ";", "&&", "||", "&", "$(", ")", "`", "'", '"', "\\", "<", ">",
               ">>", "{", "}", "(", "$X", "${X}", "X=/etc", "eval", "alias", "f()", "ssh", "host", "python", "-",
               "xxd", "-r", "-p", "printf", "\\x72", "$'\\x72'", "<(", "2>&1", "/dev/tcp/1.2.3.4/80", "find", "-exec",
               "{}", "\\;", "[[", "]]", "$((", "))", "for", "do", "done", "if", "then", "fi", "case", "esac", "\n",
               "psql", "-e", "DROP TABLE t", "git", "push", "--force", "kubectl", "docker", "exec", "pip", "install",
               "ｒｍ", "гм", "\u200b", "*", "~", "..", "\t"]
shell_ish = st.lists(st.sampled_from(SHELL_WORDS) | st.text(alphabet="|;&$()'\"`<>{}\\ -/=abcxyz0123\n", max_size=6),
                     max_size=25).map(lambda ws: " ".join(ws))

SQL_WORDS = ["SELECT", "*", "FROM", "users", "DELETE", "DROP", "TABLE", "TRUNCATE", "CASCADE", "WHERE", "id", "=",
             "1", "'", '"', "`", ";", "--", "/*", "*/", "$$", "$tag$", "(", ")", ",", "INSERT", "INTO", "VALUES",
             "UPDATE", "SET", "GRANT", "ALL", "ON", "TO", "COPY", "PROGRAM", "'rm -rf /'", "EXEC", "xp_cmdshell",
             "\\dt", ".tables", "WITH", "AS", "ALTER", "CREATE", "IF", "EXISTS", "LIMIT", "\n", "NULL", "é"]
sql_ish = st.lists(st.sampled_from(SQL_WORDS) | st.text(max_size=5), max_size=30).map(lambda ws: " ".join(ws))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40) | shell_ish,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
KEYS = ["command", "cmd", "code", "query", "path", "file_path", "content", "url", "old_str", "new_str", "input", "patch",
        "host", "to", "body", "database", "edits", "file_text", "pattern", "args"]
TOOLS = ["bash", "exec", "python", "execute_sql", "str_replace_editor", "Edit", "Write", "Read", "MultiEdit",
         "apply_patch", "web_fetch", "browser_navigate", "send_email", "delete_file", "write_file", "run_query",
         "computer", "unknown_tool", "kubectl", "jupyter", "db_query", ""]
arguments_objects = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=10), json_values, max_size=5)


@FUZZ
@given(st.text(max_size=300))
def test_random_text_as_a_shell_command(text):
    _call("bash", "command", text)


@FUZZ
@given(shell_ish)
def test_shell_ish_strings(command):
    _call("bash", "command", command)


@FUZZ
@given(shell_ish, shell_ish)
def test_shell_ish_strings_after_an_earlier_call(first, second):
    earlier = (Step("tool_call", json.dumps({"command": first}), tool_name="bash", arguments={"command": first}),)
    arguments = {"command": second}
    _check("bash", json.dumps(arguments), arguments, earlier)


@FUZZ
@given(sql_ish)
def test_sql_ish_strings(query):
    _call("execute_sql", "query", query)


@FUZZ
@given(st.binary(max_size=400))
def test_byte_soup_as_python(data):
    _call("python", "code", data.decode("utf-8", errors="replace"))


@FUZZ
@given(st.sampled_from(TOOLS) | st.text(max_size=12), arguments_objects, st.booleans())
def test_random_json_arguments_for_random_tools(tool, arguments, ascii_only):
    _check(tool, json.dumps(arguments, ensure_ascii=ascii_only), arguments)


@FUZZ
@given(st.sampled_from(TOOLS) | st.text(max_size=12),
       st.text(max_size=200) | shell_ish | st.builds(lambda s: '{"command": "' + s, shell_ish))
def test_raw_text_that_is_not_json(tool, raw):
    try:
        json.loads(raw)
        arguments = None  # valid JSON but passed as unparsed: still must not raise
    except ValueError:
        arguments = None
    _check(tool, raw, arguments)


@FUZZ
@given(arguments_objects, st.text(max_size=60))
def test_arguments_that_disagree_with_the_raw_text(arguments, raw):
    """A log whose parsed arguments and raw text disagree (a re-serialised or truncated raw)."""
    _check("bash", raw, arguments)
    _check("str_replace_editor", raw, arguments)
