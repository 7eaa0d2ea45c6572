"""Transcript parsing: the four layouts, stage notes, cross-talk, HTML pages, and real pairs round-tripped.

The fixtures under ``tests/fixtures/transcripts/`` are written for the project. The real question/answer
pairs (``../shared/corpora/briefings_real.jsonl``) are laid out as transcripts at run time only.
"""
from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from datetime import date as _date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stancekit.transcripts import Exchange, Transcript, Turn, parse_html, parse_transcript, read_transcript

FIX = Path(__file__).resolve().parent / "fixtures" / "transcripts"


def norm(text):
    return " ".join((text or "").split())


def check_invariants(t: Transcript):
    assert [turn.index for turn in t.turns] == list(range(len(t.turns)))
    assert t.style in {"china-mfa", "us-state", "generic", "plain"}
    seen = set()
    for ex in t.exchanges:
        assert isinstance(ex, Exchange)
        assert 0 <= ex.turn < len(t.turns)
        turn = t.turns[ex.turn]
        assert turn.role in {"answer", "statement"}
        assert ex.answer == turn.text and ex.line == turn.line
        assert (ex.question is None) == (turn.role == "statement")
        assert ex.turn not in seen
        seen.add(ex.turn)
    for turn in t.turns:
        assert isinstance(turn, Turn) and turn.role in {"question", "answer", "statement"}
        assert turn.line >= 1
        if turn.role == "answer":
            assert turn.index in seen


def qa(t: Transcript):
    return [(ex.question, ex.answer) for ex in t.exchanges]


# --------------------------------------------------------------------------- fixtures, one per layout

def test_china_qa_fixture():
    t = read_transcript(FIX / "china_qa.txt")
    check_invariants(t)
    assert t.style == "china-mfa" and t.ministry == "China MFA"
    assert t.date == "2025-02-12" and t.spokesperson == "Lin Jian"
    assert t.title.startswith("Foreign Ministry Spokesperson Lin Jian's")
    # Two opening announcements: statements, no question.
    assert [t.turns[i].role for i in (0, 1)] == ["statement", "statement"]
    assert [ex.question for ex in t.exchanges[:2]] == [None, None]
    assert t.exchanges[0].answer.startswith("At the invitation of the Government of Freedonia")
    answered = t.exchanges[2:]
    assert [ex.question.split()[:3] for ex in answered] == [
        ["The", "Freedonian", "side"], ["Media", "reports", "claim"], ["So", "are", "you"], ["Does", "China", "plan"]]
    assert all(ex.speaker == "Lin Jian" for ex in t.exchanges)
    assert [t.turns[ex.turn].speaker for ex in answered] == ["A"] * 4
    # A three-paragraph answer, with "Note:", "First," and "10:30" kept inside it.
    long = answered[1]
    assert long.answer.split("\n") == [
        "I'm not aware of the specifics you mentioned.",
        "What I can tell you is that China's marine scientific research activities are conducted in accordance "
        "with international law. Note: the vessel's route was published in advance.",
        "First, the relevant reports are not consistent with the facts. Second, we urge certain media outlets "
        "to stop hyping up the issue.",
    ]
    assert "10:30 on Monday" in long.question
    # The follow-up (a second Q:) is paired with its own answer; a colon inside a question is not a tag.
    assert answered[2].answer == "I have already answered that question."
    assert answered[3].question == "Does China plan to send an envoy to the peace talks: yes or no?"
    assert t.turns[answered[3].turn].line == 25


