import json

import pytest

from quotestance.annotation import import_labels, suggest
from quotestance.corpora import read_speech_sentences

from test_corpora import many_speeches, write_corpus


@pytest.fixture
def corpus(tmp_path):
    write_corpus(tmp_path / "corpora", many_speeches(20))
    return tmp_path / "corpora"


def test_suggest_spreads_over_speeches_and_skips_labeled(corpus, tmp_path, tiny_predictor):
    sentences = read_speech_sentences(corpus, tmp_path / "cache")
    annotations = tmp_path / "annotations"
    annotations.mkdir()
    (annotations / "a.jsonl").write_text(json.dumps({"id": sentences[0].id, "stance": "neutral"}) + "\n")
    rows = suggest(tiny_predictor, corpus, annotations, n=10, per_speech=1, cache_dir=tmp_path / "cache")
    assert len(rows) == 10
    assert len({r["id"].split(":")[0] for r in rows}) == 10
    assert sentences[0].id not in {r["id"] for r in rows}
    entropies = [r["stance_entropy"] for r in rows]
    assert entropies == sorted(entropies, reverse=True)


def test_suggest_arguing_or_a_label_ranks_by_its_probability(corpus, tmp_path, tiny_predictor):
    rows = suggest(tiny_predictor, corpus, tmp_path, n=10, per_speech=1, cache_dir=tmp_path / "cache", pick="arguing")
    neutral = tiny_predictor.labels["stance"].index("neutral")
    sided = 1 - tiny_predictor.predict_proba([r["text"] for r in rows])["stance"][:, neutral]
    assert all(a >= b - 1e-4 for a, b in zip(sided, sided[1:]))  # batch padding moves the last digits
    assert rows != suggest(tiny_predictor, corpus, tmp_path, n=10, per_speech=1, cache_dir=tmp_path / "cache")
    presence = tiny_predictor.labels["stance"].index("pro-presence")
    rows = suggest(tiny_predictor, corpus, tmp_path, n=10, per_speech=1, cache_dir=tmp_path / "cache", pick="pro-presence")
    likely = tiny_predictor.predict_proba([r["text"] for r in rows])["stance"][:, presence]
    assert all(a >= b - 1e-4 for a, b in zip(likely, likely[1:]))
    with pytest.raises(ValueError, match="pick 'random'"):
        suggest(tiny_predictor, corpus, tmp_path, n=10, cache_dir=tmp_path / "cache", pick="random")


def test_suggest_keeps_only_the_groups_asked_for(corpus, tmp_path, tiny_predictor):
    groups = sorted({s.group for s in read_speech_sentences(corpus, tmp_path / "cache")})
    kept = set(groups[:3])
    rows = suggest(tiny_predictor, corpus, tmp_path, n=10, per_speech=2, cache_dir=tmp_path / "cache",
                   keep_group=kept.__contains__)
    assert rows and {r["id"].split(":")[0] for r in rows} <= kept


def test_import_checks_ids_and_labels(corpus, tmp_path):
    sentences = read_speech_sentences(corpus, tmp_path / "cache")
    annotations = tmp_path / "annotations"
    labeled = tmp_path / "labeled.jsonl"
    labeled.write_text(json.dumps({"id": sentences[1].id, "stance": "pro-withdrawal", "sentiment": "neutral"}) + "\n")
    target = import_labels(labeled, corpus, annotations, "round3", cache_dir=tmp_path / "cache")
    assert json.loads(target.read_text()) == {"id": sentences[1].id, "stance": "pro-withdrawal",
                                              "sentiment": "neutral", "batch": "round3"}
    with pytest.raises(ValueError, match="labeled already"):
        import_labels(labeled, corpus, annotations, "round4", cache_dir=tmp_path / "cache")
    stale = tmp_path / "stale.jsonl"
    stale.write_text(json.dumps({"id": sentences[2].id[:-8] + "00000000", "stance": "neutral"}) + "\n")
    with pytest.raises(ValueError, match="hash differs"):
        import_labels(stale, corpus, annotations, "round5", cache_dir=tmp_path / "cache")
