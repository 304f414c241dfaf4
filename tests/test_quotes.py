"""Direct-quote extraction and speaker attribution, on short articles written for these tests."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from quotestance.quotes import Quote, extract_quotes

KADHIMI = Path(__file__).resolve().parents[2] / "shared" / "articles" / "kadhimi_2021-07.txt"


def quotes_of(article: str) -> list[Quote]:
    """Extract quotes and check that every offset pair points at exactly the quote's text."""
    found = extract_quotes(article)
    for q in found:
        assert article[q.start:q.end] == q.text
    return found


def only(article: str) -> Quote:
    """The single quote an article must contain."""
    found = quotes_of(article)
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------------------------------ marks

def test_straight_marks():
    article = 'Mayor Lena Ortiz toured the flooded district.\n\n"We will rebuild the bridge before winter," Ortiz said.'
    q = only(article)
    assert article[q.start:q.end] == q.text
    assert q.text == "We will rebuild the bridge before winter,"
    assert (q.speaker, q.paragraph) == ("Lena Ortiz", 1)
    assert article[q.start - 1] == '"' and article[q.end] == '"'


def test_curly_marks():
    article = "“The harbour will reopen to tankers next month,” said Tomas Berg, the port director."
    q = only(article)
    assert article[q.start:q.end] == q.text
    assert q.text == "The harbour will reopen to tankers next month,"
    assert q.speaker == "Tomas Berg"


def test_nested_single_marks_stay_in_the_outer_quote():
    article = ("Tomas Berg runs the port. “The captain looked at me and said ‘we are not leaving’ "
               "without even blinking,” Berg said.")
    q = only(article)
    assert article[q.start:q.end] == q.text
    assert "‘we are not leaving’" in q.text
    assert q.text.endswith("blinking,")
    assert q.speaker == "Tomas Berg"


def test_apostrophes_are_not_marks():
    article = ("“We don’t cut the troops’ pay the way they did in the ’90s,” said Gen. Ray Collins. "
               "\"Nobody's going to say 'sorry' for that,\" Collins added.")
    first, second = quotes_of(article)
    for q in (first, second):
        assert article[q.start:q.end] == q.text
    assert first.text == "We don’t cut the troops’ pay the way they did in the ’90s,"
    assert second.text == "Nobody's going to say 'sorry' for that,"
    assert first.speaker == second.speaker == "Ray Collins"


# ------------------------------------------------------------------------------ attribution

def test_split_quote_gives_two_quotes_with_one_speaker():
    article = ('John Harlow chairs the budget panel.\n\n'
               '"The budget is late," Mr. Harlow said. "We will fix it this week."')
    first, second = quotes_of(article)
    for q in (first, second):
        assert article[q.start:q.end] == q.text
    assert (first.text, second.text) == ("The budget is late,", "We will fix it this week.")
    assert first.speaker == second.speaker == "John Harlow"
    assert first.paragraph == second.paragraph == 1


def test_attribution_inside_the_quote():
    article = '"The plan," Priya Natarajan said, "was dead before anyone read it."'
    first, second = quotes_of(article)
    for q in (first, second):
        assert article[q.start:q.end] == q.text
    assert first.text == "The plan,"
    assert first.speaker == second.speaker == "Priya Natarajan"


@pytest.mark.parametrize("tail", [
    "Priya Natarajan said.",
    "Priya Natarajan wrote on her blog.",
    "Priya Natarajan said in a statement.",
    "Priya Natarajan, the mediator, said.",
    "said Priya Natarajan, the mediator.",
    "according to Priya Natarajan.",
])
def test_attribution_after_the_quote(tail):
    article = f'"Nobody trusted anyone at that table," {tail}'
    q = only(article)
    assert article[q.start:q.end] == q.text
    assert q.text == "Nobody trusted anyone at that table,"
    assert q.speaker == "Priya Natarajan"


@pytest.mark.parametrize("head", [
    "Priya Natarajan told reporters: ",
    "In a statement, Priya Natarajan said, ",
    "Priya Natarajan said in a statement, ",
    "Priya Natarajan, who led the talks, said: ",
    "According to Priya Natarajan, ",
])
def test_attribution_before_the_quote(head):
    article = f'The talks ended on Friday. {head}"The talks collapsed because nobody trusted anyone."'
    q = only(article)
    assert article[q.start:q.end] == q.text
    assert q.text == "The talks collapsed because nobody trusted anyone."
    assert q.speaker == "Priya Natarajan"


