"""The menu, help and language buttons."""

import logging

from django.utils import translation

from accounts.services import customer_set_language
from botapp import keyboards, texts
from botapp.context import (
    Ctx,
)

log = logging.getLogger(__name__)


log = logging.getLogger(__name__)


def show_menu(ctx: Ctx) -> None:
    ctx.show(texts.menu(ctx.user), keyboards.menu())


def show_help(ctx: Ctx) -> None:
    ctx.show(texts.help_text(), keyboards.back_to_menu())


def show_languages(ctx: Ctx) -> None:
    ctx.show(texts.choose_language(), keyboards.languages())


def set_language(ctx: Ctx, code: str) -> None:
    if code not in ("fa", "en"):
        ctx.answer(texts.invalid_button())
        return
    customer_set_language(user=ctx.user, language=code)
    with translation.override(code):
        ctx.answer(texts.language_set())
        ctx.show(texts.menu(ctx.user), keyboards.menu())