def test_china_outlets_fixture():
    t = read_transcript(FIX / "china_outlets.txt")
    check_invariants(t)
    assert (t.style, t.ministry, t.date, t.spokesperson) == ("china-mfa", "China MFA", "2025-03-04", "Mao Ning")
    opening = t.exchanges[0]
    assert opening.question is None and t.turns[opening.turn].role == "statement"
    assert opening.answer.split("\n") == [
        "Good afternoon. I have two announcements to start with.",
        "At the invitation of Foreign Minister Wang Yi, the Foreign Minister of Ruritania will visit China "
        "from March 6 to 8.",
        "The 2025 Spring Reception for foreign diplomats will be held on March 10.",
    ]
    askers = [t.turns[i].speaker for i in range(len(t.turns)) if t.turns[i].role == "question"]
    assert askers == ["CCTV", "Reuters", "Reuters", "AFP", "Bloomberg", "Rossiya Segodnya"]
    answers = [ex for ex in t.exchanges if ex.question]
    assert len(answers) == 6 and all(ex.speaker == "Mao Ning" for ex in t.exchanges)
    assert answers[1].answer.startswith("I'm not aware of what you mentioned.")
    assert answers[2].question == "Will China take countermeasures if the reports turn out to be true?"
    assert answers[3].question.startswith('A spokesman for the coalition said at 10:30 this morning: "China')
    assert answers[3].answer == ("This is sheer fabrication. China was not informed of any such plan.\n"
                                 "We firmly oppose any attempt to smear China. The relevant side should stop "
                                 "spreading disinformation.")
    assert answers[5].question.startswith("Some analysts say")
    assert [ex.line for ex in answers] == [11, 15, 19, 23, 29, 33]


def test_state_department_fixture():
    t = read_transcript(FIX / "state_dept.txt")
    check_invariants(t)
    assert (t.style, t.ministry, t.date, t.spokesperson) == ("us-state", "US State Department", "2025-03-04",
                                                             "MR PRICE")
    assert t.title == "Department Press Briefing – March 4, 2025"
    texts = [turn.text for turn in t.turns]
    assert not any(note in x for x in texts for note in ("Laughter", "Inaudible", "Crosstalk", "concluded"))
    assert not any("  " in x for x in texts)
    # The header (title, place, date, time) is not a turn; the opening is a statement.
    assert t.turns[0].speaker == "MR PRICE" and t.turns[0].role == "statement"
    assert t.turns[0].text == ("Good afternoon, everyone. A couple of things at the top.\n"
                               "Today the Secretary announced new assistance for the people of Freedonia, "
                               "totaling $40 million.")
    assert qa(t)[1:] == [
        ("Thanks, Ned. Can you confirm that the Secretary will travel to Ruritania next week?",
         "I don't have any travel to announce today. When we do, you will be the first to know."),
        ("But the Ruritanian foreign ministry already announced it.",
         "I'd refer you to them for their announcement. We'll have more to say when we're ready."),
        # "On a different topic—" is a question nobody answered: the answer goes with the follow-up.
        ("Can I follow up on Ruritania?", "Sure."),
        # Cross-talk on one line becomes separate turns on that line.
        ("Was the decision made at 10:30 this morning?", "—no, I wouldn't characterize it that way."),
        ("But—", "—let me finish. The report is simply not accurate."),
        ("Has the embassy been asked to close?", "No. That is not the case. We have no plans to close the embassy."),
    ]
    unanswered = [turn for turn in t.turns if turn.text == "On a different topic—"]
    assert len(unanswered) == 1 and unanswered[0].role == "question"
    assert unanswered[0].index not in {ex.turn for ex in t.exchanges}
    crosstalk = [turn for turn in t.turns if turn.line == 31]
    assert [(c.speaker, c.role) for c in crosstalk] == [("QUESTION", "question"), ("MR PRICE", "answer")]
    assert all(ex.speaker == "MR PRICE" for ex in t.exchanges)


def test_generic_fixture():
    t = read_transcript(FIX / "generic.txt")
    check_invariants(t)
    assert (t.style, t.ministry, t.date, t.spokesperson) == ("generic", None, "2025-03-04", "Aiko Tanaka")
    assert t.exchanges[0].question is None and t.turns[0].role == "statement"
    assert [t.turns[ex.turn].speaker for ex in t.exchanges] == ["Aiko Tanaka"] * 4
    assert [turn.speaker for turn in t.turns if turn.role == "question"] == [
        "Journalist", "Reporter (Kyodo News)", "Journalist"]
    assert qa(t)[2] == ("There are reports that the Government is considering a supplementary budget. Is that true?",
                        "I'm aware of the reports. However, no such plan exists at this time.\n"
                        "Note: the Government has said this before.")
    assert qa(t)[3] == ("What time will the meeting start?",
                        "The meeting is scheduled at 7:30 p.m. today. Details will be announced by the Cabinet Office.")
    assert t.exchanges[3].line == 17