def test_attribution_closing_the_previous_paragraph():
    article = ('Gen. Ray Collins commands the base.\n\nCollins told reporters:\n\n'
               '"The base stays open through the winter."')
    q = only(article)
    assert article[q.start:q.end] == q.text
    assert (q.speaker, q.paragraph) == ("Ray Collins", 2)


@pytest.mark.parametrize("verb", [
    "said", "says", "added", "warned", "argued", "insisted", "declared", "stated", "noted", "tweeted",
    "told", "asked", "explained", "wrote", "posted", "continued", "replied", "acknowledged",
    "cautioned", "predicted", "urged", "claimed", "stressed",
])
def test_speech_verbs(verb):
    article = f'“The ceasefire will not hold past the weekend,” Omar Saleh {verb}.'
    q = only(article)
    assert article[q.start:q.end] == q.text
    assert q.speaker == "Omar Saleh"


@pytest.mark.parametrize("head, speaker", [
    ("Gen. Kwame Mensah, the Ghanaian officer who commands the brigade’s troops in the northern "
     "border region, told reporters: ", "Kwame Mensah"),
    ("Norway lodged a protest. Its foreign minister, Eirik Dahl, told reporters in Oslo: ", "Eirik Dahl"),
    ("Rep. Carla Mendez, D-N.M., the ranking member, said: ", "Carla Mendez"),
])
def test_attribution_before_the_quote_across_an_appositive(head, speaker):
    article = f'{head}"The bridge will stay closed until the engineers sign off."'
    q = only(article)
    assert q.speaker == speaker


def test_organisation_and_role_before_a_name_after_the_quote():
    article = "“We will not tolerate attacks on our cables,” EU spokeswoman Nadia Rossi said."
    assert only(article).speaker == "Nadia Rossi"


def test_subject_after_a_preposition_is_a_place():
    article = ('Diplomats in New York said the council would vote on Friday: "The text is not final yet '
               'and may change overnight."')
    q = only(article)
    assert q.speaker is None


def test_partial_quotes_after_called_and_wrote_that():
    article = ("Omar Haddad, a lawmaker from a bloc allied with the armed factions, called the deal "
               "“a surrender signed in a hotel lobby.”\n\n"
               "Petra Sørensen, a member of parliament from the region, wrote to the prime minister last "
               "week that closing the base would be “a gift to our adversaries and a blow to the town.”")
    first, second = quotes_of(article)
    assert (first.speaker, second.speaker) == ("Omar Haddad", "Petra Sørensen")


@pytest.mark.parametrize("role, speaker", [
    ("former Navy diver Kofi Mensah", "Kofi Mensah"),
    ("retired Marine colonel Ann Lee", "Ann Lee"),
    ("local baker Ahmed Saleh", "Ahmed Saleh"),
])
def test_name_after_a_lowercase_role_phrase_after_said(role, speaker):
    article = f"“The harbour has been silent for three weeks and nobody will explain why,” said {role}."
    assert only(article).speaker == speaker


def test_said_followed_by_a_time_phrase_is_not_a_role():
    article = "“The harbour has been silent for three weeks and nobody will explain why,” said after meeting Jones."
    assert only(article).speaker is None


@pytest.mark.parametrize("subject, speaker", [
    ("Mayor Lena Ortiz", "Lena Ortiz"),
    ("A spokesman for the Coastal Defence Forces", "the Coastal Defence Forces"),
])
def test_partial_quote_after_and_verb_that_inherits_the_sentence_attribution(subject, speaker):
    article = (f"{subject} said the repairs were “far behind the schedule we were promised” and warned "
               "that another delay would “push whole families into debt.”")
    first, second = quotes_of(article)
    assert (first.speaker, second.speaker) == (speaker, speaker)


def test_partial_quote_in_the_next_sentence_does_not_inherit():
    article = ("“The repairs are far behind the schedule we were promised,” Mayor Lena Ortiz said. "
               "Residents have warned that the bridge could “fail under the weight of winter traffic.”")
    first, second = quotes_of(article)
    assert (first.speaker, second.speaker) == ("Lena Ortiz", None)


