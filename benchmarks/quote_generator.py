"""Synthetic quotes for speed and memory tests: realistic shape, deterministic from a seed.

``generate_quotes(n, seed)`` returns ``n`` dicts with ``id``, ``text``, ``target`` (None for about
60% of quotes, as in real data where the deployment is left to the model's default target) and
``speaker``. Texts are composed from a few hundred hand-written sentence fragments and clause pieces
about troops, bases, withdrawal, funding, diplomacy, casualties, elections and the like, so they read
like what politicians and officials are quoted as saying. Lengths run from 10 to 120 tokens (words and
punctuation marks, close to what the MiniLM tokenizer counts): most quotes are 15-50 tokens, with a
long tail of multi-sentence quotes.

This is a load generator, not training data: the labels a model gives these texts mean nothing.

    from quote_generator import generate_quotes
    quotes = generate_quotes(6000, seed=0)

    python benchmarks/quote_generator.py --n 5 --seed 1      # print a few as JSONL, plus length stats
"""
from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator

MIN_TOKENS, MAX_TOKENS = 10, 120
#: Median length in tokens and the spread of its lognormal: ~75% of quotes land in 15-50 tokens.
MEDIAN_TOKENS, SIGMA = 28.0, 0.55
TARGET_SHARE = 0.4  # share of quotes that carry an explicit target

_TOKEN = re.compile(r"\w+|[^\w\s]")

# ------------------------------------------------------------------ fragments

OPENERS = [
    "", "", "", "", "", "", "Frankly,", "Let me be clear:", "Look,", "As I said yesterday,", "With respect,",
    "I want to be very direct about this:", "The fact is,", "In my view,", "Honestly,", "To put it plainly,",
    "I'll say it again:", "First of all,", "At the end of the day,", "Make no mistake,", "As far as I can tell,",
    "From where I sit,", "Quite simply,", "I think the American people understand that", "We have said from the start that",
    "Our position has not changed:", "Let's be honest,", "For the record,", "The bottom line is that",
    "I have told the President that", "Nobody in this chamber doubts that", "My constituents tell me that",
]

SUBJECTS = [
    "our troops", "the troops", "American forces", "US forces", "the brigades in the north", "our soldiers",
    "the coalition", "the multinational force", "NATO's trainers", "the peacekeepers", "the Marines",
    "the remaining advisers", "the special operations units", "the airmen at the base", "foreign forces",
    "the French contingent", "the British battalion", "the German engineers", "the units that arrive in June",
    "the combat brigades", "the 2,500 troops still in country", "the forward-deployed units", "the naval task force",
    "the pilots at the air base", "our men and women in uniform", "the trainers embedded with local units",
    "the quick reaction force", "the logistics battalion", "the residual force", "the Russian contingent",
    "the UN blue helmets", "the occupation forces", "the foreign bases", "the troops in the region",
]

PRO_WITHDRAWAL = [
    "should come home by spring", "have done their job, and it is time to bring them home",
    "cannot stay there forever", "need to be out before the end of the year", "should not spend another winter there",
    "must be withdrawn on a fixed timetable", "are no longer making anyone safer", "should leave as soon as it is safe to do so",
    "are a provocation, not a protection", "have become a magnet for attacks", "should be redeployed out of harm's way",
    "are costing us far more than we are getting back", "should hand over the bases to local forces",
    "are not going to win a war that has to be won by politics", "have stayed far too long already",
    "must begin leaving this summer", "should be reduced to zero within eighteen months",
    "are fighting somebody else's civil war", "should not be asked to referee a sectarian conflict",
    "need an exit strategy, not another surge", "cannot build a nation at gunpoint",
]

PRO_PRESENCE = [
    "must stay until the job is done", "are the only thing standing between that country and chaos",
    "should remain as long as the government asks us to", "cannot leave on an arbitrary timetable",
    "are essential to stability in the region", "deter aggression simply by being there",
    "need more support, not a deadline", "have to finish what they started", "should stay to train the local army",
    "keep the sea lanes open for everyone", "are a guarantee our allies depend on", "must not be pulled out prematurely",
    "are making real progress on the ground", "should be reinforced before the offensive",
    "would leave a vacuum that terrorists will fill", "are the backbone of our alliance commitments",
    "must hold the line until the elections", "protect the very people who invited them",
    "give diplomacy the leverage it needs", "are worth every dollar we spend on them",
]

