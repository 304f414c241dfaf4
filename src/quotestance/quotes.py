"""Rule-based extraction of direct quotations, with their speakers, from English news articles.

``extract_quotes(article)`` returns one :class:`Quote` per span between double quotation marks,
in article order, with exact offsets (``article[q.start:q.end] == q.text``):

- Marks: straight ``"`` and curly “ ”. Single curly marks ‘ ’ (quotes inside quotes) and
  apostrophes (don't, the troops' pay, ’90s) are never delimiters, so they stay in the text.
- Paragraphs are non-blank lines. A quote left open at the end of a paragraph continues into the
  next paragraph when that one opens with a mark; every paragraph's part is its own Quote and all
  parts share one speaker, found in any of them.
- Attribution is looked for right after the closing mark (``"…," Smith said``, ``said Smith, the …``,
  ``NATO spokeswoman Ingrid Solheim said``, ``…, according to Smith``) and right before the opening
  mark (``Smith said: "…"``, ``Its defense minister, Paolo Ferrante, told reporters: "…"``,
  ``Smith said the plan was "…"``, ``Smith called the deal "…"``, ``Smith wrote … that it was "…"``),
  including a name after a lowercase role phrase (``"…," said former Army sergeant Luis Ortega``);
  an appositive of up to 120 characters may stand between subject and verb. A name right after a
  preposition (``Diplomats in New York said``) is never the subject. A clause after a quote that
  ends its sentence (``"… Kyiv." Jones added, "…"``) belongs to the next quote. The part after a split
  attribution (``"A," Mr. Smith said. "B."``, also across ``Rep. Smith, R-Ky., said.``) inherits
  its speaker, and so does a partial quote later in the same sentence after ``and <speech verb> …``
  (``Smith said the plan was "…" and warned that it would "…"``).
- Names are runs of capitalised words in any script (Kalniņš, Désir: a capital is any letter that
  str.isupper() accepts), with initialisms (``U.S. Forces Japan``), particles (al-, bin, van) and
  hyphenated parts (Jean-Robert, Park Ji-hoon, but not Iran-backed). Titles before a name
  (``Detective Chief Inspector``, ``Retired Air Force Maj.``) are dropped, party and age tags
  (``R-Ind.``, ``61``) skipped; an untitled name after "the" is not taken for a person.
- Speakers are resolved against a table of the article's own names: a surname, a given name
  (``Park`` for Park Ji-hoon) or ``Ms. Alvarez`` maps to the full name used in the article;
  ``the chairman`` or ``the Iraqi prime minister`` to the person last given that title or role
  (``Chairman X``, ``ministry spokesman X``, ``the general, X``, ``X, R-Ind., the chairman …``,
  ``X, chairman of …``).
- ``he``/``she`` go to the most recent earlier person of a compatible gender (honorifics, and he/she
  already resolved to them), taking the first such person of that sentence; mentions inside quotes
  are ignored, and an anonymous source met more recently (``A former interpreter, who …``,
  ``"…," a coalition official said``) gives None.
- Organisations are returned as the article writes them, with "the" and a possessive owner
  (``Turkey's Defense Ministry``, ``the Kurdistan Region's Interior Ministry``, ``the Russian Embassy
  in Tallinn``, ``Mali's military-led government``, ``the Israeli military``); ``the ministry`` or
  ``the group`` goes to the latest organisation of that kind (a name introduced as ``a group calling
  itself X`` or ``the gang alliance X`` is one), ``a Hamas spokesman`` to the organisation. Plural
  and anonymous sources (officials, diplomats, residents, "a senior official") give None.
- Skipped as scare quotes or titles: a span right after "so-called"; a span of fewer than four words
  unless an attribution follows it or introduces it with a comma or colon (``"No," she said``), so
  ``said he was "thrilled"`` is skipped; and an unattributed span in Title Case without sentence
  punctuation (a report or operation name). A longer quote with no attribution is returned with
  ``speaker=None``.

Not handled:
- nested attribution chains ("Smith said Jones told him: …"): the nearest subject wins;
- quotes in headlines (title-case paragraphs are skipped altogether);
- speakers introduced only after the pronoun that refers to them, and he/she gender beyond
  honorifics and earlier pronouns (no first-name gender); "they", "we" and "I" are never resolved;
- non-English marks (« », „ “, 「 」), top-level single-mark quotes, straight marks for inches;
- a quote with no attribution of its own gets None even when the paragraph is about one person
  (only ``Smith said:`` closing the previous paragraph, split and multi-paragraph quotes carry one);
- a partial quote whose attribution stands before an earlier quote of the same sentence
  ('Smith said the media "desperately" wants "…"') gets None;
- joint attributions ("Smith and Jones said") give the last name; unresolved descriptions ("the
  senator" with no senator named) give None, and "the company" with no company named gives itself;
- organisations named without an organisation word (Hamas, Lockheed Martin) may be taken for people
  by he/she; untitled names that never speak and have no role may be taken for places, and vice versa.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

__all__ = ["Quote", "extract_quotes"]


@dataclass(frozen=True)
class Quote:
    """A direct quotation: its words, its speaker and where it sits in the article."""

    text: str
    speaker: str | None
    start: int
    end: int
    paragraph: int


# --------------------------------------------------------------------------------------- lexicon

_SPEECH_VERBS = (
    "said says say added adds warned warns argued argues insisted insists declared declares stated "
    "states noted notes tweeted tweets told tells asked asks explained explains wrote writes posted "
    "continued continues replied replies acknowledged acknowledges cautioned cautions predicted "
    "predicts urged urges claimed claims stressed stresses remarked recalled recalls conceded concedes "
    "admitted admits announced announces responded responds answered answers complained complains "
    "suggested suggests observed emphasized emphasised maintained countered vowed vows promised pledged"
).split()
# Verbs that attribute only a partial quote that follows them ('Smith called the deal "a farce"').
_LEAD_ONLY_VERBS = ["called"]

# Role words (lowercase, and title abbreviations) mapped to one canonical role.
_ROLE_CANON = {
    "president": "president", "minister": "minister", "secretary": "secretary",
    "secretary-general": "secretary-general", "premier": "premier",
    "senator": "senator", "sen.": "senator", "representative": "representative",
    "rep.": "representative", "congressman": "representative", "congresswoman": "representative",
    "governor": "governor", "gov.": "governor", "general": "general", "gen.": "general",
    "colonel": "colonel", "col.": "colonel", "lieutenant": "lieutenant", "lt.": "lieutenant",
    "maj.": "major", "captain": "captain", "capt.": "captain", "admiral": "admiral", "adm.": "admiral",
    "sergeant": "sergeant", "sgt.": "sergeant", "cpl.": "corporal", "commander": "commander",
    "cmdr.": "commander", "ambassador": "ambassador", "mayor": "mayor", "chairman": "chair",
    "chairwoman": "chair", "chairperson": "chair", "chair": "chair", "spokesman": "spokesperson",
    "spokeswoman": "spokesperson", "spokesperson": "spokesperson", "director": "director",
    "leader": "leader", "judge": "judge", "chancellor": "chancellor", "envoy": "envoy", "king": "king",
    "queen": "queen", "prince": "prince", "chief": "chief", "executive": "executive",
    "officer": "officer", "inspector": "inspector", "detective": "detective", "det.": "detective",
    "superintendent": "superintendent", "supt.": "superintendent", "commissioner": "commissioner",
    "dr.": "doctor", "prof.": "professor",
}
_HONORIFIC_GENDER = {"mr.": "m", "ms.": "f", "mrs.": "f", "miss": "f"}
_PERSON_TITLES = {"sheikh", "ayatollah", "brig.", "rev.", "pope"}
_ORG_WORDS = frozenset(
    "Department Ministry House Pentagon Kremlin Vatican Council Committee Party Army Forces Force "
    "Agency Office Embassy Consulate Bureau Government Parliament Coalition Court University Company "
    "Bank Group Union Nations Organization Organisation Command Corps Navy Times Post News Radio "
    "Institute Foundation Center Centre Association Administration Senate Congress Assembly "
    "Commission Service Services Police Guard Mission Alliance Authority Front Movement Brigades".split()
)
_ORG_NOUNS = (
    "ministry department embassy government military army agency office council committee "
    "coalition company group party administration militia campaign alliance faction movement "
    "organization organisation network"
).split()
# Nouns that introduce an organisation's name: "a group calling itself X", "the gang alliance X".
_GROUP_NOUNS = "group alliance militia faction movement network party organization organisation".split()
# People who speak for no one in particular: "A resident said", "Officials said" (plural).
_ANON_NOUNS = (
    "official diplomat resident analyst critic expert witness source lawmaker officer soldier fighter "
    "interpreter driver worker farmer shopkeeper owner neighbor neighbour student activist relative "
    "doctor nurse teacher guard man woman member aide employee contractor villager protester"
).split()
_ANON_PLURALS = [w[:-3] + "men" if w.endswith("man") else w + ("es" if w.endswith("ss") else "s")
                 for w in _ANON_NOUNS]
_STOP = frozenset(
    "In On At But And Or If When While Since After Before For As This That These Those His Her Their "
    "Its Our There Then Also Still So Yet However Meanwhile According Author Last Next Earlier Later "
    "Speaking Asked Under Over From With Without During Despite Although Though Because Why What How "
    "Where Who Not Now Like Some Many Most Both Each Every All No Several Today Here Monday Tuesday "
    "Wednesday Thursday Friday Saturday Sunday January February March April May June July August "
    "September October November December".split()
)
# Multi-word names that start or end with these are places, not people ("Saudi Arabia", "Gaza Strip").
_PLACE_FIRST = frozenset(
    "New United Saudi North South East West Middle San Santa Los Las Hong Sri Costa Puerto".split()
)
_PLACE_LAST = frozenset(
    "Street Strip Hill Island Islands Sea River Valley Province City County State States Republic Kingdom "
    "Emirates Gulf Coast Canal Mountains Peninsula Square Arabia Region District Territory".split()
)
_PREPOSITIONS = frozenset(
    "in at from of for to with by near on into across outside inside about against between toward "
    "towards via under over during around through throughout within without among".split()
)
_SMALL_WORDS = frozenset("a an the of and or nor for in on at to by with from as but vs".split())
_DETERMINERS = frozenset({"the", "a", "an", "his", "her", "its", "their"})
_CONNECTORS = frozenset({"of", "the"})
_PARTICLES = frozenset("al el bin ibn de da van von der du di la le".split())
_SUFFIXES = frozenset({"Jr.", "Sr."})

# --------------------------------------------------------------------------------------- patterns


def _alternation(words: list[str] | frozenset[str]) -> str:
    """A regex alternation of words, longest first."""
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_S = r"[^\S\r\n]+"
_BOUND = r"(?<![\w’'-])"
_TITLE_ABBR = r"(?:Mr|Ms|Mrs|Dr|Sen|Rep|Gov|Gen|Lt|Col|Maj|Capt|Cmdr|Adm|Sgt|Cpl|Brig|Prof|Rev|Det|Supt|Jr|Sr)\."
_NOT_NAME = _alternation(["He", "She", "It", "They", "We", "The", "A", "An", "I"]
                         + [w.capitalize() for w in _ANON_PLURALS])
# A lowercase part after a hyphen belongs to a name (Ji-hoon, Yu-ping) unless it makes an adjective.
_ADJ_TAIL = (r"(?:[^\W\d_]+ed|born|run|made|speaking|leaning|era|style|type|like|wide|free|level|scale|"
             r"class|year|old|sized|bound|proof|area|only)(?![\w-])")
# Regex letter classes stay small: _CAP is any letter but a-z (capitals in every script, and also
# non-ASCII lowercase letters, which _capitalised() rejects with str.isupper()).
_CAP = r"[^\W\d_a-z]"
_LETTER = r"[^\W\d_]"
_CONTRACTION = r"(?:s|t|re|ve|ll|d|m)(?![\w-])"
_CAPWORD = (rf"(?!(?:{_NOT_NAME})(?![\w-]))(?!{_CAP}{{2,}}(?![\w-])){_CAP}{_LETTER}*"
            rf"(?:[’'](?!{_CONTRACTION}){_LETTER}+|-(?!{_ADJ_TAIL}){_LETTER}+)*(?![\w-])")
_INITIALS = rf"(?:{_CAP}\.)+"
_PARTICLE = rf"(?:(?:{_alternation(_PARTICLES)})(?:-|{_S}))"
_NAMETOK = rf"{_BOUND}(?:{_TITLE_ABBR}|{_INITIALS}|{_PARTICLE}{{0,2}}{_CAPWORD})"
_NAME_RUN = rf"{_NAMETOK}(?:{_S}(?:of{_S}(?:the{_S})?)?{_NAMETOK})*"
_ACRONYM = rf"{_BOUND}{_CAP}{{2,}}(?![\w-])"
_PARTY = rf"{_BOUND}[RDI]-[A-Z][A-Za-z]*\.?(?:[A-Z]\.)?"
_ROLE_WORD = _alternation([k for k in _ROLE_CANON if "." not in k])
_ORG_NOUN = _alternation(_ORG_NOUNS)
_WORD = r"[\w’'-]+"
_DET = rf"(?:[Tt]he|[Aa]n?|[Ii]ts|[Hh]is|[Hh]er|[Tt]heir|{_CAPWORD}[’']s)"
_DESC = (
    rf"{_BOUND}{_DET}{_S}(?:{_WORD}{_S}){{0,3}}(?:{_ROLE_WORD}|{_ORG_NOUN})(?![\w-])"
    rf"(?:{_S}(?:for|of|at|to){_S}(?:the{_S})?(?:(?:{_CAPWORD}|{_CAP}{{2,}}){_S})*"
    rf"(?:{_CAPWORD}|{_CAP}{{2,}}(?![\w-])|(?:{_ORG_NOUN})(?![\w-])))?"
)
# "NATO spokeswoman Ingrid Solheim", "Pentagon press secretary Maj. Gen. Allen Kittredge"
_TITLED = (rf"{_BOUND}(?:{_DET}{_S})?(?:(?:{_CAPWORD}|{_ACRONYM}|{_INITIALS}){_S}){{0,3}}"
           rf"(?:[a-z][\w’'-]*{_S})?(?:{_ROLE_WORD}){_S}{_NAME_RUN}")
_ORG_THE = (rf"{_BOUND}[Tt]he{_S}(?:{_CAPWORD}|{_ACRONYM}|{_INITIALS})"
            rf"(?:{_S}(?:{_CAPWORD}|{_ACRONYM}|{_INITIALS}))*")
_ORG = rf"{_ORG_THE}(?:{_S}in{_S}{_CAPWORD}(?:{_S}{_CAPWORD})?)?"
_PRONOUN = rf"{_BOUND}(?:[Hh]e|[Ss]he)(?![\w-])"
_SPEAKER = rf"(?:{_PRONOUN}|{_TITLED}|{_DESC}|{_ORG}|{_ACRONYM}|{_NAME_RUN})"
# "a coalition official", "officials": up to three lowercase words, none a conjunction or preposition.
_NOT_GENERIC = _alternation(_PREPOSITIONS | {"and", "but", "or", "then", "who", "which", "that", "it"})
_GENERIC_WORD = rf"(?!(?:{_NOT_GENERIC})(?![\w-]))[a-z][\w’'-]*"
_GENERIC = rf"{_BOUND}(?:{_GENERIC_WORD}{_S}){{0,2}}{_GENERIC_WORD}"
_VERB = rf"(?:{_alternation(_SPEECH_VERBS)})(?![\w-])"
_LEAD_VERB = rf"(?:{_alternation(_SPEECH_VERBS + _LEAD_ONLY_VERBS)})(?![\w-])"
_ADV = (rf"(?:(?:also|later|then|previously|once|recently|repeatedly|again|has|had|have|would|will|"
        rf"simply|quietly|flatly|bluntly){_S}){{0,2}}")
_APPOS_BODY = r"[^,“”\"\r\n]{1,120}"
_TAG = rf"(?:,{_S}(?:{_PARTY}|\d{{1,3}})(?=,))?"  # "Smith, R-Ohio, …", "Smith, 61, …"
_APPOS = rf"{_TAG}(?:,{_S}(?P<appos>{_APPOS_BODY}),)?"
_OPEN_PUNCT = r"\s*(?:[,;:]|[—–]+)?\s*"

# A lowercase role phrase before a name ("former Army sergeant", "local shopkeeper"): it starts and
# ends with a lowercase word, which is no preposition or conjunction.
_ROLE_LOWER = (rf"(?!(?:{_NOT_GENERIC}|after|before|while|when|as|if|because|since|than|said|says)"
               rf"(?![\w-]))[a-z][\w’'-]*")
_ROLE_PHRASE = (rf"{_ROLE_LOWER}{_S}(?:(?:{_ROLE_LOWER}|{_CAPWORD}|{_ACRONYM}){_S}){{0,3}}?"
                rf"(?<=[a-z]{_S[:-1]})")
_TRAILING = [
    re.compile(rf"{_OPEN_PUNCT}(?P<verb>{_VERB}){_S}(?P<subj>{_SPEAKER})(?:,{_S}(?P<appos>{_NAME_RUN})(?=[.,;]|$))?"),
    re.compile(rf"{_OPEN_PUNCT}(?P<subj>{_SPEAKER}|{_GENERIC}){_APPOS}{_S}{_ADV}(?P<verb>{_VERB})"),
    re.compile(rf"{_OPEN_PUNCT}according{_S}to{_S}(?:a{_S}statement{_S}(?:from|by){_S})?(?P<subj>{_SPEAKER})"),
    # "said former Army sergeant Luis Ortega.": the name is the run after a lowercase role phrase.
    re.compile(rf"{_OPEN_PUNCT}(?P<verb>said|says){_S}{_ROLE_PHRASE}(?P<subj>{_NAME_RUN})(?=\s*(?:[.,;]|$))"),
]


@dataclass(frozen=True)
class _LeadPattern:
    """An attribution before a quote; ``framed`` when it introduces a whole utterance ('said: "')
    rather than a phrase embedded in its sentence; ``checked`` when its subject must not follow a
    preposition or sit inside a longer name."""

    regex: re.Pattern[str]
    framed: bool
    checked: bool


_LEADING = [
    _LeadPattern(re.compile(
        rf"(?P<subj>{_SPEAKER}){_APPOS}{_S}{_ADV}(?P<verb>{_VERB})[^.!?“”\"]{{0,80}}?[,:]\s*$"), True, True),
    _LeadPattern(re.compile(
        rf"(?P<subj>{_SPEAKER}){_APPOS}{_S}{_ADV}(?P<verb>{_LEAD_VERB})[^,;:.!?“”\"]{{0,90}}$"), False, True),
    _LeadPattern(re.compile(rf"[Aa]ccording{_S}to{_S}(?P<subj>{_SPEAKER}),\s*$"), True, False),
]
_LEAD_WINDOW = 300

_MARK_RE = re.compile(r"[“”\"]")
_LINE_RE = re.compile(r"[^\r\n]+")
_WORDS_RE = re.compile(r"[^\W_]+(?:[’'-][^\W_]+)*")
_NAME_RUN_RE = re.compile(_NAME_RUN)
_NAMETOK_RE = re.compile(_NAMETOK)
_PRONOUN_RE = re.compile(_PRONOUN)
_DESC_RE = re.compile(_DESC)
_TITLED_RE = re.compile(_TITLED)
_ORG_RE = re.compile(_ORG)
_ACRONYM_RE = re.compile(_ACRONYM)
_ORG_NOUN_RE = re.compile(rf"(?<![\w-])(?:{_ORG_NOUN})(?![\w-])")
_POSSESSIVE_RE = re.compile(rf"{_CAPWORD}[’']s{_S}")
_THE_BEFORE_RE = re.compile(rf"{_BOUND}[Tt]he{_S}$")
_ABBREV_RE = re.compile(rf"{_BOUND}(?:{_TITLE_ABBR}|{_INITIALS})|{_PARTY}")
_PARTY_RE = re.compile(_PARTY)
_SENTENCE_END_RE = re.compile(r"[.!?][”\"’]?\s|[\r\n]")
_JOINED_RE = re.compile(
    rf"\s*,?{_S}and{_S}{_ADV}(?:{_LEAD_VERB})[^,;:.!?“”\"]{{0,90}}$")
_SO_CALLED_RE = re.compile(r"so-called\s*$")
_SPEECH_AFTER_RE = re.compile(rf"(?:,{_APPOS_BODY},)?{_S}{_ADV}{_VERB}")
_SPEECH_BEFORE_RE = re.compile(rf"{_VERB}{_S}$")
_ORG_INTRO_RE = re.compile(
    rf"(?<![\w-])(?P<noun>{_alternation(_GROUP_NOUNS)})(?:{_S}(?:calling{_S}itself|called|known{_S}as|named))?{_S}$")
_ANON_RE = re.compile(
    rf"(?:^|(?<=[.!?]\s)|(?<=[.!?][”\"]\s))(?:A|An|One){_S}"
    rf"(?:(?:{_WORD}{_S}){{0,4}}?{_WORD}(?=,{_S}who\b)|(?:{_WORD}{_S}){{0,3}}?(?:{_alternation(_ANON_NOUNS)}|"
    rf"{_ROLE_WORD})(?={_S}[a-z]))", re.MULTILINE)
_ROLE_BEFORE_RE = re.compile(rf"{_BOUND}(?:(?P<mod>[a-z][\w’'-]*){_S})?(?P<role>{_ROLE_WORD}){_S}$")
_ROLE_AFTER_RE = re.compile(
    rf"{_TAG},{_S}(?:{_DET}{_S}(?:{_WORD}{_S}){{0,2}}?)?"
    rf"(?:(?P<mod>{_WORD}){_S})?(?P<role>{_ROLE_WORD})(?![\w-])")
_ROLE_APPOS_BEFORE_RE = re.compile(
    rf"{_DET}{_S}(?:{_WORD}{_S}){{0,2}}?(?:(?P<mod>{_WORD}){_S})?(?P<role>{_ROLE_WORD}),{_S}$")


# ----------------------------------------------------------------------------- paragraphs, spans

@dataclass(frozen=True)
class _Paragraph:
    index: int
    start: int
    end: int


@dataclass(frozen=True)
class _Span:
    """A quoted span: ``mark`` is its opening mark, ``after`` is just past its closing mark."""

    mark: int
    start: int
    end: int
    after: int
    paragraph: int
    closed: bool


def _paragraphs(text: str) -> list[_Paragraph]:
    """Non-blank lines, trimmed, numbered in order: the article's paragraphs."""
    found = []
    for line in _LINE_RE.finditer(text):
        body = line.group()
        if body.strip():
            start = line.start() + len(body) - len(body.lstrip())
            found.append(_Paragraph(len(found), start, line.start() + len(body.rstrip())))
    return found


