"""Choosing the base voice of a clone by speaker embedding."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from tests.unit.conftest import unit_services
from voxhub.audio.analysis import SPEECH_WINDOW
from voxhub.engines import EspeakEngine, KokoroEngine, PieceAudio, PiperEngine, VoiceProfile
from voxhub.services import Services
from voxhub.services.catalog import sync_catalog
from voxhub.services.previews import preview_sentence
from voxhub.store import MemoryStore
from voxhub.workers import cloning
from voxhub.workers.cloning import BaseVoice, choose_base
from voxhub.workers.render import RenderJob, render_preview, shipped_rendering
from voxhub.workers.script import Piece, parse_input
from voxhub.workers.state import current, init_worker

_MEASURE = cloning._measure  # the real one: the fixture below stands in for it in most tests

_EMBEDDINGS = {"alpha": [1.0, 0.0, 0.0], "kumo": [0.0, 1.0, 0.0], "joe": [0.0, 0.6, 0.8]}
_CANDIDATES = (
    BaseVoice("kokoro", "alpha", "female", "English"),
    BaseVoice("kokoro", "kumo", "male", "English"),
    BaseVoice("piper", "joe", "male", "English"),
)


@pytest.fixture(autouse=True)
def measured(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(base: BaseVoice) -> object:
        return cloning._Measured(np.zeros(1), 16000, np.asarray(_EMBEDDINGS[base.voice_key]))

    monkeypatch.setattr(cloning, "_measure", fake)


@pytest.mark.parametrize(
    ("speaker", "expected"),
    [([0.9, 0.1, 0.0], "alpha"), ([0.2, 0.9, 0.1], "kumo"), ([0.0, 0.5, 0.9], "joe")],
)
def test_the_closest_voice_is_chosen(speaker: list[float], expected: str) -> None:
    base, similarity = choose_base(_CANDIDATES, np.asarray(speaker))
    assert base.voice_key == expected
    assert similarity == pytest.approx(
        max(float(np.dot(speaker, e) / np.linalg.norm(speaker)) for e in _EMBEDDINGS.values())
    )


@pytest.fixture(scope="module")
def clone_services() -> Services:
    store = MemoryStore()
    engines = [PiperEngine(), KokoroEngine(), EspeakEngine()]
    asyncio.run(sync_catalog(store, engines, synced_at=1))
    services = unit_services(store, ["piper", "kokoro", "espeak"])
    asyncio.run(services.voices.load_catalog())
    return services


def test_the_candidates_are_the_languages_neural_voices_where_there_are_any(
    clone_services: Services,
) -> None:
    """A converted neural voice stays intelligible where a formant voice that happens to be
    closer would not: eSpeak NG voices are candidates only where no neural voice speaks."""
    english = clone_services.clones.candidates("en")
    assert {c.engine for c in english} == {"piper", "kokoro"}
    assert {c.voice_key for c in english if c.engine == "kokoro"} == {
        "jf_alpha.en", "jf_gongitsune.en", "jf_nezumi.en", "jf_tebukuro.en", "jm_kumo.en"
    }  # fmt: skip
    assert {c.gender for c in english} == {"male", "female"}
    japanese = clone_services.clones.candidates("ja")
    assert {c.voice_key for c in japanese} == {
        "jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"
    }  # fmt: skip
    assert {c.engine for c in clone_services.clones.candidates("fi")} == {"espeak"}
    assert english[0].text != japanese[0].text
    # a clone being processed names its language as the catalog does ("English")
    assert clone_services.clones.candidates("English") == english


def test_an_operator_may_base_clones_on_chosen_engines_only(clone_services: Services) -> None:
    """VOXHUB_CLONE_BASE_ENGINES=piper: English clones speak at Piper's speed; a language
    Piper does not speak keeps every engine rather than refusing clones."""
    engines = ["piper", "kokoro", "espeak"]
    limited = unit_services(clone_services.store, engines, VOXHUB_CLONE_BASE_ENGINES="piper")
    asyncio.run(limited.voices.load_catalog())
    english = limited.clones.candidates("en")
    assert [(c.engine, c.voice_key) for c in english] == [("piper", "en_US-joe-medium")]
    assert limited.clones.candidates("ja") == clone_services.clones.candidates("ja")
    assert limited.clones.candidates("fi") == clone_services.clones.candidates("fi")


def test_languages_have_their_own_measurement_text() -> None:
    assert cloning.measure_text("en") != cloning.measure_text("ja")
    assert cloning.measure_text("xx") == cloning.measure_text("fi")


def test_the_neural_base_voices_of_every_language_are_measured_ahead(
    clone_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    measured: list[BaseVoice] = []

    def record(candidates: tuple[BaseVoice, ...]) -> int:
        measured.extend(candidates)
        return len(candidates)

    monkeypatch.setattr("voxhub.services.clones.measure_voices", record)
    english_done: list[int] = []
    count = clone_services.clones.measure_base_voices(
        first_language_measured=lambda: english_done.append(len(measured))
    )
    assert asyncio.run(count) == 11
    assert {(b.engine, b.language) for b in measured} == {
        ("piper", "English"), ("kokoro", "English"), ("kokoro", "Japanese")
    }  # fmt: skip
    # English first, and said once: the job worker then lets background jobs (previews) run
    assert english_done == [6]
    assert {b.language for b in measured[:6]} == {"English"}


def test_shipped_embeddings_spare_a_fresh_install_from_rendering_every_candidate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rendered: list[str] = []

    def render(base: BaseVoice) -> object:
        rendered.append(base.voice_key)
        return cloning._Measured(np.zeros(1), 16000, np.asarray(_EMBEDDINGS[base.voice_key]))

    shipped = {cloning.shipped_key(c): np.asarray(_EMBEDDINGS[c.voice_key]) for c in _CANDIDATES}
    monkeypatch.setattr(cloning, "_measure", render)
    monkeypatch.setattr(cloning, "_shipped_embeddings", lambda: shipped)
    base, _ = choose_base(_CANDIDATES, np.asarray([0.2, 0.9, 0.1]))
    assert base.voice_key == "kumo"
    assert rendered == []  # chosen from what ships; only the chosen voice is rendered, later


_WOMEN = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro")


def _bases(services: Services, code: str) -> tuple[BaseVoice, ...]:
    """A language's candidates and every mix Kokoro makes of them (shipped or not)."""
    candidates = services.clones.candidates(code)
    keys = [c.voice_key for c in candidates if c.engine == "kokoro"]
    first = candidates[0]
    mixes = KokoroEngine().mixes(keys)
    return candidates + tuple(BaseVoice("kokoro", k, None, first.language, first.text)
                              for k in mixes)  # fmt: skip


