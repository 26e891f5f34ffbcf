"""The sandbox page in headless Chromium: START, multi-line and bold messages, a photo, the
letter PDF, a language change the persona selector follows, buttons."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.emulator import EmulatedMessage
from bot.emulator.page import PERSONAS
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


def _png(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (320, 200), "#2b83c6").save(path, "PNG")
    return path


def _sent(live: Live, user_id: int) -> EmulatedMessage:
    """The persona's newest message, as the emulator holds it (and gave it to the bot)."""
    mine = [m for m in live.emulator.messages(live.emulator.users[user_id]) if not m.from_bot]
    return mine[-1]


async def test_sandbox_page_in_a_browser(live: Live, tmp_path: Path):
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    supporter = next(p for p in PERSONAS if p.key == "supporter-en")
    # What an operator sets with BotFather's /setdescription (the bot sets none itself).
    await live.emulator.call("setMyDescription", {"description": "Letters for the jailed."})
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

            # An empty chat: the bot's description and START, no composer, as in Telegram.
            await page.wait_for_selector("#start", state="visible")
            await page.wait_for_selector("#intro >> text=Letters for the jailed.")
            assert not await page.is_visible("#composer")
            await page.screenshot(path=str(ARTIFACTS / "sandbox-empty.png"))
            await page.click("#start")
            await page.wait_for_selector(".row.in .bubble >> text=Welcome to Umid")
            await page.wait_for_selector("#text", state="visible")
            assert not await page.is_visible("#start")
            assert _sent(live, supporter.user_id).text == "/start"

            # Shift+Enter starts a new line; Enter sends both lines as one message.
            await page.fill("#text", "Line one")
            await page.press("#text", "Shift+Enter")
            await page.type("#text", "line two")
            assert await page.input_value("#text") == "Line one\nline two"
            await page.press("#text", "Enter")
            await page.wait_for_selector(".row.out .bubble >> text=line two")
            assert _sent(live, supporter.user_id).text == "Line one\nline two"
            assert await page.input_value("#text") == ""

            # Ctrl+B makes the selection bold: a preview shows it, the bot gets an entity
            # counted in UTF-16 (the emoji takes two).
            await page.fill("#text", "Привет 👋 мир")
            await page.eval_on_selector("#text", "t => t.setSelectionRange(10, 13)")
            await page.press("#text", "Control+b")
            await page.wait_for_selector("#preview b >> text=мир")
            await page.screenshot(path=str(ARTIFACTS / "sandbox-bold.png"))
            await page.press("#text", "Enter")
            await page.wait_for_selector(".row.out .bubble b >> text=мир")
            bold = _sent(live, supporter.user_id)
            assert bold.text == "Привет 👋 мир"
            assert bold.entities == [{"type": "bold", "offset": 10, "length": 3}]

            # A picture from the paperclip goes as a photo, the composer's text its caption.
            await page.fill("#text", "A photo of the parcel")
            await page.set_input_files("#file", str(_png(tmp_path / "parcel.png")))
            await page.wait_for_function(
                "() => [...document.querySelectorAll('.row.out img.photo')]"
                ".some(i => i.complete && i.naturalWidth === 320)"
            )
            await page.screenshot(path=str(ARTIFACTS / "sandbox-photo.png"))
            photo = _sent(live, supporter.user_id)
            assert photo.kind == "photo" and photo.text == "A photo of the parcel"
            assert photo.media is not None and photo.media["photo"][-1]["width"] == 320

            # The printable letter: a document bubble that opens the PDF.
            await page.fill("#text", "/letter Tadzhimuratov")
            await page.press("#text", "Enter")
            await page.click(".keys button:has-text('📜')")
            await page.click(".keys button:has-text('🖨')")
            link = await page.wait_for_selector("a.document:has-text('letter.pdf')")
            assert link is not None
            served = await page.evaluate(
                "async (url) => { const r = await fetch(url); "
                "return [r.status, r.headers.get('content-type'), (await r.text()).slice(0, 5)]; }",
                await link.get_attribute("href"),
            )
            assert served == [200, "application/pdf", "%PDF-"]
            await page.screenshot(path=str(ARTIFACTS / "sandbox-document.png"))

            # /language, Қазақша: the persona selector names the language now spoken.
            await page.fill("#text", "/language")
            await page.press("#text", "Enter")
            await page.click(".keys button:has-text('Қазақша')")
            await page.wait_for_function(
                "() => document.querySelector('#persona').selectedOptions[0]"
                ".textContent === 'Supporter · Қазақша'"
            )
            # The newest message's buttons: the first welcome has a 📂 of its own.
            newest = "#chat > .row:last-child .keys button"
            await page.click(f"{newest}:has-text('📂')")
            await page.click(f"{newest}:has-text('🇰🇿')")
            await page.wait_for_selector(f"{newest}:has-text('⭐')")
            await page.screenshot(path=str(ARTIFACTS / "sandbox-phone.png"))

            await page.set_viewport_size({"width": 1100, "height": 780})
            await page.click("#menu-button")
            await page.wait_for_selector("#menu button >> text=/cases")
            await page.screenshot(path=str(ARTIFACTS / "sandbox-laptop.png"))
        finally:
            await browser.close()
    assert (ARTIFACTS / "sandbox-phone.png").stat().st_size > 10_000
