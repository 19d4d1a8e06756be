"""Renewals and add-ons in the bot, and the lifecycle's messages to customers.

Renew (from an account's page or a reminder's button) → a renewal plan → the same order
summary and payment buttons as a purchase (wallet or receipt, handled by
botapp.handlers and billing.services); extra traffic or days the same way. The paid
order is applied by panels.provisioning → panels.lifecycle, and ``after_apply`` tells
the customer. Reminders, clean-up notices and a regenerated link go out from here too,
always through botapp.telegram's wrapper.

Handlers take botapp.context.Ctx. The messages after an applied order and a new link
are sent by botapp.notify.
"""

from html import escape

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from telebot.types import InlineKeyboardButton, InlineKeyboardMarkup

from billing import services as billing
from billing.models import AddOn, Order
from billing.selectors import plans_for_panel
from botapp import keyboards, texts
from botapp import telegram as tg
from botapp.callbacks import encode
from botapp.context import own_account
from botapp.texts import BTN_ADDONS, BTN_MY_SERVICE, BTN_RENEW  # noqa: F401 - named here too
from moonvpn.formatting import format_bytes
from panels.models import AccountReminder, ClientAccount

# --- what can be bought for an account -----------------------------------------------


def renewable(account: ClientAccount) -> bool:
    return account.status != ClientAccount.Status.DELETED


def renewal_plans(account: ClientAccount):
    """Plans on sale that this account's panel may carry (empty plan.panels: any)."""
    return plans_for_panel(account.panel_id)


def addons_for(account: ClientAccount):
    """Active add-ons that make sense for the account: no GB for unlimited traffic, no
    days for an account that never expires, no GB for one that has run out of time."""
    addons = AddOn.objects.filter(is_active=True)
    expired = account.expires_at is not None and account.expires_at <= timezone.now()
    if not account.traffic_limit_bytes or expired:
        addons = addons.exclude(kind=AddOn.Kind.TRAFFIC)
    if account.expires_at is None:
        addons = addons.exclude(kind=AddOn.Kind.DAYS)
    return addons


# --- texts -------------------------------------------------------------------------------


def _label(account: ClientAccount) -> str:
    return escape(f"{account.panel.location_label} · {account.inbound.label}")


def choose_renewal_plan(account) -> str:
    return texts.lines(
        _("🔄 <b>Renew</b> %(account)s") % {"account": _label(account)},
        _("Your link stays the same. Choose a plan:"),
    )


def no_renewal_plans() -> str:
    return _("No renewal plan is on sale right now. Please try again later.")


def choose_addon(account) -> str:
    return texts.lines(
        _("➕ <b>Extra traffic or days</b> for %(account)s") % {"account": _label(account)},
        _("Choose one:"),
    )


def no_addons() -> str:
    return _("Nothing can be added to this service right now.")


def addon_button(addon: AddOn) -> str:
    what = (
        texts.days(addon.amount)
        if addon.kind == AddOn.Kind.DAYS
        else texts.traffic(addon.traffic_bytes)
    )
    return f"{addon.name} · {what} · {texts.money(addon.price)}"


def order_summary(order: Order, balance: int) -> str:
    account = order.renews
    if order.kind == Order.Kind.RENEW:
        what = [
            _("🧾 <b>Renewal, order %(order)s</b>") % {"order": texts.order_ref(order)},
            _("Service: %(account)s") % {"account": _label(account)},
            _("Plan: %(plan)s") % {"plan": escape(order.plan.name)},
            _("Adds: %(days)s and %(traffic)s")
            % {
                "days": texts.days(order.plan.duration_days),
                "traffic": texts.traffic(order.plan.traffic_bytes),
            },
        ]
    else:
        what = [
            _("🧾 <b>Add-on, order %(order)s</b>") % {"order": texts.order_ref(order)},
            _("Service: %(account)s") % {"account": _label(account)},
            _("Adds: %(addon)s") % {"addon": escape(addon_button(order.addon))},
        ]
    return texts.lines(
        *what,
        texts.price_line(order),
        texts.discount_line(order),
        _("Your wallet: %(balance)s") % {"balance": texts.money(balance)},
        None
        if balance >= order.amount
        else "\n" + _("Your wallet is not enough for this order: top it up or pay by card."),
    )


def applied(account: ClientAccount, order: Order) -> str:
    title = (
        _("✅ <b>Your service was renewed.</b>")
        if order.kind == Order.Kind.RENEW
        else _("✅ <b>Your add-on was applied.</b>")
    )
    parts = [
        title,
        _("Service: %(account)s") % {"account": _label(account)},
        _("Traffic: %(traffic)s") % {"traffic": texts.traffic(account.traffic_limit_bytes)},
    ]
    if account.expires_at:
        parts.append(_("Expires: %(date)s") % {"date": texts.date(account.expires_at)})
    parts += ["", _("Your config link has not changed.")]
    return texts.lines(*parts)


def reminder_text(account: ClientAccount, kind: str, threshold: int) -> str:
    if kind == AccountReminder.Kind.EXPIRY:
        head = _("⏳ Your service %(account)s expires in less than %(days)s, on %(date)s.") % {
            "account": _label(account),
            "days": texts.days(threshold),
            "date": texts.date(account.expires_at),
        }
    else:
        head = _(
            "📊 You have used %(percent)s%% of the traffic of %(account)s (%(used)s of %(total)s)."
        ) % {
            "percent": texts.num(threshold),
            "account": _label(account),
            "used": format_bytes(account.used_bytes, texts.lang()),
            "total": texts.traffic(account.traffic_limit_bytes),
        }
    return texts.lines(head, _("Renew now to keep it running; your link stays the same."))


