"""From text or SSML to the script the workers speak: sentences, words, pauses, refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxhub.errors import InvalidParameter
from voxhub.workers.script import MAX_PIECE_CHARS, Pause, Piece, parse_input, words_of


def texts(script_parts: list[Piece | Pause]) -> list[str | float]:
    return [p.text if isinstance(p, Piece) else p.seconds for p in script_parts]


def test_text_is_split_at_sentence_ends_keeping_closing_quotes() -> None:
    script = parse_input(
        'Hello world. She said "stop!" Then: 42... Done? 日本語です。次。', "text", pauses=True
    )
    assert texts(script.parts) == [
        "Hello world.",
        'She said "stop!"',
        "Then: 42...",
        "Done?",
        "日本語です。",
        "次。",
    ]


def test_words_drop_edge_punctuation_and_keep_symbols_inside() -> None:
    words = [w.text for w in words_of('"Well," he said — it costs $5.50 (tax incl.)!')]
    assert words == ["Well", "he", "said", "it", "costs", "$5.50", "tax", "incl"]


def test_word_offsets_point_into_the_piece() -> None:
    piece = "  (Hi), there!"
    assert [piece[w.start : w.end] for w in words_of(piece)] == ["Hi", "there"]


@given(st.lists(st.text(alphabet="abcdefghij ,.!?\n", min_size=1, max_size=60), min_size=1))
def test_every_word_of_the_text_is_spoken_once_in_order(chunks: list[str]) -> None:
    text = " ".join(chunks) + " end"
    script = parse_input(text, "text", pauses=True)
    assert [w.text for w in script.words] == [w.text for w in words_of(text)]
    assert all(len(p.text) <= MAX_PIECE_CHARS for p in script.parts if isinstance(p, Piece))


def test_a_long_sentence_is_split_at_clauses_then_words() -> None:
    text = ", ".join(["many words here"] * 100) + " " + "x" * 900 + "."
    script = parse_input(text, "text", pauses=True)
    pieces = [p for p in script.parts if isinstance(p, Piece)]
    assert len(pieces) > 3
    assert all(len(p.text) <= MAX_PIECE_CHARS for p in pieces)
    assert "".join(p.text for p in pieces).replace(" ", "") == text.replace(" ", "")


@pytest.mark.parametrize(
    ("ssml", "expected"),
    [
        ('<speak>Hi <break time="500ms"/> there</speak>', ["Hi", 0.5, "there"]),
        ('Hi <break time="1.5s"/> there', ["Hi", 1.5, "there"]),
        ('<speak>A<break strength="strong"/>B<break/>C</speak>', ["A", 0.75, "B", 0.5, "C"]),
        ("<speak><p>One</p><s>Two</s>three</speak>", ["One", "Two", "three"]),
        ('<speak><sub alias="World Wide Web">WWW</sub> rocks</speak>', ["World Wide Web rocks"]),
        (
            '<speak xmlns="http://www.w3.org/2001/10/synthesis">a<break time="2s"/>b</speak>',
            ["a", 2.0, "b"],
        ),
        (
            '<speak><prosody rate="slow">slow <emphasis>words</emphasis></prosody></speak>',
            ["slow words"],
        ),
        ("<speak>Fish &amp; chips &lt;3</speak>", ["Fish & chips <3"]),
    ],
)
def test_ssml_becomes_pieces_and_exact_pauses(ssml: str, expected: list[str | float]) -> None:
    assert texts(parse_input(ssml, "ssml", pauses=True).parts) == expected


def test_breaks_are_dropped_silently_for_a_voice_without_pauses() -> None:
    script = parse_input('<speak>Hi <break time="2s"/> there</speak>', "ssml", pauses=False)
    assert texts(script.parts) == ["Hi", "there"]


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    "<speak>&lol2;</speak>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE speak [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<speak>&xxe;</speak>"
)


@pytest.mark.parametrize(
    ("text", "input_type", "needle"),
    [
        ("<speak>unclosed", "ssml", "well-formed"),
        ("<speak><break time='x'/>a</speak>", "ssml", "duration"),
        ("<speak><break time='11s'/>a</speak>", "ssml", "longer than"),
        ("<speak><break strength='huge'/>a</speak>", "ssml", "strength"),
        ("<speak>a</speak><speak>b</speak>", "ssml", "well-formed"),
        (BILLION_LAUGHS, "ssml", "document type"),
        (EXTERNAL_ENTITY, "ssml", "document type"),
        ("<speak>&undefined;</speak>", "ssml", "well-formed"),
        ("   \n\t ", "text", "nothing to speak"),
        ("😀 🎉 ✨", "text", "nothing to speak"),
        ("... !!! ---", "text", "nothing to speak"),
        ("<speak><break time='1s'/></speak>", "ssml", "nothing to speak"),
        ("bell\x07ring", "text", "control character (U+0007)"),
        ("nul\x00", "ssml", "control character (U+0000)"),
        ("c1\x85", "text", "control character (U+0085)"),
    ],
)
def test_bad_input_is_a_400_naming_text(text: str, input_type: str, needle: str) -> None:
    with pytest.raises(InvalidParameter) as raised:
        parse_input(text, input_type, pauses=True)
    assert raised.value.param == "text"
    assert needle in raised.value.message