def _is_headline(text: str) -> bool:
    """Title-case lines without closing punctuation are headlines, which carry no statements."""
    words = re.findall(r"[^\W\d_][\w’'-]*", text)
    if len(words) < 4 or text.rstrip().endswith((".", ":")):
        return False
    return sum(w[0].isupper() for w in words) / len(words) >= 0.6


def _is_title_case(text: str) -> bool:
    """True for a name or title ("Expeditionary Quality of Life"): every word but small ones
    capitalised, and no sentence punctuation."""
    core = text.rstrip(" ,.;:")
    words = _WORDS_RE.findall(core)
    if len(words) < 2 or re.search(r"[.!?;:]", core) or not words[0][0].isupper():
        return False
    return all(w[0].isupper() or w in _SMALL_WORDS for w in words)


def _make_span(text: str, mark: int, close: int, after: int, paragraph: int, closed: bool) -> _Span | None:
    """The span between a mark and its close, trimmed of spaces; None if it is empty."""
    start, end = mark + 1, close
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return _Span(mark, start, end, after, paragraph, closed) if start < end else None


def _quote_spans(text: str, par: _Paragraph) -> list[_Span]:
    """Spans between double marks in one paragraph; curly marks nest, a straight mark closes."""
    spans: list[_Span | None] = []
    depth, mark = 0, -1
    for m in _MARK_RE.finditer(text, par.start, par.end):
        char, pos = m.group(), m.start()
        if depth == 0:
            if char != "”":
                depth, mark = 1, pos
        elif char == "“":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                spans.append(_make_span(text, mark, pos, pos + 1, par.index, True))
    if depth:
        spans.append(_make_span(text, mark, par.end, par.end, par.index, False))
    return [s for s in spans if s is not None]


