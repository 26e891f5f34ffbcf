"""One way to build a staff dialogue: its steps with a trail, Back, Stop and /cancel
registered once, the "a command is not an answer" rule once, a typed draft, and the role
check on the dialogue's router.

A small helper of our own rather than aiogram-dialog: the dialogues are a few linear
forms whose screens are ordinary messages that the tests (and the e2e tests) read as
Telegram shows them; aiogram-dialog would bring its own windows, callback format and
message handling, and the screens would have to be rewritten around it. Why, in short:
README, "Layout".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar, get_args

from aiogram import F, Router
from aiogram.filters import Command, Filter, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from pydantic import BaseModel

from bot.presentation.buttons import InlineKeyboardBuilder
from handlers.common import show
from handlers.filters import NOT_COMMAND

D = TypeVar("D", bound=BaseModel)
Event = Message | CallbackQuery
# Shows a step's question again (when Back returns to it): the event, the dialogue's
# state, the step, and what aiogram injects into handlers (session, visitor, ...).
StepScreen = Callable[..., Awaitable[None]]

_TRAIL = "_trail"
_DRAFT = "draft"
# How the person's last dialogue ended ({"how": ..., "count": ...}): kept past its end,
# so that a button left on one of its screens can say what really happened.
_ENDED = "_ended"
# Renders an ending, given its count (recipients, say) if it has one.
Ending = Callable[[int | None], str]


def _stopped(_count: int | None) -> str:
    return _("This form was stopped earlier, and nothing was changed then.")


def _saved(_count: int | None) -> str:
    return _("This was already saved. Open it again from the menu to change anything.")


def _unknown(_count: int | None) -> str:
    return _("This form has already ended. Open it again from the menu if you need it.")


STOPPED = "stopped"
SAVED = "saved"


class Dialog(Generic[D]):
    """A staff dialogue: `states` are its steps, `draft` what it collects, `nav` the
    CallbackData factory of its buttons (it must take an `action`), `who` the filter
    every update of the dialogue must pass."""

    def __init__(
        self,
        name: str,
        states: type[StatesGroup],
        draft: type[D],
        nav: type[CallbackData],
        who: Filter,
        *,
        stopped: Callable[[], str] = lambda: _("Stopped. Nothing was changed."),
        after_stop: Callable[[], InlineKeyboardMarkup | None] = lambda: None,
        protect: bool = False,
        endings: dict[str, Ending] | None = None,
    ) -> None:
        self.name = name
        self.actions = frozenset(get_args(nav.model_fields["action"].annotation))
        if not {"back", "stop"} <= self.actions:
            raise TypeError(f'{nav.__name__}.action must take "back" and "stop"')
        self.states = states
        self.draft_type = draft
        self.nav_type = nav
        self.who = who
        self.stopped = stopped
        self.after_stop = after_stop
        # Its screens are protected from forwarding and saving (reports, say).
        self.protect = protect
        # What a stale button of the dialogue says, by how it ended (`finish`).
        self.endings: dict[str, Ending] = {STOPPED: _stopped, SAVED: _saved, **(endings or {})}
        self._screens: dict[str, StepScreen] = {}
        self._messages: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self._callbacks: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []

    # -- the way through -----------------------------------------------------------

    def screen(self, step: State) -> Callable[[StepScreen], StepScreen]:
        """Register how `step` asks its question (shown on the way forward and on Back)."""

        def register(show_step: StepScreen) -> StepScreen:
            assert step.state is not None
            self._screens[step.state] = show_step
            return show_step

        return register

    async def go(
        self,
        event: Event,
        state: FSMContext,
        step: State,
        *,
        round_from: State | None = None,
        **data: Any,
    ) -> None:
        """Move on to `step` and ask its question; Back will return here from there.

        `round_from` ends a round of steps that may be taken again (one per language, say):
        the round's steps, from its first `round_from` on, leave the trail, so Back from
        `step` goes to what came before the rounds and never into an earlier round, whose
        screens would show what the latest round holds."""
        current = await state.get_state()
        trail: list[str] = list((await state.get_data()).get(_TRAIL, []))
        if round_from is not None and round_from.state in trail:
            del trail[trail.index(round_from.state) :]
            while trail and trail[-1] == step.state:
                trail.pop()
        elif current is not None and current != step.state:
            trail.append(current)
        await state.update_data({_TRAIL: trail})
        await state.set_state(step)
        await self._show(event, state, step, data)

    async def begin(
        self,
        event: Event,
        state: FSMContext,
        step: State,
        *,
        draft: D | None = None,
        came_by: Sequence[State] = (),
        **data: Any,
    ) -> None:
        """Start the dialogue afresh at `step`: an empty draft, or `draft` when the way in
        already knows something (the case a step begun from a menu is about); no way
        back, or back through `came_by`, the steps a way in passed over (a relative's
        report made into an update starts with its text written)."""
        ended = (await state.get_data()).get(_ENDED)
        await state.clear()
        if ended is not None:
            await state.update_data({_ENDED: ended})
        if draft is not None:
            await self.keep(state, draft)
        if came_by:
            await state.update_data({_TRAIL: [s.state for s in came_by]})
        await state.set_state(step)
        await self._show(event, state, step, data)

    async def back(self, callback: CallbackQuery, state: FSMContext, **data: Any) -> None:
        """Return to the step before this one; from the first step, stop."""
        trail: list[str] = list((await state.get_data()).get(_TRAIL, []))
        if not trail:
            await self.stop(callback, state)
            return
        previous = trail.pop()
        await state.update_data({_TRAIL: trail})
        step = next(s for s in self.states.__all_states__ if s.state == previous)
        await state.set_state(step)
        await self._show(callback, state, step, data)

    async def rewind(self, event: Event, state: FSMContext, step: State, **data: Any) -> None:
        """Return to `step`, an earlier one on the trail, as if Back were pressed until
        there: a value refused at the end sends the person to the step that asked for it,
        and Back from there still goes the way the dialogue came."""
        trail: list[str] = list((await state.get_data()).get(_TRAIL, []))
        if step.state in trail:
            del trail[trail.index(step.state) :]
        await state.update_data({_TRAIL: trail})
        await state.set_state(step)
        await self._show(event, state, step, data)

    async def finish(self, state: FSMContext, how: str = SAVED, count: int | None = None) -> None:
        """End the dialogue and remember how (one of its `endings`), so that a button left
        on one of its screens says what happened rather than offering to do it again."""
        await state.clear()
        await state.update_data({_ENDED: {"how": how, "count": count}})

    async def stop(self, event: Event, state: FSMContext) -> None:
        """End the dialogue with nothing saved."""
        await self.finish(state, STOPPED)
        if isinstance(event, Message) and self.protect:
            await event.answer(self.stopped(), reply_markup=self.after_stop(), protect_content=True)
            return
        await show(event, self.stopped(), self.after_stop())

    async def can_go_back(self, state: FSMContext) -> bool:
        return bool((await state.get_data()).get(_TRAIL))

    def starts_at(self, step: State) -> Callable[..., Awaitable[None]]:
        """A handler that starts the dialogue afresh at `step`: a command, or a menu's
        button, that is only a way in."""

        async def start(event: Event, state: FSMContext, **data: Any) -> None:
            await self.begin(event, state, step, **data)

        return start

    def goes_to(self, step: State) -> Callable[..., Awaitable[None]]:
        """A handler that moves on to `step`: a button that only leads there. The step's
        screen gets what aiogram gives handlers (session, visitor, ...), as on Back."""

        async def lead(event: Event, state: FSMContext, **data: Any) -> None:
            await self.go(event, state, step, **data)

        return lead

    async def _show(self, event: Event, state: FSMContext, step: State, data: Any) -> None:
        assert step.state is not None
        await self._screens[step.state](event, state, step, **data)

    # -- the draft -----------------------------------------------------------------

    async def draft(self, state: FSMContext) -> D:
        """What the dialogue has collected so far."""
        return self.draft_type.model_validate((await state.get_data()).get(_DRAFT, {}))

    async def keep(self, state: FSMContext, draft: D) -> None:
        await state.update_data({_DRAFT: draft.model_dump(mode="json")})

    # -- screens and registration ----------------------------------------------------

    def nav(
        self,
        *,
        back: bool = True,
        above: InlineKeyboardBuilder | None = None,
        back_to: CallbackData | None = None,
    ) -> InlineKeyboardMarkup:
        """Back and Stop, under the step's own buttons (`above`) if it has any. `back_to`
        is where Back leads from a step begun in a menu: to that menu, not a step back."""
        kb = InlineKeyboardBuilder()
        if above is not None:
            kb.attach(above)
        nav = InlineKeyboardBuilder()
        if back_to is not None:
            nav.button(text=_("« Back"), callback_data=back_to)
        elif back:
            nav.button(text=_("« Back"), callback_data=self._nav("back"))
        nav.button(text=_("✖ Stop"), callback_data=self._nav("stop"))
        nav.adjust(2)
        kb.attach(nav)
        return kb.as_markup()

    def on_message(self, handler: Callable[..., Any], *filters: Any) -> None:
        self._messages.append((handler, filters))

    def on_text(self, step: State, handler: Callable[..., Any], *filters: Any) -> None:
        """`handler` answers `step` with a text that is not a command."""
        self.on_message(handler, step, F.text, NOT_COMMAND, *filters)

    def on_callback(self, handler: Callable[..., Any], *filters: Any) -> None:
        self._callbacks.append((handler, filters))

    def _nav(self, action: str) -> CallbackData:
        return self.nav_type.model_validate({"action": action})

    def on_button(self, action: str, handler: Callable[..., Any], *filters: Any) -> None:
        """`handler` answers a press of the dialogue's button `action`."""
        if action not in self.actions:
            # A button no keyboard can make: a typo, caught when the router is built.
            raise ValueError(f"{self.nav_type.__name__} has no action {action!r}")
        self.on_callback(handler, self.nav_type.filter(F.action == action), *filters)

    def router(self) -> Router:
        """A fresh router for one dispatcher: the role filter on every update, then /cancel,
        Back and Stop, then the dialogue's own handlers in the order they were given."""
        r = Router(name=self.name)
        r.message.filter(self.who)
        r.callback_query.filter(self.who)

        async def back(callback: CallbackQuery, state: FSMContext, **data: Any) -> None:
            await self.back(callback, state, **data)

        async def stop(event: Event, state: FSMContext) -> None:
            await self.stop(event, state)

        r.message.register(stop, Command("cancel"), StateFilter(self.states))
        r.callback_query.register(
            back, self.nav_type.filter(F.action == "back"), StateFilter(self.states)
        )
        # Only inside the dialogue: a Stop left on an older message of a dialogue that has
        # ended must not say "nothing was changed" (it may have been); `ended` says what
        # did happen.
        r.callback_query.register(
            stop, self.nav_type.filter(F.action == "stop"), StateFilter(self.states)
        )
        for handler, filters in self._messages:
            r.message.register(handler, *filters)
        for handler, filters in self._callbacks:
            r.callback_query.register(handler, *filters)
        return r


