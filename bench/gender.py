"""Gender on the calibration set: pitch alone against the voice (embedding, pitch to break ties).

The clips are the calibration set's clean recordings (``bench/calibration.py`` cites them; one
man among eight voices) and six more men: the test recordings in the ``pocketsphinx`` 5.1.1
source distribution (BSD-2-Clause, Carnegie Mellon University; its LibriVox excerpt is public
domain), six recording sets that voxhub's speaker encoder finds 0.25–0.59 alike (different
people), 9–25 s each, 8–16 kHz. Each is taken as recorded and with its pitch moved by WORLD
while the rest of the voice stays (x1.35: a man speaking up, as to a crowd; x0.75: a woman
speaking low; and each moved across the 165 Hz line): the gender a person hears is the one the
speaker has. The rule before (the embedding as heard against the English base voices' as
rendered, closer by 0.03 or the pitch decides) is printed beside the clone job's own
(``workers/cloning.py::_gender``: the same voices and the sample both at the neutral pitch).

More voices, whose sex their package's own text says (``MORE_VOICES``; each set's clips come
from one speaker's recordings, two clips of 12 s where there is enough):

- the two fish of the game Fish Fillets in Czech and in Dutch (Debian ``fillets-ng-data-cs``
  and ``-nl``, GPL-2, 22.05 kHz): four voice actors, the small fish a woman and the big fish a
  man (the game's script gives them the "small" and "big" fonts, and their lines call her
  "she" and him "him");
- the spoken stamp descriptions of Tux Paint (Debian ``tuxpaint-stamps-default``, GPL-2,
  44.1 kHz, some of them full-band): nine readers named in its changelog, four women
  (Estefanía Ortiz, Spanish; Tabbytha, Romanian; Kseniya Buraya, Belarusian; Kiriaki
  Serafeim, Greek) and five men (Edwin Veber, Russian; Krasimir Petkov, Bulgarian; Pere
  Pujal, Catalan; Jacques Chion, French; Joe Dalton, Danish);
- John F. Kennedy's inaugural address, 11 s (``samples/jfk.wav`` of whisper.cpp, inside the
  ``pywhispercpp`` 1.5.1 source distribution; a US president's public speech, in the public
  domain): a well-known male orator speaking at 223 Hz, the case of the issue.

    python -m bench.gender            # from the repository root; needs apt-get (Debian)
"""

from __future__ import annotations

import tarfile
import wave
from pathlib import Path

import numpy as np

from bench.calibration import Clip, clean_clips, more_voices
from bench.recordings import MORE_VOICES, cache_dir, pypi_sdist
from voxhub.audio.analysis import (
    ANALYSIS_RATE,
    median_pitch_hz,
    normalise_loudness,
    resample,
    speech_mask,
)
from voxhub.audio.conversion import pitch_scaled
from voxhub.audio.gender import (
    CLEAR_MARGIN,
    MALE_BIAS,
    NEUTRAL_PITCH_HZ,
    gender_margin,
    neutral_pitch_embedding,
    pitch_gender,
)
from voxhub.audio.speaker import speaker_embedding
from voxhub.engines import installed_engines
from voxhub.workers.cloning import (
    _GENDER_SECONDS,
    BaseVoice,
    _gender,
    _measure,
    gender_references,
    measure_text,
)
from voxhub.workers.state import init_worker

Signal = np.ndarray  # type: ignore[type-arg]

# Each voice's median pitch moved to the other side of the pitch line: a man to 190 Hz, a woman
# to 140 Hz (x1.35 leaves a man who speaks at 100 Hz well below it).
ACROSS_HZ = {"male": 190.0, "female": 140.0}
ACROSS = "pitch across the line (men 190 Hz, women 140 Hz)"
POCKETSPHINX = "pocketsphinx==5.1.1"
# Recording sets in its test data (under test/), one speaker each.
POCKETSPHINX_MEN = {
    "ps-digits": ("data/goforward.raw", "data/numbers.raw", "data/something.raw",
                  "data/tidigits/dhd.2934z.raw"),
    "ps-cards": tuple(f"data/cards/00{n}.wav" for n in range(1, 6)),
    "ps-forever": ("data/forever/input_2_16k.wav", "data/forever/input_4_16k.wav"),
    "ps-librivox": tuple(f"data/librivox/sense_and_sensibility_01_austen_64kb-0{n}.wav"
                         for n in (870, 880, 890, 920, 930)),
    "ps-an4": ("regression/chan3.wav",),
    "ps-vad-8k": ("data/vad/leak-test.wav",),
}  # fmt: skip