def _statements(spans: list[_Span], paragraphs: list[_Paragraph]) -> list[list[int]]:
    """Group span indices into statements: an open span continues into the next paragraph's
    first span when that paragraph opens with a mark."""
    groups: list[list[int]] = []
    open_group: list[int] | None = None
    for i, span in enumerate(spans):
        starts_par = span.mark == paragraphs[span.paragraph].start
        continues = (open_group is not None and starts_par
                     and spans[open_group[-1]].paragraph == span.paragraph - 1)
        if continues:
            open_group.append(i)
        else:
            open_group = [i]
            groups.append(open_group)
        if span.closed:
            open_group = None
    return groups


# ---------------------------------------------------------------------------------- text helpers

def _written(text: str, start: int, end: int) -> str:
    """``text[start:end]`` as written, after a preceding "the" (lower-cased) if there is one."""
    return ("the " if _after_article(text, start) else "") + text[start:end]


def _after_article(text: str, pos: int) -> bool:
    """True when "the" comes right before ``pos`` ("the Upper Palatinate", "the Blue Line")."""
    return _THE_BEFORE_RE.search(text, max(0, pos - 5), pos) is not None


def _previous_word(text: str, pos: int) -> str:
    """The whitespace-delimited token right before ``pos``, or ""."""
    m = re.search(r"(\S+)[^\S\r\n]+$", text[max(0, pos - 40):pos])
    return m.group(1) if m else ""