def test_quote_that_closes_its_sentence_does_not_take_the_next_attribution():
    article = ('Rep. Mike Dunn, R-Ohio, the chairman of the panel, said: "Congress will not walk away." '
               'The chairman added, "Not this year and not next year either."')
    first, second = quotes_of(article)
    assert first.speaker == second.speaker == "Mike Dunn"


def test_split_quote_across_a_party_tag():
    article = ("“Every week of delay costs lives,” Rep. Ann Hale, R-Ky., wrote in the letter, which went "
               "to the secretary. “We have the tools. What we lack is will.”")
    first, second = quotes_of(article)
    assert first.speaker == second.speaker == "Ann Hale"


# ------------------------------------------------------------------------------- resolution

def test_surname_and_title_resolve_to_the_full_name():
    article = ("Sen. Dana Whitfield introduced the bill on Tuesday.\n\n"
               '"This bill pays for itself," Whitfield said.\n\n'
               '"Every single dollar is accounted for," the senator added.')
    first, second = quotes_of(article)
    for q in (first, second):
        assert article[q.start:q.end] == q.text
    assert first.speaker == second.speaker == "Dana Whitfield"


def test_honorific_resolves_to_the_full_name():
    article = ('Maria Alvarez runs the clinic in the old market.\n\n'
               '"We ran out of vaccines on Friday," Ms. Alvarez said.')
    q = only(article)
    assert article[q.start:q.end] == q.text
    assert q.speaker == "Maria Alvarez"


def test_role_descriptions_resolve_to_the_person():
    article = ("Iraqi Prime Minister Layla Hamdan met Chairman Tom Reyes on Monday.\n\n"
               "“Our army can defend this country on its own now,” the Iraqi prime minister said.\n\n"
               "“We will hear every witness before we vote,” the chairman said.\n\n"
               "Ahmed Nouri, the spokesman for the Interior Ministry, spoke briefly. "
               "“No arrests have been made so far,” the spokesman for the ministry said.")
    quotes = quotes_of(article)
    for q in quotes:
        assert article[q.start:q.end] == q.text
    assert [q.speaker for q in quotes] == ["Layla Hamdan", "Tom Reyes", "Ahmed Nouri"]


def test_pronouns_resolve_to_the_person_named_before_or_the_last_speaker():
    article = ("Foreign Minister Karim Haddad met envoys in Amman. "
               '"We asked for patience and got none at all," he said.\n\n'
               '"The next round will be harder," he added.\n\n'
               'Mr. Tom Reyes and Ms. Dana Whitfield met on Friday. "The meeting went better than I feared," she said.')
    quotes = quotes_of(article)
    for q in quotes:
        assert article[q.start:q.end] == q.text
    assert [q.speaker for q in quotes] == ["Karim Haddad", "Karim Haddad", "Dana Whitfield"]


def test_organisations_as_speakers():
    article = ('"The strike hit only military targets," the Pentagon said. '
               '"We regret any harm to civilians," the White House said in a statement.\n\n'
               'The State Department said: "Our embassy in the capital remains open for now."\n\n'
               'Iraq\'s Defense Ministry issued a warning on Sunday. '
               '"The convoy routes are closed until further notice," the ministry said.')
    quotes = quotes_of(article)
    for q in quotes:
        assert article[q.start:q.end] == q.text
    assert [q.speaker for q in quotes] == [
        "the Pentagon", "the White House", "the State Department", "Iraq's Defense Ministry"]


def test_names_with_non_ascii_letters():
    article = ("Defense Minister Ayşe Yılmaz visited the base. “We will keep our promises,” Yılmaz said.\n\n"
               "Łukasz Żak runs a café by the gate. “Half my customers wear uniforms,” said Żak.\n\n"
               "Prime Minister Līga Ērgle told lawmakers: “Every conscript makes the country safer.”")
    assert [q.speaker for q in quotes_of(article)] == ["Ayşe Yılmaz", "Łukasz Żak", "Līga Ērgle"]


