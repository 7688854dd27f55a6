"""The final answer inside a model's free-form reply.

Model text is untrusted: it is bounded before any pattern runs (the tail is kept, since final answers
come last), every pattern is linear-time, and nothing in it is ever evaluated. Precedence:

1. the last `\\boxed{...}` (nested braces allowed),
2. the last "Answer: ..." / "answer is ..." / GSM8K-style "#### ..." marker (the text after it on
   its line, or the next non-empty line when the marker ends its line),
3. the last non-empty line.

The candidate is tidied: markdown emphasis and code ticks, surrounding `$...$`, simple LaTeX
(`\\frac{a}{b}` -> a/b, `\\text{...}`) and trailing full stops are removed. The verifiers then
decide whether the answer is right; extraction only decides what the answer is.
"""

from __future__ import annotations

import re

MAX_INPUT_CHARS = 20_000  # longer replies keep only their tail
MAX_ANSWER_CHARS = 1_000  # an extracted answer is cut to this length

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_MARKER = re.compile(
    r"(?im)\b(?:final\s+)?answer(?P<is>\s+is\b\s*:?|\s*[:：])[ \t]*(?P<rest>[^\n]*)"
    r"|^[ \t]*#{4}(?!#)[ \t]*(?P<hashes>[^\n]*)"
)
_BRACE = re.compile(r"[{}]")
_SENTENCE_END = re.compile(r"\.\s")
_MARKDOWN = re.compile(r"\*\*|`")
_LATEX_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_LATEX_WRAP = re.compile(r"\\(?:text|textbf|mathrm|mathbf|operatorname)\s*\{([^{}]*)\}")
_LATEX_SPACE = re.compile(r"\\[,;:! ]|\\(?:left|right|displaystyle)\b")
_LATEX_OPS = {
    r"\cdot": "*", r"\times": "*", r"\div": "/", r"\le": "<=", r"\ge": ">=", r"\neq": "!=", r"\lt": "<", r"\gt": ">",
}
_LATEX_OP = re.compile(r"\\(?:cdot|times|div|le|ge|neq|lt|gt)(?![A-Za-z])")
_MATH_DELIMS = (("$$", "$$"), ("$", "$"), (r"\(", r"\)"), (r"\[", r"\]"))


def extract_answer(text: str | None) -> str | None:
    """The final answer in `text`, tidied; None when there is nothing to read."""
    if not text:
        return None
    text = str(text)
    if len(text) > MAX_INPUT_CHARS:
        text = text[-MAX_INPUT_CHARS:]
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    boxed = last_boxed(text)
    if boxed is not None:
        got = tidy(boxed)
        if got is not None:
            return got
    text = _MARKDOWN.sub("", text)
    marked = _last_marked(text)
    if marked is not None:
        return marked
    for line in reversed(text.split("\n")):
        got = tidy(line)
        if got is not None:
            return got
    return None


def last_boxed(text: str) -> str | None:
    """The contents of the last balanced `\\boxed{...}` in text, or None (one pass over the braces)."""
    opens = [m.end() - 1 for m in _BOXED.finditer(text)]
    if not opens:
        return None
    closing: dict[int, int] = {}
    stack: list[int] = []
    for m in _BRACE.finditer(text, opens[0]):
        if m.group() == "{":
            stack.append(m.start())
        elif stack:
            closing[stack.pop()] = m.start()
    for start in reversed(opens):
        end = closing.get(start)
        if end is not None:
            return text[start + 1 : end]
    return None


def _last_marked(text: str) -> str | None:
    """The answer after the last marker that has one."""
    for match in reversed(list(_MARKER.finditer(text))):
        if match.group("hashes") is not None:
            rest = match.group("hashes")
        else:
            rest = match.group("rest")
            if match.group("is") and match.group("is").strip().lower().startswith("is"):
                rest = _SENTENCE_END.split(rest, maxsplit=1)[0]
        got = tidy(rest)
        if got is None:  # "Answer:" alone on its line: the answer is on the next non-empty line
            for line in text[match.end():].split("\n")[1:4]:
                got = tidy(line)
                if got is not None:
                    break
        if got is not None:
            return got
    return None


def tidy(candidate: str) -> str | None:
    """Strip markdown, math delimiters, simple LaTeX and trailing full stops; None when nothing is left."""
    s = _MARKDOWN.sub("", candidate[: MAX_ANSWER_CHARS * 4]).strip()
    boxed = last_boxed(s)
    if boxed is not None:
        s = boxed.strip()
    for _ in range(2):
        s = s.rstrip(".").rstrip()
        for left, right in _MATH_DELIMS:
            if len(s) >= len(left) + len(right) and s.startswith(left) and s.endswith(right):
                s = s[len(left) : len(s) - len(right)].strip()
    if "\\" in s:
        s = _latex(s)
    s = s.strip().rstrip(".").rstrip()
    if s.endswith("$") and s.count("$") % 2 == 1:
        s = s[:-1].rstrip().rstrip(".").rstrip()
    if s.startswith("$") and s.count("$") % 2 == 1:
        s = s[1:].lstrip()
    s = " ".join(s.split())
    if not s:
        return None
    return s[:MAX_ANSWER_CHARS]


def _latex(s: str) -> str:
    for _ in range(4):  # nested \frac{\frac..}: a few passes, each strictly shorter
        t = _LATEX_FRAC.sub(lambda m: f"{_group(m.group(1))}/{_group(m.group(2))}", s)
        t = _LATEX_WRAP.sub(r"\1", t)
        if t == s:
            break
        s = t
    s = _LATEX_SPACE.sub(" ", s).replace("\\{", "{").replace("\\}", "}")
    return _LATEX_OP.sub(lambda m: _LATEX_OPS[m.group(0)], s)


def _group(part: str) -> str:
    part = part.strip()
    return part if re.fullmatch(r"[+-]?[\w.]+", part) else f"({part})"
