"""The `cbm` command line.

Each subcommand lives in the module that does its job and owns its own argument parser
(`main(argv) -> exit code`); this file only lists them, so `cbm --help` stays one table and
heavy modules load only when their command runs.

This table is the registry of commands, and the only place in `cbm` that names modules of the
floors above it (training/, app/): pyproject.toml's import-linter contract puts `cbm.cli` on top
of every layer for that reason, and no other module of `cbm` may import training or app. It is
a table of import strings rather than entry points read with importlib.metadata because that
lookup was measured at about 135 ms per start, which `cbm guard` would pay on every tool call.

One command is made of two: `cbm serve` answers Claude Code's hook with `cbm.guard`'s logic,
and the service and the guard are independent layers that may not import each other, so `serve`
below hands the guard's function to the service.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from cbm import __version__

# name -> (module:function, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("cbm.validate:main", "check files in any format; count records, actions, labels; report errors"),
    "convert": ("cbm.validate:convert_main", "convert a file to native, openai or anthropic JSONL"),
    "generate": ("cbm_training.generate:main", "generate the labelled synthetic training corpus"),
    "import": ("cbm_training.importers:main", "import public data sets (agentdojo, toolemu, safe-os) as native JSONL"),
    "datasheet": ("cbm_training.datasheet:main", "write the corpus datasheet and shortcut audit"),
    "train": ("cbm_training.train:main", "train, calibrate and save a concept bottleneck checkpoint"),
    "evaluate": ("cbm_training.evaluate:main", "evaluate a checkpoint (test, held-out, imported data) against baselines"),
    "score": ("cbm.batch:main", "score every action of files in any format: risk, flag, concepts (JSONL or Parquet)"),
    "explain": ("cbm.explain_cli:main", "explain one action: concept contributions to risk and the text evidence"),
    "facts": ("cbm.facts_cli:main", "what each action does, read by parsers (no model), with its source characters"),
    "serve": ("cbm.cli:serve", "run the HTTP scoring service (FastAPI + uvicorn)"),
    "guard": ("cbm.guard:main", "pre-execution guard hooks for live agents (claude-code)"),
    "app": ("cbm_app.launch:main", "start the reviewer web app (Streamlit)"),
    "reviewers": ("cbm_app.reviewers:main", "add, list and disable the accounts reviewers sign in to the app with"),
    "export-reviews": ("cbm_app.store:export_main", "export reviewers' verdicts as labelled native JSONL for training"),
}

EPILOG = """exit codes: 0 success, 2 usage error, 3 some records failed.
Run `cbm COMMAND --help` for a command's options."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cbm", description="Interpretable oversight of AI agent actions.",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def serve(argv: list[str]) -> int:
    """`cbm serve`, with POST /v1/hooks/claude-code answered by `cbm.guard.served_hook`."""
    from cbm.guard import served_hook
    from cbm.service import main as serve_main

    return serve_main(argv, hook=served_hook)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv)  # prints help/version, or a usage error (exit 2)
        parser.print_help()
        return 2
    target, _ = COMMANDS[argv[0]]
    module_name, function_name = target.split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    return function(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
