"""An operator's voice converter, installed as a package with a ``voxhub.converters`` entry
point and weights on local disk, is found by a worker, tried at a clone, kept when it brings
the voice closer to the speaker, and speaks the clone's preview.

The package is real as far as Python can tell: a module and a ``.dist-info`` folder with its
entry points on the path, found by ``importlib.metadata``. Its model is one the test builds:
a recording of the speaker kept in the model directory, played back at the base voice's length
(a converter that could not be closer to the speaker, so the choice is certain)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.audio_fixtures import other_speaker
from voxhub.audio.analysis import decode_sample
from voxhub.engines.converters import installed_converters
from voxhub.workers.cloning import BaseVoice, CloneJob, process_clone
from voxhub.workers.state import init_worker

MODULE = """
from pathlib import Path

import numpy as np


class SpeakerPlayback:
    name = "speaker-playback"

    def __init__(self, voice, rate):
        self._voice, self._rate = voice, rate

    def prepare(self, reference, base, rate):
        return {"gain": 0.5}

    def convert(self, samples, rate, parameters):
        positions = np.arange(len(samples)) * self._rate / rate
        voice = np.interp(positions % len(self._voice), np.arange(len(self._voice)), self._voice)
        return (voice * parameters["gain"]).astype(np.float32)


def make(model_dir):
    weights = np.load(Path(model_dir) / "speaker-playback" / "weights.npz")
    return SpeakerPlayback(weights["voice"], int(weights["rate"]))
"""


@pytest.fixture
def operator_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site"
    info = site / "speaker_playback-0.1.dist-info"
    info.mkdir(parents=True)
    (site / "speaker_playback.py").write_text(MODULE)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: speaker-playback\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[voxhub.converters]\nspeaker-playback = speaker_playback:make\n"
    )
    monkeypatch.syspath_prepend(str(site))
    models = tmp_path / "models"
    (models / "speaker-playback").mkdir(parents=True)
    voice = decode_sample(other_speaker(20.0))
    np.savez(models / "speaker-playback" / "weights.npz", voice=voice, rate=16000)
    yield models
    monkeypatch.undo()
    init_worker(None)  # the next test's worker has no plug-ins


def test_the_operators_converter_is_found_with_its_weights(operator_package: Path) -> None:
    (converter,) = installed_converters(operator_package)
    assert converter.name == "speaker-playback"
    out = converter.convert(np.zeros(22050, np.float32), 22050, {"gain": 0.5})
    assert len(out) == 22050
    assert np.abs(out).max() > 0.01  # its weights were read from disk


def test_a_clone_keeps_the_converter_that_comes_closest(operator_package: Path) -> None:
    init_worker(str(operator_package))
    joe = BaseVoice("piper", "en_US-joe-medium", "male", "English")
    outcome = process_clone(CloneJob(other_speaker(25.0), (joe,), "Hello there."))
    assert outcome.failure is None
    assert outcome.preview
    profile = json.loads(outcome.profile or "{}")
    assert profile["transform"] == "speaker-playback"
    assert profile["parameters"] == {"gain": 0.5}
    assert profile["similarity"] > profile["base_similarity"]