NEUTRAL_PREDICATES = [
    "are currently under review", "will rotate out in the coming months", "are based at three sites in the province",
    "number roughly 4,000 at the moment", "were briefed on the new rules of engagement this week",
    "are operating under the existing agreement", "will be discussed at the summit next month",
    "have moved their headquarters to the capital", "are part of the budget request we received on Monday",
    "are subject to the status of forces agreement", "completed the handover of two outposts last week",
    "will be the subject of a hearing on Thursday", "are being resupplied through the northern route",
    "are scheduled to conduct joint exercises in October", "report to the regional command",
]

REASONS = [
    "because the government there is not ready", "since the funding runs out in September",
    "because the security situation is still fragile", "given what happened in the last election",
    "because the local army cannot yet stand on its own", "after the attack on the convoy last week",
    "because the insurgents are simply waiting us out", "while the talks in Geneva are still going on",
    "because our allies are watching what we do", "given the cost to the taxpayer", "because every month costs lives",
    "now that the main objectives have been met", "because the parliament there has voted for it",
    "as long as the ceasefire holds", "because the neighbours are arming the militias",
    "given the casualties we took this spring", "because the mission has drifted far beyond its mandate",
    "because that is what the agreement says", "until the border is secure", "before the winter sets in",
    "because the commanders on the ground have asked for it", "given the pressure on recruitment at home",
]

CONNECTORS = [
    "and", "but", "and frankly", "yet", "and at the same time", "while", "even though", "so", "and that is why",
    "but let me add that", "and I would remind my colleagues that", "though",
]

CLAUSES = [
    "the casualties keep mounting", "the budget keeps growing every year", "nobody can tell us what victory looks like",
    "the local forces are getting stronger", "the elections are only months away", "our allies have already left",
    "the talks have stalled again", "the base is the largest employer in the town", "the insurgency has changed tactics",
    "the host government wants us to stay", "the host government has asked us to leave", "the war has no end in sight",
    "the supplemental request is now before the committee", "the refugees are still coming across the border",
    "the families at home deserve answers", "the generals are telling us one thing and the facts another",
    "the treaty obligations are clear", "the region is more dangerous than it was a year ago",
    "the reconstruction money is being stolen", "the training program is finally working",
    "the polls show the public has had enough", "the enemy reads our newspapers", "the contractors cost more than the soldiers",
    "the militias are filling every gap we leave", "the drawdown is already ahead of schedule",
    "the hospitals there are still short of everything", "the ministry has not released the casualty figures",
]

STANDALONE = [
    "We have lost 47 soldiers this year alone.", "That is the reality on the ground.",
    "The mission was never meant to last this long.", "Nobody wants to see another Saigon.",
    "Our allies need to know we will keep our word.", "The taxpayers are paying $2 billion a week for this.",
    "This is not a decision we take lightly.", "I have been to the base three times this year.",
    "The supplemental bill does not include a withdrawal date.", "The committee will hold hearings in the spring.",
    "Every family in my district knows someone who has served there.", "We will not cut and run.",
    "Enough is enough.", "The Prime Minister raised the issue with the ambassador.",
    "The base lease expires in 2027.", "The status of forces agreement is being renegotiated.",
    "We owe it to the people who fought there to get this right.", "The insurgents have not gone away.",
    "Talks with the other side resume on Monday.", "The vote in parliament was 212 to 180.",
    "The referendum result was clear.", "The election changed the whole debate.",
    "I visited the wounded at Walter Reed last week.", "More money will not fix a broken strategy.",
    "The budget request is $74 billion.", "There is no military solution to this conflict.",
    "Diplomacy has to lead from here.", "The neighbours are watching very closely.",
    "The generals have told us they need more time.", "We cannot want peace more than they do.",
    "The local police took over the checkpoints in March.", "The runway was rebuilt with our money.",
    "Three more soldiers were killed by a roadside bomb on Tuesday.", "The people there are tired of foreign soldiers.",
    "The people there are grateful for the help.", "We are not an occupying army.",
    "This is a partnership, not an occupation.", "The timetable has been set by the two governments.",
    "No decision has been made yet.", "The Secretary will brief the committee tomorrow.",
]