def test_kokoro_mixes_its_man_with_each_woman_in_each_language(clone_services: Services) -> None:
    for code, suffix in (("en", ".en"), ("ja", "")):
        mixes = {b.voice_key for b in _bases(clone_services, code) if b.gender is None}
        assert mixes == {f"{woman}+jm_kumo{suffix}" for woman in _WOMEN}


@pytest.mark.parametrize(("code", "suffix"), [("en", ".en"), ("ja", "")])
def test_a_mix_ships_and_sounds_between_its_two_voices(
    clone_services: Services, code: str, suffix: str
) -> None:
    table = cloning._shipped_embeddings()
    bases = {b.voice_key: b for b in _bases(clone_services, code)}
    for woman in _WOMEN:
        keys = (f"{woman}+jm_kumo{suffix}", f"jm_kumo{suffix}", f"{woman}{suffix}")
        mix, man, her = (table[cloning.shipped_key(bases[key])] for key in keys)
        apart = float(np.dot(man, her))
        assert float(np.dot(mix, man)) > apart + 0.05
        assert float(np.dot(mix, her)) > apart + 0.05


def test_only_the_mixes_that_ship_are_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    """A mix rendered at clone time would cost the clone seconds: one is tried only where its
    measurement ships, and then chosen like any voice when it is the closest."""
    init_worker(None)
    kumo = BaseVoice("kokoro", "jm_kumo.en", "male", "English")
    alpha = BaseVoice("kokoro", "jf_alpha.en", "female", "English")
    shipped_mix = BaseVoice("kokoro", "jf_alpha+jm_kumo.en", None, "English")
    embeddings = {"jm_kumo.en": [0.0, 1.0], "jf_alpha.en": [1.0, 0.0],
                  "jf_nezumi.en": [0.9, -0.4], "jf_alpha+jm_kumo.en": [0.7, 0.7]}  # fmt: skip
    monkeypatch.setattr(cloning, "_shipped_embeddings",
                        lambda: {cloning.shipped_key(shipped_mix): np.ones(2)})  # fmt: skip
    monkeypatch.setattr(cloning, "_measure", lambda base: cloning._Measured(
        np.zeros(1), 16000, np.asarray(embeddings[base.voice_key])))  # fmt: skip
    nezumi = BaseVoice("kokoro", "jf_nezumi.en", "female", "English")
    candidates = cloning.with_mixes((alpha, kumo, nezumi))
    assert candidates == (alpha, kumo, nezumi, shipped_mix)  # Nezumi's mix does not ship
    base, _ = choose_base(candidates, np.asarray([0.6, 0.8]))
    assert base == shipped_mix


