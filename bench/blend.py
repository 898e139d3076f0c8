"""How far to blend toward the speaker's nearest frames: similarity against intelligibility.

In process (no server), for each of ``bench/clone.py``'s samples: the base voice is chosen as
a clone job chooses it, the ``world`` conversion is prepared as the job prepares it, and the
base voice speaks English sentences that neither the sample nor its measurement text contain,
unconverted and converted at full strength with each ``blend`` weight. Printed per weight:
similarity to the speaker's held-out speech by the pipeline's own encoder and by the two
independent judges (``bench/judges.py``), what the clone job's search sees (the own encoder on
the converted measurement excerpt against the sample), the word error rate (Whisper tiny.en)
and the conversion's real-time factor. The judges also score the speech low-passed to the
sample's band ("in band"): the held-out speech of a telephone or 16 kHz recording has nothing
above its band, where a clone keeps its base voice's highs, and that difference alone lowers
a judge's score of the clone.

    python -m bench.blend [--samples 6] [--sentences 6] [--blends 0,0.2,0.4,0.6]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

from bench.judges import JUDGES
from bench.recordings import RECORDINGS, cache_dir, held_out, sample_wav
from bench.speech import ENGLISH, Recogniser, word_error_rate
from voxhub.audio.analysis import decode_sample, normalise_loudness, resample
from voxhub.audio.conversion import convert, low_pass, speaker_statistics_and_frames
from voxhub.audio.speaker import EMBEDDING_RATE, cosine, speaker_embedding
from voxhub.engines import installed_engines
from voxhub.workers.cloning import (
    _SEARCH_SECONDS,
    BaseVoice,
    _band,
    _base_statistics,
    _measure,
    choose_base,
    measure_text,
    with_mixes,
)
from voxhub.workers.state import init_worker


def english_candidates() -> tuple[BaseVoice, ...]:
    return tuple(
        BaseVoice(engine.name, v.key, v.gender, v.language, measure_text("en"))
        for engine in installed_engines(None)
        if engine.name != "espeak"
        for v in engine.voices()
        if v.language == "English"
    )


def spoken(base: BaseVoice, sentences: list[str]) -> tuple[Any, int]:
    from voxhub.workers.render import engine_named

    engine = engine_named(base.engine)
    pieces = [engine.synthesize(text, base.voice_key, 1.0) for text in sentences]
    rate = pieces[0].sample_rate
    gap = np.zeros(rate // 4, np.float32)
    return np.concatenate([np.concatenate([p.samples, gap]) for p in pieces]), rate


def transcribe(recogniser: Recogniser, samples16: Any) -> str:
    segments, _ = recogniser.model.transcribe(samples16, language="en", beam_size=1)
    return " ".join(segment.text for segment in segments)


def to_wav16(samples: Any, rate: int) -> Any:
    return resample(np.asarray(samples, np.float32), rate, EMBEDDING_RATE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=len(RECORDINGS))
    parser.add_argument("--sentences", type=int, default=6)
    parser.add_argument("--blends", default="0,0.2,0.4,0.6")
    args = parser.parse_args()
    blends = [float(b) for b in args.blends.split(",")]
    init_worker(str(cache_dir().parent / "models"))
    recogniser = Recogniser()
    candidates = with_mixes(english_candidates())  # as a clone job chooses
    sentences = ENGLISH[: args.sentences]
    text = " ".join(sentences)
    results: dict[str, list[dict[str, float]]] = {}
    for recording in RECORDINGS[: args.samples]:
        sample = normalise_loudness(decode_sample(sample_wav(recording)))
        embedding = speaker_embedding(sample)
        base, _ = choose_base(candidates, embedding)
        band = _band(sample)
        source = _base_statistics(base, band)
        rate = source["rate"]
        target, frames = speaker_statistics_and_frames(resample(sample, EMBEDDING_RATE, rate), rate)
        parameters = {"source": source, "target": target, "band_hz": band, "frames": frames}
        held = held_out(recording)
        references = {"own": speaker_embedding(held)}
        references.update({name: judge(held) for name, judge in JUDGES.items()})
        speech, speech_rate = spoken(base, sentences)
        measured = _measure(base)
        excerpt = measured.samples[: _SEARCH_SECONDS * measured.rate]
        variants: list[tuple[str, dict[str, Any] | None]] = [("base voice", None)]
        variants += [(f"world, blend {b:g}", {**parameters, "blend": b}) for b in blends]
        for label, chosen in variants:
            started = time.perf_counter()
            out = speech if chosen is None else convert(speech, speech_rate, chosen)
            rtf = (time.perf_counter() - started) / (len(speech) / speech_rate)
            audio16 = to_wav16(out, speech_rate)
            row = {"own": cosine(speaker_embedding(audio16), references["own"]), "rtf": rtf}
            in_band = low_pass(audio16, EMBEDDING_RATE, band)
            for name, judge in JUDGES.items():
                row[name] = cosine(judge(audio16), references[name])
                row[f"{name} in band"] = cosine(judge(in_band), references[name])
            searched = excerpt if chosen is None else convert(excerpt, measured.rate, chosen)
            row["search"] = cosine(speaker_embedding(to_wav16(searched, measured.rate)), embedding)
            row["wer"] = word_error_rate(text, transcribe(recogniser, audio16))
            results.setdefault(label, []).append(row)
            print(recording.name, base.voice_key, label, {k: round(v, 3) for k, v in row.items()},
                  flush=True)  # fmt: skip
    print("\n| conversion | own encoder | resemblyzer | CAM++ | resemblyzer in band "
          "| CAM++ in band | search score (own, sample) | WER | conversion RTF |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for label, rows in results.items():
        means = {key: statistics.mean(r[key] for r in rows) for key in rows[0]}
        print(f"| {label} | {means['own']:.3f} | {means['resemblyzer']:.3f} | {means['CAM++']:.3f}"
              f" | {means['resemblyzer in band']:.3f} | {means['CAM++ in band']:.3f}"
              f" | {means['search']:.3f} | {means['wer']:.1%} | {means['rtf']:.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
