"""Hosts (`cbm.facts.urls`): classed by address and by the environment their name announces."""

from __future__ import annotations

import pytest
from facts_helpers import at, one, tool_call

from cbm.facts import facts
from cbm.facts.urls import host_tags


@pytest.mark.parametrize("host, tags", [
    ("localhost", ("loopback", "development")),
    ("10.0.0.5", ("raw_ip", "private")),
    ("8.8.8.8", ("raw_ip", "public")),
    ("orders-live.prod.acme.internal", ("private", "production")),
    ("db-stg-2", ("private", "staging")),
    ("example.com", ("public",)),
])
def test_host_tags(host, tags):
    assert host_tags(host) == tags


def test_a_fetched_url_names_its_host():
    step = tool_call("web_fetch", {"url": "http://169.254.169.254/latest/meta-data"})
    host = one(facts(step), "host", "169.254.169.254")
    assert {"raw_ip", "private"} <= set(host.tags) and at(step.text, host) == "169.254.169.254"