QUESTIONS = [
    "How many more {casualties} before we admit this is not working?",
    "What exactly is the plan for {subject} after the elections?",
    "Who is going to pay for {subject} when the money runs out?",
    "Why should {subject} stay one more day?",
    "What happens to the people there if {subject} pack up and leave?",
    "Does anyone seriously believe {subject} can leave without a civil war following?",
    "When will {subject} finally come home?",
    "Is this {policy} really in our national interest?",
]

CASUALTIES = [
    "funerals", "young men and women", "flag-draped coffins", "wounded veterans", "civilian deaths",
    "lives", "families", "amputees at Walter Reed",
]

POLICIES = [
    "surge", "drawdown", "open-ended commitment", "training mission", "occupation", "base expansion",
    "peacekeeping mandate", "security agreement", "exit strategy", "funding request", "deployment",
]

WE_CLAUSES = [
    "We will {verb} {policy_obj} {time}.", "I intend to {verb} {policy_obj} {time}.",
    "This government will {verb} {policy_obj} {time}.", "My party will {verb} {policy_obj} {time}.",
    "The committee voted to {verb} {policy_obj} {time}.", "The Senate should {verb} {policy_obj} {time}.",
    "We are prepared to {verb} {policy_obj} {time}.", "The administration has decided to {verb} {policy_obj} {time}.",
]

VERBS = [
    "fund", "end", "extend", "review", "oppose", "support", "cut off funding for", "put a deadline on",
    "renegotiate", "vote against", "vote for", "stand behind", "reconsider", "wind down", "expand",
    "hold hearings on", "attach conditions to", "honour",
]

POLICY_OBJECTS = [
    "the deployment", "the mission", "the base agreement", "the supplemental", "the training program",
    "the withdrawal plan", "the troop increase", "the lease on the airbase", "the peacekeeping mandate",
    "the security pact", "the coalition commitment", "the naval presence in the Gulf", "the war funding",
]

TIMES = [
    "", "", "this year", "before the election", "by the end of the fiscal year", "in the spring",
    "as soon as possible", "without delay", "over the next eighteen months", "next week", "once and for all",
    "for another year", "in full", "step by step",
]

TAILS = [
    "", "", "", "", " That is the reality.", " And the voters know it.", " I have no doubt about that.",
    " We owe them that much.", " History will judge us on this.", " It is as simple as that.",
    " That is what I told the families.", " Anything else would be irresponsible.", " The clock is ticking.",
]

TARGETS = [
    "US troops in Afghanistan", "US troops in Iraq", "US troops in Syria", "US forces in South Korea",
    "US forces in Okinawa", "US-led coalition in Iraq", "NATO forces in Afghanistan", "French troops in Mali",
    "Russian forces in Ukraine", "Russian troops in Syria", "US bases in Germany", "British troops in Northern Ireland",
    "UN peacekeepers in Lebanon", "US naval base at Guantanamo Bay", "Turkish troops in northern Cyprus",
    "Israeli forces in southern Lebanon", "Ethiopian troops in Somalia", "US troops in Japan",
    "Soviet troops in Afghanistan", "foreign troops in Iraq",
]

FIRST_NAMES = [
    "John", "Maria", "Robert", "Linda", "James", "Patricia", "Carl", "Nancy", "Lindsey", "Barbara", "Chuck",
    "Dianne", "Ted", "Elizabeth", "Rand", "Tammy", "Jack", "Susan", "Mitch", "Kirsten", "Hassan", "Olena",
    "Pierre", "Angela", "Yuki", "Ahmed", "Fatima", "Sergei", "Jean-Luc", "Amina",
]

LAST_NAMES = [
    "Smith", "Lopez", "Murtha", "Byrd", "Hagel", "Levin", "Warner", "Feingold", "Paul", "Duckworth", "Reed",
    "Collins", "McConnell", "Gillibrand", "Webb", "Graham", "Kerry", "Nakamura", "Haddad", "Kovalenko",
    "Dubois", "Schmidt", "Okafor", "Petrov", "Rahimi", "Moreau", "Tanaka", "Ibrahim",
]

TITLES = [
    "Sen.", "Rep.", "Defense Minister", "Foreign Minister", "Gen.", "Col.", "Prime Minister", "Ambassador",
    "Secretary", "Gov.", "Mayor", "Lt. Gen.", "Adm.", "President",
]

ANONYMOUS = [
    None, "a Pentagon spokesman", "a senior administration official", "a State Department spokeswoman",
    "a NATO diplomat", "a local resident", "a soldier's mother", "an opposition lawmaker",
]


# ------------------------------------------------------------------ composition

