"""Makes docs/playground.png: ``voxhub serve`` with its previews rendered, the playground in
Debian's Chromium, English female voices listed, a clone made, Joe mid-sentence.

Run from the repository root with the test extra installed:
``python -m scripts.playground_screenshot [docs/playground.png]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx
from playwright.sync_api import sync_playwright
from tests.audio_fixtures import other_speaker
from tests.e2e.conftest import start_server

from voxhub.ids import public_voice_id

JOE = public_voice_id("piper", "en_US-joe-medium")
TEXT = "The quick brown fox jumps over the lazy dog, and then it rests in the sun."


def wait_for_previews(base_url: str, key: str) -> None:
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        voices = httpx.get(
            base_url + "/v3/voices?language=English&limit=50", headers={"x-api-key": key}
        ).json()["data"]
        if all(voice["preview_audio_url"] for voice in voices):
            return
        time.sleep(5)


def main(output: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        sample = Path(scratch) / "my-voice.wav"
        sample.write_bytes(other_speaker(12.0))
        served = start_server("--data-dir", str(Path(scratch) / "data"))
        key = served.first_key
        assert key is not None
        try:
            wait_for_previews(served.base_url, key)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    headless=True,
                    args=["--autoplay-policy=no-user-gesture-required", "--no-sandbox"],
                )
                page = browser.new_page(viewport={"width": 1000, "height": 900})
                page.goto(served.base_url + "/")
                page.get_by_role("textbox", name="API key").fill(key)
                page.get_by_role("textbox", name="API key").press("Enter")
                page.get_by_text("The key works.").wait_for()
                page.get_by_label("Language", exact=True).fill("English")
                page.get_by_role("button", name="Show voices").click()
                page.locator("#voice-list li", has_text="Joe").wait_for()
                page.get_by_label("Gender", exact=True).select_option("female")
                page.get_by_role("button", name="Show voices").click()
                page.locator("#voice-list li", has_text="Nezumi").wait_for()
                page.get_by_label("Voice name").fill("Narrator")
                page.get_by_label("Upload an audio file").set_input_files(sample)
                page.get_by_role("button", name="Create clone").click()
                page.get_by_text("“Narrator” is ready").wait_for(timeout=600_000)
                page.get_by_label("Voice", exact=True).select_option(JOE)
                page.get_by_label("Text", exact=True).fill(TEXT)
                page.get_by_role("button", name="Speak", exact=True).click()
                page.wait_for_function(
                    "() => document.querySelectorAll('.word.current')[0]?.textContent === 'jumps'",
                    timeout=60_000,
                    polling=10,
                )
                page.screenshot(path=output, full_page=True)
                browser.close()
        finally:
            served.stop()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/playground.png")
