"""The supporter's routers, one per area."""

from aiogram import Router

from handlers.supporter.cases import router as cases_router
from handlers.supporter.follows import router as follows_router
from handlers.supporter.letters import router as letters_router
from handlers.supporter.privacy import router as privacy_router
from handlers.supporter.settings import router as settings_router
from handlers.supporter.start import router as start_router


def router() -> Router:
    """All supporter routers; free-text search (in cases) is tried last."""
    root = Router(name="supporter")
    root.include_routers(
        start_router, privacy_router, settings_router, letters_router, follows_router, cases_router
    )
    return root
