"""Routers for prisoners' relatives: joining a case, sending reports."""

from aiogram import Router

from handlers.family import join


def router() -> Router:
    """The family side; the invitation link and /join are open to everyone (the code is
    the only key), so this goes before the supporter's /start."""
    root = Router(name="family")
    root.include_routers(join.router())
    return root
