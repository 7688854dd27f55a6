"""`curriculum export --format trl|verl`: records each trainer loads as it expects; held-out items stay home."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from curriculum.cli import main
from curriculum.export import verl_schema
from curriculum.prompts import TEMPLATES, PromptTemplate, load_template
from curriculum.rewards import compute_score, reward_func, trl_reward
from tests.test_cli import cli, one_line_error
from tests.test_steps import run_tiers

datasets = pytest.importorskip("datasets")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One small run (tier 1 of addition and boolean_eval), shared by the tests here."""
    from curriculum.config import parse_config
    from tests.conftest import tiny_config_dict

    data = tmp_path_factory.mktemp("run") / "data"
    config = parse_config(tiny_config_dict(data))
    return data, run_tiers(config, 1)


def export(data, fmt: str, out, *extra: str) -> None:
    assert main(["export", "--format", fmt, "--data-dir", str(data), "-o", str(out), *extra]) == 0


def test_trl_export_loads_with_datasets_and_scores_its_own_completions(run_dir, tmp_path):
    data, run_id = run_dir
    out = tmp_path / "train.jsonl"
    export(data, "trl", out)
    ds = datasets.load_dataset("json", data_files=str(out), split="train")
    for column in (
        "prompt",
        "question",
        "answer",
        "solution",
        "data_source",
        "ability",
        "reward_model",
        "extra_info",
        "skill",
        "level",
        "item_id",
        "completion",
        "label",
    ):
        assert column in ds.column_names
    row = ds[0]
    assert [m["role"] for m in row["prompt"]] == ["system", "user"]
    assert row["prompt"][1]["content"] == row["question"] and "Answer: <answer>" in row["prompt"][0]["content"]
    assert row["data_source"] == f"curriculum/{row['skill']}" and row["ability"] in ("maths", "logic")
    assert row["reward_model"] == {"style": "rule", "ground_truth": row["answer"]} and row["solution"] == row["answer"]
    assert row["extra_info"]["run_id"] == run_id and row["extra_info"]["tier"] == 1
    assert set(row["extra_info"]) == {"item_id", "skill", "level", "tier", "run_id", "split", "params"}
    assert json.loads(row["extra_info"]["params"]) is not None
    assert set(ds["extra_info"][i]["split"] for i in range(len(ds))) == {"train"}  # held-out items stay home
    assert row["completion"] == [{"role": "assistant", "content": f"Answer: {row['answer']}"}]
    # the SFT targets earn full reward from the GRPO reward, the verl score and OpenRLHF's reward_func
    reward = trl_reward(ds)
    columns = {c: ds[c] for c in ("skill", "answer", "question", "item_id", "level", "extra_info")}
    assert reward(prompts=ds["prompt"], completions=ds["completion"], **columns) == [1.0] * len(ds)
    prompts = [r["prompt"][1]["content"] for r in ds]
    queries = [p + c[0]["content"] for p, c in zip(prompts, ds["completion"])]
    assert reward_func(queries, prompts, ds["label"])["rewards"].sum().item() == len(ds)


def test_verl_export_has_verls_schema(run_dir, tmp_path):
    data, run_id = run_dir
    out = tmp_path / "train.parquet"
    export(data, "verl", out, "--prompt-template", "boxed")
    assert pq.read_schema(out).remove_metadata() == verl_schema()
    frame = pq.read_table(out).to_pandas()
    assert set(frame["extra_info"].map(lambda e: e["split"])) == {"train"}
    for _, row in frame.head(20).iterrows():
        prompt = list(row["prompt"])
        assert prompt[0]["role"] == "system" and "\\boxed" in prompt[0]["content"]
        assert prompt[-1] == {"role": "user", "content": row["question"]}
        truth = row["reward_model"]["ground_truth"]
        good = TEMPLATES["boxed"].completion(truth)
        assert compute_score(row["data_source"], good, truth, row["extra_info"])["score"] == 1.0
        assert compute_score(row["data_source"], "I am not sure", truth, row["extra_info"])["no_answer"] == 0.0
    # verl reads its files through datasets' parquet loader
    ds = datasets.load_dataset("parquet", data_files=str(out), split="train")
    assert len(ds) == len(frame) and ds[0]["extra_info"]["run_id"] == run_id


def test_held_out_items_leave_only_when_asked(run_dir, tmp_path):
    data, _ = run_dir
    for fmt, read in (
        ("trl", lambda p: [json.loads(x)["extra_info"]["split"] for x in p.read_text().splitlines()]),
        ("verl", lambda p: [e["split"] for e in pq.read_table(p).column("extra_info").to_pylist()]),
    ):
        splits = {}
        for name, extra in (("default", ()), ("eval", ("--split", "eval")), ("all", ("--include-held-out",))):
            out = tmp_path / f"{fmt}-{name}"
            export(data, fmt, out, *extra)
            splits[name] = read(out)
        assert set(splits["default"]) == {"train"} and set(splits["eval"]) == {"eval"}
        assert sorted(splits["all"]) == sorted(splits["default"] + splits["eval"])
    chat = tmp_path / "chat.jsonl"
    export(data, "openai-chat", chat)  # a training format too: train items only by default
    assert len(chat.read_text().splitlines()) == len(splits["default"])


def test_prompt_templates(tmp_path):
    custom = tmp_path / "t.yaml"
    custom.write_text("user: 'Q: {question}'\nanswer: '#### {answer}'\n")
    template = load_template(str(custom))
    assert template.messages("1 + 1 =") == [{"role": "user", "content": "Q: 1 + 1 ="}]
    assert template.completion("{2}") == "#### {2}"  # braces are text, never format fields
    assert load_template(None).name == "answer-line"
    with pytest.raises(ValueError, match="question"):
        PromptTemplate(user="no placeholder")


def test_bad_export_options_are_one_line(run_dir, tmp_path):
    data, _ = run_dir
    base = ("export", "--data-dir", str(data), "-o", str(tmp_path / "x"))
    assert "not both" in one_line_error(cli(*base, "--format", "trl", "--split", "eval", "--include-held-out"))
    assert "unknown prompt template 'fancy'" in one_line_error(
        cli(*base, "--format", "verl", "--prompt-template", "fancy")
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("user: 'no placeholder'\nextra: 1\n")
    assert "prompt template" in one_line_error(cli(*base, "--format", "trl", "--prompt-template", str(bad)))