def test_plain_fixture():
    t = read_transcript(FIX / "plain.txt")
    check_invariants(t)
    assert (t.style, t.ministry, t.date, t.spokesperson) == ("plain", None, "2025-03-04", None)
    assert t.title == "Statement by the Ministry Spokesperson on the Situation in the Region"
    assert [turn.role for turn in t.turns] == ["statement"] * 3
    assert [ex.question for ex in t.exchanges] == [None] * 3
    assert t.exchanges[1].answer == ("The reports that our country has deployed additional forces to the border are "
                                     "groundless.\nWe have never considered such a step.")
    assert t.exchanges[2].answer.endswith("when appropriate.")  # (Applause.) is gone
    assert [ex.line for ex in t.exchanges] == [4, 6, 9]


def test_ministry_html_page():
    t = read_transcript(FIX / "ministry_page.html")
    check_invariants(t)
    assert (t.style, t.ministry, t.date, t.spokesperson) == ("china-mfa", "China MFA", "2025-01-20", "Guo Jiakun")
    assert t.title == "Foreign Ministry Spokesperson Guo Jiakun’s Regular Press Conference on January 20, 2025"
    everything = "\n".join(turn.text for turn in t.turns)
    for junk in ("trackPageView", "Q: this is not a question", "margin", "Home", "Copyright"):
        assert junk not in everything
    assert qa(t) == [
        (None, "At the invitation of the Government of Freedonia, Foreign Minister Wang Yi will visit Freedonia "
               "from January 22 to 24."),
        ("The new leaders took office today. What’s China’s expectation for bilateral relations?",
         "China stands ready to work with the new administration to enhance dialogue and manage differences.\n"
         "We hope the two sides will meet each other halfway.\nThank you."),
        ("Has China & Freedonia agreed on a date for the summit?", "I have nothing to release at the moment."),
    ]
    assert [t.turns[ex.turn].speaker for ex in t.exchanges] == [None, "Guo Jiakun", "Guo Jiakun"]


def test_read_transcript_handles_bom_and_html_extension(tmp_path):
    p = tmp_path / "briefing.txt"
    p.write_bytes("\ufeffQ: Is it true?\r\nA: Yes.\r\n".encode("utf-8"))
    t = read_transcript(p)
    assert qa(t) == [("Is it true?", "Yes.")] and t.turns[0].speaker == "Q"
    h = tmp_path / "page.HTM"
    h.write_bytes("\ufeff<p>Q: Is it true?</p><p>A: No.</p>".encode("utf-8"))
    assert qa(read_transcript(h)) == [("Is it true?", "No.")]
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Q: Caf\xe9?".encode("latin-1"))
    with pytest.raises(ValueError, match="latin1.txt"):
        read_transcript(bad)


# --------------------------------------------------------------------------- focused behaviour

@pytest.mark.parametrize("text, iso", [
    ("Foreign Ministry Spokesperson Mao Ning's Regular Press Conference on March 4, 2025", "2025-03-04"),
    ("Foreign Ministry Spokesperson Mao Ning's Regular Press Conference on 4 March 2025", "2025-03-04"),
    ("Briefing 2025-03-04", "2025-03-04"),
    ("MARCH 4, 2025", "2025-03-04"),
    ("Daily briefing, Sept. 30th, 2019", "2019-09-30"),
    ("Press briefing on February 30, 2025", None),
])
def test_dates_in_titles(text, iso):
    t = parse_transcript(text + "\n\nQ: Anything?\nA: No.")
    assert t.date == iso


