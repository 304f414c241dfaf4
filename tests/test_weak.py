from quotestance.weak import LABELING_FUNCTIONS, combine, format_summary, lf_summary, weak_labels

LF = {lf.name: lf for lf in LABELING_FUNCTIONS}


def test_stance_rules_vote_and_abstain():
    assert LF["bring_troops_home"]("It is time to bring our brave troops home.") == "pro-withdrawal"
    assert LF["bring_troops_home"]("The President says we should bring the troops home.") is None  # reported
    assert LF["withdrawal_is_defeat"]("A precipitous withdrawal would be a disaster.") == "pro-presence"
    assert LF["oppose_timelines"]("An arbitrary timeline tells the enemy when to return.") == "pro-presence"
    assert LF["no_military_topic"]("The farm bill helps rural families.") == "neutral"
    assert LF["no_military_topic"]("Our troops deserve better.") is None


def test_sentiment_lexicon():
    assert LF["lexicon"]("This reckless war is a disaster.") == "negative"
    assert LF["lexicon"]("We are proud of their courage.") == "positive"
    assert LF["lexicon"]("The vote is on Tuesday.") is None
    assert LF["plain_statement"]("The vote is on Tuesday.") == "neutral"


def test_combine_majority_and_ties():
    assert combine([None, "a", "a", "b"]) == "a"
    assert combine(["a", "b"]) is None
    assert combine([None, None]) is None


def test_weak_labels_per_task():
    labels = weak_labels(["We must bring our troops home from this disaster.", "The farm bill is on Tuesday."])
    assert labels[0] == {"stance": "pro-withdrawal", "sentiment": "negative"}
    assert labels[1] == {"stance": "neutral", "sentiment": "neutral"}


def test_summary_counts_coverage_conflicts_and_gold_accuracy():
    texts = [
        "We must bring our troops home and end the occupation.",   # two W rules agree
        "The farm bill is on Tuesday.",                             # neutral rule
        "Bring our troops home, because a precipitous withdrawal is not what I mean.",  # W vs P conflict
    ]
    gold = {0: {"stance": "pro-withdrawal", "sentiment": None}, 2: {"stance": "pro-presence", "sentiment": None}}
    rows = {r["lf"]: r for r in lf_summary(texts, gold)}
    bring = rows["bring_troops_home"]
    assert bring["coverage"] == 2 / 3
    assert bring["conflicts"] == 1 / 3
    assert bring["gold_n"] == 2 and bring["gold_accuracy"] == 0.5
    assert rows["no_military_topic"]["coverage"] == 1 / 3
    assert "bring_troops_home" in format_summary(list(rows.values()))
