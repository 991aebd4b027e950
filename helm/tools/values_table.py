#!/usr/bin/env python3
"""Generates the values table of a chart README from the helm-docs style comments in values.yaml.

A key is documented by a comment block right above it:

    # -- Description, possibly over
    # several lines.
    # @default -- text shown instead of the value (optional)
    key: value

`# -- (type) Description` overrides the inferred type. The default column shows the value from
values.yaml as JSON. The table replaces everything between the markers
`<!-- values-table:start -->` and `<!-- values-table:end -->` in the README.

Usage: values_table.py VALUES README [--check]
  --check: exit 1 (and print a diff) when the README's table is not what would be generated.
"""
import difflib
import json
import re
import sys

import yaml

START = "<!-- values-table:start -->"
END = "<!-- values-table:end -->"
KEY_RE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.\-\"']+):(?:\s|$)")


def documented_keys(lines):
    """Yields (path, description, type_override, default_override) in file order."""
    stack = []  # (indent, key)
    pending = None  # [description lines, type, default]
    for raw in lines:
        line = raw.rstrip("\n")
        stripped = line.strip()
        if stripped.startswith("# --"):
            text = stripped[4:].strip()
            m = re.match(r"^\((?P<type>[^)]+)\)\s*(?P<rest>.*)$", text)
            type_override = None
            if m:
                type_override, text = m.group("type"), m.group("rest")
            pending = [[text], type_override, None]
            continue
        if stripped.startswith("# @default --"):
            if pending is not None:
                pending[2] = stripped[len("# @default --"):].strip()
            continue
        if stripped.startswith("#"):
            if pending is not None and pending[2] is None:
                pending[0].append(stripped[1:].strip())
            continue
        if not stripped:
            pending = None
            continue
        m = KEY_RE.match(line)
        if not m or stripped.startswith("-"):
            pending = None
            continue
        indent = len(m.group("indent"))
        key = m.group("key").strip("\"'")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key))
        if pending is not None:
            path = [k for _, k in stack]
            yield path, " ".join(t for t in pending[0] if t), pending[1], pending[2]
            pending = None


def lookup(values, path):
    node = values
    for key in path:
        if not isinstance(node, dict) or key not in node:
            raise KeyError(".".join(path))
        node = node[key]
    return node


def type_name(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "string"


def cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def table(values_path):
    with open(values_path, encoding="utf-8") as f:
        text = f.read()
    values = yaml.safe_load(text) or {}
    rows = ["| Key | Type | Default | Description |", "|-----|------|---------|-------------|"]
    for path, description, type_override, default_override in documented_keys(text.splitlines()):
        value = lookup(values, path)
        if default_override is not None:
            default = cell(default_override)
        else:
            default = "`" + cell(json.dumps(value, separators=(",", ":"), sort_keys=False)) + "`"
        rows.append("| {} | {} | {} | {} |".format(
            ".".join(path), type_override or type_name(value), default, cell(description)))
    return "\n".join(rows) + "\n"


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    values_path, readme_path = argv[1], argv[2]
    check = "--check" in argv[3:]
    with open(readme_path, encoding="utf-8") as f:
        readme = f.read()
    if START not in readme or END not in readme:
        sys.stderr.write(f"{readme_path}: markers {START} / {END} not found\n")
        return 1
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    updated = head + START + "\n" + table(values_path) + END + tail
    if check:
        if updated != readme:
            sys.stdout.writelines(difflib.unified_diff(
                readme.splitlines(True), updated.splitlines(True), readme_path, "generated"))
            sys.stderr.write(f"{readme_path}: values table is stale; run scripts/helm-test.sh --sync\n")
            return 1
        return 0
    if updated != readme:
        with open(readme_path, "w", encoding="utf-8") as f:
            f.write(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
