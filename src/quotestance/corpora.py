"""Readers for the shared corpora (read in place from ``../shared/corpora``, never copied into the repo).

Speech sentences get stable ids ``<speech id>:<paragraph>:<sentence>:<hash>``, where the hash is
the first 8 hex digits of the SHA-1 of the sentence text: a label keyed by id survives a change of
splitter only where the sentence is unchanged, and a changed sentence is detected.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SPEECHES = "congressional_record_iraq_afghanistan.jsonl.gz"
NEWSMTSC = "newsmtsc_train.jsonl.gz"
PERSPECTRUM = "perspectrum_claim_stance.jsonl.gz"
CACHE_VERSION = "1"


@dataclass
class Sentence:
    """One sentence of a corpus, with where it came from."""

    id: str
    text: str
    group: str          # the speech (or article) it belongs to: splits never cut a group
    speaker: str | None
    source: str
    date: str | None = None


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def sentence_id(group: str, paragraph: int, index: int, text: str) -> str:
    return f"{group}:{paragraph}:{index}:{text_hash(text)}"


def id_matches(sentence_key: str, text: str) -> bool:
    """True if the hash part of an id matches ``text``."""
    return sentence_key.rsplit(":", 1)[-1] == text_hash(text)


# A leading speaker tag such as "Mr. CONYERS." or "Ms. JACKSON-LEE of Texas." is not a statement.
_SPEAKER_TAG = re.compile(r"^(Mr|Mrs|Ms|Miss|Dr)\.\s+[A-Z][A-Z'\- ]+(\s+of\s+[A-Z][a-z]+(\s+[A-Z][a-z]+)?)?\.\s*$")


def _split_paragraph(segmenter, paragraph: str) -> list[str]:
    return [s.strip() for s in segmenter.segment(paragraph) if s.strip()]


def read_speech_sentences(corpora_dir: str | Path, cache_dir: str | Path = ".cache/corpora",
                          progress: bool = True) -> list[Sentence]:
    """All sentences of the Congressional Record speeches, split with pysbd; cached as Parquet."""
    source = Path(corpora_dir) / SPEECHES
    if not source.is_file():
        raise FileNotFoundError(f"corpus not found: {source}")
    stat = source.stat()
    key = hashlib.sha1(f"{CACHE_VERSION}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    cache = Path(cache_dir) / f"speech_sentences-{key}.parquet"
    if cache.is_file():
        return [Sentence(**row) for row in pq.read_table(cache).to_pylist()]
    import pysbd
    from tqdm.auto import tqdm

    segmenter = pysbd.Segmenter(language="en", clean=False)
    sentences: list[Sentence] = []
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        for line in tqdm(handle, total=2172, desc="splitting speeches", unit="speech", disable=not progress):
            speech = json.loads(line)
            for p, paragraph in enumerate(speech["paragraphs"]):
                for s, text in enumerate(_split_paragraph(segmenter, paragraph)):
                    if _SPEAKER_TAG.match(text):
                        continue
                    sentences.append(Sentence(
                        id=sentence_id(speech["id"], p, s, text), text=text, group=speech["id"],
                        speaker=speech.get("speaker"), source="congressional-record", date=speech.get("date"),
                    ))
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    pq.write_table(pa.Table.from_pylist([asdict(s) for s in sentences]), tmp)
    tmp.replace(cache)
    return sentences


#: News sentences that touch troops, war, the military or a foreign deployment.
MILITARY = re.compile(
    r"\b(troops?|soldiers?|military|militar(y|ies)|army|armies|war|wars|wartime|marines?|navy|pentagon|deploy\w*|"
    r"withdraw\w*|occupation|afghan\w*|iraq\w*|syria\w*|nato|combat|air ?strikes?|bomb\w*|missiles?|invasion|"
    r"veterans?|isis|taliban|al[- ]qaeda|generals?(?! (counsel|election|assembly|public))|commanders?|"
    r"battlefield|drones?|forces)\b", re.IGNORECASE,
)
_ATTORNEY = re.compile(r"\b(attorney|solicitor|inspector|surgeon|secretary|postmaster|consul)[- ]generals?\b", re.I)


def read_news_sentences(corpora_dir: str | Path, military_only: bool = True) -> list[Sentence]:
    """NewsMTSC sentences (news prose), by default only those that touch the military."""
    source = Path(corpora_dir) / NEWSMTSC
    if not source.is_file():
        raise FileNotFoundError(f"corpus not found: {source}")
    sentences = []
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            text = row["sentence_normalized"].strip()
            if military_only and not MILITARY.search(_ATTORNEY.sub("", text)):
                continue
            gid = row["primary_gid"]
            article = gid.rsplit("_", 2)[0]
            sentences.append(Sentence(id=f"newsmtsc:{gid}:{text_hash(text)}", text=text, group=f"newsmtsc:{article}",
                                      speaker=None, source="newsmtsc"))
    return sentences


#: Perspectrum claims about military presence, intervention and the armed forces (by ``claim_id``):
#: their perspectives are short real arguments, labeled as statements on their own (the claim is not
#: shown). The first 15 are about a foreign presence or intervention; the rest (NATO membership, UN and
#: African Union forces, recruiting in schools, invading Korea, Gaza, Mali) are mostly neutral
#: cases of military talk that is not about a presence.
MILITARY_CLAIMS = (254, 263, 277, 296, 325, 340, 342, 356, 399, 420, 447, 717, 725, 832, 840,
                   4, 217, 265, 266, 275, 289, 341, 371, 411, 425, 428, 664, 767)


def read_perspectrum_sentences(corpora_dir: str | Path) -> list[Sentence]:
    """Perspectives under the military claims of Perspectrum; ids ``perspectrum:<claim>:<n>:<hash>``."""
    source = Path(corpora_dir) / PERSPECTRUM
    if not source.is_file():
        raise FileNotFoundError(f"corpus not found: {source}")
    sentences, seen = [], Counter()
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            claim = row["claim_id"]
            if claim not in MILITARY_CLAIMS:
                continue
            text = " ".join(row["perspective"].split())
            group = f"perspectrum:{claim}"
            sentences.append(Sentence(id=f"{group}:{seen[claim]}:{text_hash(text)}", text=text, group=group,
                                      speaker=None, source="perspectrum"))
            seen[claim] += 1
    return sentences


def read_labelable_sentences(corpora_dir: str | Path) -> list[Sentence]:
    """Sentences of the optional corpora that are present: NewsMTSC military sentences, Perspectrum arguments."""
    folder = Path(corpora_dir)
    readers = ((NEWSMTSC, read_news_sentences), (PERSPECTRUM, read_perspectrum_sentences))
    return [s for name, read in readers if (folder / name).is_file() for s in read(folder)]
