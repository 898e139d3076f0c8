"""From a request's text or SSML to a script: pieces of plain text to speak, and pauses.

SSML is parsed with defusedxml: a document type declaration, entity or external reference is
refused outright, so no entity is ever expanded. ``<break>`` becomes a pause of exactly its
length; ``<p>`` and ``<s>`` end a sentence; ``<sub alias>`` speaks the alias; every other
element speaks its text. Long text is split at sentence boundaries (then at clause or word
boundaries when a sentence is very long) so each piece is synthesized on its own.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from voxhub.errors import InvalidParameter

__all__ = [
    "MAX_BREAK_SECONDS",
    "MAX_PIECE_CHARS",
    "Pause",
    "Piece",
    "Script",
    "Word",
    "parse_input",
    "split_sentences",
    "words_of",
]

MAX_PIECE_CHARS = 400
MAX_BREAK_SECONDS = 10.0
SENTENCE_PAUSE = 0.25  # seconds between sentences: engines trail off differently

_STRENGTH = {"none": 0.0, "x-weak": 0.1, "weak": 0.25, "medium": 0.5, "strong": 0.75}
_STRENGTH["x-strong"] = 1.0
_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$")
# A sentence ends after its final punctuation and any closing quotes or brackets.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|[。！？]+[」』）]*|\n\s*\n")
_CLAUSE_END = re.compile(r"(?<=[,;:、，；：])\s+")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start: int  # character offsets in the piece's text
    end: int


@dataclass(frozen=True, slots=True)
class Piece:
    text: str
    words: tuple[Word, ...]


@dataclass(frozen=True, slots=True)
class Pause:
    seconds: float


@dataclass(slots=True)
class Script:
    parts: list[Piece | Pause] = field(default_factory=list)

    @property
    def words(self) -> list[Word]:
        return [w for part in self.parts if isinstance(part, Piece) for w in part.words]


def parse_input(text: str, input_type: str, *, pauses: bool) -> Script:
    """The script for a request, or InvalidParameter(param="text") saying what is wrong."""
    _check_characters(text)
    segments = _ssml_segments(text) if input_type == "ssml" else [text]
    script = Script()
    for segment in segments:
        if isinstance(segment, Pause):
            if pauses and segment.seconds > 0:
                script.parts.append(segment)
            continue
        for sentence in split_sentences(segment):
            script.parts.append(Piece(sentence, tuple(words_of(sentence))))
    if not script.words:
        raise InvalidParameter(
            "text has nothing to speak: it needs at least one letter or digit.", param="text"
        )
    return script


def _check_characters(text: str) -> None:
    for index, char in enumerate(text):
        if char in "\t\n\r":
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or (category == "Co"):
            raise InvalidParameter(
                f"text contains a control character (U+{ord(char):04X}) at position {index}.",
                param="text",
            )


def _ssml_segments(text: str) -> list[str | Pause]:
    document = text.strip()
    if re.search(r"<!(DOCTYPE|ENTITY)", document, re.IGNORECASE):
        raise InvalidParameter(
            "SSML may not declare a document type, entities or external references.",
            param="text",
        )
    if not document.startswith("<speak"):
        document = f"<speak>{document}</speak>"
    try:
        root = SafeET.fromstring(document, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InvalidParameter(
            "SSML may not declare a document type, entities or external references.",
            param="text",
        ) from exc
    except ET.ParseError as exc:
        raise InvalidParameter(f"text is not well-formed SSML: {exc}.", param="text") from exc
    if _local(root.tag) != "speak":
        raise InvalidParameter("SSML must have <speak> as its root element.", param="text")
    walked: list[str | Pause] = []
    _walk(root, walked)
    segments: list[str | Pause] = []  # runs of text joined, so only pauses separate them
    for item in walked:
        if isinstance(item, str) and segments and isinstance(segments[-1], str):
            segments[-1] += item
        else:
            segments.append(item)
    return segments


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _walk(element: ET.Element, out: list[str | Pause]) -> None:
    tag = _local(element.tag)
    if tag == "break":
        out.append(Pause(_break_seconds(element)))
    elif tag == "sub" and element.get("alias") is not None:
        out.append(element.get("alias", ""))
    elif tag not in ("audio", "mark", "desc", "metadata"):
        out.append(element.text or "")
        for child in element:
            _walk(child, out)
            out.append(child.tail or "")
    if tag in ("p", "s"):
        out.append("\n\n")


def _break_seconds(element: ET.Element) -> float:
    time_attr = element.get("time")
    if time_attr is None:
        strength = element.get("strength", "medium")
        if strength not in _STRENGTH:
            raise InvalidParameter(f"<break strength={strength!r}> is not known.", param="text")
        return _STRENGTH[strength]
    match = _TIME.match(time_attr)
    if match is None:
        raise InvalidParameter(
            f"<break time={time_attr!r}> must be a duration such as 500ms or 1.5s.", param="text"
        )
    seconds = float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
    if seconds > MAX_BREAK_SECONDS:
        raise InvalidParameter(
            f"<break time={time_attr!r}> is longer than {MAX_BREAK_SECONDS:g}s.", param="text"
        )
    return seconds


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` with their own whitespace trimmed; very long ones split again."""
    pieces: list[str] = []
    start = 0
    for end in [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]:
        sentence = " ".join(text[start:end].split())
        start = end
        if sentence:
            pieces.extend(_bounded(sentence))
    return pieces


def _bounded(sentence: str) -> list[str]:
    if len(sentence) <= MAX_PIECE_CHARS:
        return [sentence]
    out: list[str] = []
    current = ""
    for part in _pieces_of(sentence):
        if current and len(current) + 1 + len(part) > MAX_PIECE_CHARS:
            out.append(current)
            current = part
        else:
            current = f"{current} {part}" if current else part
    if current:
        out.append(current)
    return out


def _pieces_of(sentence: str) -> list[str]:
    """Clauses, and words of any clause that is still too long, and slices of huge words."""
    parts: list[str] = []
    for clause in _CLAUSE_END.split(sentence):
        words = [clause] if len(clause) <= MAX_PIECE_CHARS else clause.split()
        for word in words:
            parts.extend(
                word[i : i + MAX_PIECE_CHARS] for i in range(0, len(word), MAX_PIECE_CHARS)
            )
    return parts


def words_of(piece: str) -> list[Word]:
    """The words of a piece: whitespace-separated tokens with their edge punctuation removed,
    keeping only those with a letter or digit."""
    words = []
    for match in _WORD.finditer(piece):
        token = match.group()
        lead = _punctuation_run(token)
        trail = _punctuation_run(token[::-1])
        stripped = token[lead : len(token) - trail]
        if not any(ch.isalnum() for ch in stripped):
            continue
        start = match.start() + lead
        words.append(Word(stripped, start, start + len(stripped)))
    return words


def _punctuation_run(token: str) -> int:
    run = 0
    while run < len(token) and unicodedata.category(token[run]).startswith("P"):
        run += 1
    return run