def test_every_shipped_neural_voice_has_its_embedding_in_the_package(
    clone_services: Services,
) -> None:
    table = cloning._shipped_embeddings()
    for code in ("en", "ja"):
        for candidate in _bases(clone_services, code):
            assert len(table[cloning.shipped_key(candidate)]) == 256


def test_every_shipped_neural_voice_has_its_rendering_in_the_package(
    clone_services: Services,
) -> None:
    for code in ("en", "ja"):
        for candidate in _bases(clone_services, code):
            shipped = cloning._shipped(candidate)
            assert shipped is not None, candidate
            assert shipped.rate in (22050, 24000)
            assert len(shipped.samples) > 10 * shipped.rate  # its whole measurement text
            assert -1.0 <= float(shipped.samples.min()) < 0 < float(shipped.samples.max()) <= 1.0


def _no_rendering(base: BaseVoice) -> object:
    raise AssertionError(f"{base.voice_key} was rendered")


def test_a_fresh_install_measures_a_shipped_voice_without_rendering_it(
    clone_services: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    init_worker(str(tmp_path))
    monkeypatch.setattr(cloning, "_render_measurement", _no_rendering)
    kumo = next(c for c in clone_services.clones.candidates("en") if c.voice_key == "jm_kumo.en")
    measured = _MEASURE(kumo)
    assert measured.rate == 24000
    shipped = cloning._shipped_embeddings()[cloning.shipped_key(kumo)]
    assert np.array_equal(measured.embedding, shipped)
    assert _MEASURE(kumo) is measured  # kept in memory; nothing written to the model directory
    assert not (tmp_path / "voice-measurements").exists()


def test_a_voice_with_nothing_shipped_is_rendered_once_and_kept_on_disk(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rendered: list[str] = []

    def render(base: BaseVoice) -> object:
        rendered.append(base.voice_key)
        return cloning._Measured(np.full(8000, 0.1, np.float32), 16000, np.ones(3, np.float32))

    monkeypatch.setattr(cloning, "_render_measurement", render)
    voice = BaseVoice("espeak", "en-us", None, "English")
    init_worker(str(tmp_path))
    first = _MEASURE(voice)
    init_worker(str(tmp_path))  # a restart: memory is empty, the model directory is not
    again = _MEASURE(voice)
    assert rendered == ["en-us"]
    assert np.array_equal(again.samples, first.samples)
    assert again.rate == 16000


def test_the_conversion_measures_thirty_seconds_from_where_speech_begins() -> None:
    rate = 16000
    samples = np.arange(120 * rate, dtype=np.float32)  # each sample its own index
    speech = np.zeros(len(samples) // SPEECH_WINDOW, bool)
    speech[10 * rate // SPEECH_WINDOW :] = True  # 10 s of silence, then speech to the end
    stretch = cloning._conversion_stretch(samples, speech)
    assert len(stretch) == 30 * rate
    assert stretch[0] == pytest.approx(10 * rate - rate // 5, abs=SPEECH_WINDOW)  # 0.2 s before


def test_a_short_sample_is_measured_whole() -> None:
    samples = np.ones(12 * 16000, np.float32)
    speech = np.ones(len(samples) // SPEECH_WINDOW, bool)
    assert len(cloning._conversion_stretch(samples, speech)) == len(samples)
    quiet = np.zeros(len(samples) // SPEECH_WINDOW, bool)
    assert len(cloning._conversion_stretch(samples, quiet)) == len(samples)


def test_every_shipped_neural_voice_has_its_preview_sentences_in_the_package(
    clone_services: Services,
) -> None:
    for code in ("en", "ja"):
        script = parse_input(preview_sentence(code), "text", pauses=True)
        pieces = [part.text for part in script.parts if isinstance(part, Piece)]
        assert len(pieces) == 3
        for candidate in _bases(clone_services, code):
            for text in pieces:
                shipped = shipped_rendering(candidate.engine, candidate.voice_key, text)
                assert shipped is not None, (candidate, text)
                assert shipped.sample_rate in (22050, 24000)
                assert 0.3 * shipped.sample_rate < len(shipped.samples) < 5 * shipped.sample_rate


class _Speaking(PiperEngine):
    """Piper, counting what it is asked to speak."""

    spoken: list[str] = []

    def synthesize(self, text: str, voice_key: str, speed: float) -> PieceAudio:
        self.spoken.append(text)
        return super().synthesize(text, voice_key, speed)


def test_a_preview_reads_shipped_pieces_and_speaks_only_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    init_worker(None)
    _Speaking.spoken = []
    monkeypatch.setitem(current().engines, "piper", _Speaking())  # type: ignore[arg-type]
    profile = VoiceProfile("piper", "en_US-joe-medium")
    text = preview_sentence("en") + " Nothing ships for this one."
    longer = render_preview(RenderJob(parse_input(text, "text", pauses=True), profile))
    assert _Speaking.spoken == ["Nothing ships for this one."]
    read = render_preview(
        RenderJob(parse_input(preview_sentence("en"), "text", pauses=True), profile)
    )
    assert _Speaking.spoken == ["Nothing ships for this one."]  # nothing more was spoken
    assert 2.0 < read.duration < longer.duration - 1.0


def test_no_conversion_competes_on_the_same_excerpt_the_conversions_are_scored_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The base voice's whole measurement may sound closer to the speaker than its excerpt
    does; the conversions of the excerpt are measured against the excerpt unconverted."""
    rate = 100
    excerpt = np.zeros(cloning._SEARCH_SECONDS * rate, np.float32)
    whole = cloning._Measured(np.concatenate([excerpt, np.ones(rate, np.float32)]), rate,
                              np.asarray([1.0, 0.0, 0.0]))  # fmt: skip
    monkeypatch.setattr(cloning, "_measure", lambda base: whole)

    def converted(samples: object, rate: int, variants: list[dict[str, float]]) -> list[object]:
        return [np.full(len(excerpt), v["strength"] + v["blend"], np.float32) for v in variants]

    monkeypatch.setattr(cloning, "convert_variants", converted)
    scores = {0.0: 0.45, 0.5: 0.44, 1.0: 0.43, 1.1: 0.46, 1.6: 0.47}  # by strength + blend
    monkeypatch.setattr(
        cloning, "_closeness", lambda speech, r, e: scores[round(float(speech[0]), 2)]
    )
    chosen, similarity, unconverted = cloning._best_conversion(
        _CANDIDATES[0], {}, np.asarray([1.0, 0.0, 0.0]), frame_blend=0.6
    )
    assert (chosen, similarity, unconverted) == ({"strength": 1.0, "blend": 0.6}, 0.47, 0.45)
    scores[0.0] = 0.5  # the excerpt unconverted is closest: no conversion
    chosen, similarity, _ = cloning._best_conversion(
        _CANDIDATES[0], {}, np.asarray([1.0, 0.0, 0.0]), frame_blend=0.6
    )
    assert (chosen, similarity) == ({"strength": 0.0, "blend": 0.0}, 0.5)
