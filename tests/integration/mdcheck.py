#!/usr/bin/env python3
"""mdcheck.py - do the fenced code blocks of Markdown files render?

    python3 mdcheck.py FILE.md...

Prints `FILE:LINE: problem` for each problem and exits 1 if there was any.
Two checks, because each catches what the other can miss:

- the source: every fence (``` or ~~~, CommonMark rules) is closed by a
  line holding only a fence of the same character, at least as long;
  "``` Text" on one line is no closing fence, and everything after it
  stays code;
- the rendering, by python3-markdown (Debian's, with its fenced_code and
  tables extensions): each fenced block is a <pre>, and no <pre> or
  <code> holds a line that reads like a section heading ("## Title"),
  the sign of prose swallowed by a block left open.
"""

import html
import re
import sys

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def fence_problems(path, text):
    """(problems, number of fenced blocks) from the source."""
    problems, blocks, open_at, opener = [], 0, None, None
    for n, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if open_at is None:
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                open_at, opener = n, m.group(1)
            continue
        if not (m and m.group(1)[0] == opener[0] and len(m.group(1)) >= len(opener)):
            continue
        if m.group(2).strip() == "":
            open_at, blocks = None, blocks + 1
        else:
            problems.append("%s:%d: a fence line inside the code block opened at line %d "
                            "(a closing fence holds nothing else: %r)"
                            % (path, n, open_at, line.strip()[:60]))
    if open_at is not None:
        problems.append("%s:%d: this code block is never closed" % (path, open_at))
    return problems, blocks


def render_problems(path, text, blocks):
    import markdown
    out = markdown.markdown(text, extensions=["fenced_code", "tables"])
    problems = []
    pres = out.count("<pre>")
    if pres < blocks:       # indented code blocks are <pre> too
        problems.append("%s: %d fenced code blocks in the source, only %d rendered as <pre>"
                        % (path, blocks, pres))
    for m in re.finditer(r"<(pre|code)\b[^>]*>(.*?)</\1>", out, re.S):
        for line in html.unescape(m.group(2)).splitlines():
            if re.match(r"#{2,6} [A-Z]", line):     # not a shell "# comment"
                problems.append("%s: rendered <%s> holds %r: prose inside a code block"
                                % (path, m.group(1), line[:60]))
                break
    return problems


def main(paths):
    problems = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        p, blocks = fence_problems(path, text)
        problems += p + render_problems(path, text, blocks)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
