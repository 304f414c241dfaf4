import gzip
import json
import logging

import pytest

from quotestance.config import DataConfig
from quotestance.corpora import (MILITARY_CLAIMS, PERSPECTRUM, SPEECHES, id_matches, read_perspectrum_sentences,
                                 read_speech_sentences, text_hash)
from quotestance.dataset import build_dataset


def write_corpus(folder, speeches):
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / SPEECHES, "wt", encoding="utf-8") as handle:
        for speech in speeches:
            handle.write(json.dumps(speech) + "\n")


SPEECH = {"id": "cr-1", "title": "IRAQ", "speaker": "Mr. SMITH", "date": "1 May 2007",
          "paragraphs": ["Mr. SMITH. Madam Speaker, we must bring our troops home. The surge has failed.",
                         "I yield back the balance of my time."]}


def test_sentence_ids_are_stable_and_carry_a_text_hash(tmp_path):
    write_corpus(tmp_path / "corpora", [SPEECH])
    sentences = read_speech_sentences(tmp_path / "corpora", tmp_path / "cache")
    texts = [s.text for s in sentences]
    assert "Mr. SMITH." not in texts  # the speaker tag is not a statement
    first = sentences[0]
    assert first.id.startswith("cr-1:0:") and first.id.endswith(text_hash(first.text))
    assert id_matches(first.id, first.text) and not id_matches(first.id, first.text + " changed")
    again = read_speech_sentences(tmp_path / "corpora", tmp_path / "cache")
    assert [s.id for s in again] == [s.id for s in sentences]


def test_splitting_progress_bar_can_be_hidden(tmp_path, capsys):
    write_corpus(tmp_path / "corpora", [SPEECH])
    read_speech_sentences(tmp_path / "corpora", tmp_path / "quiet", progress=False)
    assert "splitting speeches" not in capsys.readouterr().err
    read_speech_sentences(tmp_path / "corpora", tmp_path / "shown")
    assert "splitting speeches" in capsys.readouterr().err


def corpus_config(tmp_path, statements_file, annotations):
    folder = tmp_path / "annotations"
    folder.mkdir()
    (folder / "a.jsonl").write_text("".join(json.dumps(row) + "\n" for row in annotations))
    return DataConfig(statements=str(statements_file), corpora_dir=str(tmp_path / "corpora"),
                      annotations_dir=str(folder), cache_dir=str(tmp_path / "cache" / "datasets"), weak_max_rows=30)


def many_speeches(n=30):
    return [{"id": f"cr-{i}", "speaker": f"Mr. S{i}", "date": None, "title": "T", "paragraphs": [
        f"We must bring our troops home from Iraq now, said member {i}.",
        f"A precipitous withdrawal would be a gift to al Qaeda in sector {i}.",
        f"The farm bill number {i} helps rural families in county {i * 3}.",
    ]} for i in range(n)]


def test_gold_labels_join_by_id_and_no_speech_crosses_splits(tmp_path, statements_file):
    write_corpus(tmp_path / "corpora", many_speeches())
    sentences = read_speech_sentences(tmp_path / "corpora", tmp_path / "cache" / "corpora")
    gold = [{"id": s.id, "stance": "neutral", "sentiment": "neutral"} for s in sentences if "farm" in s.text]
    dataset = build_dataset(corpus_config(tmp_path, statements_file, gold), seed=0)
    groups = {}
    for split, rows in dataset.items():
        for group, label_source, source in zip(rows["group"], rows["label_source"], rows["source"]):
            if source == "congressional-record":
                assert groups.setdefault(group, split) == split
            if split != "train":
                assert label_source == "gold"
    weak = [ls for ls in dataset["train"]["label_source"] if ls.startswith("weak")]
    assert 0 < len(weak) <= 30
    gold_ids = {row["id"] for row in gold}
    kept = {i for split in dataset.values() for i in split["id"] if i in gold_ids}
    assert kept  # gold sentences made it into the dataset


def test_perspectrum_keeps_military_claims_and_joins_gold_labels(tmp_path, statements_file):
    write_corpus(tmp_path / "corpora", many_speeches(3))
    claim = MILITARY_CLAIMS[0]
    rows = [{"claim_id": claim, "claim": "c", "perspective": "The  troops should come home now.", "stance": "support"},
            {"claim_id": -1, "claim": "baseball", "perspective": "Instant replay is good.", "stance": "support"},
            {"claim_id": claim, "claim": "c", "perspective": "It was a success.", "stance": "undermine"}]
    with gzip.open(tmp_path / "corpora" / PERSPECTRUM, "wt", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(row) + "\n" for row in rows))
    sentences = read_perspectrum_sentences(tmp_path / "corpora")
    assert [s.text for s in sentences] == ["The troops should come home now.", "It was a success."]
    assert sentences[1].id == f"perspectrum:{claim}:1:{text_hash('It was a success.')}"
    gold = [{"id": sentences[0].id, "stance": "pro-withdrawal", "sentiment": "neutral"}]
    dataset = build_dataset(corpus_config(tmp_path, statements_file, gold), seed=0)
    found = [(split, row) for split, rows in dataset.items() for row in rows if row["id"] == sentences[0].id]
    assert len(found) == 1 and found[0][1]["source"] == "perspectrum" and found[0][1]["stance"] == "pro-withdrawal"


def test_changed_sentence_is_an_error_naming_the_id(tmp_path, statements_file):
    write_corpus(tmp_path / "corpora", many_speeches(3))
    sentence = read_speech_sentences(tmp_path / "corpora", tmp_path / "cache" / "corpora")[0]
    stale = sentence.id.rsplit(":", 1)[0] + ":deadbeef"
    with pytest.raises(ValueError, match=stale):
        build_dataset(corpus_config(tmp_path, statements_file, [{"id": stale, "stance": "neutral"}]), seed=0)


def test_without_corpora_builds_from_statements_and_says_so(tmp_path, statements_file, caplog):
    config = DataConfig(statements=str(statements_file), corpora_dir=str(tmp_path / "absent"), annotations_dir="",
                        cache_dir=str(tmp_path / "cache"))
    with caplog.at_level(logging.INFO, logger="quotestance"):
        dataset = build_dataset(config, seed=0)
    assert set().union(*(set(split["source"]) for split in dataset.values())) == {"written"}
    assert "corpora not found" in caplog.text
