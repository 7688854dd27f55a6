"""The final answer inside a model's free-form reply.

Model text is untrusted: it is bounded before any pattern runs (the tail is kept, since final answers
come last), every pattern is linear-time, the markers and lines tried are capped (so no input costs
more than a few milliseconds), and nothing in it is ever evaluated. Precedence:

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
from collections.abc import Iterator, Sequence
from itertools import compress, repeat
from operator import getitem, itemgetter, not_

MAX_INPUT_CHARS = 20_000  # longer replies keep only their tail
MAX_ANSWER_CHARS = 1_000  # an extracted answer is cut to this length
MAX_MARKERS = 32  # answer markers tried, from the last one back
MAX_LINES = 64  # non-blank lines tried for the last-line rule, from the end
_NEXT_LINES_CHARS = 16_000  # what is read after a marker that ends its line

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
# markers are found from the end of the text back (rfind), then matched where they start
_ANSWER_AT = re.compile(r"(?i)answer(?:\s+(?P<is>is)\b\s*:?|\s*[:：])[ \t]*(?P<rest>[^\n]*)")
_ANSWER_WORD = re.compile(r"(?i)\banswer")  # positions of "answer" in non-ASCII text (lower() may move them)
_HASHES_AT = re.compile(r"#{4}(?!#)[ \t]*(?P<rest>[^\n]*)")
_TIDY_WORK = re.compile(r"[*`$\\]|\.\s*$")  # what tidy has more to do for than collapsing whitespace
_BRACE = re.compile(r"[{}]")
_SENTENCE_END = re.compile(r"\.\s")
_MARKDOWN = re.compile(r"\*\*|`")
_LATEX_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_LATEX_WRAP = re.compile(r"\\(?:text|textbf|mathrm|mathbf|operatorname)\s*\{([^{}]*)\}")
_LATEX_SPACE = re.compile(r"\\[,;:! ]|\\(?:left|right|displaystyle)\b")
_LATEX_OPS = {
    r"\cdot": "*",
    r"\times": "*",
    r"\div": "/",
    r"\le": "<=",
    r"\ge": ">=",
    r"\neq": "!=",
    r"\lt": "<",
    r"\gt": ">",
}
_LATEX_OP = re.compile(r"\\(?:cdot|times|div|le|ge|neq|lt|gt)(?![A-Za-z])")
_MATH_DELIMS = (("$$", "$$"), ("$", "$"), (r"\(", r"\)"), (r"\[", r"\]"))


def extract_answer(text: str | None) -> str | None:
    """The final answer in `text`, tidied; None when there is nothing to read."""
    if not text:
        return None
    if not isinstance(text, str):
        text = str(text)
    if len(text) > MAX_INPUT_CHARS:
        text = text[-MAX_INPUT_CHARS:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        text = text.replace("\x00", "")
    if "boxed" in text or "fbox" in text:
        boxed = last_boxed(text)
        if boxed is not None:
            got = tidy(boxed)
            if got is not None:
                return got
    if "*" in text or "`" in text:
        text = _MARKDOWN.sub("", text)
    marked = _last_marked(text)
    if marked is not None:
        return marked
    tried = 0
    for line in reversed(text.split("\n")):
        if not line or line.isspace():
            continue
        got = tidy(line)
        if got is not None:
            return got
        tried += 1
        if tried >= MAX_LINES:
            break
    return None


def extract_answers(texts: Sequence[str | None]) -> list[str | None]:
    """extract_answer of every text of a batch: the same answers, read cheaply where the shape allows.

    Where nothing can move the answer elsewhere (no NUL byte and no box), a text whose last line is a settled
    "Answer: ..." (plain ASCII, already tidy, no marker inside) is read straight off that line, and one without
    any marker is its last line. Each condition is checked for the whole batch at once, and text by text only
    where that fails. Any other text goes through extract_answer, so the answer has one definition
    (tests/test_extraction.py holds the two equal on every string, hostile ones included).
    """
    try:
        joined = "\n".join(texts)  # type: ignore[arg-type]
    except TypeError:  # None or another type among them
        joined = None
    # NULs are dropped before boxes are looked for, so a NUL can hide a box: neither may be there
    # (a box needs a backslash: that is a much quicker scan than for "box")
    if joined is not None and "\x00" not in joined and ("\\" not in joined or "box" not in joined):
        return _read_clean(texts)  # type: ignore[arg-type]
    rows = [i for i, t in enumerate(texts) if type(t) is str and "\x00" not in t and "box" not in t]
    cheap = set(rows)
    out = [None if i in cheap else extract_answer(t) for i, t in enumerate(texts)]
    got = _read_clean([texts[i] for i in rows])  # type: ignore[misc]
    for i, answer in zip(rows, got):
        out[i] = answer
    return out


def _read_clean(texts: Sequence[str]) -> list[str | None]:
    """extract_answers for texts without NUL bytes or boxes."""
    rows = range(len(texts))
    last_lines = list(map(itemgetter(2), map(str.rpartition, texts, repeat("\n"))))
    marked = list(map(str.startswith, last_lines, repeat(_MARKERS)))  # the last line is "Answer: ..."
    # what a marker would introduce, on every row (the unmarked ones are read again below)
    out: list[str | None] = list(map(str.lstrip, map(getitem, last_lines, repeat(_AFTER_MARKER)), repeat(" ")))
    if True in marked and not _all_settled(list(compress(out, marked))):  # else each is the answer, tidy
        for i in compress(rows, marked):
            out[i] = _settled_line(texts[i])
    rest = list(compress(rows, map(not_, marked))) if False in marked else []  # may hold no marker at all
    if rest:
        unread = list(map(texts.__getitem__, rest))
        unmarked = _unmarked("".join(unread))
        got = _plain_last_lines(unread, list(compress(last_lines, map(not_, marked)))) if unmarked else None
        if got is None:
            got = [_last_line(text) if unmarked or _unmarked(text) else None for text in unread]
        for i, text, answer in zip(rest, unread, got):
            out[i] = answer or extract_answer(text)  # (None for an empty text)
    return out


def _plain_last_lines(texts: list[str], lines: list[str]) -> list[str] | None:
    """_last_line of each of these _unmarked texts (given their last lines), in a few passes over the batch;
    None when a line needs more than trimming (not printable ASCII, maths or LaTeX, too long)."""
    j = _joined_plain(lines)
    if j is None or max(map(len, texts)) > MAX_INPUT_CHARS:
        return None
    got = list(map(str.strip, lines))
    if "." in j:  # what _last_line does to a line ending in a full stop, a no-op on any other
        for chars in (".", None, ".", None, ".", None):
            got = list(map(str.rstrip, got, repeat(chars)))
    if "  " in j:
        got = list(map(" ".join, map(str.split, got)))
    return got


# printable ASCII but the space and * ` $ \ (markdown, maths, LaTeX: what tidy works on); an answer is a run
# of these and single spaces that does not end in a full stop
_PLAIN = r"!-#%-)+-\[\]-_a-~"
_SETTLED = rf"(?:[{_PLAIN}][{_PLAIN} ]*)?[!-#%-)+-\-/-\[\]-_a-~]"  # the last char: _PLAIN but the full stop
_ANSWER_LINE = re.compile(rf"(?:Answer|answer|ANSWER): *({_SETTLED})")
_MARKERS = ("Answer:", "answer:", "ANSWER:")  # how an _ANSWER_LINE starts
_AFTER_MARKER = slice(len(_MARKERS[0]), None)


def _settled(answer: str) -> bool:
    """A _SETTLED match that tidy leaves as it is (single spaces) and that holds no marker."""
    return "  " not in answer and "answer" not in answer.lower()


def _joined_plain(parts: list[str]) -> str | None:
    """The parts joined by "$" when each is printable ASCII (0x20-0x7e) without "$" or a backslash and at most
    MAX_ANSWER_CHARS long, else None: one scan of one string per test, for the whole batch."""
    j = "$".join(parts)
    if (
        max(map(len, parts)) <= MAX_ANSWER_CHARS
        and j.isascii()
        and j.isprintable()
        and j.count("$") == len(parts) - 1
        and "\\" not in j
    ):
        return j
    return None


def _all_settled(answers: list[str]) -> bool:
    """Each answer is a _SETTLED match that is _settled and at most MAX_ANSWER_CHARS long."""
    j = _joined_plain(answers)
    return (
        j is not None
        and "*" not in j
        and "`" not in j
        and "$$" not in j  # none is empty
        and j[:1] != "$"
        and j[-1:] not in "$. "  # (and j is not empty)
        and ".$" not in j  # none ends in a full stop
        and " $" not in j  # ... or a space (none starts with one: they are left-stripped)
        and _settled(j)
    )


def _settled_line(text: str) -> str | None:
    """The answer of a text whose last line starts with an answer marker, text by text."""
    m = _ANSWER_LINE.fullmatch(text, text.rfind("\n") + 1)
    if m is not None and len(m[1]) <= MAX_ANSWER_CHARS and _settled(m[1]):
        return m[1]
    return extract_answer(text)


def _unmarked(text: str) -> bool:
    """ASCII text without a marker, nor anything that could make one (markdown, carriage returns)."""
    return (
        text.isascii()
        and "*" not in text
        and "`" not in text
        and "\r" not in text
        and "####" not in text
        and "answer" not in text.lower()
    )


def _last_line(text: str) -> str | None:
    """The last line of an _unmarked text, tidied (None: extract_answer must look further up)."""
    line = text[text.rfind("\n") + 1 :]
    if len(text) > MAX_INPUT_CHARS or not line or line.isspace():
        return None
    if len(line) > MAX_ANSWER_CHARS or not line.isprintable() or "$" in line or "\\" in line:
        return tidy(line)
    # printable ASCII without markdown, maths or LaTeX: all tidy does is trim spaces and, up to three times,
    # trailing full stops (then the spaces before them), and make every run of spaces one
    line = line.strip()
    if line[-1] == ".":
        line = line.rstrip(".").rstrip().rstrip(".").rstrip().rstrip(".").rstrip()
    return (" ".join(line.split()) if "  " in line else line) or None


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


def _answer_positions(text: str) -> Iterator[int]:
    """Where "answer" starts after a word boundary, from the end back."""
    if not text.isascii():  # lower() can change the length of non-ASCII text: positions by regex instead
        yield from [m.start() for m in _ANSWER_WORD.finditer(text)][::-1]
        return
    low, at = text.lower(), len(text)
    while at > 0 and (at := low.rfind("answer", 0, at + 5)) >= 0:
        if at == 0 or not (low[at - 1].isalnum() or low[at - 1] == "_"):
            yield at


def _hash_positions(text: str) -> Iterator[int]:
    """Where a "####" starts its line (after spaces or tabs only), from the end back."""
    at = len(text)
    while at > 0 and (at := text.rfind("####", 0, at + 3)) >= 0:
        if not text[text.rfind("\n", 0, at) + 1 : at].strip(" \t"):
            yield at


def _markers(text: str) -> Iterator[re.Match[str]]:
    """Marker matches ("answer is", "answer:", a line's "####"), from the last one back."""
    answers, hashes = _answer_positions(text), _hash_positions(text)
    a, h = next(answers, -1), next(hashes, -1)
    while a >= 0 or h >= 0:
        if a > h:
            match, a = _ANSWER_AT.match(text, a), next(answers, -1)
        else:
            match, h = _HASHES_AT.match(text, h), next(hashes, -1)
        if match is not None:
            yield match


def _last_marked(text: str) -> str | None:
    """The answer after the last marker that has one (of the last MAX_MARKERS: bounded work)."""
    if text.isascii():  # the usual reply: its last "answer" is the last marker; no generators needed
        low = text.lower()
        at = low.rfind("answer")
        if at >= 0 and (at == 0 or not (low[at - 1].isalnum() or low[at - 1] == "_")) and text.find("####", at) < 0:
            match = _ANSWER_AT.match(text, at)
            if match is not None:
                got = _answer_after(text, match)
                if got is not None:
                    return got
    for tried, match in enumerate(_markers(text)):
        if tried >= MAX_MARKERS:
            break
        got = _answer_after(text, match)
        if got is not None:
            return got
    return None


def _answer_after(text: str, match: re.Match[str]) -> str | None:
    """The answer a marker introduces: the rest of its line (up to a sentence end after "answer is"),
    or the next non-empty line when the marker ends its line."""
    rest = match.group("rest")
    if match.re is _ANSWER_AT and match.group("is") is not None:  # "answer is": up to the sentence's end
        rest = _SENTENCE_END.split(rest, maxsplit=1)[0]
    got = tidy(rest)
    if got is None:
        for line in text[match.end() : match.end() + _NEXT_LINES_CHARS].split("\n")[1:4]:
            got = tidy(line)
            if got is not None:
                break
    return got


def tidy(candidate: str) -> str | None:
    """Strip markdown, math delimiters, simple LaTeX and trailing full stops; None when nothing is left."""
    s = candidate[: MAX_ANSWER_CHARS * 4]
    if _TIDY_WORK.search(s) is None:  # plain text (the usual answer): only whitespace to collapse
        return " ".join(s.split())[:MAX_ANSWER_CHARS] or None
    s = _MARKDOWN.sub("", s).strip()
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
