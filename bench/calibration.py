"""The calibration set for the clone gates (noise, clipping, a second voice) and for gender.

Real recordings from packages whose licences allow it, fetched into a cache outside the
checkout (``bench/recordings.py`` does the fetching and cites the Asterisk speakers):

- eight human voices reading telephone prompts (Debian's Asterisk prompt packages): Allison
  Smith in English twice — wideband (G.722) and phone-band (GSM, 8 kHz) —, June Wallack, Carlo
  Flora, Maxim Topal's IVR voice, Paola Dal Zot, Armelle Desjardins and July Jiménez (Colombian
  Spanish, ``asterisk-prompt-es-co``, GPL-2, Avatar Ltda.); two clips of each voice (the two
  halves of its prompts), 12 s each;
- four more people (``GATE_VOICES``, from the gender bench's second set, which cites them):
  Tux Paint's Belarusian and Russian readers (44.1 kHz, full-band) and Fish Fillets' Czech
  man and Dutch woman (22.05 kHz), two 12 s clips each;
- a real two-person conversation: ``pyannote/audio/sample/sample.wav`` from the
  ``pyannote-audio`` 4.0.7 wheel (MIT), 30 s, two speakers (its RTTM says who speaks when);
- music for noise: the Asterisk music-on-hold tracks (``asterisk-moh-opsound-g722``,
  CC-BY-SA-3.0, Macroform, Manolo Camp, Reno Project).

Each clean clip is then degraded in known ways: a room (synthetic reverberation, RT60 0.4 s and
0.8 s, with a faint pink-noise floor 35 dB down) — what a careful home recording sounds like —;
white, pink, babble (six other speakers' prompts summed) and music noise mixed at known
signal-to-noise ratios (speech power over the frames the voice-activity model finds in the clean
clip, against the noise's mean power); overdriven (clipped) and normalised to full scale (not
clipped); and joined with another speaker's clip (a second voice).

    python -m bench.calibration            # from the repository root; needs apt-get (Debian)
"""

from __future__ import annotations

import argparse
import math
import random
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.recordings import (
    MORE_VOICES,
    RECORDINGS,
    Recording,
    _decode,
    _joined,
    cache_dir,
    joined_files,
    labelled_files,
)
from voxhub.audio.analysis import (
    ANALYSIS_RATE,
    MAX_CLIPPED,
    MIN_SNR_DB,
    analyse,
    speech_mask,
)
from voxhub.audio.speaker import second_speaker_seconds

RATE = ANALYSIS_RATE
CLIP_SECONDS = 12.0
SNRS = (30, 20, 15, 10, 5)
NOISES = ("white", "pink", "babble", "music")
Signal = Any  # 1-d float32 numpy array at 16 kHz

CALIBRATION = [
    *RECORDINGS,
    Recording("allison-en-phone", "asterisk-core-sounds-en-gsm", "en_US_f_Allison", "en",
              "female", "CC-BY-SA-3.0", "Allison Smith (theivrvoice.com), asterisk-core-sounds"),
    Recording("july-es", "asterisk-prompt-es-co", "es", "es", "female", "GPL-2",
              "July E. Jiménez, Avatar Ltda. (Colombia)"),
]  # fmt: skip
PYANNOTE = "pyannote-audio==4.0.7"
# Four more people for the gates, of the gender bench's second set: Tux Paint's Belarusian and
# Russian readers (44.1 kHz, full-band) and the Fish Fillets' Czech man and Dutch woman.
GATE_VOICES = ("tuxpaint-be", "tuxpaint-ru", "fillets-cs-big", "fillets-nl-small")


@dataclass(frozen=True)
class Clip:
    speaker: str
    gender: str
    half: int
    samples: Signal


def person(clip: Clip) -> str:
    """Who speaks: Allison's wideband and telephone recordings are one person."""
    return clip.speaker.removesuffix("-phone")


def clean_clips(halves: tuple[int, ...] = (0, 1)) -> list[Clip]:
    return [Clip(r.name, r.gender, half, _joined(r, half, CLIP_SECONDS))
            for half in halves for r in CALIBRATION]  # fmt: skip


def more_voices(seconds: float = CLIP_SECONDS, names: tuple[str, ...] = ()) -> list[Clip]:
    """Two clips of each labelled voice (a seeded shuffle of its recordings, halved), one
    where a voice has a single recording; only the ``names`` given, if any."""
    clips = []
    for voice in MORE_VOICES:
        if names and voice.name not in names:
            continue
        files = labelled_files(voice)
        random.Random(voice.name).shuffle(files)
        halves = (files[0::2], files[1::2]) if len(files) > 1 else (files,)
        clips += [Clip(voice.name, voice.gender, half, joined_files(part, seconds))
                  for half, part in enumerate(halves)]  # fmt: skip
    return clips


def gate_clips() -> list[Clip]:
    """The gates' clean clips: the eight Asterisk voices and four of the gender bench's second
    set (two of them full-band), first halves first, so ``--clips 12`` takes one of each."""
    more = more_voices(CLIP_SECONDS, GATE_VOICES)
    return [clip for half in (0, 1)
            for clip in clean_clips((half,)) + [c for c in more if c.half == half]]  # fmt: skip


