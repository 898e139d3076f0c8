"""eSpeak NG: a formant synthesizer for 100+ languages, shipped as a wheel (espeakng-loader).

Its voices are the language definitions in ``espeak-ng-data/lang``: each file names the
language (``name English (America)``) and the codes it answers to (``language en-us``).
eSpeak NG honours SSML ``<break>``, so every voice supports pauses.
"""

from __future__ import annotations

import re
from pathlib import Path

from voxhub.engines.base import Engine, EngineVoice

__all__ = ["EspeakEngine", "espeak_data_dir", "parse_language_file"]

_REGION = re.compile(r"^[a-z]{2}$|^\d{3}$")


def espeak_data_dir() -> Path:
    import espeakng_loader

    return Path(espeakng_loader.get_data_path())


def bcp47(code: str) -> str:
    """``en-us`` -> ``en-US``; ``en-gb-x-rp`` -> ``en-GB-x-rp``; ``cmn`` -> ``cmn``."""
    parts = code.split("-")
    out = [parts[0].lower()]
    private = False
    for part in parts[1:]:
        private = private or part.lower() == "x"
        out.append(part.upper() if not private and _REGION.match(part.lower()) else part)
    return "-".join(out)


def parse_language_file(key: str, text: str) -> EngineVoice | None:
    name = ""
    codes: list[str] = []
    gender = "male"  # eSpeak NG's language voices are male unless a variant says otherwise
    for raw in text.splitlines():
        fields = raw.split("//", 1)[0].split()
        if len(fields) < 2:
            continue
        if fields[0] == "name" and not name:
            name = " ".join(fields[1:])
        elif fields[0] == "language":
            codes.append(fields[1])
        elif fields[0] == "gender" and fields[1] in ("male", "female"):
            gender = fields[1]
    if not name or not codes:
        return None
    return EngineVoice(
        engine="espeak",
        key=key,
        name=name,
        language=name.split(" (", 1)[0].strip(),
        gender=gender,
        locale=bcp47(codes[0]),
        support_pause=True,
        support_locale=False,
    )


class EspeakEngine(Engine):
    name = "espeak"

    def __init__(self, data_dir: Path | None = None) -> None:
        self._data_dir = data_dir

    def voices(self) -> list[EngineVoice]:
        lang_dir = (self._data_dir or espeak_data_dir()) / "lang"
        found = []
        for path in sorted(p for p in lang_dir.rglob("*") if p.is_file()):
            key = path.relative_to(lang_dir).as_posix()
            voice = parse_language_file(key, path.read_text(encoding="utf-8", errors="replace"))
            if voice is not None:
                found.append(voice)
        return found
