"""Articles in, attributed and scored quotes out, and the per-speaker summary of who said what.

An article yields one row per quote (or per sentence of a quote with ``per_sentence``), carrying
``article_id``, ``quote_id``, ``text``, ``speaker``, ``start``, ``end`` and ``paragraph``; rows are
scored like quote files. An article with no quotes yields no rows; an unreadable one yields one
row whose ``error`` says why.
"""
from __future__ import annotations

import csv
import io
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from quotestance.io import RowWriter, atomic_path
from quotestance.labels import TASKS
from quotestance.predictor import PROB_COLUMNS, StancePredictor, score_rows
from quotestance.quotes import extract_quotes

Row = dict[str, Any]
SENTIMENT_VALUE = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}


def read_articles(path: str | Path) -> Iterator[Row]:
    """Articles as ``{"id", "text"}`` from a .txt file, a folder of .txt files, or a .jsonl of articles.

    A file that cannot be decoded or a JSONL line that cannot be parsed comes through as
    ``{"id", "error"}`` so it is reported, not dropped.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.txt"))
        if not files:
            raise FileNotFoundError(f"no .txt articles in folder {path}")
        for file in files:
            yield _read_text_article(file)
    elif path.suffix.lower() == ".txt":
        if not path.is_file():
            raise FileNotFoundError(f"article not found: {path}")
        yield _read_text_article(path)
    elif path.suffix.lower() == ".jsonl":
        if not path.is_file():
            raise FileNotFoundError(f"articles file not found: {path}")
        yield from _jsonl_articles(path)
    else:
        raise ValueError(f"{path}: --articles takes a .txt article, a folder of .txt articles, or a .jsonl with id and text")


def _read_text_article(path: Path) -> Row:
    try:
        return {"id": path.stem, "text": path.read_bytes().decode("utf-8")}
    except UnicodeDecodeError as err:
        return {"id": path.stem, "error": f"{path.name}: not UTF-8 text ({err.reason} at byte {err.start})"}


def _jsonl_articles(path: Path) -> Iterator[Row]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                yield {"id": None, "line": number, "error": f"{path.name} line {number}: invalid JSON ({err.msg})"}
                continue
            if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not row["text"].strip():
                article_id = row.get("id") if isinstance(row, dict) else None
                yield {"id": article_id, "line": number,
                       "error": f"{path.name} line {number}: field 'text' must be a non-empty string"}
                continue
            yield {"id": str(row.get("id", f"line-{number}")), "text": row["text"]}


def quote_rows(article: Row, per_sentence: bool = False) -> list[Row]:
    """Unscored rows for one article: one per quote, or one per sentence of each quote."""
    if article.get("error"):
        return [{"article_id": article.get("id"), "line": article.get("line"), "error": article["error"]}]
    rows = []
    for k, quote in enumerate(extract_quotes(article["text"])):
        base = {"article_id": article["id"], "quote_id": f"{article['id']}:{k}", "speaker": quote.speaker,
                "paragraph": quote.paragraph}
        if not per_sentence:
            rows.append({**base, "text": quote.text, "start": quote.start, "end": quote.end})
            continue
        for index, (start, end) in enumerate(sentence_spans(quote.text)):
            rows.append({**base, "sentence_index": index, "text": quote.text[start:end],
                         "start": quote.start + start, "end": quote.start + end})
    return rows


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (pysbd), so offsets stay exact."""
    import pysbd

    spans, cursor = [], 0
    for sentence in pysbd.Segmenter(language="en", clean=False).segment(text):
        stripped = sentence.strip()
        if not stripped:
            continue
        start = text.index(stripped, cursor)
        spans.append((start, start + len(stripped)))
        cursor = start + len(stripped)
    return spans


