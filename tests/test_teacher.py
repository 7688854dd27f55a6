"""The LLM teacher (rewrites, harder variants) against a scripted local server, and safe_math."""

from __future__ import annotations

import builtins
import json
import re
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curriculum.chat import EndpointConfig, UnknownModel
from curriculum.generate import generate_items
from curriculum.items import ITEM_SCHEMA, item_id
from curriculum.teacher import harder_variants, reverify, rewrite_as_word_problems, safe_math
from curriculum.teacher.rewrite import REWRITE_SYSTEM, REWRITE_USER, numbers_kept
from curriculum.teacher.safe_math import SafeMathError
from curriculum.teacher.variants import VARIANT_SYSTEM, parse_reply
from tests.openai_server import FakeOpenAI, Fault, last_user_message

KEY = "sk-teacher-test"
MODEL = "teacher-model"


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeOpenAI(api_key=KEY, models=(MODEL,)) as srv:
        yield srv


def config(server: FakeOpenAI, **overrides) -> EndpointConfig:
    raw = {"base_url": server.url, "model": MODEL, "backoff_base_s": 0.01, "backoff_max_s": 0.02, "max_retries": 1}
    return EndpointConfig(**(raw | overrides))


def ints(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


# ---- rewrites ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sums() -> pl.DataFrame:
    """Addition items whose operands differ from each other and from their sum (no accidental leaks)."""
    frame = generate_items("addition", 2, 40, 0)
    keep = [len(set(ints(q) + [int(a)])) == 3 for q, a in zip(frame["question"], frame["answer"])]
    return frame.filter(pl.Series(keep)).head(9)


def rewrite_responder(plan: dict[str, str]):
    """A teacher that follows `plan` (source question -> behaviour) and a solver that adds the numbers."""

    def respond(messages):
        system, user = messages[0]["content"], last_user_message({"messages": messages})
        if system == REWRITE_SYSTEM:
            source = user.split("\n\n", 1)[1]
            a, b = ints(source)
            behaviour = plan.get(source, "good")
            return {
                "good": f"Mia has {a} marbles and finds {b} more. How many marbles does Mia have now?",
                "drop": f"Mia has {a} marbles and finds a few more. How many marbles does Mia have now?",
                "long": "Once upon a time " * 200 + f"{a} {b}",
                "leak": f"Mia has {a} marbles and finds {b} more, {a + b} in all. How many marbles?",
                "same": source,
                "wrong": f"Tom has {a} pebbles and finds {b} more. How many pebbles does Tom have now?",
            }[behaviour]
        total = sum(ints(user))
        return f"Adding up.\nAnswer: {total + 1 if 'pebbles' in user else total}"

    return respond


def test_rewrites_are_verified_before_acceptance(server, sums):
    qs = sums["question"].to_list()
    plan = {qs[0]: "drop", qs[1]: "long", qs[2]: "leak", qs[3]: "same", qs[4]: "wrong"}
    server.responder = rewrite_responder(plan)
    server.fail_question(REWRITE_USER.format(question=qs[5]), Fault("500"), Fault("500"))
    frame = pl.concat(
        [
            sums,
            sums.head(1).with_columns(pl.lit("real").alias("source"), pl.lit("nope").alias("item_id")),
            sums.head(1).with_columns(pl.lit("no_such_skill").alias("skill")),
        ]
    )
    accepted, rejections = rewrite_as_word_problems(config(server), frame, k_samples=3)

    counts = dict(rejections.iter_rows())
    assert rejections.schema == pl.Schema({"reason": pl.String, "count": pl.Int64})
    assert counts == {
        "numbers_missing": 1,
        "too_long": 1,
        "answer_leaked": 1,
        "unchanged": 1,
        "disagreement": 1,
        "error": 1,
        "not_procedural": 1,
        "unknown_skill": 1,
    }
    assert accepted.schema == pl.Schema(ITEM_SCHEMA)
    assert accepted.height == 3
    sources = {r["item_id"]: r for r in sums.iter_rows(named=True)}
    for row in accepted.iter_rows(named=True):
        params = json.loads(row["params"])
        src = sources[params["source_item_id"]]
        assert row["source"] == f"llm:{MODEL}" and row["question"].startswith("Mia has")
        assert row["item_id"] == item_id(row["skill"], row["question"]) != src["item_id"]
        kept = ("answer", "skill", "level", "split")
        assert [row[k] for k in kept] == [src[k] for k in kept]
        assert params["verification"]["k"] == 3 and params["source_question"] == src["question"]
        assert reverify(row)
        assert not reverify(row | {"answer": str(int(row["answer"]) + 1)})
    # one rewrite request per procedural item (+1 retry of the 500), then k answers for each candidate
    chats = server.chat_requests()
    rewrites = [r for r in chats if r.body["messages"][0]["content"] == REWRITE_SYSTEM]
    solves = [r for r in chats if r.body["messages"][0]["content"] != REWRITE_SYSTEM]
    assert len(rewrites) == 9 + 1
    assert len(solves) == 3 * 4  # three accepted + one disagreement
    assert {r.body["temperature"] for r in solves} == {0.7}


def test_rewrite_needs_samples_and_propagates_fatal_errors(server, sums):
    with pytest.raises(ValueError):
        rewrite_as_word_problems(config(server), sums, k_samples=0)
    with pytest.raises(UnknownModel):
        rewrite_as_word_problems(config(server, model="gone"), sums, k_samples=1)
    accepted, rejections = rewrite_as_word_problems(config(server), sums.head(0))
    assert accepted.height == 0 and rejections.height == 0


def test_numbers_kept_counts_multiplicity():
    assert numbers_kept("3 + 3 =", "Ann has 3 pears and 3 plums.")
    assert not numbers_kept("3 + 3 =", "Ann has 3 pears and as many plums.")
    assert numbers_kept("1,200 - 7 =", "A shop had 1200 cans and sold 7.")
    assert numbers_kept("0.5 + 2 =", "Add 0.50 and 2.")


# ---- harder variants ---------------------------------------------------------------------------

VARIANTS = [
    ("good_arith", {"question": "Compute 12 * 3 + 7.", "expression": "12 * 3 + 7"}, "43"),
    ("good_equation", {"question": "3 times a number plus 4 is 25. What is it?", "expression": "3*x + 4 = 25"}, "7"),
    ("fenced", "```json\n" + json.dumps({"question": "What is 2^5 - 9?", "expression": "2^5 - 9"}) + "\n```", "23"),
    ("prose", "Sure! A harder one: what is 12 * 13?", None),
    ("extra_key", {"question": "What is 5 + 6?", "expression": "5 + 6", "answer": "11"}, None),
    ("code", {"question": "What is 5 + 6?", "expression": "__import__('os').system('true')"}, None),
    ("two_roots", {"question": "Twice a number squared is 8. Find it.", "expression": "2*x^2 = 8"}, None),
    ("no_numbers", {"question": "What is twelve times three?", "expression": "12*3"}, None),
    ("fraction", {"question": "What is 7 / 2?", "expression": "7/2"}, None),
    ("disagree", {"question": "What is 40 + 50 + 60?", "expression": "40 + 50 + 60"}, "150"),
    ("deep", {"question": "What is 1?", "expression": "(" * 60 + "1" + ")" * 60}, None),
]


def test_harder_variants_are_computed_and_checked(server):
    sources = generate_items("addition", 1, 30, 0).head(len(VARIANTS))
    by_source = {q: v for q, v in zip(sources["question"], VARIANTS)}

    def respond(messages):
        if messages[0]["content"] != VARIANT_SYSTEM:
            return None  # a solve: the registered answers below
        user = last_user_message({"messages": messages})
        source = user.split("\n")[0].removeprefix("Exercise: ")
        payload = by_source[source][1]
        return payload if isinstance(payload, str) else json.dumps(payload)

    server.responder = respond
    server.register({v[1]["question"]: v[2] for v in VARIANTS if isinstance(v[1], dict) and v[2]})
    server.register({"What is 2^5 - 9?": "23", "What is 40 + 50 + 60?": "151"})
    logic = generate_items("boolean_eval", 1, 1, 0)
    accepted, rejections = harder_variants(config(server), pl.concat([sources, logic]), k_samples=2)

    assert dict(rejections.iter_rows()) == {
        "bad_json": 2,
        "unparseable": 1,
        "no_unique_solution": 1,
        "numbers_missing": 1,
        "answer_type": 1,
        "disagreement": 1,
        "too_long": 1,
        "not_numeric": 1,
    }
    assert accepted.schema == pl.Schema(ITEM_SCHEMA)
    got = {r["question"]: r for r in accepted.iter_rows(named=True)}
    assert {q: r["answer"] for q, r in got.items()} == {
        "Compute 12 * 3 + 7.": "43",
        "3 times a number plus 4 is 25. What is it?": "7",
        "What is 2^5 - 9?": "23",
    }
    levels = dict(zip(sources["item_id"], sources["level"]))
    for row in got.values():
        params = json.loads(row["params"])
        assert row["source"] == f"llm:{MODEL}" and row["skill"] == "addition"
        assert row["level"] == levels[params["variant_of"]] + 1
        assert row["item_id"] == item_id("addition", row["question"])
        assert params["verification"]["method"] == "safe-math"
        assert reverify(row) and not reverify(row | {"answer": "0"})
    # the non-numeric source never reached the teacher
    assert not any(logic["question"][0] in (r.question or "") for r in server.chat_requests())


def test_parse_reply_is_strict():
    assert parse_reply('{"question": "q", "expression": "1+1"}') == ({"question": "q", "expression": "1+1"}, None)
    bad_replies = [
        "",
        "[]",
        '{"question": "q"}',
        '{"question": 1, "expression": "1"}',
        '{"question": "q", "expression": " "}',
    ]
    for bad in [*bad_replies, "nope"]:
        assert parse_reply(bad) == (None, "bad_json")
    assert parse_reply('{"question": "' + "x" * 5000 + '", "expression": "1"}') == (None, "too_long")


# ---- safe_math ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("2^10", 1024),
        ("2 ** 3", 8),
        ("2^3^2", 512),
        ("-2^2", -4),
        ("(-2)^2", 4),
        ("2^-2", Fraction(1, 4)),
        ("7 / 2", Fraction(7, 2)),
        ("- -3", 3),
        ("10 - 2 - 3", 5),
        ("12 / 3 / 2", 2),
        ("0.5 + 1/4", Fraction(3, 4)),
        ("2 × 3 − 1", 5),
        ("2*x + 3 = 11", 4),
        ("3(x + 1) = 12", 3),
        ("2x = x + 5", 5),
        ("x/4 = 2", 8),
        ("x^2 - 4x + 4 = 0", 2),
        ("-x = 7", -7),
        ("(x - 1)(x - 1) = 0", 1),
        ("2x^2 - 8 = 2x^2 + x", -8),
    ],
)
def test_safe_math_values(text, value):
    assert safe_math.compute(text) == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "unparseable"),
        ("1 +", "unparseable"),
        ("(1 + 2", "unparseable"),
        ("1 2", "unparseable"),
        ("1 / 0", "unparseable"),
        ("0^-1", "unparseable"),
        ("x + 1", "unparseable"),
        ("a + 1", "unparseable"),
        ("__import__('os')", "unparseable"),
        ("1 = 1 = 1", "unparseable"),
        ("= 3", "unparseable"),
        ("x = x", "no_unique_solution"),
        ("x + 1 = x", "no_unique_solution"),
        ("x^2 = 4", "no_unique_solution"),
        ("x^2 = -1", "no_unique_solution"),
        ("x^3 = 8", "unsupported"),
        ("1/x = 2", "unsupported"),
        ("2^0.5", "unsupported"),
        ("2^1000", "unsupported"),
        ("9^64^64", "unsupported"),
        ("x^9 = 1", "unsupported"),
        ("99999999999^60 * 99999999999^60", "unsupported"),
        ("1" * 31, "too_long"),
        ("1+" * 200 + "1", "too_long"),
        ("(" * 50 + "1" + ")" * 50, "too_long"),
        ("-" * 60 + "1", "too_long"),
    ],
)
def test_safe_math_rejects(text, reason):
    with pytest.raises(SafeMathError) as info:
        safe_math.compute(text)
    assert info.value.reason == reason


