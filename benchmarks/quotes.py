#!/usr/bin/env python
"""Quote extraction and speaker attribution against hand-annotated news articles.

Loads every fixture in tests/fixtures/articles/*.json ({"text": ..., "quotes": [{"text", "speaker"}]}),
runs quotestance.quotes.extract_quotes on the article text and prints, per fixture and overall:
expected quotes, found quotes, exact-text true positives, precision, recall, F1 (quote text matched
exactly, as a multiset: order does not matter, a repeated text counts as often as it occurs) and
speaker accuracy on the matched quotes (exact string match, None == null). Then it lists the misses
(missed quotes, spurious quotes, wrong speakers) for a developer to fix.

A "loose" F1 is printed as well (texts compared after trimming surrounding whitespace and
punctuation) so that a boundary convention mismatch (e.g. a trailing comma) is visible at a glance;
the headline figures are the exact ones.

Usage: python benchmarks/quotes.py [--fixtures DIR] [--json OUT] [--no-misses] [--width N]
"""
from __future__ import annotations

import argparse
import json
import string
import sys
import traceback
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from quotestance.quotes import extract_quotes  # noqa: E402

DEFAULT_FIXTURES = REPO / "tests" / "fixtures" / "articles"
_TRIM = string.whitespace + string.punctuation + "“”‘’«»—–…"


def load_fixtures(directory: Path) -> list[dict]:
    """Load and sanity-check the fixtures: every expected quote text must occur in its article."""
    paths = sorted(directory.glob("*.json"))
    if not paths:
        raise SystemExit(f"no fixtures found in {directory}")
    fixtures = []
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        text, quotes = data["text"], data["quotes"]
        assert isinstance(text, str) and text.strip(), f"{path.name}: empty text"
        for q in quotes:
            assert set(q) == {"text", "speaker"}, f"{path.name}: bad quote entry {q!r}"
            assert q["text"] and q["text"] in text, f"{path.name}: expected quote not in article: {q['text']!r}"
            assert q["speaker"] is None or isinstance(q["speaker"], str), f"{path.name}: bad speaker {q!r}"
        fixtures.append({"name": path.stem, "text": text, "quotes": quotes})
    return fixtures


def _loose(text: str) -> str:
    return " ".join(text.strip(_TRIM).split())


def match(expected: list[tuple[str, str | None]], found: list[tuple[str, str | None]], key=lambda t: t):
    """Multiset matching on key(text). Returns (pairs, missed, spurious); pairs are (expected, found).

    Among equal keys, items are paired in document order.
    """
    by_key: dict[str, list[int]] = defaultdict(list)
    for j, (t, _) in enumerate(found):
        by_key[key(t)].append(j)
    used = set()
    pairs, missed = [], []
    for e in expected:
        cands = by_key.get(key(e[0]))
        if cands:
            j = cands.pop(0)
            used.add(j)
            pairs.append((e, found[j]))
        else:
            missed.append(e)
    spurious = [f for j, f in enumerate(found) if j not in used]
    return pairs, missed, spurious


