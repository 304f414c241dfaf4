"""The annotation loop: suggest corpus sentences worth labeling, and import labeled ones.

``suggest`` scores a seeded random pool of unlabeled speech sentences and picks the ``n`` with the
highest stance entropy (or, with ``pick="arguing"``, the most likely to take a side, or with a stance
label, the most likely to carry it), at most ``per_speech`` from any one speech so the batch is spread out.
``import_labels`` checks a labeled file (ids must match corpus sentences, labels the label sets)
and writes it into ``data/annotations/`` as id + labels, with no text.
"""
from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import numpy as np

from quotestance.corpora import read_labelable_sentences, read_speech_sentences
from quotestance.dataset import read_annotations
from quotestance.io import atomic_path, read_chunks
from quotestance.labels import TASKS, check_label


#: How ``suggest`` can rank the candidate sentences: model uncertainty, taking a side, or one stance label.
PICKS = ("uncertain", "arguing", *(label for label in TASKS["stance"] if label != "neutral"))


def suggest(predictor, corpora_dir: str | Path, annotations_dir: str | Path, n: int = 200, pool: int = 20000,
            per_speech: int = 2, seed: int = 0, cache_dir: str | Path = ".cache/corpora",
            keep_group: Callable[[str], bool] | None = None, pick: str = "uncertain") -> list[dict[str, Any]]:
    """``n`` unlabeled speech sentences for annotators, spread over speeches.

    ``pick`` ranks them: ``uncertain`` by the entropy of the model's stance, ``arguing`` by the
    probability that the sentence takes a side (1 - p(neutral)), which finds the rarer stance classes, and a
    stance label by the probability of that label, which finds the class the model misses most.
    ``keep_group`` limits the draw to some speeches (the CLI keeps training-split ones, so new labels
    never change the validation and test splits).
    """
    if pick not in PICKS:
        raise ValueError(f"pick {pick!r}: choose one of {', '.join(PICKS)}")
    labeled = set(read_annotations(annotations_dir))
    sentences = [s for s in read_speech_sentences(corpora_dir, cache_dir)
                 if s.id not in labeled and 6 <= len(s.text.split()) <= 80
                 and (keep_group is None or keep_group(s.group))]
    rng = random.Random(seed)
    candidates = rng.sample(sentences, min(pool, len(sentences)))
    probs = predictor.predict_proba([s.text for s in candidates])["stance"]
    entropy = -(probs * np.log(np.clip(probs, 1e-12, 1))).sum(axis=1)
    column = {label: probs[:, j] for j, label in enumerate(predictor.labels["stance"])}
    rank = {"uncertain": entropy, "arguing": 1 - column["neutral"], **column}[pick]
    chosen, per_group = [], Counter()
    for i in np.argsort(-rank, kind="stable"):
        sentence = candidates[i]
        if per_group[sentence.group] >= per_speech:
            continue
        per_group[sentence.group] += 1
        chosen.append({"id": sentence.id, "text": sentence.text, "speaker": sentence.speaker, "stance": None,
                       "sentiment": None, "model_stance": predictor.labels["stance"][int(probs[i].argmax())],
                       "stance_entropy": float(entropy[i])})
        if len(chosen) == n:
            break
    return chosen


def import_labels(path: str | Path, corpora_dir: str | Path, annotations_dir: str | Path, name: str,
                  cache_dir: str | Path = ".cache/corpora") -> Path:
    """Check a labeled file and write it as ``<annotations_dir>/<name>.jsonl``; return that path.

    Every row needs an ``id`` of a corpus sentence whose text hash still matches, at least one
    label from the label sets, and an id not labeled before; the first bad row is an error naming it.
    """
    target = Path(annotations_dir) / f"{name}.jsonl"
    if target.exists():
        raise FileExistsError(f"{target} exists already; choose another --name")
    known = {s.id for s in read_speech_sentences(corpora_dir, cache_dir) + read_labelable_sentences(corpora_dir)}
    stems = {key.rsplit(":", 1)[0]: key for key in known}
    labeled = set(read_annotations(annotations_dir))
    rows = []
    for chunk in read_chunks(path):
        for row in chunk:
            where = f"{Path(path).name} row {len(rows) + 1}"
            if row.get("error"):
                raise ValueError(f"{where}: {row['error']}")
            key = row.get("id")
            if key not in known:
                hint = " (the sentence text changed: its hash differs)" if isinstance(key, str) and key.rsplit(":", 1)[0] in stems else ""
                raise ValueError(f"{where}: id {key!r} is not a corpus sentence{hint}")
            if key in labeled:
                raise ValueError(f"{where}: id {key!r} is labeled already")
            labels = {task: check_label(task, row.get(task), where) for task in TASKS}
            if all(v is None for v in labels.values()):
                raise ValueError(f"{where}: no label; fill in 'stance' and/or 'sentiment'")
            labeled.add(key)
            rows.append({"id": key, **labels, "batch": name})
    with atomic_path(target) as tmp:
        tmp.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return target