def test_safe_math_never_calls_eval(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    assert safe_math.compute("(3 + 4) * 2^3 - 6/4") == Fraction(109, 2)
    assert safe_math.solve("5*x - 3 = 2*x + 9") == 4


@st.composite
def expressions(draw, depth=0):
    """(text, exact value) of a random expression tree; None value when it divides by zero."""
    if depth > 3 or draw(st.booleans()):
        n = draw(st.integers(0, 50))
        return str(n), Fraction(n)
    op = draw(st.sampled_from("+-*/^n"))
    left, lv = draw(expressions(depth + 1))
    if op == "n":
        return f"-({left})", None if lv is None else -lv
    if op == "^":
        e = draw(st.integers(0, 3))
        value = None if lv is None or (lv == 0 and e == 0) else lv**e
        return f"({left})^{e}", value
    right, rv = draw(expressions(depth + 1))
    if lv is None or rv is None or (op == "/" and rv == 0):
        return f"({left}) {op} ({right})", None
    value = {"+": lv + rv, "-": lv - rv, "*": lv * rv, "/": lv / rv if rv else None}[op]
    return f"({left}) {op} ({right})", value


@settings(max_examples=200, deadline=None)
@given(expressions())
def test_safe_math_matches_exact_arithmetic(case):
    text, value = case
    if value is None:
        with pytest.raises(SafeMathError):
            safe_math.evaluate(text)
    else:
        assert safe_math.evaluate(text) == value


@settings(max_examples=200, deadline=None)
@given(st.integers(-50, 50).filter(bool), st.integers(-99, 99), st.integers(-99, 99))
def test_linear_equations_solve_exactly(a, b, c):
    assert safe_math.solve(f"{a}*x + {b} = {c}") == Fraction(c - b, a)
    assert safe_math.format_number(Fraction(c - b, a)) in (str(Fraction(c - b, a)),)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789x+-*/^()=. ab_'")), max_size=120) | st.text(max_size=50))
def test_any_text_is_a_value_or_a_safe_math_error(text):
    try:
        value = safe_math.compute(text)
    except SafeMathError as err:
        assert err.reason in safe_math.REASONS
    else:
        assert isinstance(value, Fraction)


# ---- the teacher in a run ------------------------------------------------------------------------


def test_a_run_keeps_only_verified_teacher_items_and_counts_every_outcome(server, tmp_path):
    from curriculum import runs, steps
    from curriculum.config import parse_config
    from curriculum.store import Store
    from tests.conftest import tiny_config_dict

    server.responder = rewrite_responder({})
    raw = tiny_config_dict(tmp_path / "data", tiers=1, skills=[{"name": "addition", "start_level": 2}])
    raw["tier"] = {"train_items_per_skill": 200, "eval_items_per_level": 8}
    raw["teacher"] = {
        "endpoint": {"base_url": server.url, "model": MODEL, "backoff_base_s": 0.01},
        "rewrite_share": 0.1,
        "k_samples": 2,
    }
    config = parse_config(raw)
    run_id = runs.start_run(config)
    steps.plan_step(config, run_id, 1)
    steps.generate_step(config, run_id, 1)
    store = Store(config.data_dir)
    items = store.tier_items(run_id, 1, 1)
    taught = items.filter(pl.col("source") == f"llm:{MODEL}")
    assert taught.height > 0 and set(taught["split"]) == {"train"}  # held-out probes stay procedural
    assert taught["question"].str.contains("marbles").all()
    outcomes = store.query("SELECT task, outcome, count FROM teacher_outcomes WHERE run_id = ?", [run_id])
    counts = dict(zip(outcomes["outcome"], outcomes["count"]))
    procedural_train = items.filter((pl.col("source") == "procedural") & (pl.col("split") == "train")).height
    assert counts["accepted"] == taught.height
    assert sum(counts.values()) == round(0.1 * procedural_train)  # every sampled item is accepted or has a reason
    report = steps.validate_step(config, run_id, 1)
    assert report.success, report.describe_failures()  # the gate re-derives every teacher answer


def test_rewrites_and_variants_start_from_different_rows():
    from curriculum.generate import generate_items
    from curriculum.steps import teacher_sample

    train = generate_items("addition", 3, 400, seed=0, split="train")
    rewrite, variant = (teacher_sample(train, 0.1, 7, task) for task in ("rewrite", "variant"))
    assert rewrite.height == variant.height == 40
    assert len(set(rewrite["item_id"]) & set(variant["item_id"])) < 10  # two independent 10% draws
    assert teacher_sample(train, 0.1, 7, "rewrite").equals(rewrite)  # and each is seeded
    assert teacher_sample(train, 0.0, 7, "rewrite").height == 0