def conversation() -> Signal:
    """The pyannote sample: two people talking (16 kHz, 30 s)."""
    folder = cache_dir() / "pyannote"
    wav = folder / "sample.wav"
    if not wav.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", PYANNOTE, "-d",
                        str(folder)], check=True, capture_output=True)  # fmt: skip
        wheel = next(folder.glob("pyannote_audio-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            wav.write_bytes(archive.read("pyannote/audio/sample/sample.wav"))
    return _decode(wav)


def music() -> Signal:
    recording = Recording("moh", "asterisk-moh-opsound-g722", "", "", "", "CC-BY-SA-3.0", "")
    from bench.recordings import _unpacked

    folder = _unpacked(recording).parent / "moh"
    tracks = [_decode(path) for path in sorted(folder.glob("*.g722"))]
    return np.concatenate(tracks)


_ACTIVE: dict[int, float] = {}


def active_power(clean: Signal) -> float:
    """Mean power over the frames the voice-activity model marks as speech."""
    key = hash(clean.tobytes())
    if key not in _ACTIVE:
        mask = speech_mask(clean)
        frames = clean[: len(mask) * 512].reshape(-1, 512)[mask]
        _ACTIVE[key] = float(np.mean(np.square(frames)))
    return _ACTIVE[key]


def without_pauses(clean: Signal) -> Signal:
    """Only the windows the voice-activity model marks as speech, joined: read speech with no
    pause at all (as in an audiobook corpus's segmented utterances)."""
    mask = speech_mask(clean)
    return clean[: len(mask) * 512].reshape(-1, 512)[mask].reshape(-1)


def noise_of(kind: str, length: int, rng: np.random.Generator, others: list[Signal],
             tracks: Signal) -> Signal:  # fmt: skip
    if kind == "white":
        return rng.standard_normal(length)
    if kind == "pink":
        spectrum = np.fft.rfft(rng.standard_normal(length))
        spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(length, 1 / RATE), 20.0))
        return np.fft.irfft(spectrum, length)
    if kind == "babble":
        picks = rng.choice(len(others), size=min(6, len(others)), replace=False)
        return np.sum([np.resize(others[i], length) for i in picks], axis=0)
    start = int(rng.integers(0, len(tracks) - length))
    return tracks[start : start + length]


def mixed(clean: Signal, noise: Signal, snr_db: float) -> Signal:
    gain = math.sqrt(active_power(clean) / (np.mean(np.square(noise)) * 10 ** (snr_db / 10)))
    out = clean + gain * noise
    return (out / max(1.0, float(np.abs(out).max()) / 0.95)).astype(np.float32)


def room(clean: Signal, rt60: float, rng: np.random.Generator) -> Signal:
    """Reverberation (an exponentially decaying noise response, the direct sound 6 dB above
    the reverberant, as a microphone at arm's length in a furnished room) and a pink floor
    35 dB down."""
    n = round(rt60 * RATE)
    response = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    response[0] = 2.0 * math.sqrt(float(np.sum(np.square(response[1:]))))  # direct: +6 dB
    size = len(clean) + n
    wet = np.fft.irfft(np.fft.rfft(clean, size) * np.fft.rfft(response, size), size)[: len(clean)]
    wet *= math.sqrt(active_power(clean) / max(active_power(wet.astype(np.float32)), 1e-12))
    return mixed(wet.astype(np.float32), noise_of("pink", len(wet), rng, [], wet), 35)


def clipped(clean: Signal, overdrive_db: float) -> Signal:
    loud = clean / float(np.abs(clean).max()) * 10 ** (overdrive_db / 20)
    return np.clip(loud, -1.0, 1.0).astype(np.float32)


def conditions(clips: list[Clip]) -> Iterator[tuple[str, str, Clip, Signal]]:
    """(group, condition, clip, degraded samples)."""
    rng = np.random.default_rng(16)
    tracks = music()
    for clip in clips:
        others = [c.samples for c in clips if c.speaker != clip.speaker]
        yield "clean", "as recorded", clip, clip.samples
        yield "clean", "full scale (peak 1.0)", clip, clipped(clip.samples, 0)
        for rt60 in (0.4, 0.8):
            yield "clean", f"room RT60 {rt60} s", clip, room(clip.samples, rt60, rng)
        for kind in NOISES:
            for snr in SNRS:
                noise = noise_of(kind, len(clip.samples), rng, others, tracks)
                yield "noise", f"{kind} {snr} dB", clip, mixed(clip.samples, noise, snr)
        joined = without_pauses(clip.samples)
        yield "clean", "no pauses", clip, joined
        yield "clean", "no pauses, room RT60 0.4 s", clip, room(joined, 0.4, rng)
        for snr in (20, 10):
            for kind in ("white", "babble"):
                noise = noise_of(kind, len(joined), rng, others, tracks)
                yield "noise", f"no pauses, {kind} {snr} dB", clip, mixed(joined, noise, snr)
        for overdrive in (3, 6, 12, 20):
            yield "clipping", f"overdriven +{overdrive} dB", clip, clipped(clip.samples, overdrive)