def _valid_subject(text: str, pos: int) -> bool:
    """A subject does not follow a preposition ("in New York") and a name does not start inside
    a longer name ("York" in "New York")."""
    word = _previous_word(text, pos)
    if word.lower() in _PREPOSITIONS:
        return False
    return not (_NAMETOK_RE.match(text, pos) and word not in _STOP and _NAMETOK_RE.fullmatch(word))


def _one_sentence(gap: str) -> bool:
    """True when ``gap`` crosses no sentence end (abbreviations and party tags aside)."""
    return not _SENTENCE_END_RE.search(_ABBREV_RE.sub("", gap))


def _single_clause(gap: str) -> bool:
    """True when the text between two quotes is one clause (an attribution), not more sentences."""
    core = _ABBREV_RE.sub("", gap).strip()
    return not re.search(r"[.!?]", core[:-1])


# ------------------------------------------------------------------------------------ name table

@dataclass(frozen=True)
class _Parsed:
    """One capitalised name group: its name tokens, title role, honorific gender or organisation
    (as written, with ``kinds``: its lowercased words and the noun that introduced it)."""

    pos: int
    end: int
    name: tuple[str, ...]
    role: str | None
    gender: str | None
    titled: bool
    org: str | None
    kinds: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Mention:
    pos: int
    name: str
    quoted: bool