def test_not_speaker_tags():
    text = ("Mao Ning: We note the report.\n"
            "Note: this was also raised last week.\n"
            "10:30: the meeting began.\n"
            "At 10:30 the talks started.\n"
            "Our position is clear: we oppose it.\n"
            "https://example.org/x: see there.\n"
            "Reuters: Is the meeting confirmed?\n"
            "Mao Ning: Yes.")
    t = parse_transcript(text)
    assert [(turn.speaker, turn.role) for turn in t.turns] == [
        ("Mao Ning", "statement"), ("Reuters", "question"), ("Mao Ning", "answer")]
    assert t.turns[0].text.split("\n")[1:] == [
        "Note: this was also raised last week.", "10:30: the meeting began.", "At 10:30 the talks started.",
        "Our position is clear: we oppose it.", "https://example.org/x: see there."]
    assert t.spokesperson == "Mao Ning" and t.style == "generic"


def test_one_off_capitalised_word_is_text_but_repeated_names_are_speakers():
    t = parse_transcript("Journalist: What about Brexit?\nDr Osei: Two things.\nBrexit: it is not our matter.")
    assert len(t.turns) == 2 and t.turns[1].text == "Two things.\nBrexit: it is not our matter."
    t = parse_transcript("Kim: Will you go?\nLee: No.\nKim: Why not?\nLee: Schedule.")
    assert qa(t) == [("Will you go?", "No."), ("Why not?", "Schedule.")]
    assert t.spokesperson == "Lee"


def test_untagged_speakers_answering_most_is_the_spokesperson():
    text = ("Jane Doe: Is the minister travelling to Geneva?\n"
            "Omar Haddad: The minister will be in Geneva on Monday.\n"
            "Ravi Kumar: Will she meet her counterpart?\n"
            "Omar Haddad: I have nothing to announce on that.")
    t = parse_transcript(text)
    assert t.spokesperson == "Omar Haddad" and t.style == "generic"
    assert [turn.role for turn in t.turns] == ["question", "answer", "question", "answer"]


def test_plain_text_paragraphs_and_lines():
    t = parse_transcript("First paragraph.\nStill the first.\n\nSecond paragraph.")
    assert t.style == "plain" and [ex.answer for ex in t.exchanges] == [
        "First paragraph.\nStill the first.", "Second paragraph."]
    t = parse_transcript("One statement.\nAnother statement.")
    assert [ex.answer for ex in t.exchanges] == ["One statement.", "Another statement."]
    assert parse_transcript("").turns == [] and parse_transcript("   \n\n").exchanges == []


def test_caller_ministry_override_and_us_header_name():
    text = ("Department Press Briefing\nNed Price, Department Spokesperson\nWashington, DC\nOctober 3, 2022\n\n"
            "QUESTION: Any update?\nMR. PRICE: Not today. (Laughter.)\n")
    t = parse_transcript(text)
    assert (t.spokesperson, t.date, t.ministry) == ("Ned Price", "2022-10-03", "US State Department")
    assert qa(t) == [("Any update?", "Not today.")] and t.exchanges[0].speaker == "MR. PRICE"
    t = parse_transcript("Q: Any update?\nA: None.", ministry="Japan MOFA")
    assert t.ministry == "Japan MOFA" and t.style == "generic"
    assert parse_transcript("Q: Any update?\nA: None.", ministry="China MFA").style == "china-mfa"


def test_parse_html_options_and_entities():
    html = ("<html><head><title>Press Briefing &ndash; 5 May 2024</title><script>x = '<p>A: no</p>'</script>"
            "</head><body><p>QUESTION: Is it &quot;final&quot;?</p><p>MS. BRUCE: It is.<br/>(Laughter.)</p>"
            "<style>.a{}</style></body></html>")
    t = parse_html(html, ministry="US State Department")
    assert t.title == "Press Briefing – 5 May 2024" and t.date == "2024-05-05"
    assert qa(t) == [('Is it "final"?', "It is.")] and t.spokesperson == "MS. BRUCE"
    with pytest.raises(TypeError):
        parse_html("<p>x</p>", colour="red")


# --------------------------------------------------------------------------- properties

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_any_text_parses(text):
    check_invariants(parse_transcript(text))


