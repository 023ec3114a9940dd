"""File tools: what an editor call reads, writes, creates or deletes.

Covers the editors real agents use: OpenHands' and SWE-agent's `str_replace_editor`, Claude
Code's Read / Edit / MultiEdit / Write / NotebookEdit / Glob / Grep / LS, Codex's `apply_patch`
(its `*** Begin Patch` envelope or a unified diff), and the generic `read_file` / `write_file`
family. A written file's content is remembered, so a script written in one call and run in the
next is read as code when it runs.
"""

from __future__ import annotations

import re

from cbm.facts.base import MAX_CHARS, Collector
from cbm.facts.text import Text

PATH_KEYS = ("path", "file_path", "filepath", "file", "filename", "target_file", "notebook_path", "target", "dest",
             "destination")
CONTENT_KEYS = ("file_text", "content", "text", "data", "contents", "code_edit", "new_source")
_PATCH_FILE = re.compile(r"^\*\*\* (Add|Update|Delete) File: (.+)$|^\+\+\+ (?:b/)?(.+?)(\t.*)?$|^--- (?:a/)?(.+?)(\t.*)?$",
                         re.M)


def edit_facts(out: Collector, tool: str, args: dict[str, Text | list[Text]], raw: dict) -> bool:
    """Facts of a file tool's call; False when the call is not a file tool's."""
    name = tool.lower()
    command = _value(args, "command")
    path = next((args[k] for k in PATH_KEYS if isinstance(args.get(k), Text)), None)
    if name in ("apply_patch", "patch", "applypatch") or (isinstance(args.get("patch"), Text) and path is None):
        patch = args.get("patch") or args.get("input")
        if isinstance(patch, Text):
            _patch(out, patch)
            return True
        return False
    if name == "str_replace_editor" or name.endswith("file_editor") or name == "edit" and command:
        verb = command.value if command else "view"
        op = {"view": "read", "create": "create", "str_replace": "write", "insert": "write",
              "undo_edit": "write"}.get(verb, "write")
        _file(out, op, command or path, path, _content(args), tool)
        return True
    if name in ("read", "read_file", "view_file", "open_file", "cat", "readfile", "get_file_contents", "view"):
        if path is not None:
            _file(out, "read", path, path, None, tool)
            return True
    if name in ("write", "write_file", "create_file", "save_file", "writefile", "write_to_file", "create"):
        if path is not None:
            _file(out, "write", path, path, _content(args), tool)
            return True
    if name in ("edit", "multiedit", "multi_edit", "edit_file", "replace_in_file", "search_replace", "notebookedit",
                "str_replace", "replace", "insert", "modify_file", "update_file"):
        if path is not None:
            new = _content(args) or _value(args, "new_string") or _value(args, "new_str") or _value(args, "replace")
            _file(out, "write", path, path, new, tool, edit=True)
            return True
    if name in ("glob", "grep", "search_files", "find_files", "search", "ls", "list_directory", "list_files"):
        op = "list" if name in ("ls", "list_directory", "list_files", "glob", "find_files") else "search"
        anchor = path or _value(args, "pattern") or next((v for v in args.values() if isinstance(v, Text)), None)
        if anchor is None:
            return False
        out.operation(op, anchor, "edit", (name,))
        if path is not None:
            out.target(path, "edit")
        return True
    if name in ("delete_file", "remove_file", "rm", "delete"):
        if path is not None:
            _file(out, "delete", path, path, None, tool)
            return True
    return False


def _value(args: dict, key: str) -> Text | None:
    v = args.get(key)
    return v if isinstance(v, Text) else None


def _content(args: dict) -> Text | None:
    return next((args[k] for k in CONTENT_KEYS if isinstance(args.get(k), Text)), None)


def _file(out: Collector, op: str, anchor: Text | None, path: Text | None, content: Text | None, tool: str,
          edit: bool = False) -> None:
    if anchor is None:
        return
    out.operation(op, anchor, "edit", (tool.lower()[:40],))
    if path is None:
        return
    out.target(path, "edit")
    if op in ("create", "write") and not edit:
        out.context.files[path.value] = content.value[:MAX_CHARS] if content is not None else ""
    elif op in ("create", "write"):
        out.context.files.setdefault(path.value, "")
    if op in ("create", "write") and content is not None and re.search(r"(^|/)\.(bash|zsh)rc$|profile$", path.value):
        out.parse("shell", content)  # what a planted profile line will run at the next login


def _patch(out: Collector, patch: Text) -> None:
    """The files a patch adds, updates or deletes (Codex's envelope or unified diff headers)."""
    seen: set[str] = set()
    for m in _PATCH_FILE.finditer(patch.value):
        if m.group(1):
            verb, group = m.group(1), 2
        elif m.group(3):
            verb, group = "Update", 3
        else:
            verb, group = ("Delete" if m.group(5) and "/dev/null" in patch.value[m.end():m.end() + 40] else "Update"), 5
        path = m.group(group).strip()
        if path in ("/dev/null", "") or path in seen:
            continue
        seen.add(path)
        op = {"Add": "create", "Update": "write", "Delete": "delete"}[verb]
        span = patch.slice(m.start(group), m.start(group) + len(path))
        out.next_command()
        out.operation(op, span, "edit", ("patch",))
        out.target(span, "edit")
        out.context.files.setdefault(path, "")