def cleanup_text(account: ClientAccount) -> str:
    return texts.lines(
        _("🗑 Your service %(account)s expired on %(date)s and will be deleted tomorrow.")
        % {"account": _label(account), "date": texts.date(account.expires_at)},
        _("Renew it today to keep it and its link."),
    )


def new_link_text() -> str:
    return _(
        "🔑 Your service was given a new link. The old one no longer works: use the config below."
    )


# --- keyboards --------------------------------------------------------------------------


def _button(text, action: str, *args) -> InlineKeyboardButton:
    return InlineKeyboardButton(str(text), callback_data=encode(action, *args))


def _markup(rows) -> InlineKeyboardMarkup:
    markup = InlineKeyboardMarkup()
    for row in rows:
        markup.row(*row)
    return markup


def _plans_keyboard(account, plans) -> InlineKeyboardMarkup:
    rows = [[_button(texts.plan_button(p), "renew_plan", account.pk, p.pk)] for p in plans]
    rows.append([_button(texts.BTN_BACK, "account", account.pk)])
    return _markup(rows)


def _addons_keyboard(account, addons) -> InlineKeyboardMarkup:
    rows = [[_button(addon_button(a), "addon", account.pk, a.pk)] for a in addons]
    rows.append([_button(texts.BTN_BACK, "account", account.pk)])
    return _markup(rows)


# --- handlers ---------------------------------------------------------------------------


def _account(ctx, account_id: int) -> ClientAccount | None:
    account = own_account(ctx, account_id)
    if account is not None and not renewable(account):
        ctx.answer(_("This service was deleted; buy a new one from the menu."), alert=True)
        return None
    return account


def show_renewal_plans(ctx, account_id: int) -> None:
    account = _account(ctx, account_id)
    if account is None:
        return
    plans = list(renewal_plans(account))
    if not plans:
        ctx.show(no_renewal_plans(), _markup([[_button(texts.BTN_BACK, "account", account.pk)]]))
        return
    ctx.show(choose_renewal_plan(account), _plans_keyboard(account, plans))


def start_renewal(ctx, account_id: int, plan_id: int) -> None:
    account = _account(ctx, account_id)
    if account is None:
        return
    plan = renewal_plans(account).filter(pk=plan_id).first()
    if plan is None:
        ctx.answer(texts.STALE_PLAN, alert=True)
        show_renewal_plans(ctx, account_id)
        return
    show_order(ctx, billing.order_create_renewal(user=ctx.user, account=account, plan=plan))


def show_addons(ctx, account_id: int) -> None:
    account = _account(ctx, account_id)
    if account is None:
        return
    addons = list(addons_for(account))
    if not addons:
        ctx.show(no_addons(), _markup([[_button(texts.BTN_BACK, "account", account.pk)]]))
        return
    ctx.show(choose_addon(account), _addons_keyboard(account, addons))


def start_addon(ctx, account_id: int, addon_id: int) -> None:
    account = _account(ctx, account_id)
    if account is None:
        return
    addon = addons_for(account).filter(pk=addon_id).first()
    if addon is None:
        ctx.answer(_("This add-on is no longer sold."), alert=True)
        show_addons(ctx, account_id)
        return
    show_order(ctx, billing.order_create_addon(user=ctx.user, account=account, addon=addon))


def show_order(ctx, order: Order, *, note: str | None = None) -> None:
    """A renewal's or add-on's summary with the purchase's payment buttons."""
    order = (
        Order.objects.select_related(
            "plan", "addon", "renews__panel", "renews__inbound", "discount_code"
        )
        .filter(pk=order.pk)
        .first()
    )
    balance = ctx.user.balance
    text = order_summary(order, balance)
    ctx.show(
        note + "\n\n" + text if note else text,
        keyboards.summary(order, can_pay_from_wallet=balance >= order.amount),
    )


ROUTES = {
    "renew": show_renewal_plans,
    "renew_plan": start_renewal,
    "addons": show_addons,
    "addon": start_addon,
}


# --- messages ---------------------------------------------------------------------------


def _deliver(user, text: str, markup) -> str:
    """Send and say how it went, as an AccountReminder outcome."""
    if tg.send_message(user.telegram_id, text, markup) is not None:
        return AccountReminder.Outcome.SENT
    user.refresh_from_db(fields=["has_blocked_bot"])
    if user.has_blocked_bot:
        return AccountReminder.Outcome.BLOCKED
    return AccountReminder.Outcome.FAILED


def send_reminder(account: ClientAccount, kind: str, threshold: int) -> str:
    user = account.user
    with translation.override(user.language):
        return _deliver(user, reminder_text(account, kind, threshold), keyboards.renew(account))


def send_cleanup_notice(account: ClientAccount) -> str:
    user = account.user
    if not user.telegram_id or user.has_blocked_bot:
        return AccountReminder.Outcome.BLOCKED
    with translation.override(user.language):
        return _deliver(user, cleanup_text(account), keyboards.renew(account))