_LABELS = st.sampled_from(["Q", "A", "QUESTION", "MR. PRICE", "Mao Ning", "Reuters", "Note", "10", "CCTV",
                           "Journalist", "Follow-up", "(Laughter.)", "Foreign Ministry Spokesperson"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_LABELS, st.text(max_size=40), st.booleans()), max_size=12))
def test_tag_soup_parses(lines):
    text = "\n".join(f"{label}: {body}" if tagged else body for label, body, tagged in lines)
    check_invariants(parse_transcript(text))
    check_invariants(parse_html("<p>" + "</p><p>".join(text.split("\n")) + "</p>"))


_WORDS = st.text(alphabet="abcdefghij klmnop,.?'", min_size=1, max_size=60).map(str.strip).filter(
    lambda s: any(c.isalpha() for c in s))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_WORDS, _WORDS), min_size=1, max_size=8))
def test_lowercase_pairs_round_trip(pairs):
    text = "\n\n".join(f"Q: {q}\n\nA: {a}" for q, a in pairs)
    assert [(norm(q), norm(a)) for q, a in qa(parse_transcript(text))] == [(norm(q), norm(a)) for q, a in pairs]


# --------------------------------------------------------------------------- real pairs, every layout

# The stage notes the parser keeps out of the text, as they occur in real answers.
_NOTES = re.compile(r"[\(\[](?:laughter|inaudible|indistinct|cross[- ]?talk|applause)\.?[\)\]]", re.I)
_MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December"]
_OUTLETS = ["CCTV", "Reuters", "AFP", "Bloomberg", "Rossiya Segodnya", "Beijing Youth Daily", "Kyodo News",
            "Hubei Media Group", "EFE", "Anadolu Agency", "China Review News", "Shenzhen TV"]
_REPORTERS = ["Journalist", "Q", "Reporter (Kyodo News)", "Reporter", "Question"]


def expected(text):
    return norm(_NOTES.sub(" ", text))


def paragraphs(text):
    """Real multi-paragraph text as blank-line-separated paragraphs."""
    return "\n\n".join(line.strip() for line in text.split("\n") if line.strip())


def _d(iso):
    return _date.fromisoformat(iso) if iso else None


def _name(row):
    return re.sub(r"\s*\(.*\)$", "", row.get("spokesperson") or "").strip() or "Alex Morgan"


def layout_china_qa(pairs, name, iso):
    d = _d(iso)
    when = f" on {d.day} {_MONTH_NAMES[d.month - 1]} {d.year}" if d else ""
    out = [f"Foreign Ministry Spokesperson {name}'s Regular Press Conference{when}", "",
           "At the invitation of the host government, a delegation will attend the forum next week.", ""]
    for q, a in pairs:
        out += [f"Q: {paragraphs(q)}", "", f"A: {paragraphs(a)}", ""]
    return "\n".join(out), 1, name


def layout_china_outlets(pairs, name, iso):
    d = _d(iso)
    when = f" on {_MONTH_NAMES[d.month - 1]} {d.day}, {d.year}" if d else ""
    out = [f"Foreign Ministry Spokesperson {name}'s Regular Press Conference{when}", "",
           f"{name}: Good afternoon. I have one announcement to start with.", "",
           "The annual reception will be held on Friday.", ""]
    for i, (q, a) in enumerate(pairs):
        outlet = _OUTLETS[i % len(_OUTLETS)] if i % 5 != 3 else "Follow-up"
        out += [f"{outlet}: {paragraphs(q)}", "", f"{name}: {paragraphs(a)}", ""]
    return "\n".join(out), 1, name


def layout_us_state(pairs, name, iso):
    d = _d(iso)
    surname = name.split()[-1].upper()
    out = ["Department Press Briefing" + (f" – {_MONTH_NAMES[d.month - 1]} {d.day}, {d.year}" if d else ""), "",
           f"{name}, Department Spokesperson", "", "Washington, DC", ""]
    if d:
        out += [f"{_MONTH_NAMES[d.month - 1].upper()} {d.day}, {d.year}", "", "2:07 p.m. EDT", ""]
    tag = f"MR. {surname}" if len(pairs) % 2 else f"MS {surname}"
    for q, a in pairs:
        out += [f"QUESTION: {paragraphs(q)}", "", f"{tag}: {paragraphs(a)}", ""]
    out += ["(The briefing was concluded at 2:41 p.m.)"]
    return "\n".join(out), 0, tag


