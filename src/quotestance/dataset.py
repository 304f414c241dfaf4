"""Sources -> records -> a ``datasets.DatasetDict`` with honest train/validation/test splits.

Sources: statements the project wrote (``data/statements.jsonl``, gold), and, when the shared
corpora are present, weakly labeled speech sentences (train only) and gold labels on corpus
sentences (``data/annotations/``). Splits are assigned by group (a speech, or a statement),
deterministically from the seed; validation and test hold gold labels only; a training record
that near-duplicates a validation or test record is dropped.
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from datasets import Dataset, DatasetDict, Features, Value, load_from_disk

from quotestance.config import DataConfig
from quotestance.corpora import NEWSMTSC, PERSPECTRUM, SPEECHES, Sentence, read_labelable_sentences, read_speech_sentences
from quotestance.labels import TASKS, check_label
from quotestance.weak import format_summary, lf_summary, weak_labels

log = logging.getLogger("quotestance")

SPLITS = ("train", "validation", "test")
RECORD_FIELDS = ("id", "text", "target", "speaker", "source", "stance", "sentiment", "label_source", "group")
FEATURES = Features({name: Value("string") for name in RECORD_FIELDS})


@dataclass
class Record:
    """One labeled statement; ``group`` keeps related records (a speech) in one split."""

    id: str
    text: str
    target: str | None
    speaker: str | None
    source: str
    stance: str | None
    sentiment: str | None
    label_source: str
    group: str


def _labeled_lines(path: Path) -> Iterator[tuple[str, dict]]:
    """(``file:line``, parsed object) for each non-blank line of a JSONL file we ship; bad JSON is an error."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                yield where, json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{where}: invalid JSON ({err.msg})") from None


def read_statements(path: str | Path) -> list[Record]:
    """Read the project's written statements; a bad line is an error naming file, line and field."""
    path = Path(path)
    records, seen = [], set()
    for where, row in _labeled_lines(path):
        for field in ("id", "text"):
            if not isinstance(row.get(field), str) or not row[field].strip():
                raise ValueError(f"{where}: field '{field}' must be a non-empty string")
        if row["id"] in seen:
            raise ValueError(f"{where}: duplicate id {row['id']!r}")
        seen.add(row["id"])
        labels = {task: check_label(task, row.get(task), where) for task in TASKS}
        if all(value is None for value in labels.values()):
            raise ValueError(f"{where}: a statement needs at least one of the fields {list(TASKS)}")
        records.append(Record(
            id=row["id"], text=row["text"].strip(), target=row.get("target") or None,
            speaker=row.get("speaker"), source=row.get("source", "written"), label_source=row.get("label_source", "gold"),
            group=f"statement:{row['id']}", **labels,
        ))
    return records


