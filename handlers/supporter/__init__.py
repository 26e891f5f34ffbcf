"""The supporter's routers, one per area."""

from aiogram import Router

from handlers.supporter import actions as actions_handlers
from handlers.supporter import broadcast_notice
from handlers.supporter import cases as cases_handlers
from handlers.supporter import follows as follows_handlers
from handlers.supporter import inaccuracy as inaccuracy_handlers
from handlers.supporter import letter_check as letter_check_handlers
from handlers.supporter import letters as letters_handlers
from handlers.supporter import me as me_handlers
from handlers.supporter import privacy as privacy_handlers
from handlers.supporter import settings as settings_handlers
from handlers.supporter import start as start_handlers


def routers() -> list[Router]:
    """The supporter's routers, in the order they are tried. Reading cases comes early:
    it is what most updates ask (a card opened from a broadcast's button, a search), and
    aiogram visits the routers in turn, each visit costing an update tens of
    microseconds; for the same reason they are not wrapped in a parent router. Free-text
    search is tried last, after every dialog that waits for text."""
    return [
        start_handlers.router(),
        cases_handlers.router(),
        privacy_handlers.router(),
        settings_handlers.router(),
        letters_handlers.router(),
        actions_handlers.router(),
        broadcast_notice.router(),
        me_handlers.router(),
        letter_check_handlers.router(),
        inaccuracy_handlers.router(),
        follows_handlers.router(),
        cases_handlers.search_router(),
    ]