def layout_generic(pairs, name, iso):
    out = [f"Press Conference by Spokesperson {name}" + (f", {iso}" if iso else ""), ""]
    for i, (q, a) in enumerate(pairs):
        out += [f"{_REPORTERS[i % len(_REPORTERS)]}: {paragraphs(q)}", "", f"{name}: {paragraphs(a)}", ""]
    return "\n".join(out), 0, name


def layout_generic_untitled(pairs, name, iso):
    """No title, no header: the spokesperson must be found from who answers."""
    out = []
    for i, (q, a) in enumerate(pairs):
        out += [f"{_REPORTERS[i % len(_REPORTERS)]}: {q}", f"{name}: {a}"]
    return "\n".join(out), 0, name


def layout_plain(pairs, name, iso):
    d = _d(iso)
    out = ["Transcript of the press briefing" + (f", {d.day} {_MONTH_NAMES[d.month - 1]} {d.year}" if d else ""), ""]
    for q, a in pairs:
        out += [q, "", a, ""]
    return "\n".join(out), 0, None


LAYOUTS = {
    "china-qa": (layout_china_qa, "china-mfa"),
    "china-outlets": (layout_china_outlets, "china-mfa"),
    "us-state": (layout_us_state, "us-state"),
    "generic": (layout_generic, "generic"),
    "generic-untitled": (layout_generic_untitled, "generic"),
    "plain": (layout_plain, "plain"),
}


@pytest.fixture(scope="module")
def real_pages(shared_file):
    pages = defaultdict(list)
    with open(shared_file, encoding="utf-8-sig") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                pages[row.get("url") or row["id"]].append(row)
    assert sum(map(len, pages.values())) > 100
    return list(pages.values())


def check_round_trip(style_name, pairs, name, iso):
    build, style = LAYOUTS[style_name]
    text, opening, speaker = build(pairs, name, iso)
    t = parse_transcript(text)
    check_invariants(t)
    assert t.style == style
    if style_name == "plain":
        got = [norm(ex.answer) for ex in t.exchanges]
        want = [expected(x) for q, a in pairs for x in (q, a)]
        assert all(ex.question is None for ex in t.exchanges)
    else:
        assert all(ex.question is None for ex in t.exchanges[:opening])
        got = [(norm(ex.question), norm(ex.answer)) for ex in t.exchanges[opening:]]
        want = [(expected(q), expected(a)) for q, a in pairs]
        assert t.spokesperson == name
        assert all(ex.speaker == speaker for ex in t.exchanges)
        assert [t.turns[ex.turn - 1].role for ex in t.exchanges[opening:]] == ["question"] * len(pairs)
    if got != want:
        for i, (g, w) in enumerate(zip(got, want)):
            assert g == w, f"{style_name}: pair {i} differs"
        assert len(got) == len(want), f"{style_name}: {len(got)} exchanges for {len(want)} pairs"
    if style_name != "generic-untitled":
        assert t.date == iso
    return len(pairs)


@pytest.mark.shared
@pytest.mark.parametrize("style_name", sorted(LAYOUTS))
def test_real_pairs_round_trip_page_by_page(real_pages, style_name):
    started, done = time.perf_counter(), 0
    for rows in real_pages:
        pairs = [(r["question"], r["answer"]) for r in rows]
        done += check_round_trip(style_name, pairs, _name(rows[0]), rows[0].get("date"))
    assert done == sum(map(len, real_pages))
    print(f"{style_name}: {done} real pairs round-trip in {time.perf_counter() - started:.2f}s")


