"""The delivery engine's screens: one renderer per kind of delivery, and the broadcast's
progress message. The engine takes them as `Screens`, so it imports no view."""

from __future__ import annotations

from aiogram.utils.i18n import I18n

from bot.crypto import IdentityCipher
from bot.delivery.engine import Screens
from bot.delivery.worker import RendererBySpec
from bot.presentation.alert_views import AlertRenderer
from bot.presentation.broadcast_views import KINDS as BROADCAST_KINDS
from bot.presentation.broadcast_views import BroadcastRenderer, progress_message
from bot.presentation.family_views import KINDS as FAMILY_KINDS
from bot.presentation.family_views import FamilyRenderer
from bot.presentation.prompt_views import KINDS as PROMPT_KINDS
from bot.presentation.prompt_views import PromptRenderer
from bot.storage import Storage
from config import Settings


def delivery_screens(
    storage: Storage, i18n: I18n, settings: Settings, cipher: IdentityCipher
) -> Screens:
    """Every kind of delivery mapped to the renderer that shows it."""
    fallbacks = list(settings.fallback_locales)
    broadcast_renderer = BroadcastRenderer(storage.sessionmaker, i18n, fallbacks)
    family_renderer = FamilyRenderer(storage.sessionmaker, i18n, cipher)
    prompt_renderer = PromptRenderer(storage.sessionmaker, i18n, fallbacks)
    renderer = RendererBySpec(
        AlertRenderer.watching(storage, i18n, fallbacks),
        {
            **{kind: broadcast_renderer for kind in BROADCAST_KINDS},
            **{kind: family_renderer for kind in FAMILY_KINDS},
            **{kind: prompt_renderer for kind in PROMPT_KINDS},
        },
    )
    return Screens(renderer=renderer, progress=progress_message)
