"""The sandbox page in headless Chromium: start, pick a language, press a button."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import Live

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "artifacts"
CHROMIUM = (
    os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
)


def _skip_reason() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if CHROMIUM is None:
        return "no Chromium on this machine (Debian: apt-get install chromium; .ci/run does it)"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


async def test_sandbox_page_in_a_browser(live: Live):
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = await browser.new_page(viewport={"width": 420, "height": 860})
            await page.goto(live.server.url + "/")
            await page.wait_for_selector("#persona option", state="attached")
            await page.fill("#text", "/start")
            await page.press("#text", "Enter")
            await page.wait_for_selector(".row.in .bubble >> text=Welcome to Umid")

            await page.click(".keys button:has-text('🌐')")
            await page.click(".keys button:has-text('Қазақша')")
            await page.wait_for_function(
                "() => [...document.querySelectorAll('.row.in .bubble')]"
                ".some(b => b.textContent.includes('Umid') && !b.textContent.includes('Welcome'))"
            )
            await page.click(".keys button:has-text('📂')")
            await page.wait_for_selector(".keys button:has-text('🇰🇿')")
            await page.click(".keys button:has-text('🇰🇿')")
            await page.wait_for_selector(".keys button:has-text('⭐')")
            await page.screenshot(path=str(ARTIFACTS / "sandbox-phone.png"))

            await page.set_viewport_size({"width": 1100, "height": 780})
            await page.click("#menu-button")
            await page.wait_for_selector("#menu button >> text=/cases")
            await page.screenshot(path=str(ARTIFACTS / "sandbox-laptop.png"))
        finally:
            await browser.close()
    assert (ARTIFACTS / "sandbox-phone.png").stat().st_size > 10_000