def test_hyphenated_and_east_asian_names():
    article = ("Foreign Minister Hsu Yu-ping rejected the demand. “Our alliance is not a transaction,” Hsu "
               "told lawmakers.\n\n"
               "“The shops on this street live on the base,” said Lee Min-jung, who sells tailored suits.\n\n"
               "Jean-Luc Moreau, the mayor, agreed. Iran-backed groups and Kurdish-led forces were not "
               "mentioned. “We are all worried about the same thing,” Moreau said.")
    assert [q.speaker for q in quotes_of(article)] == ["Hsu Yu-ping", "Lee Min-jung", "Jean-Luc Moreau"]


def test_titles_are_dropped_from_names_and_initialisms_kept():
    article = ("“The cable was cut on purpose, not by accident,” said Detective Chief Inspector Anna Lind "
               "of the national police.\n\n"
               "Retired Air Force Maj. Karen Holt described the base. “We left in a hurry,” she said.\n\n"
               "U.S. Forces Korea said in a statement: “We regret this incident deeply.” U.S. troops "
               "stayed on base. “They will remain there until Friday,” she added.")
    assert [q.speaker for q in quotes_of(article)] == [
        "Anna Lind", "Karen Holt", "U.S. Forces Korea", "Karen Holt"]


def test_organisations_as_written_with_their_owner():
    article = ("In Warsaw, Poland’s Foreign Ministry summoned the ambassador. “We expect an apology,” "
               "the ministry said.\n\n"
               "Late Sunday, the Flanders Region's Interior Ministry said it was investigating. "
               '"The attack targeted civilians," the ministry said in a statement.\n\n'
               "In a statement, the French Embassy in Dakar said, “Our staff are safe and accounted for.”\n\n"
               "Niger's military-led government said the handover marked “the return of our full sovereignty.”\n\n"
               "A group calling itself Liwa al-Haqq claimed the attack. “The occupiers will find no rest here,” "
               "the group said.")
    assert [q.speaker for q in quotes_of(article)] == [
        "Poland’s Foreign Ministry", "the Flanders Region's Interior Ministry", "the French Embassy in Dakar",
        "Niger's military-led government", "Liwa al-Haqq"]


def test_roles_given_after_the_name_resolve():
    article = ("“We have waited five years for an answer,” said Rep. Frank Dale, R-Ind., the chairman of "
               "the subcommittee.\n\n"
               "Gen. Rosa Vidal, the head of the command, disagreed. “The mission works,” the general said.\n\n"
               "“With respect, we have heard that before,” the chairman said.")
    assert [q.speaker for q in quotes_of(article)] == ["Frank Dale", "Rosa Vidal", "Frank Dale"]


def test_pronouns_follow_the_most_recent_person():
    article = ("Col. Yusuf Adan, a spokesman for the council, said the withdrawal restored “the sovereignty "
               "of our airspace and our soil.”\n\n"
               "Retired Maj. Karen Holt, who ran the base until 2023, described the last weeks.\n\n"
               "“We were packing up a facility that cost millions.\n\n"
               "“Nobody wanted to talk about what we left behind,” she said.\n\n"
               "Asked about the future, Holt paused. “Not in this decade,” she said.\n\n"
               "Tariq Nour said he was hopeful. “The talks will resume,” he said.")
    quotes = quotes_of(article)
    assert [q.speaker for q in quotes] == [
        "Yusuf Adan", "Karen Holt", "Karen Holt", "Karen Holt", "Tariq Nour"]


def test_anonymous_sources_give_none():
    article = ("Mayor Hans Berg spoke first. “We are not afraid,” Berg said.\n\n"
               "“We can confirm a drone was destroyed near the airport,” a coalition official said.\n\n"
               "A former interpreter, who asked not to be named because he feared reprisals, was blunter. "
               "“They paid us well, and then they were gone in a month,” he said.\n\n"
               "“We cannot confirm the casualty figures at this stage,” officials said.")
    assert [q.speaker for q in quotes_of(article)] == ["Hans Berg", None, None, None]


# ------------------------------------------------------------------------ multi-paragraph