def _pocketsphinx_tests() -> Path:
    """The source distribution's test folder, unpacked into the cache."""
    folder = cache_dir() / "pocketsphinx"
    tests = folder / "test"
    if not tests.exists():
        with tarfile.open(pypi_sdist(*POCKETSPHINX.split("=="))) as tar:
            members = [m for m in tar.getmembers() if "/test/" in m.name and m.isfile()]
            tar.extractall(folder / "partial", members, filter="data")
        next((folder / "partial").glob("pocketsphinx-*/test")).rename(tests)
    return tests


def _read(path: Path) -> Signal:
    """A test recording at 16 kHz: raw files are 16 kHz 16-bit; WAVs say their rate (first
    channel of a stereo one)."""
    if path.suffix == ".raw":
        return np.fromfile(path, "<i2").astype(np.float32) / 32768
    with wave.open(str(path)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
        rate, channels = w.getframerate(), w.getnchannels()
    return resample(pcm.reshape(-1, channels)[:, 0], rate, ANALYSIS_RATE)


def pocketsphinx_men() -> list[Clip]:
    tests = _pocketsphinx_tests()
    gap = np.zeros(ANALYSIS_RATE // 4, np.float32)
    return [
        Clip(
            name,
            "male",
            0,
            np.concatenate([part for f in files for part in (_read(tests / f), gap)]),
        )
        for name, files in POCKETSPHINX_MEN.items()
    ]


def english_references() -> list[tuple[str, Signal]]:
    voices = [
        BaseVoice(engine.name, v.key, v.gender, v.language, measure_text("en"))
        for engine in installed_engines(None)
        if engine.name != "espeak"
        for v in engine.voices()
        if v.language == "English"
    ]
    return [(v.gender or "", _measure(v).embedding) for v in voices]


def as_heard_gender(embedding: Signal, pitch: float, references: list[tuple[str, Signal]]) -> str:
    """The rule before the neutral pitch: the embedding as heard against the references as
    rendered, the closer gender by 0.03 or more, else the pitch."""
    margin = gender_margin(embedding, references)
    assert margin is not None  # both genders among the English voices
    return pitch_gender(pitch) if abs(margin) < 0.03 else ("male" if margin > 0 else "female")


def neutral_margin(samples: Signal) -> float:
    embedding = neutral_pitch_embedding(samples[: _GENDER_SECONDS * ANALYSIS_RATE])
    margin = gender_margin(embedding, gender_references())
    assert margin is not None
    return margin


CONDITIONS = ("as recorded", "pitch x1.35", "pitch x0.75", ACROSS)


def main() -> None:
    init_worker(str(cache_dir().parent / "models"))  # base-voice measurements kept there
    references = english_references()
    rows = []
    for clip in clean_clips() + pocketsphinx_men() + more_voices():
        crossed = ACROSS_HZ[clip.gender] / median_pitch_hz(clip.samples)
        for label, factor in zip(CONDITIONS, (1.0, 1.35, 0.75, crossed), strict=True):
            samples = clip.samples
            if factor != 1.0:
                samples = pitch_scaled(samples, ANALYSIS_RATE, factor)
            samples = normalise_loudness(samples)
            pitch = median_pitch_hz(samples)
            rows.append((clip.speaker, clip.gender, label, pitch, neutral_margin(samples),
                         pitch_gender(pitch),
                         as_heard_gender(speaker_embedding(samples), pitch, references),
                         _gender(samples, speech_mask(samples))))  # fmt: skip
    print(
        "| speaker | gender | condition | pitch Hz | margin at neutral pitch (male - female) | "
        "by pitch | as heard | at neutral pitch |\n|---|---|---|---|---|---|---|---|"
    )
    for speaker, gender, label, pitch, margin, *told in rows:
        print(f"| {speaker} | {gender} | {label} | {pitch:.0f} | {margin:+.3f} | "
              + " | ".join(told) + " |")  # fmt: skip
    print(f"\nbias {MALE_BIAS}, margin {CLEAR_MARGIN}, neutral pitch {NEUTRAL_PITCH_HZ} Hz")
    more = {voice.name for voice in MORE_VOICES}
    for title, chosen in (
        ("all", rows),
        ("the more voices only", [r for r in rows if r[0] in more]),
    ):
        print(
            f"\n{title}\n\n| condition | clips | right by pitch alone | right by the voice as "
            "heard (before) | right by the voice at a neutral pitch (now) |\n|---|---|---|---|---|"
        )
        for label in CONDITIONS:
            for gender in ("female", "male"):
                of = [r for r in chosen if r[2] == label and r[1] == gender]
                right = [sum(r[column] == gender for r in of) for column in (5, 6, 7)]
                print(f"| {label} | {len(of)} {gender} | " + " | ".join(map(str, right)) + " |")


if __name__ == "__main__":
    main()
