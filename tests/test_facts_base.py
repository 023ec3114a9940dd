"""What a fact is (`cbm.facts.base`): a fact and its JSON form carry the same kind, value, span,
parser, tags and command."""

from __future__ import annotations

import json

from facts_helpers import shell

from cbm.facts import facts
from cbm.facts.base import Fact


def test_a_fact_survives_its_json_form():
    fact = Fact("target", "/var/lib/postgresql/data", (20, 44), "bashlex", ("data_directory",), 1)
    as_json = fact.to_json()
    assert as_json == {"kind": "target", "value": "/var/lib/postgresql/data", "span": [20, 44], "parser": "bashlex",
                       "tags": ["data_directory"], "command": 1}
    assert Fact.from_json(json.loads(json.dumps(as_json))) == fact
    assert Fact.from_json({"kind": "flag", "value": "force", "span": [3, 6], "parser": "bashlex"}) == \
        Fact("flag", "force", (3, 6), "bashlex")


def test_every_fact_of_a_real_action_round_trips():
    found = facts(shell("ssh db-3.prod 'sudo rm -rf /var/lib/postgresql/data'"))
    assert found and [Fact.from_json(f.to_json()) for f in found] == found
