from aiogram.methods import SetMyCommands

from bot import commands
from bot.i18n import make_i18n
from tests.support import RecordingSession, make_bot


async def test_commands_registered_in_every_language():
    session = RecordingSession()
    await commands.register(make_bot(session), make_i18n())
    calls = [c for c in session.calls if isinstance(c, SetMyCommands)]
    by_code = {c.language_code: c.commands for c in calls}
    assert set(by_code) == {None, "ru", "kk", "ky", "tg", "tk", "uz"}
    names = {c.command for c in by_code[None]}
    assert {"start", "help", "cases", "case", "follow", "unfollow", "mycases", "letter",
            "settings", "language", "privacy", "forget"} <= names  # fmt: skip
    english = {c.command: c.description for c in by_code[None]}
    for code, cmds in by_code.items():
        if code is not None:
            assert any(c.description != english[c.command] for c in cmds), code
        assert all(0 < len(c.description) <= 256 for c in cmds)


async def test_the_bot_describes_itself_in_every_language():
    """An empty chat shows the bot's description above START, in the person's language."""
    from bot import commands
    from bot.i18n import make_i18n
    from tests.support import RecordingSession, make_bot

    session = RecordingSession()
    await commands.register(make_bot(session), make_i18n())
    emulator = session.emulator
    assert "prisoners of conscience" in emulator.description_for("en")
    russian = emulator.description_for("ru")
    assert russian and "prisoners of conscience" not in russian
    assert emulator.description_for("kk") != emulator.description_for("ru")
