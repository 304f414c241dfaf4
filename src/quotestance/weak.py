"""Labeling functions for weak labels on speech sentences, their combiner, and the LF summary.

Each labeling function (LF) looks at one sentence and returns a label or None (abstain). Stance
LFs are keyword and pattern rules; sentiment LFs use a small lexicon. ``combine`` takes a
majority vote of the non-abstaining LFs of one task and abstains on a tie. Weak labels train;
they never evaluate.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Label = str | None


@dataclass(frozen=True)
class LabelingFunction:
    name: str
    task: str
    fn: Callable[[str], Label]

    def __call__(self, text: str) -> Label:
        return self.fn(text)


def _pattern_lf(name: str, task: str, label: str, pattern: str, unless: str | None = None) -> LabelingFunction:
    """An LF that votes ``label`` when ``pattern`` matches and ``unless`` (if given) does not."""
    rx = re.compile(pattern, re.IGNORECASE)
    veto = re.compile(unless, re.IGNORECASE) if unless else None

    def fn(text: str) -> Label:
        if rx.search(text) and not (veto and veto.search(text)):
            return label
        return None

    return LabelingFunction(name, task, fn)


# Reported speech and questions often mention a position without taking it.
_REPORTED = r"\b(the president|the administration|critics|opponents|they|some) (says?|said|claims?|argues?|wants?|believes?)\b|\?\s*$"
_MILITARY = (r"\b(troops?|soldiers?|forces|military|war|iraq|afghanistan|surge|occupation|redeploy\w*|withdraw\w*|"
             r"brigades?|marines?|combat|mission|insurgen\w*|al qaeda|terroris\w*|petraeus|baghdad|taliban)\b")

STANCE_LFS: list[LabelingFunction] = [
    _pattern_lf("bring_troops_home", "stance", "pro-withdrawal",
                r"\b(bring|brought|bringing)\s+(\w+\s+){0,3}(troops|soldiers|forces|men and women|them)\s+home\b",
                unless=_REPORTED),
    _pattern_lf("demand_withdrawal", "stance", "pro-withdrawal",
                r"\b(must|should|need to|have to|time to|begin|begins|start|starts|require[sd]?)\s+(\w+\s+){0,3}"
                r"(withdraw\w*|redeploy\w*|pull(ing)? out|leav(e|ing) iraq|end (this|the) war)\b",
                unless=_REPORTED + r"|\b(not|never|precipitous|premature)\b"),
    _pattern_lf("timeline_for_leaving", "stance", "pro-withdrawal",
                r"\b(timeline|timetable|deadline|date)\s+(for|to)\s+(the\s+)?(withdraw\w*|redeploy\w*|bring|leav\w*|end)",
                unless=_REPORTED + r"|\b(arbitrary|artificial|surrender|no|against|oppose)\b"),
    _pattern_lf("oppose_escalation", "stance", "pro-withdrawal",
                r"\b(oppose|against|reject|stop|no to)\s+(\w+\s+){0,3}(surge|escalation|troop increase|more troops|sending more)\b",
                unless=_REPORTED),
    _pattern_lf("end_occupation", "stance", "pro-withdrawal",
                r"\b(end|ending)\s+(the|this|our)\s+(occupation|war|involvement)\b|\bopen[- ]ended\s+(war|occupation|commitment)\b"
                r"|\bno military solution\b|\bcivil war\b.*\b(our troops|referee)\b",
                unless=_REPORTED + r"|\b(win|victory|successful)\b"),
    _pattern_lf("withdrawal_is_defeat", "stance", "pro-presence",
                r"\b(precipitous|premature|hasty)\s+(withdrawal|redeployment|pullout)\b|\bcut and run\b"
                r"|\bsurrender (date|deadline)\b|\bdate certain for (surrender|defeat)\b|\bwave the white flag\b",
                unless=_REPORTED),
    _pattern_lf("surge_is_working", "stance", "pro-presence",
                r"\b(surge|strategy|new strategy)\s+(is|has been)\s+(working|succeeding|a success)\b|\bsurge (has )?worked\b"
                r"|\bgive (the surge|general petraeus|the new strategy|the plan) (a chance|time)\b",
                unless=_REPORTED),
    _pattern_lf("finish_the_mission", "stance", "pro-presence",
                r"\b(finish|complete)\s+the\s+(job|mission)\b|\bstay the course\b|\b(win|winning)\s+(this|the)\s+war\b"
                r"|\bfailure is not an option\b|\bsupport (our|the) troops in the field\b",
                unless=_REPORTED + r"|\bcan(not|'t) (win|be won)\b"),
    _pattern_lf("oppose_timelines", "stance", "pro-presence",
                r"\b(arbitrary|artificial|political)\s+(timelines?|timetables?|deadlines?)\b"
                r"|\b(tell|tells|telling) the enemy\b|\bmicromanag\w*\b|\bwait us out\b",
                unless=_REPORTED),
    _pattern_lf("procedural", "stance", "neutral",
                r"^(mr\.|madam) (speaker|president|chairman)[,.]? i (yield|ask unanimous|reserve)|\bi yield\b|\bthe clerk will\b"
                r"|\bunanimous consent\b|\bamendment no\.\b|\bquorum\b|\bwithout objection\b"),
    LabelingFunction("no_military_topic", "stance",
                     lambda text, rx=re.compile(_MILITARY, re.I): None if rx.search(text) else "neutral"),
]

_NEGATIVE = re.compile(
    r"\b(disaster\w*|failed|failure|failing|tragic|tragedy|killed|kill|deaths?|dead|died|wounded|casualt\w*|wrong|"
    r"reckless|catastroph\w*|disgrace\w*|quagmire|chaos|violence|violent|terror\w*|attack\w*|bomb\w*|horrible|"
    r"terrible|shame\w*|outrage\w*|mistakes?|blunder\w*|mismanag\w*|incompeten\w*|lies|lied|misled|deceiv\w*|"
    r"danger\w*|threat\w*|afraid|fear\w*|crisis|suffer\w*|broken|worse|worst|waste\w*|squander\w*|defeat|"
    r"blame\w*|fail|sad\w*|grief|mourn\w*|strain\w*|exhausted|abandon\w*|betray\w*)\b", re.IGNORECASE)
_POSITIVE = re.compile(
    r"\b(proud|pride|honou?r\w*|thank\w*|grateful|gratitude|brave\w*|heroes|heroic|courage\w*|success\w*|"
    r"progress|hope\w*|optimis\w*|commend\w*|admir\w*|great|tremendous|remarkable|extraordinary|improv\w*|"
    r"secure|stability|stable|victory|win|winning|welcome\w*|celebrat\w*|salute|appreciat\w*|dedicat\w*|"
    r"achiev\w*|accomplish\w*|peace\w*|safe|good news)\b", re.IGNORECASE)


def _lexicon_sentiment(text: str) -> Label:
    negative, positive = len(_NEGATIVE.findall(text)), len(_POSITIVE.findall(text))
    if negative > positive:
        return "negative"
    if positive > negative:
        return "positive"
    return None


def _plain_statement(text: str) -> Label:
    """No evaluative word at all, no exclamation: a report or proposal, neutral in tone."""
    if _NEGATIVE.search(text) or _POSITIVE.search(text) or "!" in text:
        return None
    return "neutral"


SENTIMENT_LFS: list[LabelingFunction] = [
    LabelingFunction("lexicon", "sentiment", _lexicon_sentiment),
    LabelingFunction("plain_statement", "sentiment", _plain_statement),
    _pattern_lf("procedural_tone", "sentiment", "neutral",
                r"\bi yield\b|\bunanimous consent\b|\bamendment no\.\b|\bthe clerk will\b|\bwithout objection\b"),
]

LABELING_FUNCTIONS: list[LabelingFunction] = STANCE_LFS + SENTIMENT_LFS


def apply_lfs(texts: Sequence[str], lfs: Sequence[LabelingFunction] = LABELING_FUNCTIONS) -> list[list[Label]]:
    """The label matrix: one row per text, one column per LF (None where it abstains)."""
    return [[lf(text) for lf in lfs] for text in texts]


def combine(votes: Sequence[Label]) -> Label:
    """Majority vote of the non-abstaining LFs; None when all abstain or the top labels tie."""
    counts: dict[str, int] = {}
    for vote in votes:
        if vote is not None:
            counts[vote] = counts.get(vote, 0) + 1
    if not counts:
        return None
    ranked = sorted(counts.values(), reverse=True)
    if len(ranked) > 1 and ranked[0] == ranked[1]:
        return None
    return max(counts, key=counts.get)


def weak_labels(texts: Sequence[str]) -> list[dict[str, Label]]:
    """Combined weak stance and sentiment labels for each text (None where the LFs abstain or tie)."""
    out = []
    for row in apply_lfs(texts):
        by_task = {"stance": [], "sentiment": []}
        for lf, vote in zip(LABELING_FUNCTIONS, row):
            by_task[lf.task].append(vote)
        out.append({task: combine(votes) for task, votes in by_task.items()})
    return out


def lf_summary(texts: Sequence[str], gold: dict[int, dict[str, Label]] | None = None) -> list[dict[str, object]]:
    """Per LF, like Snorkel's summary: coverage, overlaps, conflicts, and accuracy against gold.

    ``gold`` maps a text's index to its gold labels; accuracy is over the gold items the LF labels.
    """
    matrix = apply_lfs(texts)
    n = max(len(texts), 1)
    rows = []
    for j, lf in enumerate(LABELING_FUNCTIONS):
        same_task = [k for k, other in enumerate(LABELING_FUNCTIONS) if other.task == lf.task and k != j]
        covered = [i for i, row in enumerate(matrix) if row[j] is not None]
        overlaps = sum(1 for i in covered if any(matrix[i][k] is not None for k in same_task))
        conflicts = sum(1 for i in covered if any(matrix[i][k] not in (None, matrix[i][j]) for k in same_task))
        judged = [i for i in covered if gold and gold.get(i, {}).get(lf.task) is not None]
        correct = sum(1 for i in judged if gold[i][lf.task] == matrix[i][j])
        rows.append({
            "lf": lf.name, "task": lf.task, "polarity": sorted({matrix[i][j] for i in covered}),
            "coverage": len(covered) / n, "overlaps": overlaps / n, "conflicts": conflicts / n,
            "gold_n": len(judged), "gold_accuracy": (correct / len(judged)) if judged else None,
        })
    return rows


def format_summary(rows: list[dict[str, object]]) -> str:
    header = f"{'lf':<22}{'task':<11}{'polarity':<28}{'coverage':>9}{'overlaps':>9}{'conflicts':>10}{'gold n':>8}{'gold acc':>9}"
    lines = [header, "-" * len(header)]
    for r in rows:
        acc = "-" if r["gold_accuracy"] is None else f"{r['gold_accuracy']:.3f}"
        lines.append(f"{r['lf']:<22}{r['task']:<11}{','.join(r['polarity']):<28}{r['coverage']:>9.3f}"
                     f"{r['overlaps']:>9.3f}{r['conflicts']:>10.3f}{r['gold_n']:>8}{acc:>9}")
    return "\n".join(lines)