def prf(tp: int, n_exp: int, n_found: int) -> tuple[float, float, float]:
    p = tp / n_found if n_found else (1.0 if n_exp == 0 else 0.0)
    r = tp / n_exp if n_exp else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def evaluate(fixture: dict) -> dict:
    text = fixture["text"]
    expected = [(q["text"], q["speaker"]) for q in fixture["quotes"]]
    error = None
    offset_errors = []
    try:
        quotes = list(extract_quotes(text))
    except Exception:  # a crash on one article should not hide the others
        error = traceback.format_exc(limit=3).strip().splitlines()[-1]
        quotes = []
    found = []
    for q in quotes:
        found.append((q.text, q.speaker))
        if text[q.start:q.end] != q.text:
            offset_errors.append((q.text, q.start, q.end))
    pairs, missed, spurious = match(expected, found)
    wrong_speaker = [(e[0], e[1], f[1]) for e, f in pairs if e[1] != f[1]]
    lpairs, _, _ = match(expected, found, key=_loose)
    # near misses: a missed quote whose loose form equals a spurious one (boundary convention issues)
    spur_loose = Counter(_loose(t) for t, _ in spurious)
    near = []
    for t, s in missed:
        if spur_loose[_loose(t)] > 0:
            spur_loose[_loose(t)] -= 1
            near.append(t)
    return {
        "name": fixture["name"],
        "expected": len(expected),
        "found": len(found),
        "tp": len(pairs),
        "speaker_correct": len(pairs) - len(wrong_speaker),
        "loose_tp": len(lpairs),
        "missed": [{"text": t, "speaker": s} for t, s in missed],
        "spurious": [{"text": t, "speaker": s} for t, s in spurious],
        "wrong_speaker": [{"text": t, "expected": e, "found": f} for t, e, f in wrong_speaker],
        "near_misses": near,
        "offset_errors": [{"text": t, "start": a, "end": b} for t, a, b in offset_errors],
        "error": error,
    }


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}"


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    ap.add_argument("--json", type=Path, metavar="OUT", help="write the figures (and misses) to OUT")
    ap.add_argument("--no-misses", action="store_true", help="print only the table")
    ap.add_argument("--width", type=int, default=90, help="truncate quote texts in the miss list")
    args = ap.parse_args(argv)

    fixtures = load_fixtures(args.fixtures)
    results = [evaluate(f) for f in fixtures]

    name_w = max(len(r["name"]) for r in results + [{"name": "OVERALL (micro)"}])
    header = f"{'fixture':<{name_w}}  {'exp':>4} {'found':>5} {'tp':>4}  {'P':>5} {'R':>5} {'F1':>5}  {'spk':>7} {'spk%':>5}"
    print(header)
    print("-" * len(header))
    macro_f1 = []
    for r in results:
        p, rc, f = prf(r["tp"], r["expected"], r["found"])
        r.update(precision=p, recall=rc, f1=f, speaker_accuracy=(r["speaker_correct"] / r["tp"] if r["tp"] else None))
        macro_f1.append(f)
        spk = f"{r['speaker_correct']}/{r['tp']}"
        spk_pct = _pct(r["speaker_accuracy"]) if r["tp"] else "    -"
        flag = "  ERROR" if r["error"] else ""
        print(f"{r['name']:<{name_w}}  {r['expected']:>4} {r['found']:>5} {r['tp']:>4}  "
              f"{_pct(p)} {_pct(rc)} {_pct(f)}  {spk:>7} {spk_pct}{flag}")
    tot = {k: sum(r[k] for r in results) for k in ("expected", "found", "tp", "speaker_correct", "loose_tp")}
    p, rc, f = prf(tot["tp"], tot["expected"], tot["found"])
    _, _, lf = prf(tot["loose_tp"], tot["expected"], tot["found"])
    spk_acc = tot["speaker_correct"] / tot["tp"] if tot["tp"] else 0.0
    # end-to-end: a quote counts only if its text and speaker are both right
    e2e_p, e2e_r, e2e_f = prf(tot["speaker_correct"], tot["expected"], tot["found"])
    print("-" * len(header))
    spk = f"{tot['speaker_correct']}/{tot['tp']}"
    print(f"{'OVERALL (micro)':<{name_w}}  {tot['expected']:>4} {tot['found']:>5} {tot['tp']:>4}  "
          f"{_pct(p)} {_pct(rc)} {_pct(f)}  {spk:>7} {_pct(spk_acc)}")
    macro = sum(macro_f1) / len(macro_f1)
    n_err = sum(1 for r in results if r["error"])
    n_off = sum(len(r["offset_errors"]) for r in results)
    print(f"\nfixtures: {len(results)}   macro F1: {_pct(macro).strip()}   loose-text F1: {_pct(lf).strip()}   "
          f"text+speaker F1: {_pct(e2e_f).strip()}   offset errors: {n_off}   crashes: {n_err}")

    if not args.no_misses:
        w = args.width
        sections = [
            ("MISSED (expected, not found)", lambda r: [f"{_short(m['text'], w)!r}  [{m['speaker']}]" for m in r["missed"]]),
            ("SPURIOUS (found, not expected)", lambda r: [f"{_short(s['text'], w)!r}  [{s['speaker']}]" for s in r["spurious"]]),
            ("WRONG SPEAKER (text matched)", lambda r: [f"{_short(x['text'], w)!r}  expected {x['expected']!r}, got {x['found']!r}" for x in r["wrong_speaker"]]),
            ("BOUNDARY (missed, but a spurious quote matches after trimming punctuation)", lambda r: [repr(_short(t, w)) for t in r["near_misses"]]),
            ("OFFSET ERRORS (article[start:end] != text)", lambda r: [f"{_short(o['text'], w)!r} at {o['start']}:{o['end']}" for o in r["offset_errors"]]),
            ("CRASHES", lambda r: [r["error"]] if r["error"] else []),
        ]
        for title, fn in sections:
            lines = [(r["name"], line) for r in results for line in fn(r)]
            print(f"\n{title}: {len(lines)}")
            for name, line in lines:
                print(f"  {name}: {line}")

    if args.json:
        payload = {
            "overall": {
                **tot, "precision": p, "recall": rc, "f1": f, "macro_f1": macro, "loose_f1": lf,
                "speaker_accuracy": spk_acc, "text_speaker_f1": e2e_f,
                "offset_errors": n_off, "crashes": n_err, "fixtures": len(results),
            },
            "fixtures": results,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
