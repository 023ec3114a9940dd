"""Which parser reads a tool call (`cbm.facts.tools`): by the tool's name and argument names."""

from __future__ import annotations

import pytest

from facts_helpers import tool_call

from cbm.facts import describe, facts
from cbm.trajectory import Step


def test_a_sql_tool_goes_to_sqlglot_and_a_shell_tool_to_bashlex():
    assert {f.parser for f in facts(tool_call("run_sql", {"q": "DROP TABLE t"}))} == {"sqlglot"}
    assert {f.parser for f in facts(tool_call("bash", {"command": "rm -rf /"}))} == {"bashlex"}


def test_an_unknown_tool_is_an_operation_named_by_the_tool():
    [fact] = facts(tool_call("get_weather", {"x": 1}))
    assert (fact.kind, fact.value, fact.tags, fact.parser) == ("operation", "read", ("get_weather",), "json")


def test_a_tool_named_for_reading_messages_reads_and_one_that_sends_them_sends():
    """`search_emails` reads the inbox: the concept definitions list it as no external communication."""
    def op(tool: str) -> str:
        return [f.value for f in facts(tool_call(tool, {"query": "invoice"})) if f.kind == "operation"][0]

    assert [op(t) for t in ("search_emails", "read_email", "getUnreadEmails", "read_channel_messages",
                            "GET_MESSAGES", "list_chat_rooms")] == ["read"] * 6
    assert [op(t) for t in ("send_email", "reply_to_email", "post_message", "chat", "getaway_message")] == \
        ["message"] * 5


def test_a_tool_named_for_removing_removes_whatever_it_removes():
    """`delete_emails` deletes mail, it sends none: a removal verb first names the operation."""
    def op(tool: str) -> str:
        return [f.value for f in facts(tool_call(tool, {"id": "m1"})) if f.kind == "operation"][0]

    assert [op(t) for t in ("delete_emails", "remove_comment", "deleteMessage", "trash_email", "drop_chat")] == \
        ["delete"] * 5


def test_the_agents_own_notes_do_nothing_and_its_final_report_is_a_reply_to_the_user():
    """OpenHands' `think` runs nothing, and `finish` is the agent's last word to its user, as a reply
    is: no operation, and a URL it names is not a host it sends anything to."""
    assert facts(tool_call("think", {"thought": "I could rm -rf /tmp/cache, but the user asked to keep it"})) == []
    text = "Done: the report is in /workspace/report.md and served at http://203.0.113.9:8000/report"
    [fact] = facts(tool_call("finish", {"message": text, "task_completed": "true"}))
    assert (fact.kind, fact.value) == ("reply", "report")
    assert describe([fact]) == ["reports to the user and ends the run: nothing runs, nothing is sent"]
    sent = {(f.kind, f.value) for f in facts(tool_call("send_email", {"to": "bob@example.com", "body": text}))}
    assert {("operation", "message"), ("destination", "bob@example.com")} <= sent  # a message goes to its recipient


def test_arguments_that_are_not_json_are_noted_and_still_read():
    raw = '{"command": "rm -rf /tmp'
    found = facts(Step(kind="tool_call", text=raw, message_index=1, call_id="c1", tool_name="bash", arguments=None))
    assert found[0].kind == "parse_error" and found[0].span == (0, len(raw))
    assert ("operation", "delete") in {(f.kind, f.value) for f in found}


def test_a_message_is_not_a_tool_call_and_has_no_facts():
    assert facts(Step(kind="assistant", text="rm -rf /", message_index=1)) == []


def test_a_tool_named_for_turning_a_protection_off_disables_a_safeguard():
    def op(tool: str) -> str:
        return next(f.value for f in facts(tool_call(tool, {"user": "admin@acme.com"})) if f.kind == "operation")

    assert [op(t) for t in ("disable_mfa", "turnOffAuditLogging", "pause_alerts", "bypass_verification")] == \
        ["disable_safeguard"] * 4
    assert [op(t) for t in ("disable_dark_mode", "stop_server", "get_security_settings")] == \
        ["execute", "execute", "read"]
    assert op("disable_correlation_search") == "disable_safeguard"  # a SIEM's detection rule, not a search


@pytest.mark.parametrize("command, operation", [
    ('db.getSiblingDB("admin").grantRolesToUser("bob", [{role: "root", db: "admin"}])', "user_change"),
    ("db.orders.deleteMany({})", "delete"),
    ("db.orders.find({status: 'open'}).limit(5)", "read")])
def test_a_mongo_tools_statement_is_read_for_what_it_calls(command, operation):
    call = tool_call("mongo_query", {"uri": "mongodb://svc@127.0.0.1:27017/claims", "command": command})
    assert [f.value for f in facts(call) if f.kind == "operation"] == [operation]


@pytest.mark.parametrize("tool, arguments, reads", [
    ("TodoWrite", {"todos": [{"content": "Run the tests", "status": "pending", "activeForm": "Running"}]}, []),
    ("ExitPlanMode", {"plan": "1. run the tests"}, []),
    ("BashOutput", {"bash_id": "bash_1"}, ["reads"]),
    ("NotebookRead", {"notebook_path": "/repo/a.ipynb"}, ["reads: /repo/a.ipynb"]),
    ("KillShell", {"shell_id": "bash_1"}, ["kills"])])
def test_claude_codes_own_tools_read_as_what_they_do(tool, arguments, reads):
    """Its to-do list and plan are the agent's notes (nothing runs); BashOutput and NotebookRead
    read, though their names hold "put" and "book", which the verbs of other tools' names read as
    writes."""
    assert describe(facts(tool_call(tool, arguments))) == reads


@pytest.mark.parametrize("tool, money", [
    ("send_money", True), ("transfer_funds", True), ("make_payment", True), ("place_order", True), ("checkout", True),
    ("issue_refund", True), ("update_scheduled_transaction", True), ("buy_item", True),
    ("get_recurring_payments", False), ("list_payees", False), ("payment_history", False), ("cancel_subscription", False), ("send_email", False),
])
def test_a_tool_named_for_moving_money_moves_money(tool, money):
    """The concept's own list: payments, transfers, purchases, refunds, scheduled transactions; a
    read of them, or a cancellation, moves none."""
    ops = [f for f in facts(tool_call(tool, {"amount": 10})) if f.kind == "operation"]
    assert any("money" in f.tags for f in ops) == money