def _capitalised(token: str) -> bool:
    """True for a name token that starts with a capital (str.isupper) after any particle, and for
    the connectors and particles that may stand between name tokens."""
    if token in _CONNECTORS or token in _PARTICLES:
        return True
    prefix, _, rest = token.partition("-")
    head = rest if prefix in _PARTICLES and rest else token
    return head[:1].isupper() or head[:1].istitle()


def _groups(text: str, start: int, end: int) -> list[list[tuple[int, str]]]:
    """Tokens of a capitalised run, split at sentence-opening words, months, days and tokens that
    do not start with a capital letter."""
    groups: list[list[tuple[int, str]]] = [[]]
    for tok in re.finditer(r"\S+", text[start:end]):
        if tok.group() in _STOP or not _capitalised(tok.group()) or _PARTY_RE.fullmatch(tok.group()):
            groups.append([])
        else:
            groups[-1].append((start + tok.start(), tok.group()))
    trimmed = []
    for group in groups:
        while group and group[0][1] in _CONNECTORS:
            group = group[1:]
        while group and group[-1][1] in _CONNECTORS:
            group = group[:-1]
        if group:
            trimmed.append(group)
    return trimmed


def _is_title(word: str) -> bool:
    """True for tokens that introduce a person: roles, abbreviations and honorifics."""
    low = word.lower()
    return low in _ROLE_CANON or low in _HONORIFIC_GENDER or low in _PERSON_TITLES


def _parse_group(text: str, group: list[tuple[int, str]]) -> _Parsed:
    """Split a group into titles (role, gender) and the name after the last one, or recognise it
    as an organisation (an organisation word in the name, or anywhere when untitled)."""
    words = [w for _, w in group]
    pos, end = group[0][0], group[-1][0] + len(group[-1][1])
    titles = [i for i, w in enumerate(words) if _is_title(w)]
    last = titles[-1] if titles else -1
    role = _title_role(words, last)
    name_from = last + 1
    if role and words[name_from:name_from + 1] == ["of"]:  # "Secretary of (the) State X"
        name_from += 2 + (words[name_from + 1:name_from + 2] == ["the"])
    name = words[name_from:]
    name = name[:name.index("of")] if "of" in name else name
    name = [w for w in name if w not in _SUFFIXES]
    if any(w in _ORG_WORDS for w in (name if titles else words)):
        return _Parsed(pos, end, (), None, None, False, _written(text, pos, end),
                       frozenset(w.lower() for w in words))
    gender = next((_HONORIFIC_GENDER[w.lower()] for w in words[:last + 1] if w.lower() in _HONORIFIC_GENDER), None)
    return _Parsed(pos, end, tuple(name), role, gender, last >= 0, None)


def _in_context(text: str, item: _Parsed, prev: _Parsed | None) -> _Parsed:
    """An organisation with its possessive owner ("Turkey's Defense Ministry"); an untitled name
    introduced by a group noun ("a group calling itself X") becomes an organisation."""
    if item.org is not None:
        if prev is not None and re.fullmatch(rf"[’']s{_S}", text[prev.end:item.pos]):
            return replace(item, org=_written(text, prev.pos, item.end))
        return item
    intro = _ORG_INTRO_RE.search(text, max(0, item.pos - 40), item.pos)
    if intro and item.name and not item.titled:
        return replace(item, org=_written(text, item.pos, item.end),
                       kinds=frozenset([intro.group("noun"), *(w.lower() for w in item.name)]))
    return item


