#!/usr/bin/env python3
"""Writes the man page liandong(1) from the CLI's own --help.

Usage: liandong_manpage.py BINARY VERSION TEMPLATE OUT

BINARY --help is asked for every command, recursively (the "Subcommands:"
list of each help text names the next level); TEMPLATE (deploy/liandong.1.in,
troff) is the hand-written part: name, description, service, files, exit
status. The commands' help replaces its @COMMANDS@ line, as printed, so the
page cannot drift from the program.
"""
import concurrent.futures
import os
import re
import subprocess
import sys

MAX_COMMANDS = 1000  # bound on the walk: the CLI has about 140 commands


def help_text(binary, path):
    # argv[0] "liandong", so the usage lines name the command, not the build path.
    out = subprocess.run(["liandong", *path, "--help"], executable=binary,
                         capture_output=True, text=True, timeout=30,
                         env={**os.environ, "LIANDONG_DATA": ""})
    if out.returncode != 0:
        sys.exit(f"liandong {' '.join(path)} --help exited {out.returncode}: {out.stderr}")
    return out.stdout


def subcommands(text):
    names, inside = [], False
    for line in text.splitlines():
        if line.startswith("Subcommands:"):
            inside = True
            continue
        if inside:
            m = re.match(r"^  (\S+)", line)
            if m:
                names.append(m.group(1))
            elif line.strip() == "" or not line.startswith(" "):
                inside = False
    return names


def troff_escape(line):
    line = line.replace("\\", "\\e")
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line


def walk(binary):
    """(path, help text) of every command below the top, depth first. The
    help of a whole level of the tree is asked for at once, in parallel
    (each call loads a large binary)."""
    texts = {(): help_text(binary, [])}
    level = [()]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        while level:
            children = [parent + (name,) for parent in level
                        for name in subcommands(texts[parent])]
            if len(texts) + len(children) > MAX_COMMANDS:
                sys.exit("more commands than MAX_COMMANDS: raise the bound")
            for child, text in zip(children,
                                   pool.map(lambda p: help_text(binary, list(p)), children)):
                texts[child] = text
            level = children

    found = []

    def visit(path):
        for name in subcommands(texts[path]):
            child = path + (name,)
            found.append((list(child), texts[child]))
            visit(child)

    visit(())
    return found


def main():
    binary, version, template, out = sys.argv[1:5]
    commands = walk(binary)
    top = help_text(binary, [])
    with open(template, encoding="utf-8") as f:
        page = f.read().replace("@VERSION@", version)
    if page.count("@COMMANDS@\n") != 1:
        sys.exit(template + ": needs one line @COMMANDS@")
    lines = [".SH COMMANDS", "The command tree, as `liandong COMMAND --help` prints it.",
              "每条命令的用法，与 \\fBliandong\\fP 命令 \\fB\\-\\-help\\fP 所示一致。",
              ".PP", ".nf"]
    lines += [troff_escape(line) for line in top.rstrip("\n").splitlines()]
    lines.append(".fi")
    for path, text in commands:
        body = text.rstrip("\n").splitlines()
        lines.append('.SS "liandong %s"' % " ".join(path))
        # The first line is the description; the rest as printed.
        lines.append(troff_escape(body[0]) if body else "")
        lines += [".PP", ".nf"]
        lines += [troff_escape(line) for line in body[1:] if line.strip()]
        lines.append(".fi")
    with open(out, "w", encoding="utf-8") as f:
        f.write(page.replace("@COMMANDS@\n", "\n".join(lines) + "\n"))


if __name__ == "__main__":
    main()