class _LeftBehind(Filter):
    """A button of one of these dialogues from a screen it has left: the person is in the
    dialogue still, or one of them ended and left word of how. Anything else (a forged
    button, or a staff button of someone who is no longer staff) goes on to the fallback."""

    def __init__(self, group: Sequence[Dialog[Any]], endings: dict[str, Ending]) -> None:
        self.group = group
        self.endings = endings

    async def __call__(self, callback: CallbackQuery, state: FSMContext) -> bool | dict[str, str]:
        current = await state.get_state()
        if any(current in d.states for d in self.group):
            return {
                "story": _(
                    "This is an earlier screen of the form you are filling in: use the latest."
                )
            }
        last = (await state.get_data()).get(_ENDED)
        if not last:
            return False
        render = self.endings.get(str(last.get("how")), _unknown)
        return {"story": render(last.get("count"))}


async def _tell_story(callback: CallbackQuery, story: str) -> None:
    await callback.answer(story, show_alert=True)


def stale_buttons(dialogs: Sequence[Dialog[Any]]) -> Router:
    """One router, included after every other but the fallback: a dialogue's button that
    nothing took comes from an older screen of a dialogue under way, or from one that has
    ended, and says how it ended (published to how many, saved, stopped) instead of the
    fallback's bare "no longer valid". Dialogues may share a button type (the case
    editor's three do), so this cannot live on each dialogue's own router."""
    r = Router(name="dialog-stale-buttons")
    by_nav: dict[type[CallbackData], list[Dialog[Any]]] = {}
    for d in dialogs:
        by_nav.setdefault(d.nav_type, []).append(d)
    for nav, group in by_nav.items():
        endings = {how: render for d in group for how, render in d.endings.items()}
        # The role filter of the dialogues: to anyone else these are forged buttons.
        r.callback_query.register(
            _tell_story, nav.filter(), group[0].who, _LeftBehind(group, endings)
        )
    return r
