"""Routers for prisoners' relatives: joining a case, sending reports."""

from aiogram import Router

from handlers.family import join


def router() -> Router:
    """The family side open to everyone: the invitation link and /join (the code is the
    only key), before the supporter's /start. Itself, not wrapped in a router of its
    own: every router an update passes costs it a visit."""
    return join.router()
