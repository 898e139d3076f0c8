"""How the second-voice gate's segmentation separates two people, on the calibration set.

For each way of cutting a sample into pieces — the gate's 3 s segments, 1.5 s and 2 s windows
overlapping by half, and the voice-activity model's speech runs between pauses of 0.25 s (cut
into 1–3 s pieces) — the pieces are embedded with voxhub's speaker encoder and split in two
(``two_speaker_split``). Printed per threshold: single voices refused (the clean and 20/10 dB
noise conditions of ``bench/calibration.py``), two joined people caught (27 pairs: Allison's
wideband and telephone recordings are one person, not a pair) and whether the pyannote
conversation is caught. Then the conversation's two speakers, each one's turns (from the
sample's RTTM) embedded whole, against each other and against their own halves: how alike
the encoder finds them whatever the segmentation.

    python -m bench.second_voice          # from the repository root; needs apt-get (Debian)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.calibration import RATE, clean_clips, conditions, conversation, person
from voxhub.audio.analysis import speech_mask
from voxhub.audio.speaker import cosine, segment_embeddings, speaker_embedding, two_speaker_split

Signal = Any
SHARE = 0.2  # the gate's: the smaller group holds at least a fifth of the pieces
THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7)
# (start s, duration s, speaker) from pyannote/audio/sample/sample.rttm
TURNS = ((6.69, 0.43, "A"), (7.55, 0.80, "B"), (8.32, 1.70, "A"), (9.92, 1.11, "B"),
         (10.57, 4.13, "A"), (14.49, 3.43, "B"), (18.05, 3.44, "A"), (18.15, 0.44, "B"),
         (21.78, 6.72, "B"), (27.85, 2.15, "A"))  # fmt: skip
VAD_FRAME = 512  # samples per voice-activity decision


def _embedded(pieces: list[Signal]) -> Any:
    loud = [p for p in pieces if 20 * np.log10(np.sqrt(np.mean(p**2)) + 1e-9) > -40]
    return np.stack([speaker_embedding(p) for p in loud]) if loud else np.zeros((0, 256))


def windows(seconds: float) -> Callable[[Signal], Any]:
    def cut(samples: Signal) -> Any:
        size, hop = round(seconds * RATE), round(seconds * RATE / 2)
        return _embedded([samples[i : i + size] for i in range(0, len(samples) - size + 1, hop)])

    return cut


def speech_runs(samples: Signal) -> Any:
    """Runs of speech between pauses of at least 0.25 s, cut into pieces of 1–3 s."""
    mask = np.concatenate([speech_mask(samples), np.zeros(20, bool)])
    pause_frames = round(0.25 * RATE / VAD_FRAME)
    runs, start, quiet = [], None, 0
    for index, speech in enumerate(mask):
        if speech:
            start = index if start is None else start
            quiet, end = 0, index + 1
        elif start is not None:
            quiet += 1
            if quiet >= pause_frames:
                runs.append(samples[start * VAD_FRAME : end * VAD_FRAME])
                start = None
    pieces = [piece for run in runs
              for piece in np.array_split(run, max(1, -(-len(run) // (3 * RATE))))
              if len(piece) >= RATE]  # fmt: skip
    return _embedded(pieces)


SEGMENTATIONS: dict[str, Callable[[Signal], Any]] = {
    "3 s segments (the gate)": segment_embeddings,
    "1.5 s windows": windows(1.5),
    "2 s windows": windows(2.0),
    "speech runs": speech_runs,
}


def caught(split: tuple[float, float], threshold: float) -> bool:
    return split[0] < threshold and split[1] >= SHARE


def main() -> None:
    clips = clean_clips()
    singles = [samples for group, condition, _, samples in conditions(clips)
               if group == "clean" or (group == "noise" and not condition.startswith("no pauses")
                                       and condition.split()[-2] in ("20", "10"))]  # fmt: skip
    firsts = [clip for clip in clips if clip.half == 0]
    pairs = [np.concatenate([a.samples, b.samples])
             for a, b in itertools.combinations(firsts, 2) if person(a) != person(b)]  # fmt: skip
    talk = conversation()
    print("| segmentation | threshold | single voices refused | joined pairs caught | "
          "conversation (its split) |\n|---|---|---|---|---|")  # fmt: skip
    for name, cut in SEGMENTATIONS.items():
        one = [two_speaker_split(cut(s)) for s in singles]
        two = [two_speaker_split(cut(s)) for s in pairs]
        both = two_speaker_split(cut(talk))
        for threshold in THRESHOLDS:
            refused = sum(caught(split, threshold) for split in one)
            found = sum(caught(split, threshold) for split in two)
            verdict = "caught" if caught(both, threshold) else "missed"
            print(
                f"| {name} | {threshold} | {refused}/{len(one)} | {found}/{len(two)} | "
                f"{verdict} ({both[0]:.3f}) |"
            )
    turns = {who: np.concatenate([talk[round(s * RATE) : round((s + d) * RATE)]
                                  for s, d, w in TURNS if w == who and d > 1])
             for who in ("A", "B")}  # fmt: skip
    print("\n| encoder | speaker A vs B | A's halves | B's halves |\n|---|---|---|---|")
    for name, encoder in _encoders():
        a, b = (encoder(turns[w]) for w in ("A", "B"))
        halves = " | ".join(f"{_halves(turns[w], encoder):.3f}" for w in ("A", "B"))
        print(f"| {name} | {cosine(a, b):.3f} | {halves} |")


def _encoders() -> list[tuple[str, Callable[[Signal], Any]]]:
    """voxhub's own, and the clone bench's two judges where torch is installed."""
    encoders: list[tuple[str, Callable[[Signal], Any]]] = [("voxhub (d-vector)", speaker_embedding)]
    try:
        from bench.judges import campplus, resemblyzer
    except ImportError:
        return encoders
    return [*encoders, ("resemblyzer", resemblyzer), ("CAM++", campplus)]


def _halves(samples: Signal, encoder: Callable[[Signal], Any]) -> float:
    middle = len(samples) // 2
    return cosine(encoder(samples[:middle]), encoder(samples[middle:]))


if __name__ == "__main__":
    main()