def _title_role(words: list[str], last: int) -> str | None:
    """The role of the title at ``last``, with the word before it ("Prime Minister" -> "prime minister")."""
    if last < 0 or words[last].lower() not in _ROLE_CANON:
        return None
    role = _ROLE_CANON[words[last].lower()]
    prev = words[last - 1] if last > 0 else ""
    if prev and not _is_title(prev) and prev not in _CONNECTORS:
        return f"{prev.lower()} {role}"
    return role


def _surname_keys(name: tuple[str, ...]) -> list[str]:
    """Keys a later mention may use for a full name: the surname, also without al-/el-."""
    last = name[-1]
    keys = [last]
    for particle in ("al-", "el-"):
        if last.startswith(particle):
            keys.append(last[len(particle):])
    return keys


def _is_personal_name(words: list[str]) -> bool:
    """Two or more capitalised words that do not look like a place are taken for a person."""
    return len(words) >= 2 and words[0] not in _PLACE_FIRST and words[-1] not in _PLACE_LAST


def _context_role(text: str, start: int, end: int) -> list[str]:
    """Roles given next to a name: "ministry spokesman X", "the chairman, X", "X, the chairman",
    "X, R-Ind., chairman of …"."""
    before = text[max(0, start - 60):start]
    roles = []
    for m in (_ROLE_BEFORE_RE.search(before), _ROLE_APPOS_BEFORE_RE.search(before), _ROLE_AFTER_RE.match(text, end)):
        if m:
            roles.append(_compound(m.group("mod"), m.group("role")))
    return roles


def _compound(modifier: str | None, role_word: str) -> str:
    """Canonical role, prefixed by a modifier word ("prime minister", "militia leader")."""
    canon = _ROLE_CANON[role_word.lower()]
    mod = (modifier or "").lower().removesuffix("’s").removesuffix("'s")
    return f"{mod} {canon}" if mod and mod not in _DETERMINERS else canon


def _speaks(text: str, start: int, end: int) -> bool:
    """True when the name is the subject or object of a speech verb ("X said", "said X")."""
    if _previous_word(text, start).lower() in _PREPOSITIONS:
        return False
    return bool(_SPEECH_AFTER_RE.match(text, end) or _SPEECH_BEFORE_RE.search(text[max(0, start - 20):start]))


def _quoted(spans: list[_Span], pos: int) -> bool:
    """True when ``pos`` lies inside a quoted span."""
    return any(s.mark < pos < s.after for s in spans)


@dataclass
class _NameTable:
    """The article's people, organisations and anonymous sources, from its own text."""

    full: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    given: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    mentions: list[_Mention] = field(default_factory=list)
    people: set[str] = field(default_factory=set)
    roles: list[tuple[int, str, str]] = field(default_factory=list)
    genders: dict[str, str] = field(default_factory=dict)
    orgs: list[tuple[int, str, frozenset[str]]] = field(default_factory=list)
    org_at: dict[int, str] = field(default_factory=dict)
    anonymous: list[int] = field(default_factory=list)

    @classmethod
    def build(cls, text: str, paragraphs: list[_Paragraph], spans: list[_Span]) -> _NameTable:
        """Collect every name group, register full names first, then resolve each mention."""
        parsed: list[tuple[_Parsed, bool]] = []
        table = cls()
        for par in paragraphs:
            prev = None
            for run in _NAME_RUN_RE.finditer(text, par.start, par.end):
                quoted = _quoted(spans, run.start())
                for group in _groups(text, *run.span()):
                    prev = _in_context(text, _parse_group(text, group), prev)
                    parsed.append((prev, quoted))
            table.anonymous += [m.start() for m in _ANON_RE.finditer(text, par.start, par.end)
                                if not _quoted(spans, m.start())]
        for item, _ in parsed:
            if item.org is None and len(item.name) >= 2:
                full = " ".join(item.name)
                for key in _surname_keys(item.name):
                    table.full.setdefault(key, []).append((item.pos, full))
                table.given.setdefault(item.name[0], []).append((item.pos, full))
        for item, quoted in parsed:
            table._add(text, item, quoted)
        return table

    def _add(self, text: str, item: _Parsed, quoted: bool) -> None:
        """Record one name group as an organisation or a (possible) person mention."""
        if item.org is not None:
            if not quoted:
                self.orgs.append((item.pos, item.org, item.kinds))
                self.org_at[item.pos] = item.org
            return
        if not item.name:
            return
        name = self.canonical(item.name, item.pos)
        self.mentions.append(_Mention(item.pos, name, quoted))
        roles = _context_role(text, item.pos, item.end) + ([item.role] if item.role else [])
        self.roles += [(item.pos, name, role) for role in roles]
        if item.gender:
            self.genders[name] = item.gender
        personal = _is_personal_name(name.split()) and not _after_article(text, item.pos)
        if item.titled or roles or personal or _speaks(text, item.pos, item.end):
            self.people.add(name)

    def canonical(self, name: tuple[str, ...], pos: int) -> str:
        """The full name a single name refers to, by surname, else by given name: the latest
        earlier one, else the first later one."""
        if len(name) >= 2:
            return " ".join(name)
        candidates = self.full.get(name[0]) or self.given.get(name[0], [])
        earlier = [full for p, full in candidates if p < pos]
        if earlier:
            return earlier[-1]
        return candidates[0][1] if candidates else name[0]

    def person_with_role(self, queries: list[str], pos: int) -> str | None:
        """The person most recently given a role matching one of the queries (most specific first)."""
        for query in queries:
            hits = [(p, n) for p, n, r in self.roles if r == query or r.endswith(" " + query)]
            if hits:
                earlier = [n for p, n in hits if p < pos]
                return earlier[-1] if earlier else hits[0][1]
        return None

    def org_for_noun(self, noun: str, pos: int) -> str:
        """The organisation "the ministry" refers to: the latest earlier one of that kind."""
        hits = [org for p, org, kinds in self.orgs if p < pos and noun in kinds]
        return hits[-1] if hits else f"the {noun}"

    def person_candidates(self, pos: int) -> list[tuple[int, str | None]]:
        """People mentioned outside quotes before ``pos``, and anonymous sources (None)."""
        found: list[tuple[int, str | None]] = [
            (m.pos, m.name) for m in self.mentions if m.pos < pos and not m.quoted and m.name in self.people]
        return found + [(p, None) for p in self.anonymous if p < pos]

    def compatible(self, name: str | None, gender: str) -> bool:
        """True unless the person is known to be of the other gender (anonymous sources always are)."""
        return name is None or self.genders.get(name, gender) == gender


