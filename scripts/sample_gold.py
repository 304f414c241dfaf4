#!/usr/bin/env python
"""Draw the sentences for gold labeling (issue 4): half that argue, half random, from the same speeches.

Writes annotation batches (number | text) and an id map to OUT; prints what it drew. Seeded, so the
same corpus gives the same sample. Usage: python scripts/sample_gold.py OUT [--n 2700] [--batch 300]
``--train-split SEED`` draws only from the training-split speeches of that split seed (new labels then
leave validation and test unchanged), skipping sentences already labeled in data/annotations.
"""
import argparse
import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from quotestance.annotation import read_annotations  # noqa: E402
from quotestance.config import DataConfig  # noqa: E402
from quotestance.corpora import read_news_sentences, read_speech_sentences  # noqa: E402
from quotestance.dataset import assign_split  # noqa: E402

VALIDATION_FRACTION, TEST_FRACTION = DataConfig.validation_fraction, DataConfig.test_fraction

ARGUE = re.compile(
    r"\b(withdraw\w*|redeploy\w*|surge|escalat\w*|timeline\w*|timetable\w*|deadline\w*|pull(ing)? out|"
    r"bring (them|our|the) (troops|soldiers|forces|men and women)? ?home|come home|stay the course|"
    r"occupation|open-ended|end (this|the) war|cut off (the )?funding|reinforce\w*|drawdown|draw down|"
    r"additional (troops|brigades|forces)|more troops|leave (iraq|afghanistan)|phased|exit strategy)\b",
    re.IGNORECASE,
)
#: Round 2: arguments for staying are rarer in these speeches; draw more of them, and of the boundary.
PRESENCE = re.compile(
    r"\b(surge (is|has been) (working|succeed\w*)|precipitous|premature|defeat|victory|win (this|the) war|"
    r"cut and run|surrender|emboldens?|safe haven|follow us home|fight them there|al[- ]qaeda|terrorists?|"
    r"stay (in|the course)|finish the (job|mission)|succeed\w*|success|petraeus|progress|reinforcements?|"
    r"support (our|the) troops|funding|the mission|artificial|arbitrary|micromanag\w*|commanders on the ground)\b",
    re.IGNORECASE,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=2700)
    parser.add_argument("--batch", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--focus", choices=["argue", "presence", "both"], default="argue",
                        help="which pattern draws the arguing half (both: either pattern)")
    parser.add_argument("--random-fraction", type=float, default=0.5,
                        help="share of the sample drawn at random from the same speeches (default 0.5)")
    parser.add_argument("--train-split", type=int, default=None, metavar="SEED",
                        help="only training-split speeches of this split seed, and no sentence already labeled")
    parser.add_argument("--prefix", default="cr", help="batch file prefix")
    parser.add_argument("--no-news", action="store_true", help="do not write the news batch")
    parser.add_argument("--exclude", type=Path, nargs="*", default=[], help="id maps of earlier samples")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    taken = {i for path in args.exclude for i in json.loads(path.read_text()).values()}
    sentences = [s for s in read_speech_sentences("../shared/corpora")
                 if 6 <= len(s.text.split()) <= 80 and s.id not in taken]
    if args.train_split is not None:
        labeled = set(read_annotations(Path(__file__).resolve().parents[1] / "data" / "annotations"))
        sentences = [s for s in sentences if s.id not in labeled
                     and assign_split(s.group, args.train_split, VALIDATION_FRACTION, TEST_FRACTION) == "train"]
    patterns = {"argue": [ARGUE], "presence": [PRESENCE], "both": [ARGUE, PRESENCE]}[args.focus]
    arguing = [s for s in sentences if any(p.search(s.text) for p in patterns)]
    rng.shuffle(arguing)
    arguing = arguing[: int(args.n * (1 - args.random_fraction))]
    speeches = {s.group for s in arguing}
    chosen = {s.id for s in arguing}
    pool = [s for s in sentences if s.group in speeches and s.id not in chosen]
    random_half = rng.sample(pool, args.n - len(arguing))
    sample = arguing + random_half
    rng.shuffle(sample)
    args.out.mkdir(parents=True, exist_ok=True)
    news = [] if args.no_news else read_news_sentences("../shared/corpora")
    batches = [sample[i:i + args.batch] for i in range(0, len(sample), args.batch)] + ([news] if news else [])
    for b, batch in enumerate(batches, 1):
        name = "news" if batch is news else f"{args.prefix}{b:02d}"
        (args.out / f"{name}.txt").write_text("".join(f"{n} | {' '.join(s.text.split())}\n" for n, s in enumerate(batch, 1)), encoding="utf-8")
        (args.out / f"{name}.ids.json").write_text(json.dumps({n: s.id for n, s in enumerate(batch, 1)}), encoding="utf-8")
    print(f"{len(arguing)} arguing + {len(random_half)} random speech sentences, {len(news)} news sentences, "
          f"{len(batches)} batches in {args.out}")


if __name__ == "__main__":
    main()
