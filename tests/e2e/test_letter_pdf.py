"""The printable letter over real HTTP: aiogram uploads the PDF as a multipart file, as it
would to Telegram, and the person receives it protected."""

from __future__ import annotations

from tests.e2e.conftest import Live


async def test_printable_appeal_arrives_as_a_protected_document(live: Live):
    emu = live.emulator
    user = emu.add_user("en")
    await emu.send_text(user, "/letter Tadzhimuratov")
    await emu.next_message(user)
    await emu.press(user, "📜")
    await emu.next_message(user)
    await emu.press(user, "🖨")
    document = await emu.next_message(user, timeout=15)
    assert document.kind == "document" and not document.protect_content
    assert "envelope" in document.text
