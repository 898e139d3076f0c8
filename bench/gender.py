"""Gender on the calibration set: pitch alone against the voice (embedding, pitch to break ties).

The clips are the calibration set's clean recordings (``bench/calibration.py`` cites them), as
recorded and with their pitch moved by WORLD while the rest of the voice stays (x1.35: a man
speaking up, as to a crowd; x0.75: a woman speaking low): the gender a person hears is the one
the speaker has. The references are the English base voices (Piper's Joe, Kokoro's five
styles), each measured on its own rendering as a clone job measures them.

    python -m bench.gender            # from the repository root; needs apt-get (Debian)
"""

from __future__ import annotations

import numpy as np

from bench.calibration import clean_clips
from bench.recordings import cache_dir
from voxhub.audio.analysis import ANALYSIS_RATE, median_pitch_hz, normalise_loudness
from voxhub.audio.gender import CLEAR_MARGIN, pitch_gender, voice_gender
from voxhub.audio.speaker import cosine, speaker_embedding
from voxhub.engines import installed_engines
from voxhub.workers.cloning import BaseVoice, _measure, measure_text
from voxhub.workers.state import init_worker

Signal = np.ndarray  # type: ignore[type-arg]


def english_references() -> list[tuple[str, Signal]]:
    voices = [
        BaseVoice(engine.name, v.key, v.gender, v.language, measure_text("en"))
        for engine in installed_engines(None)
        if engine.name != "espeak"
        for v in engine.voices()
        if v.language == "English"
    ]
    return [(v.gender or "", _measure(v).embedding) for v in voices]


def pitch_moved(samples: Signal, factor: float) -> Signal:
    import pyworld

    x = samples.astype(np.float64)
    f0, times = pyworld.dio(x, ANALYSIS_RATE, frame_period=5.0)
    f0 = pyworld.stonemask(x, f0, times, ANALYSIS_RATE)
    envelope = pyworld.cheaptrick(x, f0, times, ANALYSIS_RATE)
    aperiodicity = pyworld.d4c(x, f0, times, ANALYSIS_RATE)
    out = pyworld.synthesize(f0 * factor, envelope, aperiodicity, ANALYSIS_RATE, 5.0)
    return np.asarray(out[: len(samples)], np.float32)


def main() -> None:
    init_worker(str(cache_dir().parent / "models"))  # base-voice measurements kept there
    references = english_references()
    print(f"references: {[g for g, _ in references]}")
    rows = []
    for clip in clean_clips():
        for label, factor in (("as recorded", 1.0), ("pitch x1.35", 1.35), ("pitch x0.75", 0.75)):
            samples = clip.samples if factor == 1.0 else pitch_moved(clip.samples, factor)
            samples = normalise_loudness(samples)
            pitch = median_pitch_hz(samples)
            embedding = speaker_embedding(samples)
            closest = {g: max(cosine(embedding, e) for gg, e in references if gg == g)
                       for g in ("male", "female")}  # fmt: skip
            rows.append((clip.speaker, clip.gender, label, pitch, closest["male"] -
                         closest["female"], pitch_gender(pitch),
                         voice_gender(embedding, pitch, references)))  # fmt: skip
    print(
        "| speaker | gender | condition | pitch Hz | margin (male - female) | by pitch | "
        "by voice |\n|---|---|---|---|---|---|---|"
    )
    for speaker, gender, label, pitch, margin, by_pitch, by_voice in rows:
        print(
            f"| {speaker} | {gender} | {label} | {pitch:.0f} | {margin:+.3f} | "
            f"{by_pitch} | {by_voice} |"
        )
    print(f"\nmargin {CLEAR_MARGIN}")
    print(
        "| condition | clips | right by pitch alone | right by voice (pitch breaks ties) |\n"
        "|---|---|---|---|"
    )
    for label in ("as recorded", "pitch x1.35", "pitch x0.75"):
        chosen = [r for r in rows if r[2] == label]
        print(
            f"| {label} | {len(chosen)} | {sum(r[5] == r[1] for r in chosen)} | "
            f"{sum(r[6] == r[1] for r in chosen)} |"
        )


if __name__ == "__main__":
    main()