def test_quote_continues_over_paragraphs_with_attribution_in_the_last_part():
    article = ("Lt. Col. Mara Quinn briefed reporters at the base.\n\n"
               "“The first phase of the withdrawal is finished and the second starts soon.\n\n"
               "“We expect the last units to leave by the spring,” Quinn said.\n\n"
               "The base will then close.")
    first, second = quotes_of(article)
    for q in (first, second):
        assert article[q.start:q.end] == q.text
    assert first.text == "The first phase of the withdrawal is finished and the second starts soon."
    assert second.text == "We expect the last units to leave by the spring,"
    assert (first.paragraph, second.paragraph) == (1, 2)
    assert first.start == article.index("The first phase")
    assert second.end == article.index("” Quinn")
    assert first.speaker == second.speaker == "Mara Quinn"


def test_quote_continues_over_paragraphs_with_attribution_in_the_first_part():
    article = ('Dana Whitfield said: "The committee has read every page of the report\n'
               '"and found nothing in it that changes our vote."\n'
               'The vote is on Thursday.')
    first, second = quotes_of(article)
    for q in (first, second):
        assert article[q.start:q.end] == q.text
    assert (first.paragraph, second.paragraph) == (0, 1)
    assert second.text == "and found nothing in it that changes our vote."
    assert first.speaker == second.speaker == "Dana Whitfield"


# ------------------------------------------------------------------------ skipped and None

def test_scare_quotes_and_titles_are_skipped():
    article = ('The so-called "peace dividend" never arrived. The memo, titled “Options for Drawdown,” '
               'was leaked, and critics called the plan "naive."')
    assert quotes_of(article) == []


def test_short_quote_with_a_speech_verb_is_kept():
    article = 'Senator Dana Whitfield was asked about the deal. "Absolutely not," she said.'
    q = only(article)
    assert article[q.start:q.end] == q.text
    assert (q.text, q.speaker) == ("Absolutely not,", "Dana Whitfield")


def test_unattributed_long_quote_has_no_speaker():
    article = 'The gate was locked. A sign on it read: "No entry for anyone without a pass."'
    q = only(article)
    assert article[q.start:q.end] == q.text
    assert (q.text, q.speaker) == ("No entry for anyone without a pass.", None)


def test_headline_quotes_are_skipped():
    article = 'Mayor Says ‘We Will Rebuild’ After "Worst Flood In Memory"\n\nThe river rose again on Sunday.'
    assert quotes_of(article) == []


def test_so_called_and_embedded_short_quotes_are_skipped():
    article = ("Officials in Brussels discussed the so-called “coalition of the willing and able” again. "
               "The army said its troops had fired at “suspicious movement” near the post. "
               "Vidal acknowledged “real shortfalls” in housing.")
    assert quotes_of(article) == []


def test_unattributed_title_case_names_are_skipped():
    article = ("A Pentagon review, titled “Expeditionary Quality of Life,” will be released in the spring. "
               "The mission, named “Operation Amber Shield Northern Flank,” began on Monday.")
    assert quotes_of(article) == []


# ------------------------------------------------------------------------- real article

def test_kadhimi_article_smoke():
    article = KADHIMI.read_text(encoding="utf-8")
    quotes = quotes_of(article)
    for q in quotes:
        assert article[q.start:q.end] == q.text
        assert article[q.start - 1] == "“" and article[q.end] == "”"
    kadhimi = [q for q in quotes if q.speaker and "Kadhimi" in q.speaker]
    assert [q.paragraph for q in kadhimi] == [3, 4]
    assert kadhimi[0].text.startswith("We are visiting Washington") and kadhimi[0].text.endswith("against ISIS,")
    assert kadhimi[1].text.startswith("The visit will be") and kadhimi[1].text.endswith("no need for combat troops,")
    texts = {q.text for q in quotes}
    assert "combat" not in texts and "redeployed." not in texts
    assert quotes == kadhimi


def test_thousand_word_article_is_fast():
    paragraph = ("Sen. Dana Whitfield met Gen. Ray Collins at the base on Tuesday to discuss the drawdown. "
                 '"We will not leave until the job is done, and the job is far from done," Collins said. '
                 '"The so-called \'timeline\' is a guess," Whitfield told reporters, adding that the '
                 "committee would hold hearings in the spring and that the Pentagon had not yet replied.")
    article = "\n\n".join([paragraph] * 20)
    assert len(article.split()) >= 1000
    quotes_of(article)
    start = time.perf_counter()
    for _ in range(5):
        extract_quotes(article)
    assert (time.perf_counter() - start) / 5 < 0.05
