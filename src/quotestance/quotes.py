"""Rule-based extraction of direct quotations, with their speakers, from English news articles.

``extract_quotes(article)`` returns one :class:`Quote` per span between double quotation marks,
in article order, with exact offsets (``article[q.start:q.end] == q.text``):

- Marks: straight ``"`` and curly “ ”. Single curly marks ‘ ’ (quotes inside quotes) and
  apostrophes (don't, the troops' pay, ’90s) are never delimiters, so they stay in the text.
- Paragraphs are non-blank lines. A quote left open at the end of a paragraph continues into the
  next paragraph when that one opens with a mark; every paragraph's part is its own Quote and all
  parts share one speaker, found in any of them.
- Attribution is looked for right after the closing mark (``"…," Smith said``, ``said Smith, the …``,
  ``Smith told reporters``, ``…, according to Smith``) and right before the opening mark
  (``Smith said: "…"``, ``In a statement, Smith said, "…"``, ``Smith said the plan was "…"``).
  The part after a split attribution (``"A," Mr. Smith said. "B."``) inherits its speaker.
- Speakers are resolved against a table of the article's own capitalised names: a surname or
  ``Ms. Alvarez`` maps to the full name used in the article, ``the senator`` or ``the Iraqi prime
  minister`` to the person last given that title or role, ``he``/``she`` to the first person
  named earlier in the paragraph, else the latest person speaker, else the latest person named.
  Organisations (``the Pentagon``, ``the State Department``, ``the ministry``) are speakers too.
- A quoted span of fewer than four words that no speech verb attributes is a scare quote or a
  title and is skipped; a longer quote with no attribution is returned with ``speaker=None``.

Not handled:
- nested attribution chains ("Smith said Jones told him: …"): the nearest subject wins;
- quotes in headlines (title-case paragraphs are skipped altogether);
- speakers introduced only after the pronoun that refers to them, and he/she gender beyond the
  Mr./Ms./Mrs. honorifics; "they", "we" and "I" are never resolved;
- non-English marks (« », „ “, 「 」), top-level single-mark quotes, straight marks for inches;
- speakers named only in a non-adjacent sentence or another paragraph (except ``Smith said:``
  closing the previous paragraph, and multi-paragraph quotes);
- joint attributions ("Smith and Jones said") give the last name; anonymous or unresolved sources
  ("officials said", "a senior official said", "the senator" with no senator named) give None;
- untitled names that never speak and have no role may be taken for places, and vice versa.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

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

# Role words (lowercase, and title abbreviations) mapped to one canonical role.
_ROLE_CANON = {
    "president": "president", "minister": "minister", "secretary": "secretary",
    "senator": "senator", "sen.": "senator", "representative": "representative",
    "rep.": "representative", "congressman": "representative", "congresswoman": "representative",
    "governor": "governor", "gov.": "governor", "general": "general", "gen.": "general",
    "colonel": "colonel", "col.": "colonel", "lt.": "lieutenant", "maj.": "major",
    "captain": "captain", "capt.": "captain", "admiral": "admiral", "adm.": "admiral",
    "sgt.": "sergeant", "commander": "commander", "cmdr.": "commander", "ambassador": "ambassador",
    "mayor": "mayor", "chairman": "chair", "chairwoman": "chair", "chairperson": "chair",
    "chair": "chair", "spokesman": "spokesperson", "spokeswoman": "spokesperson",
    "spokesperson": "spokesperson", "director": "director", "leader": "leader", "judge": "judge",
    "chancellor": "chancellor", "envoy": "envoy", "king": "king", "queen": "queen",
    "prince": "prince", "dr.": "doctor", "prof.": "professor",
}
_HONORIFIC_GENDER = {"mr.": "m", "ms.": "f", "mrs.": "f", "miss": "f"}
_PERSON_TITLES = {"sheikh", "ayatollah", "brig.", "rev.", "pope"}
_ORG_WORDS = frozenset(
    "Department Ministry House Pentagon Kremlin Vatican Council Committee Party Army Forces Force "
    "Agency Office Embassy Government Parliament Coalition Court University Company Bank Group "
    "Union Nations Organization Organisation Command Corps Navy Times Post News Radio Institute "
    "Foundation Center Centre Association Administration Senate Congress Assembly Commission "
    "Service Services Police Guard Mission Alliance Authority Front Movement Brigades".split()
)
_ORG_NOUNS = (
    "ministry department embassy government military army agency office council committee "
    "coalition company group party administration militia campaign"
).split()
_STOP = frozenset(
    "In On At But And Or If When While Since After Before For As This That These Those His Her Their "
    "Its Our There Then Also Still So Yet However Meanwhile According Author Last Next Earlier Later "
    "Speaking Asked Under Over From With Without During Despite Although Though Because Why What How "
    "Where Who Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March "
    "April May June July August September October November December".split()
)
# Multi-word names that start or end with these are places, not people ("Saudi Arabia", "Gaza Strip").
_PLACE_FIRST = frozenset(
    "New United Saudi North South East West Middle San Santa Los Las Hong Sri Costa Puerto".split()
)
_PLACE_LAST = frozenset(
    "Street Strip Hill Island Islands Sea River Valley Province City County State States Republic Kingdom "
    "Emirates Gulf Coast Canal Mountains Peninsula Square Arabia".split()
)
_DETERMINERS = frozenset({"the", "a", "an", "his", "her", "its", "their"})
_CONNECTORS = frozenset({"of", "the"})
_PARTICLES = frozenset("al el bin ibn de da van von der du di la le".split())
_SUFFIXES = frozenset({"Jr.", "Sr."})

# --------------------------------------------------------------------------------------- patterns

_S = r"[^\S\r\n]+"
_BOUND = r"(?<![\w’'-])"
_TITLE_ABBR = r"(?:Mr|Ms|Mrs|Dr|Sen|Rep|Gov|Gen|Lt|Col|Maj|Capt|Cmdr|Adm|Sgt|Brig|Prof|Rev|Jr|Sr)\."
_CAPWORD = r"(?!(?:He|She|It|They|We|The|A|An|I)\b)[A-Z][a-z]*(?:[A-Z][a-z]+)?(?:[-’'][A-Z][a-z]+)*(?![\w-])"
_PARTICLE = rf"(?:(?:{'|'.join(sorted(_PARTICLES))})(?:-|{_S}))"
_NAMETOK = rf"{_BOUND}(?:{_TITLE_ABBR}|[A-Z]\.|{_PARTICLE}{{0,2}}{_CAPWORD})"
_NAME_RUN = rf"{_NAMETOK}(?:{_S}(?:of{_S}(?:the{_S})?)?{_NAMETOK})*"
_ACRONYM = rf"{_BOUND}[A-Z]{{2,}}(?![\w-])"
_ROLE_WORD = "|".join(sorted((k for k in _ROLE_CANON if "." not in k), key=len, reverse=True))
_ORG_NOUN = "|".join(_ORG_NOUNS)
_WORD = r"[\w’'-]+"
_DESC = (
    rf"{_BOUND}(?:[Tt]he|[Aa]n?|{_CAPWORD}[’']s){_S}(?:{_WORD}{_S}){{0,3}}(?:{_ROLE_WORD}|{_ORG_NOUN})(?![\w-])"
    rf"(?:{_S}(?:for|of|at|to){_S}(?:the{_S})?(?:(?:{_CAPWORD}|[A-Z]{{2,}}){_S})*"
    rf"(?:{_CAPWORD}|[A-Z]{{2,}}(?![\w-])|(?:{_ORG_NOUN})(?![\w-])))?"
)
_ORG_THE = rf"{_BOUND}[Tt]he{_S}(?:{_CAPWORD}|{_ACRONYM})(?:{_S}(?:{_CAPWORD}|{_ACRONYM}))*"
_PRONOUN = rf"{_BOUND}(?:[Hh]e|[Ss]he)(?![\w-])"
_SPEAKER = rf"(?:{_PRONOUN}|{_DESC}|{_ORG_THE}|{_ACRONYM}|{_NAME_RUN})"
_GENERIC = rf"{_BOUND}(?!(?:and|but|or|then|who|which|that|it)\b)(?:[a-z][\w’'-]*{_S}){{0,2}}[a-z][\w’'-]*"
_VERB = rf"(?:{'|'.join(sorted(_SPEECH_VERBS, key=len, reverse=True))})(?![\w-])"
_ADV = (rf"(?:(?:also|later|then|previously|once|recently|repeatedly|again|has|had|have|would|will|"
        rf"simply|quietly|flatly|bluntly){_S}){{0,2}}")
_APPOS = rf"(?:,{_S}(?P<appos>[^,“”\"\r\n]{{1,80}}),)?"
_OPEN_PUNCT = r"\s*(?:[,;:]|[—–]+)?\s*"

_TRAILING = [
    re.compile(rf"{_OPEN_PUNCT}(?P<verb>{_VERB}){_S}(?P<subj>{_SPEAKER})(?:,{_S}(?P<appos>{_NAME_RUN})(?=[.,;]|$))?"),
    re.compile(rf"{_OPEN_PUNCT}(?P<subj>{_SPEAKER}|{_GENERIC}){_APPOS}{_S}{_ADV}(?P<verb>{_VERB})"),
    re.compile(rf"{_OPEN_PUNCT}according{_S}to{_S}(?:a{_S}statement{_S}(?:from|by){_S})?(?P<subj>{_SPEAKER})"),
]
_LEADING = [
    re.compile(rf"(?P<subj>{_SPEAKER}){_APPOS}{_S}{_ADV}(?P<verb>{_VERB})[^.!?“”\"]{{0,80}}?[,:]\s*$"),
    re.compile(rf"(?P<subj>{_SPEAKER}){_APPOS}{_S}{_ADV}(?P<verb>{_VERB})[^,;:.!?“”\"]{{0,50}}$"),
    re.compile(rf"[Aa]ccording{_S}to{_S}(?P<subj>{_SPEAKER}),\s*$"),
]
_LEAD_WINDOW = 300

_MARK_RE = re.compile(r"[“”\"]")
_LINE_RE = re.compile(r"[^\r\n]+")
_WORDS_RE = re.compile(r"[^\W_]+(?:[’'-][^\W_]+)*")
_NAME_RUN_RE = re.compile(_NAME_RUN)
_PRONOUN_RE = re.compile(_PRONOUN)
_DESC_RE = re.compile(_DESC)
_ORG_THE_RE = re.compile(_ORG_THE)
_ACRONYM_RE = re.compile(_ACRONYM)
_ORG_NOUN_RE = re.compile(rf"\b(?:{_ORG_NOUN})\b")
_ABBREV_RE = re.compile(rf"{_BOUND}(?:{_TITLE_ABBR}|[A-Z]\.)")
_SPEECH_AFTER_RE = re.compile(rf"(?:,[^,“”\"\r\n]{{1,80}},)?{_S}{_ADV}{_VERB}")
_SPEECH_BEFORE_RE = re.compile(rf"{_VERB}{_S}$")
_ROLE_BEFORE_RE = re.compile(rf"{_BOUND}(?:(?P<mod>[a-z][\w’'-]*){_S})?(?P<role>{_ROLE_WORD}){_S}$")
_ROLE_AFTER_RE = re.compile(
    rf",{_S}(?:the|a|an|his|her|its|{_CAPWORD}[’']s){_S}(?P<body>[^,.;:“”\"\r\n]{{1,60}})")
_ROLE_APPOS_BEFORE_RE = re.compile(
    rf"(?:the|a|an|{_CAPWORD}[’']s){_S}(?P<body>(?:{_WORD}{_S}){{0,3}}?(?:{_ROLE_WORD})),{_S}$")
_ROLE_IN_BODY_RE = re.compile(rf"(?:(?P<mod>[\w’'-]+){_S})?(?P<role>{_ROLE_WORD})(?![\w-])")


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
    words = re.findall(r"[A-Za-z][\w’'-]*", text)
    if len(words) < 4 or text.rstrip().endswith((".", ":")):
        return False
    return sum(w[0].isupper() for w in words) / len(words) >= 0.6


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


# ------------------------------------------------------------------------------------ name table

@dataclass(frozen=True)
class _Parsed:
    """One capitalised name group: its name tokens, title role, honorific gender or organisation."""

    pos: int
    end: int
    name: tuple[str, ...]
    role: str | None
    gender: str | None
    titled: bool
    org: str | None


@dataclass(frozen=True)
class _Mention:
    pos: int
    name: str
    paragraph: int
    quoted: bool


def _groups(text: str, start: int, end: int) -> list[list[tuple[int, str]]]:
    """Tokens of a capitalised run, split at sentence-opening words, months and days."""
    groups: list[list[tuple[int, str]]] = [[]]
    for tok in re.finditer(r"\S+", text[start:end]):
        if tok.group() in _STOP:
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


def _org_display(text: str, pos: int, words: list[str]) -> str:
    """An organisation as written, keeping a preceding "the" (lower-cased)."""
    name = " ".join(words)
    return f"the {name}" if re.search(r"\b[Tt]he\s+$", text[max(0, pos - 5):pos]) else name


def _parse_group(text: str, group: list[tuple[int, str]]) -> _Parsed:
    """Split a group into title (role, gender) and name, or recognise it as an organisation."""
    words = [w for _, w in group]
    pos, end = group[0][0], group[-1][0] + len(group[-1][1])
    if any(w in _ORG_WORDS for w in words):
        return _Parsed(pos, end, (), None, None, False, _org_display(text, pos, words))
    titles = [i for i, w in enumerate(words) if _is_title(w)]
    last = titles[-1] if titles else -1
    role = _title_role(words, last)
    name_from = last + 1
    if role and words[name_from:name_from + 1] == ["of"]:  # "Secretary of (the) State X"
        name_from += 2 + (words[name_from + 1:name_from + 2] == ["the"])
    gender = next((_HONORIFIC_GENDER[w.lower()] for w in words[:last + 1] if w.lower() in _HONORIFIC_GENDER), None)
    name = words[name_from:]
    name = name[:name.index("of")] if "of" in name else name
    name = [w for w in name if w not in _SUFFIXES]
    return _Parsed(pos, end, tuple(name), role, gender, last >= 0, None)


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


def _context_role(text: str, start: int, end: int) -> str | None:
    """A role given next to a name: "ministry spokesman X", "X, the chairman", "the chairman, X"."""
    before = text[max(0, start - 60):start]
    m = _ROLE_BEFORE_RE.search(before)
    if m:
        return _compound(m.group("mod"), m.group("role"))
    m = _ROLE_APPOS_BEFORE_RE.search(before)
    body = m.group("body") if m else None
    if body is None:
        m = _ROLE_AFTER_RE.match(text, end)
        body = m.group("body") if m else None
    if body is None:
        return None
    m = _ROLE_IN_BODY_RE.search(body)
    return _compound(m.group("mod"), m.group("role")) if m else None


def _compound(modifier: str | None, role_word: str) -> str:
    """Canonical role, prefixed by a modifier word ("prime minister", "militia leader")."""
    canon = _ROLE_CANON[role_word.lower()]
    mod = (modifier or "").lower().removesuffix("’s").removesuffix("'s")
    return f"{mod} {canon}" if mod and mod not in _DETERMINERS else canon


def _speaks(text: str, start: int, end: int) -> bool:
    """True when the name is the subject or object of a speech verb ("X said", "said X")."""
    return bool(_SPEECH_AFTER_RE.match(text, end) or _SPEECH_BEFORE_RE.search(text[max(0, start - 20):start]))


@dataclass
class _NameTable:
    """The article's people and organisations, built from its own capitalised names."""

    full: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    mentions: list[_Mention] = field(default_factory=list)
    people: set[str] = field(default_factory=set)
    roles: list[tuple[int, str, str]] = field(default_factory=list)
    genders: dict[str, str] = field(default_factory=dict)
    orgs: list[tuple[int, str]] = field(default_factory=list)

    @classmethod
    def build(cls, text: str, paragraphs: list[_Paragraph], spans: list[_Span]) -> _NameTable:
        """Collect every name group, register full names first, then resolve each mention."""
        parsed: list[tuple[_Parsed, int, bool]] = []
        for par in paragraphs:
            for run in _NAME_RUN_RE.finditer(text, par.start, par.end):
                quoted = any(s.mark < run.start() < s.after for s in spans)
                parsed += [(_parse_group(text, g), par.index, quoted) for g in _groups(text, *run.span())]
        table = cls()
        for item, _, _ in parsed:
            if item.org is None and len(item.name) >= 2:
                for key in _surname_keys(item.name):
                    table.full.setdefault(key, []).append((item.pos, " ".join(item.name)))
        for item, paragraph, quoted in parsed:
            table._add(text, item, paragraph, quoted)
        return table

    def _add(self, text: str, item: _Parsed, paragraph: int, quoted: bool) -> None:
        """Record one name group as an organisation or a (possible) person mention."""
        if item.org is not None:
            self.orgs.append((item.pos, item.org))
            return
        if not item.name:
            return
        name = self.canonical(item.name, item.pos)
        self.mentions.append(_Mention(item.pos, name, paragraph, quoted))
        role = _context_role(text, item.pos, item.end) or item.role
        if role:
            self.roles.append((item.pos, name, role))
        if item.gender:
            self.genders[name] = item.gender
        if item.titled or role or _speaks(text, item.pos, item.end) or _is_personal_name(name.split()):
            self.people.add(name)

    def canonical(self, name: tuple[str, ...], pos: int) -> str:
        """The full name a (sur)name refers to: the latest earlier one, else the first later one."""
        if len(name) >= 2:
            return " ".join(name)
        candidates = self.full.get(name[0], [])
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
        """The organisation "the ministry" refers to: the latest earlier one named with that noun."""
        hits = [org for p, org in self.orgs if p < pos and noun.capitalize() in org.split()]
        return hits[-1] if hits else f"the {noun}"

    def person_mentions(self, pos: int, gender: str) -> list[_Mention]:
        """Earlier mentions of people outside quotes whose known gender does not clash."""
        return [m for m in self.mentions if m.pos < pos and not m.quoted and m.name in self.people
                and self.genders.get(m.name, gender) == gender]


