"""Final-answer extraction from free-form model text: examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from curriculum.extraction import MAX_ANSWER_CHARS, MAX_INPUT_CHARS, extract_answer, last_boxed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Let me think.\nAnswer: 42", "42"),
        ("**Answer:** 3/4.", "3/4"),
        ("Final answer: x = -4, y = 4", "x = -4, y = 4"),
        ("So the answer is 17. Done!", "17"),
        ("The final answer is: `<`.", "<"),
        ("Reasoning...\n#### 1,234", "1,234"),
        ("Natalia sold 48 clips.\n#### 72\n", "72"),
        (r"Thus $\boxed{12}$.", "12"),
        (r"\boxed{\frac{3}{4}}", "3/4"),
        (r"\boxed{\dfrac{-1}{2}}", "-1/2"),
        (r"\boxed{\{1, 2\}}", "{1, 2}"),
        (r"\boxed{\text{yes}}", "yes"),
        (r"first \boxed{1}, then corrected: \boxed{2}", "2"),
        (r"Answer: \boxed{{7}}", "{7}"),
        (r"\boxed{5 unclosed. Answer: 6", "6"),
        ("Answer:\n\n  17", "17"),
        ("Answer: $5$.", "5"),
        ("It is True.\n\nTrue.\n\n", "True"),
        ("Judy: knave, Heidi: knight", "Judy: knave, Heidi: knight"),
        ("The answers are below\nno", "no"),
        ("answer is: 7", "7"),
        ("", None),
        ("   \n\n ", None),
        (None, None),
        ("...", None),
    ],
)
def test_examples(text, expected):
    assert extract_answer(text) == expected


def test_boxed_takes_precedence_and_nests():
    assert extract_answer("Answer: 3\n" + r"\boxed{\frac{\frac{1}{2}}{3}}") == "(1/2)/3"
    assert last_boxed(r"\boxed{a{b{c}}d}") == "a{b{c}}d"
    assert last_boxed(r"\boxed{a") is None


def test_long_and_hostile_input_keeps_the_tail():
    text = "noise " * 200_000 + "\nAnswer: 99"
    assert extract_answer(text) == "99"
    for hostile in ("{" * 10**6, r"\boxed{" * 10**5, "answer " * 10**5, "\n" * 10**6, "#### \n" * 10**5):
        extract_answer(hostile)  # bounded input: returns rather than backtracking for ever
    assert extract_answer("x" * (MAX_INPUT_CHARS * 3)) == "x" * MAX_ANSWER_CHARS


ANSWER_CHARS = st.characters(
    codec="ascii", categories=("L", "N"), include_characters=" /-,=<>", exclude_characters="`$\\"
)
clean_answers = (
    st.text(ANSWER_CHARS, min_size=1, max_size=40)
    .map(str.strip)
    .filter(lambda s: bool(s) and "answer" not in s.lower() and not s.startswith("#"))
)
preambles = st.text(st.characters(codec="ascii", exclude_characters="`$\\*#{}"), max_size=200).filter(
    lambda s: "answer" not in s.lower() and "boxed" not in s.lower() and "fbox" not in s.lower()
)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=2000))
def test_never_raises_and_is_bounded(text):
    got = extract_answer(text)
    assert got is None or (0 < len(got) <= MAX_ANSWER_CHARS and "\n" not in got and got == got.strip())


TEMPLATES = ["Answer: {}", "**Answer:** {}.", "The answer is {}", "#### {}", "\\boxed{{{}}}", "{}"]
NESTED = st.recursive(
    st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=5),
    lambda inner: inner.map(lambda s: "{" + s + "}"),
    max_leaves=5,
)


@settings(max_examples=200, deadline=None)
@given(preambles, clean_answers, st.sampled_from(TEMPLATES))
def test_marked_answer_is_recovered(preamble, answer, template):
    expected = " ".join(answer.split())
    if template == "The answer is {}" and ". " in answer:
        return
    assert extract_answer(preamble + "\n" + template.format(answer)) == expected


@settings(max_examples=100, deadline=None)
@given(NESTED)
def test_boxed_with_nested_braces(inner):
    assert last_boxed(f"work \\boxed{{{inner}}} more") == inner


FRAGMENTS = st.sampled_from(
    [
        "answer",
        "Answer:",
        "ANSWER is ",
        "final answer: ",
        "####",
        " #### ",
        "\n",
        " ",
        "5",
        "x = 2",
        ". ",
        "answers",
        "is",
        "é",
        "İ",
        "_answer:",
        "\t",
        "**",
        "3/4",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(FRAGMENTS, max_size=30).map("".join))
def test_the_fast_path_reads_the_same_last_marker(text):
    from curriculum.extraction import _answer_after, _last_marked, _markers

    reference = next((got for m in _markers(text) if (got := _answer_after(text, m)) is not None), None)
    assert _last_marked(text) == reference


BATCH_FRAGMENTS = st.sampled_from(
    [
        "Answer: ",
        "answer:",
        "ANSWER: ",
        "The answer is ",
        "#### ",
        "\\boxed{",
        "}",
        "box",
        "\x00",
        "\n",
        "\r",
        " ",
        "  ",
        ".",
        "...",
        "**",
        "`",
        "$",
        "\\",
        "42",
        "-7",
        "3/4",
        "True",
        "x = 2",
        "é",
        "\t",
        "answers",
        "Answer: 42",
    ]
)
BATCH_TEXTS = st.one_of(
    st.none(),
    st.lists(BATCH_FRAGMENTS, max_size=12).map("".join),
    st.text(max_size=60),
    st.builds(
        lambda pre, gold: pre + "\nAnswer: " + gold, st.text(max_size=30), st.sampled_from(["42", "3/4", "True"])
    ),
    st.just("x" * (MAX_INPUT_CHARS + 5) + "\n7"),
    st.just("Answer: " + "9" * (MAX_ANSWER_CHARS + 3)),
    st.builds(  # an answer line with any tail: the batch checks all such lines at once
        lambda pre, marker, tail: pre + marker + tail,
        st.sampled_from(["", "work\n", "x\n\n"]),
        st.sampled_from(["Answer:", "answer: ", "ANSWER:  ", "Answer :"]),
        st.lists(BATCH_FRAGMENTS, max_size=4).map("".join),
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(BATCH_TEXTS, max_size=8))
@example(["Answer:."])  # a lone full stop is no answer: the line itself is read, tidied
@example(["Answer: ."])
@example(["Answer: 5", "Answer:"])  # one empty answer among settled ones
@example(["Answer: 5", "Answer: 6 "])
@example(["Answer: 5", "Answer: a$b", "Answer: c"])
@example(["Answer: 5", "Answer: 6\t"])
@example(["Answer: 5", "Answer: x answer"])
def test_a_batch_reads_exactly_what_each_text_reads_alone(texts):
    """extract_answers is a faster path to the same answers, never a second definition of them."""
    from curriculum.extraction import extract_answers

    expected = [extract_answer(t) for t in texts]
    assert extract_answers(texts) == expected