def count_tokens(text: str) -> int:
    """Words and punctuation marks: a cheap stand-in for the MiniLM tokenizer's count."""
    return len(_TOKEN.findall(text))


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(rng: random.Random) -> str:
    kind = rng.random()
    subject = rng.choice(SUBJECTS)
    if kind < 0.38:  # opener + subject + predicate (+ reason)
        predicate = rng.choice(rng.choice([PRO_WITHDRAWAL, PRO_PRESENCE, PRO_PRESENCE, NEUTRAL_PREDICATES]))
        reason = f" {rng.choice(REASONS)}" if rng.random() < 0.45 else ""
        opener = rng.choice(OPENERS)
        core = f"{subject} {predicate}{reason}"
        text = f"{opener} {core}" if opener else _cap(core)
        return text + "." + rng.choice(TAILS)
    if kind < 0.55:  # subject + predicate, connector + clause
        predicate = rng.choice(rng.choice([PRO_WITHDRAWAL, PRO_PRESENCE, NEUTRAL_PREDICATES]))
        return f"{_cap(subject)} {predicate}, {rng.choice(CONNECTORS)} {rng.choice(CLAUSES)}."
    if kind < 0.75:
        return rng.choice(STANDALONE)
    if kind < 0.85:
        return rng.choice(QUESTIONS).format(casualties=rng.choice(CASUALTIES), subject=subject,
                                            policy=rng.choice(POLICIES))
    if kind < 0.95:
        template = rng.choice(WE_CLAUSES)
        text = template.format(verb=rng.choice(VERBS), policy_obj=rng.choice(POLICY_OBJECTS), time=rng.choice(TIMES))
        return text.replace(" .", ".")
    return f"{_cap(rng.choice(CLAUSES))}, {rng.choice(CONNECTORS)} {rng.choice(CLAUSES)}."


def _length(rng: random.Random) -> int:
    """A target length in tokens: lognormal around the median, clipped to [MIN_TOKENS, MAX_TOKENS]."""
    value = rng.lognormvariate(math.log(MEDIAN_TOKENS), SIGMA)
    return max(MIN_TOKENS, min(MAX_TOKENS, round(value)))


def _text(rng: random.Random) -> str:
    goal = _length(rng)
    sentences: list[str] = []
    tokens = 0
    while tokens < goal:
        sentence = _sentence(rng)
        n = count_tokens(sentence)
        if sentences and tokens + n > MAX_TOKENS:
            break
        if tokens + n > goal and tokens >= MIN_TOKENS and rng.random() < 0.5:
            break  # stop a little short rather than always overshooting
        sentences.append(sentence)
        tokens += n
    return " ".join(sentences)


def _speaker(rng: random.Random) -> str | None:
    if rng.random() < 0.12:
        return rng.choice(ANONYMOUS)
    return f"{rng.choice(TITLES)} {rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def iter_quotes(n: int, seed: int) -> Iterator[dict]:
    """The quotes of ``generate_quotes(n, seed)``, one at a time (for writing large files)."""
    rng = random.Random(seed)
    for i in range(n):
        text = _text(rng)
        target = rng.choice(TARGETS) if rng.random() < TARGET_SHARE else None
        yield {"id": f"gen-{seed}-{i:07d}", "text": text, "target": target, "speaker": _speaker(rng)}


def generate_quotes(n: int, seed: int) -> list[dict]:
    """``n`` synthetic quotes (id, text, target or None, speaker), the same for the same seed."""
    return list(iter_quotes(n, seed))


if __name__ == "__main__":
    import argparse
    import json
    import statistics

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stats", type=int, default=5000, help="quotes to compute length statistics on")
    args = parser.parse_args()
    for quote in generate_quotes(args.n, args.seed):
        print(json.dumps(quote, ensure_ascii=False))
    texts = [q["text"] for q in iter_quotes(args.stats, args.seed)]
    lengths = sorted(map(count_tokens, texts))
    share = sum(15 <= n <= 50 for n in lengths) / len(lengths)
    print(f"{len(lengths)} quotes: tokens min {lengths[0]}, median {statistics.median(lengths)}, "
          f"p90 {lengths[int(0.9 * len(lengths))]}, p99 {lengths[int(0.99 * len(lengths))]}, max {lengths[-1]}; "
          f"15-50 tokens: {share:.0%}; distinct texts {len(set(texts))}")