def _unit_hash(*parts: object) -> float:
    """A uniform number in [0, 1) fixed by ``parts``: the same seed and group always give the same split."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_split(group: str, seed: int, validation_fraction: float, test_fraction: float) -> str:
    value = _unit_hash(seed, group)
    if value < test_fraction:
        return "test"
    if value < test_fraction + validation_fraction:
        return "validation"
    return "train"


_WORD = re.compile(r"[a-z0-9]+")


def _shingles(text: str, n: int = 3) -> set[str]:
    words = _WORD.findall(text.lower())
    if len(words) < n:
        return {" ".join(words)}
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


class NearDuplicateIndex:
    """Finds texts whose word-trigram Jaccard similarity with an indexed text is at least ``threshold``."""

    def __init__(self, texts: Iterable[str], threshold: float = 0.8):
        self.threshold = threshold
        self.sets: list[set[str]] = []
        self.index: dict[str, list[int]] = {}
        for text in texts:
            shingles = _shingles(text)
            for shingle in shingles:
                self.index.setdefault(shingle, []).append(len(self.sets))
            self.sets.append(shingles)

    def matches(self, text: str) -> bool:
        shingles = _shingles(text)
        candidates = Counter(i for s in shingles for i in self.index.get(s, ()))
        for i, shared in candidates.items():
            if shared / (len(shingles) + len(self.sets[i]) - shared) >= self.threshold:
                return True
        return False


def split_records(records: list[Record], seed: int, validation_fraction: float, test_fraction: float
                  ) -> dict[str, list[Record]]:
    """Assign whole groups to splits; keep only gold records in validation and test; drop near-duplicates.

    A record near-duplicating a test record is removed from train and validation, and one
    near-duplicating a validation record is removed from train, so no text crosses splits.
    """
    splits: dict[str, list[Record]] = {name: [] for name in SPLITS}
    for record in records:
        split = assign_split(record.group, seed, validation_fraction, test_fraction)
        if split != "train" and record.label_source != "gold":
            continue  # weak labels train; they never evaluate
        splits[split].append(record)
    test_index = NearDuplicateIndex(r.text for r in splits["test"])
    splits["validation"] = [r for r in splits["validation"] if not test_index.matches(r.text)]
    held_out = NearDuplicateIndex(r.text for r in splits["test"] + splits["validation"])
    splits["train"] = [r for r in splits["train"] if not held_out.matches(r.text)]
    return splits


def read_annotations(folder: str | Path) -> dict[str, dict[str, str | None]]:
    """Gold labels on corpus sentences: id -> {stance, sentiment}; a bad line names file, line and field."""
    labels: dict[str, dict[str, str | None]] = {}
    for path in sorted(Path(folder).glob("*.jsonl")) if folder and Path(folder).is_dir() else []:
        for where, row in _labeled_lines(path):
            if not isinstance(row.get("id"), str):
                raise ValueError(f"{where}: field 'id' must be a string")
            if row["id"] in labels:
                raise ValueError(f"{where}: id {row['id']!r} is labeled twice")
            labels[row["id"]] = {task: check_label(task, row.get(task), where) for task in TASKS}
    return labels


def _corpus_records(sentences: list[Sentence], gold: dict[str, dict[str, str | None]]) -> list[Record]:
    """Join gold labels to corpus sentences by id; an id whose text hash no longer matches is an error."""
    by_key = {s.id.rsplit(":", 1)[0]: s for s in sentences}
    records = []
    for sentence_key, labels in gold.items():
        stem = sentence_key.rsplit(":", 1)[0]
        if stem not in by_key:
            continue  # a label for another corpus
        sentence = by_key[stem]
        if sentence.id != sentence_key:
            raise ValueError(f"gold label {sentence_key!r} no longer matches its sentence: the text hash is now "
                             f"{sentence.id.rsplit(':', 1)[1]!r} (the corpus or the sentence splitter changed)")
        records.append(_record(sentence, labels, "gold"))
    return records


def _record(sentence: Sentence, labels: dict[str, str | None], label_source: str) -> Record:
    return Record(id=sentence.id, text=sentence.text, target=None, speaker=sentence.speaker, source=sentence.source,
                  stance=labels.get("stance"), sentiment=labels.get("sentiment"), label_source=label_source,
                  group=sentence.group)


def _weak_records(sentences: list[Sentence], exclude: set[str], cap: int, seed: int,
                  tasks: list[str]) -> list[Record]:
    """Up to ``cap`` weakly labeled speech sentences, balanced over stance labels, drawn with the seed.

    Only the heads in ``tasks`` keep their weak label; the others are left unlabeled (masked).
    """
    if cap <= 0:
        return []
    candidates = [s for s in sentences if s.id not in exclude and 6 <= len(s.text.split()) <= 80]
    rng = random.Random(seed)
    rng.shuffle(candidates)
    per_class = {label: cap // len(TASKS["stance"]) for label in TASKS["stance"]}
    chosen: list[Record] = []
    # Label lazily in shuffled order until every stance class is full: the corpus is large.
    for start in range(0, len(candidates), 2000):
        block = candidates[start:start + 2000]
        for sentence, labels in zip(block, weak_labels([s.text for s in block])):
            stance = labels["stance"]
            if stance is not None and per_class[stance] > 0:
                per_class[stance] -= 1
                kept = {task: labels[task] if task in tasks else None for task in TASKS}
                chosen.append(_record(sentence, kept, "weak:lf-vote"))
        if not any(per_class.values()):
            break
    return chosen


def collect_records(config: DataConfig, seed: int, progress: bool = True) -> list[Record]:
    """All records from the configured sources, in a fixed order."""
    statements = Path(config.statements)
    if not statements.is_file():
        raise FileNotFoundError(f"statements file not found: {statements} (config key data.statements)")
    records = read_statements(statements)
    corpora = Path(config.corpora_dir) if config.corpora_dir else None
    if corpora is None or not (corpora / SPEECHES).is_file():
        log.info("corpora not found at %r (data.corpora_dir): building from %s alone", config.corpora_dir, statements)
        return records
    speeches = read_speech_sentences(corpora, Path(config.cache_dir).parent / "corpora", progress)
    gold = read_annotations(config.annotations_dir)
    records += _corpus_records(speeches, gold) + _corpus_records(read_labelable_sentences(corpora), gold)
    records += _weak_records(speeches, set(gold), config.weak_max_rows, seed, config.weak_tasks)
    return records


def build_dataset(config: DataConfig, seed: int, progress: bool = True) -> DatasetDict:
    """Build the splits from the configured sources (no cache)."""
    splits = split_records(collect_records(config, seed, progress), seed, config.validation_fraction, config.test_fraction)
    return DatasetDict({
        name: Dataset.from_list([asdict(r) for r in records], features=FEATURES) for name, records in splits.items()
    })


def _fingerprint(config: DataConfig, seed: int) -> str:
    """A key that changes when the config, the seed or any input file changes."""
    digest = hashlib.sha256(json.dumps([asdict(config), seed], sort_keys=True).encode())
    inputs = [Path(config.statements)]
    if config.annotations_dir and Path(config.annotations_dir).is_dir():
        inputs += sorted(Path(config.annotations_dir).glob("*.jsonl"))
    for path in inputs:
        if path.is_file():
            digest.update(path.read_bytes())
    for name in (SPEECHES, NEWSMTSC, PERSPECTRUM):
        corpus = Path(config.corpora_dir or "-") / name
        if corpus.is_file():
            digest.update(f"{name}:{corpus.stat().st_size}".encode())
    for module in ("corpora.py", "weak.py"):
        digest.update((Path(__file__).parent / module).read_bytes())
    digest.update(Path(__file__).read_bytes())  # a change to how data is built invalidates the cache
    return digest.hexdigest()[:16]


def load_dataset(config: DataConfig, seed: int, rebuild: bool = False, progress: bool = True) -> DatasetDict:
    """The cached build for this config, seed and data, building it when absent or asked to."""
    cache = Path(config.cache_dir) / _fingerprint(config, seed)
    if cache.is_dir() and not rebuild:
        return load_from_disk(str(cache))
    dataset = build_dataset(config, seed, progress)
    tmp = cache.with_name(cache.name + ".tmp")
    dataset.save_to_disk(str(tmp))
    if cache.exists():
        shutil.rmtree(cache)
    tmp.rename(cache)
    return load_from_disk(str(cache))


def stats_table(dataset: DatasetDict) -> str:
    """Counts per split and source, and per stance x sentiment pair, as a plain-text table."""
    lines = []
    for split in SPLITS:
        rows = dataset[split]
        sources = Counter(rows["source"])
        lines.append(f"{split}: {len(rows)} rows  " + "  ".join(f"{s}={n}" for s, n in sorted(sources.items())))
        pairs = Counter(zip(rows["stance"], rows["sentiment"]))
        header = "  " + "stance / sentiment".ljust(20) + "".join(f"{s:>10}" for s in [*TASKS["sentiment"], "none"])
        lines.append(header)
        for stance in [*TASKS["stance"], None]:
            cells = [pairs.get((stance, s), 0) for s in [*TASKS["sentiment"], None]]
            lines.append(f"  {stance or 'none':<20}" + "".join(f"{n:>10}" for n in cells))
    return "\n".join(lines)


def lf_summary_report(config: DataConfig) -> str:
    """The labeling-function summary over all speech sentences, with accuracy against the gold labels."""
    corpora = Path(config.corpora_dir or "-")
    if not (corpora / SPEECHES).is_file():
        raise FileNotFoundError(f"corpus not found: {corpora / SPEECHES} (config key data.corpora_dir)")
    sentences = read_speech_sentences(corpora, Path(config.cache_dir).parent / "corpora")
    gold_labels = read_annotations(config.annotations_dir)
    gold = {i: gold_labels[s.id] for i, s in enumerate(sentences) if s.id in gold_labels}
    rows = lf_summary([s.text for s in sentences], gold)
    return (f"{len(sentences)} speech sentences, {len(gold)} with gold labels\n" + format_summary(rows))