@pytest.mark.shared
@pytest.mark.parametrize("style_name", sorted(LAYOUTS))
def test_real_pairs_round_trip_in_one_long_transcript(real_pages, style_name):
    pairs = [(r["question"], r["answer"]) for rows in real_pages for r in rows]
    started = time.perf_counter()
    assert check_round_trip(style_name, pairs, "Mao Ning", "2025-03-04") == len(pairs)
    assert time.perf_counter() - started < 20


@pytest.mark.shared
def test_real_pairs_in_html(real_pages):
    """The same pairs as a ministry web page: <p><b>Q:</b> … paragraphs, entities, and a script."""
    import html as _html

    pairs = [(r["question"], r["answer"]) for rows in real_pages[:200] for r in rows]
    body = []
    for q, a in pairs:
        for tag, text in (("Q", q), ("A", a)):
            paras = [_html.escape(p.strip()) for p in text.split("\n") if p.strip()]
            body.append(f"<p><b>{tag}:</b> {paras[0]}</p>" + "".join(f"<p>{p}</p>" for p in paras[1:]))
    page = ("<html><head><title>Regular Press Conference</title><script>var a = 'Q: x';</script></head><body>"
            "<h1>Foreign Ministry Spokesperson Mao Ning's Regular Press Conference on March 4, 2025</h1>"
            + "\n".join(body) + "</body></html>")
    t = parse_html(page)
    check_invariants(t)
    assert (t.style, t.date, t.spokesperson) == ("china-mfa", "2025-03-04", "Mao Ning")
    assert [(norm(q), norm(a)) for q, a in qa(t)] == [(expected(q), expected(a)) for q, a in pairs]


def test_crosstalk_tags_found_only_mid_line_and_moderators():
    text = ("Department Press Briefing\n\n"
            "QUESTION: Is the deal done? MS. ORTAGUS: Not yet. QUESTION: When? MS. ORTAGUS: Soon. (Crosstalk.)\n"
            "MODERATOR: Last question, please.\n"
            "QUESTION: Will you brief us tomorrow?\n"
            "OPERATOR: Please hold.\n"
            "MS. ORTAGUS: Yes.")
    t = parse_transcript(text)
    check_invariants(t)
    assert t.style == "us-state" and t.spokesperson == "MS. ORTAGUS"
    assert qa(t) == [("Is the deal done?", "Not yet."), ("When?", "Soon."), ("Will you brief us tomorrow?", "Yes.")]
    assert [turn.line for turn in t.turns[:4]] == [3, 3, 3, 3]
    mods = [turn for turn in t.turns if turn.speaker in ("MODERATOR", "OPERATOR")]
    assert [m.role for m in mods] == ["statement", "statement"]
    assert not {m.index for m in mods} & {ex.turn for ex in t.exchanges}


def test_white_house_q_without_colon():
    text = ("Press Briefing by Press Secretary Karine Jean-Pierre\nMarch 4, 2025\n\n"
            "MS. JEAN-PIERRE:  Good afternoon.\n\nQ    Karine, is the President going to Ohio?\n\n"
            "MS. JEAN-PIERRE:  I don't have anything to share on his schedule.\n")
    t = parse_transcript(text)
    assert (t.spokesperson, t.date) == ("Karine Jean-Pierre", "2025-03-04")
    assert qa(t) == [(None, "Good afternoon."),
                     ("Karine, is the President going to Ohio?", "I don't have anything to share on his schedule.")]
    assert qa(parse_html("<p>Q&nbsp;&nbsp;&nbsp; Is it so?</p><p>MS. JEAN-PIERRE:&nbsp; It is.</p>")) == [
        ("Is it so?", "It is.")]


def test_opening_sentences_are_not_taken_for_header_lines():
    text = ("Press statement, 4 March 2025\n\n"
            "Yes, the Minister will attend the summit\n\n"
            "Washington, DC\n\n"
            "Note: the schedule may change.\n\n"
            "Note: there will be no press conference.")
    t = parse_transcript(text)
    assert t.style == "plain" and t.date == "2025-03-04"
    assert [ex.answer for ex in t.exchanges] == [
        "Yes, the Minister will attend the summit", "Washington, DC", "Note: the schedule may change.",
        "Note: there will be no press conference."]
