from __future__ import annotations

import pytest

from voxhub.engines import EspeakEngine, installed_engines
from voxhub.engines.espeak import bcp47, parse_language_file
from voxhub.ids import is_voice_id
from voxhub.services.catalog import catalog_voices


def test_parse_language_file() -> None:
    text = "name English (America)\nlanguage en-us 2\nlanguage en 3\n// gender female\n"
    voice = parse_language_file("gmw/en-US", text)
    assert voice is not None
    assert (voice.name, voice.language, voice.locale, voice.gender) == (
        "English (America)", "English", "en-US", "male"
    )  # fmt: skip
    assert voice.support_pause is True
    assert parse_language_file("x", "maintainer nobody\n") is None


@pytest.mark.parametrize(
    ("code", "tag"),
    [("en-us", "en-US"), ("en-gb-x-rp", "en-GB-x-rp"), ("cmn", "cmn"), ("es-419", "es-419")],
)
def test_bcp47(code: str, tag: str) -> None:
    assert bcp47(code) == tag


def test_the_installed_espeak_offers_many_real_languages() -> None:
    voices = EspeakEngine().voices()
    languages = {v.language for v in voices}
    assert len(voices) > 100
    assert {"English", "French", "German", "Spanish", "Japanese", "Hindi"} <= languages
    assert len({v.key for v in voices}) == len(voices)


def test_catalog_ids_are_stable_valid_and_unique() -> None:
    first = catalog_voices(installed_engines())
    second = catalog_voices(installed_engines())
    assert [v.voice_id for v in first] == [v.voice_id for v in second]
    assert all(is_voice_id(v.voice_id) for v in first)
    assert len({v.voice_id for v in first}) == len(first)
    assert all(v.is_public and v.status is None for v in first)
