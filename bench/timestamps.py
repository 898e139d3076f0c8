"""Word timestamps and intelligibility per English voice, sentence by sentence.

Each voice speaks bench/speech.py's ten English sentences through the speech pipeline
(``workers.render``, WAV, no HTTP). Whisper tiny.en transcribes each sentence with its own word
timestamps (cross-attention alignment), which serve as an independent forced alignment: for
every word both name, the difference between the voice's timestamps and Whisper's, at the
start and at the end of the word. Piper's own alignment measured the same way is the yardstick
(Whisper's timing is itself approximate). Also prints the word error rate over the ten
sentences, with bench/speech.py's normalisation.

    python bench/timestamps.py [--voices piper:en_US-joe-medium,kokoro:jf_alpha.en,...] [-n 10]
"""

from __future__ import annotations

import argparse
import difflib
import io
import statistics
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

from bench.speech import ENGLISH, Recogniser, decode_16k, normalise, word_error_rate
from voxhub.engines import VoiceProfile, installed_engines
from voxhub.workers.render import RenderJob, WordTiming, render
from voxhub.workers.script import parse_input

DEFAULT_VOICES = ",".join(
    ["piper:en_US-joe-medium", "espeak:gmw/en-US"]
    + [f"kokoro:{style}.en" for style in ("jf_alpha", "jf_gongitsune", "jf_nezumi")]
    + [f"kokoro:{style}.en" for style in ("jf_tebukuro", "jm_kumo")]
)


def heard_words(recogniser: Recogniser, audio: bytes) -> list[tuple[str, float, float]]:
    segments, _ = recogniser.model.transcribe(
        decode_16k(audio), language="en", beam_size=1, word_timestamps=True
    )
    return [(w.word, w.start, w.end) for s in segments for w in (s.words or [])]


def paired(
    ours: list[WordTiming], heard: list[tuple[str, float, float]]
) -> list[tuple[WordTiming, tuple[str, float, float]]]:
    """Words both name, matched in order by their normalised spelling."""
    mine = [" ".join(normalise(w.word)) for w in ours]
    theirs = [" ".join(normalise(h[0])) for h in heard]
    matcher = difflib.SequenceMatcher(None, mine, theirs, autojunk=False)
    pairs = []
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            if mine[block.a + k]:
                pairs.append((ours[block.a + k], heard[block.b + k]))
    return pairs


def wav_seconds(audio: bytes) -> float:
    with wave.open(io.BytesIO(audio)) as handle:
        return float(handle.getnframes() / handle.getframerate())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--voices", default=DEFAULT_VOICES)
    parser.add_argument("-n", type=int, default=len(ENGLISH), help="sentences (at most 10)")
    args = parser.parse_args()
    recogniser = Recogniser()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        engines = {e.name: e for e in installed_engines(Path(tmp))}
        for pair in args.voices.split(","):
            engine, voice = pair.split(":", 1)
            starts: list[float] = []
            ends: list[float] = []
            outside = 0
            references, transcripts = [], []
            for sentence in ENGLISH[: args.n]:
                job = RenderJob(
                    parse_input(sentence, "text", pauses=True),
                    VoiceProfile(engine, voice),
                    audio_format="wav",
                )
                result = render(job, engines)
                heard = heard_words(recogniser, result.audio)
                references.append(sentence)
                transcripts.append(" ".join(h[0] for h in heard))
                if result.words is None:
                    continue
                duration = wav_seconds(result.audio)
                outside += sum(not 0 <= w.start <= w.end <= duration + 0.001 for w in result.words)
                for word, (_, start, end) in paired(result.words, heard):
                    starts.append(abs(word.start - start))
                    ends.append(abs(word.end - end))
            wer = word_error_rate(" ".join(references), " ".join(transcripts))
            rows.append((engine, voice, wer, starts, ends, outside))
            print(rows[-1][:3], len(starts), file=sys.stderr, flush=True)
    print(
        "| voice | WER | words compared | start error median / mean ms "
        "| end error median / mean ms | within 100 ms (start) |"
    )
    print("|---|---|---|---|---|---|")
    for engine, voice, wer, starts, ends, outside in rows:
        if not starts:
            print(f"| {engine} {voice} | {wer:.1%} | – | no timestamps | | |")
            continue
        near = float(np.mean(np.array(starts) <= 0.1))
        print(
            f"| {engine} {voice} | {wer:.1%} | {len(starts)} "
            f"| {1000 * statistics.median(starts):.0f} / {1000 * statistics.mean(starts):.0f} "
            f"| {1000 * statistics.median(ends):.0f} / {1000 * statistics.mean(ends):.0f} "
            f"| {near:.0%} |" + (f" ({outside} outside the audio)" if outside else "")
        )


if __name__ == "__main__":
    main()
