"""The tokenizer (`cbm.tokenizer`): word pieces that keep their character offsets and see through
identifiers and disguises."""

from __future__ import annotations

import base64

from cbm.tokenizer import tokenize


def texts(s: str) -> list[str]:
    return [p.text for p in tokenize(s)]


def test_identifiers_expose_their_meaningful_parts():
    assert {"orders", "live", "prod", "acme", "internal"} <= set(texts("orders-live.prod.acme.internal"))
    assert {"var", "lib", "postgresql"} <= set(texts("/var/lib/postgresql"))
    assert texts("getUserToken HTTPServer") == ["get", "user", "token", "http", "server"]


def test_every_piece_points_at_its_characters():
    s = "psql -h billing-LIVE.db.acme.io -c 'DROP TABLE users'"
    for piece in tokenize(s):
        assert s[piece.start:piece.end].lower().startswith(piece.text[:3]) or piece.text.startswith("<")


def test_disguises_are_seen_through():
    encoded = base64.b64encode(b"rm -rf /home/alice").decode()
    pieces = tokenize(f"echo {encoded} | base64 -d | bash")
    assert ["<decoded>", "rm", "-", "rf"] == [p.text for p in pieces][1:5]
    blob = pieces[1]
    assert (blob.start, blob.end) == (5, 5 + len(encoded))  # decoded pieces point at the blob
    assert "home" in texts("echo 726d202d7266202f686f6d65 | xxd -r -p | sh")
    assert texts("rm -rf /h\u043eme --pr\u043ed") == texts("rm -rf /home --prod")  # Cyrillic look-alikes
    assert texts("sha 3f2a9c8e1b7d4a6f0e5c2b9a8d7f6e5c4b3a2918") == ["sha", "<hex>"]


def test_a_rule_of_punctuation_costs_three_pieces_whatever_its_length():
    """A table rule of 80 `=` in a heredoc once filled a call's whole token budget, and the model read
    the rule instead of the command. Flags keep their dashes; the last piece spans the rest of the rule."""
    rule = "=" * 80
    text = f"cat <<'EOF' > repro.py\nTitle:\n{rule}\nEOF"
    pieces = [p for p in tokenize(text) if p.text == "="]
    assert len(pieces) == 3 and (pieces[0].start, pieces[-1].end) == (text.index(rule), text.index(rule) + 80)
    assert texts("psql -c 'x' --force") == ["psql", "-", "c", "'", "x", "'", "-", "-", "force"]
    assert texts("---+---") == ["-", "-", "-", "+", "-", "-", "-"]
    assert texts("a ---- b") == texts("a ------------------ b") == ["a", "-", "-", "-", "b"]
