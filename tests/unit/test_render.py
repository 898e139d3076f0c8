"""The speech pipeline on a fake engine: joining, pauses, timestamps, formats, profiles."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import av
import numpy as np
import pytest

from tests.unit.conftest import StaticEngine
from voxhub.engines import Samples, VoiceProfile, register_transform
from voxhub.workers.render import RenderJob, RenderResult, render
from voxhub.workers.script import SENTENCE_PAUSE, parse_input

ENGINES = {"static": StaticEngine()}
RATE = StaticEngine.rate


def speak(text: str, input_type: str = "text", **job: Any) -> RenderResult:
    script = parse_input(text, input_type, pauses=True)
    profile = job.pop("profile", VoiceProfile("static", "en-1"))
    return render(RenderJob(script, profile, audio_format=job.pop("fmt", "wav"), **job), ENGINES)


def decode(audio: bytes) -> Samples:
    with av.open(io.BytesIO(audio)) as container:
        frames = [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]
    samples = np.concatenate(frames)
    if samples.dtype == np.int16:
        return (samples / 32768.0).astype(np.float32)
    return samples.astype(np.float32)


def test_duration_is_measured_from_the_audio_written() -> None:
    result = speak("One two three. Four five.", fmt="wav")
    samples = decode(result.audio)
    assert result.duration == pytest.approx(len(samples) / RATE, abs=1e-3)
    assert result.sample_rate == RATE


def test_word_timestamps_cover_each_word_in_order_within_the_audio() -> None:
    text = "One two three. Four, five!"
    result = speak(text)
    assert result.words is not None
    assert [w.word for w in result.words] == ["One", "two", "three", "Four", "five"]
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    assert all(0 <= w.start < w.end <= result.duration for w in result.words)
    # each tone is 0.2 s; the sentence pause sits between "three" and "Four"
    assert result.words[0].end - result.words[0].start == pytest.approx(0.2, abs=0.01)
    gap = result.words[3].start - result.words[2].end
    assert gap == pytest.approx(SENTENCE_PAUSE, abs=0.002)


def test_timestamps_point_at_sound_and_gaps_at_silence() -> None:
    result = speak("alpha beta gamma")
    samples = decode(result.audio)
    assert result.words is not None
    for word in result.words:
        middle = round((word.start + word.end) / 2 * RATE)
        assert np.abs(samples[middle - 40 : middle + 40]).max() > 0.3
    quiet = round((result.words[0].end + result.words[1].start) / 2 * RATE)
    assert np.abs(samples[quiet - 10 : quiet + 10]).max() < 0.01


def test_an_ssml_break_is_a_pause_of_exactly_its_length() -> None:
    plain = speak("<speak>alpha beta</speak>", "ssml")
    broken = speak('<speak>alpha <break time="1300ms"/> beta</speak>', "ssml")
    assert broken.words is not None
    assert plain.words is not None
    silence = broken.words[1].start - broken.words[0].end
    assert silence == pytest.approx(1.3, abs=0.002)
    assert broken.duration - plain.duration == pytest.approx(1.3 - 0.05, abs=0.002)


def test_speed_shortens_the_audio() -> None:
    normal = speak("one two three four", speed=1.0)
    fast = speak("one two three four", speed=2.0)
    assert fast.duration == pytest.approx(normal.duration / 2, rel=0.05)


def test_pieces_are_joined_without_clicks() -> None:
    samples = decode(speak("one. two. three.").audio)
    assert abs(samples[0]) < 1e-3
    assert abs(samples[-1]) < 1e-3
    # no jump between neighbouring samples bigger than the tone itself makes
    tone_step = 0.5 * 2 * np.pi * 440 / RATE
    assert np.abs(np.diff(samples)).max() <= tone_step * 1.05


@pytest.mark.parametrize(("fmt", "codec"), [("mp3", "mp3"), ("wav", "pcm_s16le"), ("flac", "flac")])
def test_each_format_is_a_file_a_decoder_plays(fmt: str, codec: str) -> None:
    result = speak("one two three", fmt=fmt)
    with av.open(io.BytesIO(result.audio)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name.startswith(codec)
        decoded = sum(f.samples for f in container.decode(audio=0)) / stream.rate
    assert decoded == pytest.approx(result.duration, abs=0.06)


def _halve(samples: Samples, rate: int, parameters: Mapping[str, Any]) -> Samples:
    return (samples * float(parameters["gain"])).astype(np.float32)


def _truncate(samples: Samples, rate: int, parameters: Mapping[str, Any]) -> Samples:
    return samples[: len(samples) // 2]


def test_a_profile_transformation_is_applied_to_the_base_voice() -> None:
    register_transform("unit-gain", _halve)
    plain = decode(speak("one two").audio)
    profile = VoiceProfile("static", "en-1", "unit-gain", {"gain": 0.5})
    quieter = decode(speak("one two", profile=profile).audio)
    assert np.abs(quieter).max() == pytest.approx(np.abs(plain).max() / 2, rel=0.01)


def test_a_transformation_that_changes_timing_is_refused() -> None:
    register_transform("unit-truncate", _truncate)
    with pytest.raises(ValueError, match="changed the audio's length"):
        speak("one two", profile=VoiceProfile("static", "en-1", "unit-truncate"))


def test_an_engine_without_alignment_gives_no_timestamps() -> None:
    class Unaligned(StaticEngine):
        aligns = False

    script = parse_input("one two", "text", pauses=True)
    result = render(RenderJob(script, VoiceProfile("static", "x")), {"static": Unaligned()})
    assert result.words is None
