"""The playground in a real browser, Debian's Chromium driven by Playwright, against ``voxhub
serve``: a key pasted, a sample uploaded and cloned, its preview heard, speech played with its
words highlighted, and not one request leaving the server's origin."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.audio_fixtures import other_speaker
from tests.e2e.conftest import Served
from tests.e2e.test_cli import Serve
from voxhub.ids import public_voice_id

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
JOE = public_voice_id("piper", "en_US-joe-medium")
TEXT = "The quick brown fox jumps over the lazy dog, and then it rests."
STORED_KEY = "voxhub.playground.apiKey"
# Every word the page highlights, in order (observed, not polled: none is missed).
RECORD_HIGHLIGHTS = """() => {
    window.highlighted = [];
    new MutationObserver((changes) => {
        for (const change of changes) {
            if (change.target.classList.contains("current")) {
                window.highlighted.push(change.target.textContent);
            }
        }
    }).observe(document.getElementById("transcript"), {attributes: true, subtree: true,
                                                          attributeFilter: ["class"]});
}"""
WAIT_MS = 600_000  # a clone on a two-core machine busy with other work; waits end on progress


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (.ci/run installs it)")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--autoplay-policy=no-user-gesture-required",
                "--no-sandbox",  # as root
                # a microphone that beeps, allowed without asking
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
            ],
        )
        yield browser
        browser.close()


def _plays(page: Page, selector: str) -> None:
    """The audio element's playback advances (its source's origin: the request log)."""
    page.wait_for_function(
        """selector => {
            const audio = document.querySelector(selector);
            return audio && audio.currentTime > 0.2 && audio.played.length > 0;
        }""",
        arg=selector,
        timeout=60_000,
    )


def test_clone_and_speak_in_the_browser(serve: Serve, tmp_path: Path, chromium: Browser) -> None:
    served: Served = serve(
        "--data-dir", str(tmp_path / "data"), env={"VOXHUB_RENDER_PREVIEWS": "false"}
    )
    key = served.first_key
    assert key is not None
    sample = tmp_path / "my-voice.wav"
    sample.write_bytes(other_speaker(12.0))

    context = chromium.new_context(
        viewport={"width": 1100, "height": 900}, permissions=["microphone"]
    )
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    console: list[str] = []
    page.on(
        "console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None
    )
    try:
        page.goto(served.base_url + "/")
        assert urlsplit(page.url).path == "/playground"

        key_box = page.get_by_role("textbox", name="API key")
        key_box.fill(key)
        key_box.press("Enter")  # the keyboard is enough
        page.get_by_text("The key works.").wait_for()
        assert page.evaluate(f"sessionStorage.getItem('{STORED_KEY}')") == key
        assert page.evaluate(f"localStorage.getItem('{STORED_KEY}')") is None
        page.get_by_label("Language", exact=True).fill("English")
        page.get_by_role("button", name="Show voices").click()
        page.locator("#voice-list li", has_text="Joe").wait_for()

        # a recording of beeps is uploaded (webm from MediaRecorder) and fails, saying why
        page.get_by_label("Voice name").fill("Beeps")
        page.get_by_role("button", name="Record from microphone").click()
        page.get_by_text("Recording…").wait_for()
        page.wait_for_timeout(2000)
        page.get_by_role("button", name="Stop recording").click()
        page.get_by_text(re.compile(r"Sample: recording\.\w+ .*recorded")).wait_for()
        page.get_by_role("button", name="Create clone").click()
        failed = page.get_by_text(re.compile("^The clone failed: No speech was found"))
        failed.wait_for(timeout=WAIT_MS)
        assert failed.get_attribute("role") == "status"

        page.get_by_label("Voice name").fill("Narrator")
        page.get_by_label("Upload an audio file").set_input_files(sample)
        page.get_by_role("button", name="Create clone").click()
        page.get_by_text("“Narrator” is ready").wait_for(timeout=WAIT_MS)
        assert page.locator("#clone-result-meta").inner_text().startswith("English")
        page.locator("#clone-preview").evaluate("audio => audio.play()")
        _plays(page, "#clone-preview")

        # the new clone is the voice chosen for speech
        page.get_by_label("Text", exact=True).fill("Now I speak in my own voice.")
        page.get_by_role("button", name="Speak", exact=True).click()
        page.get_by_text(re.compile(r"s in Narrator")).wait_for(timeout=60_000)
        _plays(page, "#speech-player")
        page.locator(".word.current").first.wait_for(timeout=60_000)  # a clone is timed too
        page.wait_for_function(
            "() => document.getElementById('speech-player').ended", timeout=60_000
        )

        page.get_by_label("Voice", exact=True).select_option(JOE)
        page.get_by_label("Text", exact=True).fill(TEXT)
        page.evaluate(RECORD_HIGHLIGHTS)
        page.get_by_role("button", name="Speak", exact=True).click()
        page.get_by_text(re.compile(r"s in Joe")).wait_for(timeout=60_000)
        _plays(page, "#speech-player")
        page.locator(".word.current").first.wait_for(timeout=60_000)
        page.screenshot(path=tmp_path / "playground.png", full_page=True)
        page.wait_for_function(
            "() => document.getElementById('speech-player').ended", timeout=60_000
        )
        highlighted: list[str] = page.evaluate("window.highlighted")

        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        page.screenshot(path=tmp_path / "playground-phone.png")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        context.close()

    shot = tmp_path / "playground.png"
    assert shot.stat().st_size > 10_000
    server = urlsplit(served.base_url).netloc
    assert requested
    assert {
        urlsplit(url).netloc for url in requested if not url.startswith(("blob:", "data:"))
    } == {server}
    assert console == []  # no error, no refusal by the Content-Security-Policy
    # the words lit up one after another, in the text's order, as the audio played
    words = TEXT.split()
    assert len(set(highlighted)) >= 3, highlighted
    positions = [words.index(word) for word in highlighted]
    assert positions == sorted(positions), highlighted
    assert key not in " ".join(requested)  # sent in a header only
