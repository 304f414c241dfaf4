import json
import re

import pytest
from conftest import ROOT

from quotestance.config import DataConfig
from quotestance.dataset import NearDuplicateIndex, Record, build_dataset, read_statements, split_records


def test_build_is_deterministic(statements_file, tmp_path):
    config = DataConfig(statements=str(statements_file), corpora_dir="", annotations_dir="", cache_dir=str(tmp_path))
    first, second = build_dataset(config, seed=3), build_dataset(config, seed=3)
    for split in ("train", "validation", "test"):
        assert first[split]["id"] == second[split]["id"]
        assert first[split]["stance"] == second[split]["stance"]
    other = build_dataset(config, seed=4)
    assert other["test"]["id"] != first["test"]["id"]


def test_every_record_lands_in_exactly_one_split(statements_file, tmp_path):
    config = DataConfig(statements=str(statements_file), corpora_dir="", annotations_dir="", cache_dir=str(tmp_path))
    dataset = build_dataset(config, seed=0)
    ids = [i for split in dataset.values() for i in split["id"]]
    assert len(ids) == len(set(ids))
    assert len(dataset["validation"]) > 0 and len(dataset["test"]) > 0


def record(i, group, text, label_source="gold"):
    return Record(id=f"r{i}", text=text, target=None, speaker=None, source="s", stance="neutral",
                  sentiment="neutral", label_source=label_source, group=group)


def test_groups_never_cross_splits_and_weak_labels_stay_in_train():
    records = [record(i, f"speech{i % 40}", f"sentence number {i} about topic {i * 7} and more words {i}",
                      "gold" if i % 2 else "weak:rule") for i in range(400)]
    splits = split_records(records, seed=1, validation_fraction=0.2, test_fraction=0.2)
    where = {}
    for name, rows in splits.items():
        for r in rows:
            assert where.setdefault(r.group, name) == name, f"{r.group} is in {where[r.group]} and {name}"
            if name != "train":
                assert r.label_source == "gold"
    assert {"train", "validation", "test"} <= set(where.values())


def test_near_duplicates_do_not_cross_splits():
    base = "we must bring every one of our soldiers home from this war before the winter comes"
    records = [record(i, f"g{i}", base + ("!" if i % 2 else "") + (" now" if i % 3 == 0 else "")) for i in range(30)]
    splits = split_records(records, seed=0, validation_fraction=0.3, test_fraction=0.3)
    nonempty = [name for name, rows in splits.items() if rows]
    assert len(nonempty) == 1


def test_near_duplicate_index_threshold():
    index = NearDuplicateIndex(["the quick brown fox jumps over the lazy dog today"])
    assert index.matches("The quick brown fox jumps over the lazy dog today!")
    assert not index.matches("a completely different sentence about troops in germany")


def test_bad_statement_line_names_file_line_and_field(tmp_path):
    path = tmp_path / "s.jsonl"
    good = {"id": "a", "text": "Bring them home.", "stance": "pro-withdrawal", "sentiment": "neutral"}
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "id": "b", "stance": "anti"}) + "\n")
    with pytest.raises(ValueError, match=r"s\.jsonl:2: field 'stance' has 'anti'"):
        read_statements(path)


def test_statement_without_text_is_an_error(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"id": "a", "text": " ", "stance": "neutral"}) + "\n")
    with pytest.raises(ValueError, match=r":1: field 'text'"):
        read_statements(path)


def _content_words(text):
    """Words of four letters or more: a quote's content without its glue words."""
    return {w for w in re.findall(r"[a-z0-9']+", text.lower()) if len(w) > 3}


def test_heldout_quotes_read_cleanly_and_no_training_statement_paraphrases_one():
    """The held-out quotes measure text we did not train on: no statement may share a quarter of a quote's words."""
    heldout = read_statements(ROOT / "data" / "heldout" / "news_quotes.jsonl")
    assert len(heldout) >= 200 and {r.stance for r in heldout} == {"pro-withdrawal", "pro-presence", "neutral"}
    quotes = [_content_words(r.text) for r in heldout]
    close = []
    for statement in read_statements(ROOT / "data" / "statements.jsonl"):
        words = _content_words(statement.text)
        if max(len(words & q) / len(words | q) for q in quotes) >= 0.25:
            close.append(statement.id)
    assert close == []
