"""Human voice recordings for the clone benchmark, from Debian packages whose licence allows it.

Each speaker is a professional voice talent who recorded the prompts of the Asterisk telephone
system; Debian ships them as packages. ``apt-get download`` fetches a package (the registry is
the only network used), ``dpkg-deb -x`` unpacks it into a cache directory outside the checkout,
and the prompts are decoded with PyAV at 16 kHz. A sample is a seeded shuffle of one half of a
speaker's prompts joined with short gaps; the other half is kept apart as the held-out reference
that similarity is scored against, so a clone is never judged on the very audio it was made from.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import tarfile
import urllib.request
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

__all__ = [
    "MORE_VOICES",
    "RECORDINGS",
    "LabelledVoice",
    "Recording",
    "debian_package",
    "held_out",
    "joined_files",
    "labelled_files",
    "pypi_sdist",
    "sample_wav",
]

RATE = 16000
GAP_SECONDS = 0.35


@dataclass(frozen=True)
class Recording:
    name: str
    package: str
    folder: str  # under usr/share/asterisk/sounds/
    language: str
    gender: str
    licence: str
    credit: str


RECORDINGS = [
    Recording("allison-en", "asterisk-core-sounds-en-g722", "en_US_f_Allison", "en", "female",
              "CC-BY-SA-3.0", "Allison Smith (theivrvoice.com), asterisk-core-sounds 1.6.1"),
    Recording("june-fr", "asterisk-core-sounds-fr-g722", "fr_CA_f_June", "fr", "female",
              "CC-BY-SA-3.0", "June Wallack (junewallack.com), asterisk-core-sounds 1.6.1"),
    Recording("carlo-it", "asterisk-core-sounds-it-g722", "it_IT_m_Carlo", "it", "male",
              "CC-BY-3.0", "Carlo Flora (carloflora.com), asterisk-core-sounds 1.6.1"),
    Recording("ivrvoice-ru", "asterisk-core-sounds-ru-g722", "ru_RU_f_IvrvoiceRU", "ru",
              "female", "CC-BY-3.0", "Maxim Topal (ivrvoice.ru), asterisk-core-sounds 1.6.1"),
    Recording("paola-it", "asterisk-prompt-it-menardi-wav", "it_IT_f_Menardi", "it", "female",
              "CC-BY-SA-3.0", "Marco Menardi and Paola Dal Zot (voip.ammdomus.it)"),
    Recording("armelle-fr", "asterisk-prompt-fr-armelle", "fr", "fr", "female",
              "BSD-style (see the package's copyright file)",
              "Armelle Desjardins, (C) 2006 Michel Gutierrez"),
]  # fmt: skip


def cache_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return root / "voxhub-bench" / "recordings"


def debian_package(package: str) -> Path:
    """A Debian package's files (its root), fetched with ``apt-get download`` and unpacked into
    the cache once."""
    target = cache_dir() / package
    if not target.exists():
        downloads = cache_dir() / "debs"
        downloads.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", package], cwd=downloads, check=True,
                       capture_output=True)  # fmt: skip
        deb = next(downloads.glob(f"{package}_*.deb"))
        partial = target.with_suffix(".partial")
        subprocess.run(["dpkg-deb", "-x", str(deb), str(partial)], check=True)
        partial.rename(target)
    return target


def pypi_sdist(name: str, version: str) -> Path:
    """A PyPI source distribution (``.tar.gz``), fetched once into the cache from the simple
    index (``PIP_INDEX_URL``, else PyPI's) without building anything: ``pip download`` of an
    sdist prepares its metadata, which for some means compiling the package."""
    filename = f"{name.replace('-', '_')}-{version}.tar.gz"
    target = cache_dir() / "sdists" / filename
    if not target.exists():
        request = urllib.request.Request(
            f"{os.environ.get('PIP_INDEX_URL', 'https://pypi.org/simple').rstrip('/')}/{name}/",
            headers={"Accept": "application/vnd.pypi.simple.v1+json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            files = json.load(response)["files"]
        url = next(f["url"] for f in files if f["filename"].lower() == filename.lower())
        target.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(url, timeout=300) as response:
            target.with_suffix(".partial").write_bytes(response.read())
        target.with_suffix(".partial").rename(target)
    return target


def _unpacked(recording: Recording) -> Path:
    return debian_package(recording.package) / "usr/share/asterisk/sounds" / recording.folder


def _decode(path: Path) -> np.ndarray:  # type: ignore[type-arg]
    fmt = "g722" if path.suffix == ".g722" else None
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    chunks = []
    with av.open(str(path), format=fmt) as container:
        for frame in container.decode(audio=0):
            chunks += [f.to_ndarray()[0] for f in resampler.resample(frame)]
    chunks += [f.to_ndarray()[0] for f in resampler.resample(None)]
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


def _prompts(recording: Recording, half: int) -> list[Path]:
    files = sorted(p for p in _unpacked(recording).glob("*.*") if p.is_file())
    random.Random(recording.name).shuffle(files)
    return files[half::2]


def _joined(recording: Recording, half: int, seconds: float) -> np.ndarray:  # type: ignore[type-arg]
    return joined_files(_prompts(recording, half), seconds, GAP_SECONDS)


def _wav(samples: np.ndarray) -> bytes:  # type: ignore[type-arg]
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return out.getvalue()


def sample_wav(recording: Recording, seconds: float = 30.0) -> bytes:
    """The sample to clone from: a WAV of ``seconds`` of the speaker's prompts."""
    return _wav(_joined(recording, 0, seconds))


def held_out(recording: Recording, seconds: float = 30.0) -> np.ndarray:  # type: ignore[type-arg]
    """Other prompts of the same speaker (16 kHz float), never part of the sample."""
    return _joined(recording, 1, seconds)


@dataclass(frozen=True)
class LabelledVoice:
    """A speaker whose sex their package's own text says (the gender bench's second set)."""

    name: str
    gender: str
    package: str  # Debian package, or "name==version" of a PyPI source distribution
    pattern: str  # glob of the speaker's recordings under the package's files


_FILLETS = "usr/share/games/fillets-ng/sound/**/{}/*-{}-*.ogg"
_TUXPAINT = "usr/share/tuxpaint/stamps/**/*_desc_{}.ogg"
MORE_VOICES = [
    *(LabelledVoice(f"fillets-{lang}-{fish}", gender, f"fillets-ng-data-{lang}",
                    _FILLETS.format(lang, letter))
      for lang in ("cs", "nl")
      for fish, gender, letter in (("small", "female", "m"), ("big", "male", "v"))),
    *(LabelledVoice(f"tuxpaint-{lang}", gender, "tuxpaint-stamps-default", _TUXPAINT.format(lang))
      for lang, gender in (("es", "female"), ("ro", "female"), ("be", "female"), ("el", "female"),
                           ("ru", "male"), ("bg", "male"), ("ca", "male"), ("fr", "male"),
                           ("da", "male"))),
    LabelledVoice("jfk", "male", "pywhispercpp==1.5.1", "*/whisper.cpp/samples/jfk.wav"),
]  # fmt: skip


def labelled_files(voice: LabelledVoice) -> list[Path]:
    if "==" not in voice.package:
        return sorted(debian_package(voice.package).glob(voice.pattern))
    name, version = voice.package.split("==")
    folder = cache_dir() / "sdists" / f"{name}-{version}"
    if not folder.exists():
        with tarfile.open(pypi_sdist(name, version)) as tar:
            members = [m for m in tar.getmembers() if Path(m.name).match(voice.pattern)]
            tar.extractall(folder.with_suffix(".partial"), members, filter="data")
        folder.with_suffix(".partial").rename(folder)
    return sorted(folder.glob(voice.pattern))


def joined_files(files: list[Path], seconds: float, gap_seconds: float = 0.25) -> np.ndarray:  # type: ignore[type-arg]
    """The first ``seconds`` of the files (each at least 0.5 s) joined with short gaps."""
    gap = np.zeros(round(gap_seconds * RATE), np.float32)
    parts: list[np.ndarray] = []  # type: ignore[type-arg]
    total = 0
    for path in files:
        audio = _decode(path)
        if len(audio) < RATE // 2:
            continue
        parts += [audio, gap]
        total += len(audio) + len(gap)
        if total >= seconds * RATE:
            break
    return np.concatenate(parts)[: round(seconds * RATE)]
