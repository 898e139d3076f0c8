"""The public voice catalog: every voice of every installed engine, seeded idempotently."""

from __future__ import annotations

from collections.abc import Iterable

from voxhub.domain import Voice
from voxhub.engines import Engine
from voxhub.ids import public_voice_id
from voxhub.store import Store

__all__ = ["catalog_voices", "sync_catalog"]


def catalog_voices(engines: Iterable[Engine]) -> list[Voice]:
    return [
        Voice(
            voice_id=public_voice_id(v.engine, v.key),
            account_id=None,
            engine=v.engine,
            engine_voice=v.key,
            name=v.name,
            language=v.language,
            gender=v.gender,
            locale=v.locale,
            support_pause=v.support_pause,
            support_locale=v.support_locale,
        )
        for engine in engines
        for v in engine.voices()
    ]


async def sync_catalog(store: Store, engines: Iterable[Engine], synced_at: int) -> int:
    """Make the stored public catalog match the installed engines; return its size.

    ``synced_at`` must grow between calls (microseconds): rows not touched by this call are
    voices no installed engine offers any more, and are dropped.
    """
    voices = catalog_voices(engines)
    await store.sync_public_voices(voices, synced_at)
    return len(voices)