def speaker_summary(rows: Iterable[Row]) -> list[Row]:
    """Per speaker: quotes, count and share of each stance, mean sentiment, most confident quote per stance."""
    by_speaker: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if not row.get("error") and row.get("stance"):
            by_speaker[row.get("speaker") or "(unattributed)"].append(row)
    summary = []
    for speaker, quotes in sorted(by_speaker.items(), key=lambda item: (-len(item[1]), item[0])):
        counts = Counter(q["stance"] for q in quotes)
        entry: Row = {"speaker": speaker, "quotes": len(quotes)}
        for stance in TASKS["stance"]:
            entry[f"{stance}"] = counts.get(stance, 0)
            entry[f"{stance}_share"] = counts.get(stance, 0) / len(quotes)
        entry["mean_sentiment"] = sum(SENTIMENT_VALUE[q["sentiment"]] for q in quotes) / len(quotes)
        for stance in TASKS["stance"]:
            mine = [q for q in quotes if q["stance"] == stance]
            best = max(mine, key=lambda q: q["stance_probs"][stance], default=None)
            entry[f"top_{stance}"] = best["text"] if best else None
        summary.append(entry)
    return summary


def format_summary_table(summary: list[Row], markdown: bool = False, width: int = 60) -> str:
    """The summary as a Markdown table (full quotes) or a plain-text table (quotes cut to ``width``)."""
    stances = TASKS["stance"]
    header = ["speaker", "quotes", *[f"{s} (share)" for s in stances], "mean sentiment",
              *[f"most confident {s}" for s in stances]]
    lines = []
    for entry in summary:
        cut = (lambda t: t or "") if markdown else (lambda t: (t or "")[:width] + ("…" if t and len(t) > width else ""))
        lines.append([entry["speaker"], str(entry["quotes"]),
                      *[f"{entry[s]} ({entry[f'{s}_share']:.0%})" for s in stances],
                      f"{entry['mean_sentiment']:+.2f}", *[cut(entry[f"top_{s}"]) for s in stances]])
    if markdown:
        rows = [header, ["---"] * len(header), *lines]
        return "\n".join("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows) + "\n"
    compact = [header[:6], *[line[:6] for line in lines]]
    widths = [max(len(row[i]) for row in compact) for i in range(6)]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in compact)


def write_summary(summary: list[Row], path: str | Path) -> None:
    """Write the summary as CSV or Markdown (by extension), atomically."""
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".md"):
        raise ValueError(f"{path}: --summary takes a .csv or .md file")
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".md":
            tmp.write_text(format_summary_table(summary, markdown=True), encoding="utf-8")
            return
        buffer = io.StringIO()
        if summary:
            writer = csv.DictWriter(buffer, fieldnames=list(summary[0]))
            writer.writeheader()
            writer.writerows(summary)
        tmp.write_text(buffer.getvalue(), encoding="utf-8")


def score_articles(predictor: StancePredictor, path: str | Path, output: str | Path | None,
                   per_sentence: bool = False, chunk_size: int = 256, progress: bool = True,
                   min_confidence: float | None = None) -> tuple[dict[str, int], list[Row]]:
    """Extract, attribute and score the quotes of every article; write the rows; return counts and summary."""
    from tqdm.auto import tqdm

    counts = {"articles": 0, "without_quotes": 0, "rows": 0, "errors": 0}
    summary_rows: list[Row] = []
    pending: list[Row] = []

    def flush(writer: RowWriter) -> None:
        scored = score_rows(predictor, pending, first_row=counts["rows"] + 1, min_confidence=min_confidence)
        writer.write(scored)
        counts["rows"] += len(scored)
        counts["errors"] += sum(1 for row in scored if row["error"])
        summary_rows.extend({key: row.get(key) for key in ("speaker", "text", "stance", "stance_probs", "sentiment", "error")}
                            for row in scored)
        pending.clear()

    with RowWriter(output, prob_columns=PROB_COLUMNS) as writer:
        for article in tqdm(read_articles(path), desc="articles", unit="article", disable=not progress, file=sys.stderr):
            counts["articles"] += 1
            rows = quote_rows(article, per_sentence)
            counts["without_quotes"] += not rows
            pending.extend(rows)
            if len(pending) >= chunk_size:
                flush(writer)
        flush(writer)
    return counts, speaker_summary(summary_rows)
