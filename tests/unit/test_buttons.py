"""The keyboard builder (bot/presentation/buttons.py): the same keyboards as aiogram's
builder, without its copies of every button."""

from __future__ import annotations

from typing import Any

from aiogram.utils import keyboard

from bot.i18n import make_i18n
from bot.presentation import keyboards
from bot.presentation.buttons import InlineKeyboardBuilder

# aiogram's own builder, the model this one must match.
Aiogram = keyboard.InlineKeyboardBuilder  # noqa: TID251


def build(kb: Aiogram) -> Aiogram:
    for n in range(7):
        kb.button(text=f"b{n}", callback_data=f"d{n}")
    kb.adjust(1, 2, 3)
    other = type(kb)()
    other.button(text="tail", url="https://example.org")
    kb.attach(other)
    kb.row(*other.buttons, width=1)
    return kb


def test_it_builds_what_aiogram_builds():
    ours = build(InlineKeyboardBuilder()).as_markup()
    theirs = build(Aiogram()).as_markup()
    assert ours == theirs
    assert [len(row) for row in ours.inline_keyboard] == [1, 2, 3, 1, 1, 1]


def test_a_markup_made_is_not_changed_by_the_builder_after():
    kb = InlineKeyboardBuilder()
    kb.button(text="one", callback_data="1")
    first = kb.as_markup()
    kb.button(text="two", callback_data="2")
    kb.adjust(1)
    assert [[b.text for b in row] for row in first.inline_keyboard] == [["one"]]
    assert [[b.text for b in row] for row in kb.as_markup().inline_keyboard] == [["one"], ["two"]]


def test_a_menu_is_built_once_per_language_and_variant():
    i18n = make_i18n()

    def labels(markup: Any) -> list[str]:
        return [button.text for row in markup.inline_keyboard for button in row]

    with i18n.context():
        with i18n.use_locale("en"):
            english = keyboards.main_menu()
            assert keyboards.main_menu() is english
            relatives = keyboards.main_menu(family=True)
            assert relatives is not english
            assert labels(relatives)[0] == "📨 Send news of your relative"
        with i18n.use_locale("ru"):
            russian = keyboards.main_menu()
            assert russian is not english
            assert labels(russian)[0] == "📂 Смотреть дела"
            assert labels(keyboards.back_to_menu()) == ["« Меню"]