# ------------------------------------------------------------------------------------ attribution

@dataclass(frozen=True)
class _Attribution:
    """A subject phrase attributing a quote; ``framed`` when it presents a whole utterance."""

    phrase: str
    pos: int
    framed: bool


@dataclass
class _Resolver:
    """Turns attribution phrases into speakers, remembering earlier person speakers."""

    text: str
    table: _NameTable
    spoken: list[tuple[int, str | None]] = field(default_factory=list)

    def resolve(self, attr: _Attribution) -> str | None:
        """The speaker an attribution phrase names, by the kind of phrase it is."""
        phrase = attr.phrase
        if _PRONOUN_RE.fullmatch(phrase):
            return self._pronoun(phrase, attr.pos)
        if _TITLED_RE.fullmatch(phrase):
            run = list(_NAME_RUN_RE.finditer(phrase))[-1]
            return self._name(attr.pos + run.start(), attr.pos + run.end())
        if _DESC_RE.fullmatch(phrase):
            return self._description(phrase, attr.pos)
        if _ORG_RE.fullmatch(phrase):
            return self._org(phrase)
        if _ACRONYM_RE.fullmatch(phrase):
            return phrase
        if _NAME_RUN_RE.fullmatch(phrase):
            return self._name(attr.pos, attr.pos + len(phrase))
        return None

    def remember(self, pos: int, speaker: str | None) -> None:
        """Keep a person (or anonymous, None) speaker as a candidate for later pronouns."""
        if speaker is None or speaker in self.table.people:
            self.spoken.append((pos, speaker))

    def _name(self, start: int, end: int) -> str | None:
        """A name run: the organisation, the full name (a person, since it speaks), or the person
        holding its bare title."""
        groups = _groups(self.text, start, end)
        if not groups:
            return None
        item = _parse_group(self.text, groups[-1])
        org = self.table.org_at.get(item.pos) or item.org
        if org is not None:
            return org
        if item.name:
            name = self.table.canonical(item.name, item.pos)
            self.table.people.add(name)
            return name
        return self.table.person_with_role([item.role], item.pos) if item.role else None

    def _pronoun(self, pronoun: str, pos: int) -> str | None:
        """he/she: the most recent earlier person of a compatible gender, taking the first one of
        that sentence; None when that is an anonymous source. Learns the person's gender."""
        gender = "m" if pronoun.lower() == "he" else "f"
        earlier = self.table.person_candidates(pos) + [c for c in self.spoken if c[0] < pos]
        found = sorted((c for c in earlier if self.table.compatible(c[1], gender)), key=lambda c: c[0])
        if not found:
            return None
        k = len(found) - 1
        while k and _one_sentence(self.text[found[k - 1][0]:found[k][0]]):
            k -= 1
        name = found[k][1]
        if name is not None:
            self.table.genders.setdefault(name, gender)
        return name

    def _description(self, phrase: str, pos: int) -> str | None:
        """"the senator" -> the person with that role; "a Pentagon spokesman" -> the organisation;
        "the ministry" -> the latest ministry; unresolved descriptions of people -> None."""
        words = phrase.split()
        queries = _role_queries(words)
        if not queries:
            return self._org_noun_phrase(phrase, words, pos)
        if words[0].lower() not in ("a", "an"):
            person = self.table.person_with_role(queries, pos)
            if person:
                return person
        return self._org_in(phrase, pos) if queries[-1] == "spokesperson" else None

    def _org_noun_phrase(self, phrase: str, words: list[str], pos: int) -> str:
        """An organisation described by a noun: as written when it names its owner or carries a
        capitalised modifier ("Mali's military-led government", "the Israeli military"), else the
        latest organisation of that kind ("the ministry"). Remembers the former for later "the …"."""
        noun = _ORG_NOUN_RE.findall(phrase)[-1]
        if _POSSESSIVE_RE.match(phrase) or any(w[0].isupper() for w in words[1:]):
            org = "the" + phrase[3:] if words[0] == "The" else phrase
            self.table.orgs.append((pos, org, frozenset([noun])))
            return org
        return self.table.org_for_noun(noun, pos)

    def _org(self, phrase: str) -> str:
        """"the Pentagon", "the Russian Embassy in Tallinn" (a place kept after an organisation word)."""
        base, sep, _ = phrase.partition(" in ")
        shown = phrase if sep and any(w in _ORG_WORDS for w in base.split()) else base
        return "the" + shown[3:] if shown.startswith("The") else shown

    def _org_in(self, phrase: str, pos: int) -> str | None:
        """The organisation a spokesperson speaks for: named inside the description ("a Pentagon
        spokesman" -> "the Pentagon", "a Hamas spokesman" -> "Hamas") or as a noun ("ministry")."""
        run = _NAME_RUN_RE.search(phrase)
        if run:
            words = run.group().split()
            return ("the " if any(w in _ORG_WORDS for w in words) else "") + " ".join(words)
        noun = _ORG_NOUN_RE.search(phrase)
        return self.table.org_for_noun(noun.group(), pos) if noun else None


def _role_queries(words: list[str]) -> list[str]:
    """Roles a description asks for, most specific first: ["prime minister", "minister"]."""
    for i, word in enumerate(words):
        canon = _ROLE_CANON.get(word.lower())
        if canon and "." not in word:
            full = _compound(words[i - 1] if i > 1 else None, word)
            return [full, canon] if full != canon else [canon]
    return []