# ------------------------------------------------------------------------------------ attribution

@dataclass(frozen=True)
class _Attribution:
    phrase: str
    pos: int
    paragraph: int


@dataclass
class _Resolver:
    """Turns attribution phrases into speakers, remembering the latest person speaker."""

    text: str
    table: _NameTable
    last_person: str | None = None

    def resolve(self, attr: _Attribution) -> str | None:
        """The speaker an attribution phrase names, by the kind of phrase it is."""
        phrase = attr.phrase
        if _PRONOUN_RE.fullmatch(phrase):
            return self._pronoun(phrase, attr)
        if _DESC_RE.fullmatch(phrase):
            return self._description(phrase, attr.pos)
        if _ORG_THE_RE.fullmatch(phrase) or _ACRONYM_RE.fullmatch(phrase):
            return "the" + phrase[3:] if phrase[:3] in ("the", "The") else phrase
        if _NAME_RUN_RE.fullmatch(phrase):
            return self._name(attr.pos, attr.pos + len(phrase))
        return None

    def remember(self, speaker: str | None) -> None:
        """Keep the latest person speaker for later pronouns."""
        if speaker in self.table.people:
            self.last_person = speaker

    def _name(self, start: int, end: int) -> str | None:
        """A name run: the organisation, the full name, or the person holding its bare title."""
        groups = _groups(self.text, start, end)
        if not groups:
            return None
        item = _parse_group(self.text, groups[-1])
        if item.org is not None:
            return item.org
        if item.name:
            return self.table.canonical(item.name, item.pos)
        return self.table.person_with_role([item.role], item.pos) if item.role else None

    def _pronoun(self, pronoun: str, attr: _Attribution) -> str | None:
        """he/she: the first person named earlier in the paragraph, else the latest person speaker,
        else the latest person named."""
        gender = "m" if pronoun.lower() == "he" else "f"
        mentions = self.table.person_mentions(attr.pos, gender)
        in_paragraph = [m for m in mentions if m.paragraph == attr.paragraph]
        if in_paragraph:
            return in_paragraph[0].name
        if self.last_person and self.table.genders.get(self.last_person, gender) == gender:
            return self.last_person
        return mentions[-1].name if mentions else None

    def _description(self, phrase: str, pos: int) -> str | None:
        """"the senator" -> the person with that role; "the ministry", "a Pentagon spokesman" -> the
        organisation; unresolved or indefinite descriptions of people -> None."""
        words = phrase.split()
        queries = _role_queries(words)
        if queries and words[0].lower() not in ("a", "an"):
            person = self.table.person_with_role(queries, pos)
            if person:
                return person
        if queries and queries[-1] != "spokesperson":
            return None
        return self._org_in(phrase, pos)

    def _org_in(self, phrase: str, pos: int) -> str | None:
        """An organisation named inside a description, capitalised or as a noun like "ministry"."""
        for run in _NAME_RUN_RE.finditer(phrase):
            words = run.group().split()
            if any(w in _ORG_WORDS for w in words):
                return "the " + " ".join(words)
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


