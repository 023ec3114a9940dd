"""`cbm reviewers`: the accounts reviewers sign in to the app with, kept in the review store.

    cbm reviewers add alice              # asks for the password twice
    printf '%s\\n' "$PW" | cbm reviewers add alice --password-stdin
    cbm reviewers list
    cbm reviewers password alice         # a new password (re-enables a disabled account)
    cbm reviewers disable alice          # can no longer sign in; her verdicts stay

Once an account exists, every page of `cbm app` asks for a sign-in, and a verdict's reviewer is
the signed-in account. Without accounts the app serves only a loopback address, to the local
user who started it.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from cbm_app.store import DB_ENV, DEFAULT_DB, EXIT_OK, EXIT_USAGE, MIN_PASSWORD, Store, database_url


def read_password(from_stdin: bool) -> str:
    """The first line of standard input, or asked twice on the terminal."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"Password (at least {MIN_PASSWORD} characters): ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cbm reviewers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help=f"SQLite file or SQLAlchemy URL (default: ${DB_ENV}, else {DEFAULT_DB})")
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, help_text in (("add", "create an account"), ("password", "set an account's password")):
        p = sub.add_parser(action, help=help_text)
        p.add_argument("name")
        p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    sub.add_parser("disable", help="stop an account from signing in").add_argument("name")
    sub.add_parser("list", help="list the accounts")
    args = parser.parse_args(argv)
    store = Store(database_url(args.db))
    try:
        if args.action == "list":
            for r in store.reviewers():
                print(f"{r['name']}\t{'active' if r['active'] else 'disabled'}\t{r['created_at']}")
        elif args.action == "disable":
            store.disable_reviewer(args.name)
        else:
            password = read_password(args.password_stdin)
            (store.add_reviewer if args.action == "add" else store.set_password)(args.name, password)
    except (KeyError, ValueError) as exc:
        print(f"cbm reviewers: {exc.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    if args.action != "list":
        print(f"cbm reviewers: {args.name}: {'disabled' if args.action == 'disable' else 'can sign in'}",
              file=sys.stderr)
    return EXIT_OK