def _attribution(match: re.Match[str], framed: bool) -> _Attribution:
    """The subject of an attribution match; a name in apposition wins over a description."""
    appos = match.groupdict().get("appos")
    subj = match.group("subj")
    if appos and _NAME_RUN_RE.fullmatch(appos.strip()) and not _NAME_RUN_RE.fullmatch(subj):
        start = match.start("appos") + len(appos) - len(appos.lstrip())
        return _Attribution(appos.strip(), start, framed)
    return _Attribution(subj, match.start("subj"), framed)


def _trailing(text: str, start: int, end: int) -> _Attribution | None:
    """Attribution right after a closing mark: '," Smith said', '," said Smith', ', according to Smith'."""
    for pattern in _TRAILING:
        m = pattern.match(text, start, end)
        if m:
            return _attribution(m, True)
    return None


def _leading(text: str, start: int, end: int) -> _Attribution | None:
    """Attribution right before an opening mark: 'Smith said: "', 'Smith said the plan was "'."""
    for lead in _LEADING:
        pos = max(start, end - _LEAD_WINDOW)
        while (m := lead.regex.search(text, pos, end)) is not None:
            if not lead.checked or _valid_subject(text, m.start("subj")):
                return _attribution(m, lead.framed)
            pos = m.start() + 1
    return None


@dataclass
class _Extractor:
    """Attributes statements in article order, since pronouns depend on earlier speakers."""

    text: str
    paragraphs: list[_Paragraph]
    spans: list[_Span]
    resolver: _Resolver
    speakers: dict[int, str | None] = field(default_factory=dict)
    trailing: set[int] = field(default_factory=set)

    def run(self) -> list[Quote]:
        """Quotes of every statement that is kept, in article order."""
        quotes = []
        for group in _statements(self.spans, self.paragraphs):
            quotes += self._statement(group)
        return quotes

    def _statement(self, group: list[int]) -> list[Quote]:
        """Attribute one statement (its own attributions, else the split quote before it) and
        drop it if it is a scare quote or a title."""
        speaker, found = None, None
        for i in group:
            attr = self._own(i, continued=i != group[0])
            if attr is not None:
                found, speaker = attr, self.resolver.resolve(attr)
                if speaker:
                    break
        split = found is None and self._split_from_previous(group[0])
        joined = found is None and not split and self._joined_to_previous(group[0])
        if split or joined:
            speaker = self.speakers[group[0] - 1]
        attributed = found is not None or split or joined
        if self._skipped(group, attributed=attributed, framed=split or bool(found and found.framed)):
            return []
        if found is not None:
            self.resolver.remember(found.pos, speaker)
        for i in group:
            self.speakers[i] = speaker
        return [Quote(self.text[s.start:s.end], speaker, s.start, s.end, s.paragraph)
                for s in (self.spans[i] for i in group)]

    def _skipped(self, group: list[int], attributed: bool, framed: bool) -> bool:
        """Scare quotes and titles: after "so-called", short unless framed as an utterance, or an
        unattributed Title Case name."""
        first = self.spans[group[0]]
        if _SO_CALLED_RE.search(self.text, max(0, first.mark - 12), first.mark):
            return True
        texts = [self.text[self.spans[i].start:self.spans[i].end] for i in group]
        if sum(len(_WORDS_RE.findall(t)) for t in texts) < 4 and not framed:
            return True
        return not attributed and _is_title_case(" ".join(texts))

    def _own(self, i: int, continued: bool) -> _Attribution | None:
        """The attribution next to span i: after it first, then before it."""
        span = self.spans[i]
        par = self.paragraphs[span.paragraph]
        nxt = self.spans[i + 1] if i + 1 < len(self.spans) else None
        trail_end = nxt.mark if nxt is not None and nxt.paragraph == span.paragraph else par.end
        found = None
        if span.closed and not self._introduces_next(span, trail_end):
            found = _trailing(self.text, span.after, trail_end)
        if found is not None:
            self.trailing.add(i)
            return found
        if continued:
            return None
        lead_start, lead_end = self._lead_window(i)
        return _leading(self.text, lead_start, lead_end)

    def _introduces_next(self, span: _Span, trail_end: int) -> bool:
        """True when a quote closes its sentence and the clause after it ends with ',' or ':'
        before the next quote: that clause introduces the next quote ('… Kyiv.” Jones added, “…')."""
        ends_sentence = self.text[span.start:span.end].endswith(".")
        return ends_sentence and self.text[span.after:trail_end].rstrip().endswith((",", ":"))

    def _lead_window(self, i: int) -> tuple[int, int]:
        """Text before span i in its paragraph, or the previous paragraph when it ends with ':'."""
        span = self.spans[i]
        par = self.paragraphs[span.paragraph]
        prev = self.spans[i - 1] if i > 0 else None
        if prev is not None and prev.paragraph == span.paragraph:
            return prev.after, span.mark
        if span.mark == par.start and par.index > 0:
            before = self.paragraphs[par.index - 1]
            if self.text[before.end - 1] == ":":
                return before.start, before.end
        return par.start, span.mark

    def _split_from_previous(self, i: int) -> bool:
        """True when span i follows, in its paragraph, a quote whose attribution is all between them."""
        if i == 0 or i - 1 not in self.trailing or self.speakers.get(i - 1) is None:
            return False
        prev, span = self.spans[i - 1], self.spans[i]
        return prev.paragraph == span.paragraph and _single_clause(self.text[prev.after:span.mark])


    def _joined_to_previous(self, i: int) -> bool:
        """True when span i continues, in the same sentence, an attributed quote before it through
        'and <speech verb> …' ('X said the group was "…" and warned that a pullout would "…"')."""
        if i == 0 or self.speakers.get(i - 1) is None:
            return False
        prev, span = self.spans[i - 1], self.spans[i]
        gap = self.text[prev.after:span.mark]
        return prev.paragraph == span.paragraph and _one_sentence(gap) and bool(_JOINED_RE.match(gap))


def extract_quotes(text: str) -> list[Quote]:
    """Direct quotations in ``text``, in article order, each with its resolved speaker or None."""
    paragraphs = _paragraphs(text)
    body = [p for p in paragraphs if not _is_headline(text[p.start:p.end])]
    spans = [span for par in body for span in _quote_spans(text, par)]
    table = _NameTable.build(text, body, spans)
    return _Extractor(text, paragraphs, spans, _Resolver(text, table)).run()