def _attribution(match: re.Match[str], paragraph: int) -> _Attribution:
    """The subject of an attribution match; a name in apposition wins over a description."""
    appos = match.groupdict().get("appos")
    subj = match.group("subj")
    if appos and _NAME_RUN_RE.fullmatch(appos.strip()) and not _NAME_RUN_RE.fullmatch(subj):
        return _Attribution(appos.strip(), match.start("appos") + len(appos) - len(appos.lstrip()), paragraph)
    return _Attribution(subj, match.start("subj"), paragraph)


def _trailing(text: str, start: int, end: int, paragraph: int) -> _Attribution | None:
    """Attribution right after a closing mark: '," Smith said', '," said Smith', ', according to Smith'."""
    for pattern in _TRAILING:
        m = pattern.match(text, start, end)
        if m:
            return _attribution(m, paragraph)
    return None


def _leading(text: str, start: int, end: int, paragraph: int) -> _Attribution | None:
    """Attribution right before an opening mark: 'Smith said: "', 'Smith said the plan was "'."""
    for pattern in _LEADING:
        m = pattern.search(text, max(start, end - _LEAD_WINDOW), end)
        if m:
            return _attribution(m, paragraph)
    return None


def _single_clause(gap: str) -> bool:
    """True when the text between two quotes is one clause (an attribution), not more sentences."""
    core = _ABBREV_RE.sub("", gap).strip()
    return not re.search(r"[.!?]", core[:-1])


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
        drop it if it is a short unattributed span."""
        speaker, attributed = None, False
        for i in group:
            attr = self._own(i, continued=i != group[0])
            if attr is not None:
                attributed = True
                speaker = self.resolver.resolve(attr)
                if speaker:
                    break
        if not attributed and self._split_from_previous(group[0]):
            speaker, attributed = self.speakers[group[0] - 1], True
        words = sum(len(_WORDS_RE.findall(self.text[self.spans[i].start:self.spans[i].end])) for i in group)
        if words < 4 and not attributed:
            return []
        self.resolver.remember(speaker)
        for i in group:
            self.speakers[i] = speaker
        return [Quote(self.text[s.start:s.end], speaker, s.start, s.end, s.paragraph)
                for s in (self.spans[i] for i in group)]

    def _own(self, i: int, continued: bool) -> _Attribution | None:
        """The attribution next to span i: after it first, then before it."""
        span = self.spans[i]
        par = self.paragraphs[span.paragraph]
        nxt = self.spans[i + 1] if i + 1 < len(self.spans) else None
        trail_end = nxt.mark if nxt is not None and nxt.paragraph == span.paragraph else par.end
        found = _trailing(self.text, span.after, trail_end, span.paragraph) if span.closed else None
        if found is not None:
            self.trailing.add(i)
            return found
        if continued:
            return None
        lead_start, lead_end = self._lead_window(i)
        return _leading(self.text, lead_start, lead_end, span.paragraph)

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


def extract_quotes(text: str) -> list[Quote]:
    """Direct quotations in ``text``, in article order, each with its resolved speaker or None."""
    paragraphs = _paragraphs(text)
    body = [p for p in paragraphs if not _is_headline(text[p.start:p.end])]
    spans = [span for par in body for span in _quote_spans(text, par)]
    table = _NameTable.build(text, body, spans)
    return _Extractor(text, paragraphs, spans, _Resolver(text, table)).run()