def old_snr_db(samples: Signal, mask: Any) -> float:
    """The estimate before issue 16: median frame RMS of speech over that of non-speech."""
    frames = samples[: len(mask) * 512].reshape(-1, 512)
    energy = np.sqrt(np.mean(np.square(frames), axis=1) + 1e-12)
    signal = float(np.median(energy[mask]))
    pauses = energy[~mask]
    noise = float(np.median(pauses)) if len(pauses) >= 10 else float(np.percentile(energy, 10))
    return float(20 * np.log10(signal / max(noise, 1e-6)))


@dataclass
class Row:
    group: str
    condition: str
    speaker: str
    old_snr: float
    snr: float
    clipped: float
    second: float


def measure(limit: int | None, second: bool) -> list[Row]:
    clips = gate_clips()[:limit] if limit else gate_clips()
    rows = []
    for group, condition, clip, samples in conditions(clips):
        mask = speech_mask(samples)
        report = analyse(samples, mask)
        check_second = second and (group == "clean" or condition.endswith((" 20 dB", " 10 dB")))
        rows.append(Row(group, condition, clip.speaker, old_snr_db(samples, mask), report.snr_db,
                        report.clipped_share,
                        second_speaker_seconds(samples) if check_second else -1.0))  # fmt: skip
        print(".", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return rows


def _span(values: list[float]) -> str:
    return f"{np.median(values):.1f} ({min(values):.1f} – {max(values):.1f})"


def _refused(values: list[float], refuse: Callable[[float], bool]) -> str:
    return f"{sum(refuse(v) for v in values)}/{len(values)}"


def noise_table(rows: list[Row]) -> str:
    lines = ["| condition | clips | old estimate, dB: median (min – max) | old gate refused "
             f"(< 15) | new estimate, dB | new gate refused (< {MIN_SNR_DB:.0f}) |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for condition in dict.fromkeys(r.condition for r in rows if r.group != "clipping"):
        chosen = [r for r in rows if r.condition == condition]
        old, new = [r.old_snr for r in chosen], [r.snr for r in chosen]
        lines.append(f"| {condition} | {len(chosen)} | {_span(old)} | "
                     f"{_refused(old, lambda v: v < 15)} | {_span(new)} | "
                     f"{_refused(new, lambda v: v < MIN_SNR_DB)} |")  # fmt: skip
    return "\n".join(lines)


def clipping_table(rows: list[Row]) -> str:
    lines = [f"| condition | clips | clipped share of speech: median (min – max) | refused "
             f"(> {MAX_CLIPPED:.1%}) |", "|---|---|---|---|"]  # fmt: skip
    chosen = [r for r in rows if r.group == "clipping" or r.group == "clean"]
    for condition in dict.fromkeys(r.condition for r in chosen):
        shares = [r.clipped * 100 for r in chosen if r.condition == condition]
        lines.append(f"| {condition} | {len(shares)} | {_span(shares)} % | "
                     f"{_refused(shares, lambda v: v > MAX_CLIPPED * 100)} |")  # fmt: skip
    return "\n".join(lines)


def second_voice_table(rows: list[Row], clips: list[Clip]) -> str:
    lines = ["| condition | clips | refused as two voices |", "|---|---|---|"]
    for condition in dict.fromkeys(r.condition for r in rows if r.second >= 0):
        seconds = [r.second for r in rows if r.condition == condition and r.second >= 0]
        lines.append(f"| one voice, {condition} | {len(seconds)} | "
                     f"{_refused(seconds, lambda v: v > 0)} |")  # fmt: skip
    firsts = [clip for clip in clips if clip.half == 0]
    pairs = [(a, b) for i, a in enumerate(firsts) for b in firsts[i + 1 :]]
    for title, chosen in (
        ("two voices, one clip each joined (12 s + 12 s)",
         [(a, b) for a, b in pairs if person(a) != person(b)]),
        ("one voice, its wideband and telephone recordings joined",
         [(a, b) for a, b in pairs if person(a) == person(b)]),
    ):  # fmt: skip
        found = [second_speaker_seconds(np.concatenate([a.samples, b.samples])) for a, b in chosen]
        lines.append(f"| {title} | {len(found)} | {_refused(found, lambda v: v > 0)} |")
    talk = second_speaker_seconds(conversation())
    lines.append(f"| a real conversation (pyannote sample, 30 s) | 1 | {int(talk > 0)}/1 |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=None, help="only the first N clean clips")
    parser.add_argument("--no-second-voice", action="store_true")
    args = parser.parse_args()
    rows = measure(args.clips, not args.no_second_voice)
    print("\nSignal-to-noise estimate\n\n" + noise_table(rows))
    print("\nClipping\n\n" + clipping_table(rows))
    if not args.no_second_voice:
        clips = gate_clips()[: args.clips] if args.clips else gate_clips()
        print("\nA second voice\n\n" + second_voice_table(rows, clips))


if __name__ == "__main__":
    main()
