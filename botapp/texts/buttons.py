"""The bot's button labels (the main menu's, paying, reviewing, renewing, growth)."""

from django.utils.translation import gettext_lazy

# --- buttons ------------------------------------------------------------------------

BTN_BUY = gettext_lazy("🛒 Buy a service")
BTN_SERVICES = gettext_lazy("📦 My services")
BTN_WALLET = gettext_lazy("👛 Wallet")
BTN_HELP = gettext_lazy("❓ Help")
BTN_LANGUAGE = gettext_lazy("🌐 Language")
BTN_MENU = gettext_lazy("🏠 Main menu")
BTN_BACK = gettext_lazy("« Back")
BTN_CANCEL = gettext_lazy("✖️ Cancel")
BTN_PAY_WALLET = gettext_lazy("👛 Pay from wallet")
BTN_PAY_RECEIPT = gettext_lazy("💳 Pay by card (receipt)")
BTN_TOPUP = gettext_lazy("➕ Top up wallet")
BTN_TOPUP_TYPE = gettext_lazy("✏️ Type an amount")
BTN_RESEND = gettext_lazy("📲 Send config and QR again")
BTN_SUB_NEW = gettext_lazy("🔄 New subscription link")
BTN_APPROVE = gettext_lazy("✅ Approve")
BTN_TRIAL = gettext_lazy("🎁 Free trial")
BTN_INVITE = gettext_lazy("👥 Invite friends")
BTN_DISCOUNT = gettext_lazy("🏷 Discount code")
BTN_JOIN = gettext_lazy("📢 Join the channel")
BTN_JOINED = gettext_lazy("✅ I joined")
BTN_REJECT = gettext_lazy("❌ Reject")


# Renewals and add-ons (botapp.renewal, botapp.keyboards).
BTN_RENEW = gettext_lazy("🔄 Renew")
BTN_ADDONS = gettext_lazy("➕ Extra traffic or days")
BTN_MY_SERVICE = gettext_lazy("📦 My service")
