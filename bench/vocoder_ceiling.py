"""What the WORLD vocoder alone costs a voice: the ceiling of any conversion voxhub makes with it.

Each bench speaker's 30 s sample is analysed and resynthesised by WORLD with its own
parameters — once with the full spectral envelope, once through the 40 coded coefficients the
``world`` conversion works on — and scored against the speaker's held-out speech by voxhub's own
encoder and the clone bench's two judges, beside the sample itself. A clone can come no closer
to the speaker than its own voice through the same vocoder, so the gap between "WORLD" and a
clone's score is the conversion's, and the gap between "original" and "WORLD" is what a neural
vocoder could at most win back.

    python -m bench.vocoder_ceiling       # from the repository root, with voxhub[bench] and torch
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

import numpy as np
import pyworld

from bench.judges import campplus, resemblyzer
from bench.recordings import RECORDINGS, _joined, held_out
from voxhub.audio.conversion import CODED_DIMENSIONS, FRAME_MS
from voxhub.audio.speaker import cosine, speaker_embedding

RATE = 16000
JUDGES: dict[str, Callable[[Any], Any]] = {
    "own encoder": speaker_embedding,
    "resemblyzer": resemblyzer,
    "CAM++": campplus,
}
VARIANTS = ("original", "WORLD", "WORLD, 40 coded coefficients")


def resynthesised(samples: Any, *, coded: bool) -> Any:
    """WORLD analysis and synthesis, as the ``world`` conversion runs them (DIO, StoneMask,
    CheapTrick, D4C at its frame period), with nothing changed."""
    x = samples.astype(np.float64)
    f0, times = pyworld.dio(x, RATE, frame_period=FRAME_MS)
    f0 = pyworld.stonemask(x, f0, times, RATE)
    envelope = pyworld.cheaptrick(x, f0, times, RATE)
    aperiodicity = pyworld.d4c(x, f0, times, RATE)
    if coded:
        code = pyworld.code_spectral_envelope(envelope, RATE, CODED_DIMENSIONS)
        size = pyworld.get_cheaptrick_fft_size(RATE)
        envelope = pyworld.decode_spectral_envelope(np.ascontiguousarray(code), RATE, size)
    return pyworld.synthesize(f0, envelope, aperiodicity, RATE, FRAME_MS).astype(np.float32)


def variants(sample: Any) -> dict[str, Any]:
    return {
        "original": sample,
        "WORLD": resynthesised(sample, coded=False),
        "WORLD, 40 coded coefficients": resynthesised(sample, coded=True),
    }


def main() -> None:
    scores: dict[tuple[str, str], list[float]] = {}
    print("| speaker | judge | " + " | ".join(VARIANTS) + " |")
    print("|---|---|" + "---|" * len(VARIANTS))
    for recording in RECORDINGS:
        heard = variants(_joined(recording, 0, 30.0).astype(np.float32))  # the clone sample
        held = held_out(recording).astype(np.float32)
        for name, judge in JUDGES.items():
            target = judge(held)
            row = [cosine(judge(heard[v]), target) for v in VARIANTS]
            for variant, score in zip(VARIANTS, row, strict=True):
                scores.setdefault((name, variant), []).append(score)
            print(f"| {recording.name} | {name} | " + " | ".join(f"{s:.3f}" for s in row) + " |")
    print("\n| judge | " + " | ".join(f"mean: {v}" for v in VARIANTS) + " |")
    print("|---|" + "---|" * len(VARIANTS))
    for name in JUDGES:
        means = [statistics.mean(scores[(name, v)]) for v in VARIANTS]
        print(f"| {name} | " + " | ".join(f"{m:.3f}" for m in means) + " |")


if __name__ == "__main__":
    main()
