"""Register a 3x-ui panel: log in, detect its API, save it and sync it."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from panels.models import Panel
from panels.sessions import panel_config
from panels.sync import panel_sync
from panels.xui import PanelAuthError, PanelError, XuiClient


class Command(BaseCommand):
    help = "Register a 3x-ui panel after checking that MoonVPN can log in to it."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--location", required=True, help='e.g. "🇩🇪 Germany"')
        parser.add_argument("--url", required=True, help="panel URL, e.g. https://host:2053")
        parser.add_argument("--username", default="")
        parser.add_argument("--password", default="")
        parser.add_argument("--api-token", default="", help="3x-ui v3 API token")
        parser.add_argument("--web-base-path", default="", help="e.g. /AbCdEf/")
        parser.add_argument("--public-host", default="", help="host put into config links")
        parser.add_argument("--sub-base-url", default="")
        parser.add_argument("--capacity", type=int, default=0)
        parser.add_argument("--no-verify-tls", action="store_true")

    def handle(self, *args, **opts):
        from urllib.parse import urlsplit

        url = opts["url"].rstrip("/") + "/"
        if opts["web_base_path"].strip("/"):
            url += opts["web_base_path"].strip("/") + "/"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
            raise CommandError(f"--url is not an http(s) URL without user:password@: {opts['url']}")
        if not opts["api_token"] and not (opts["username"] and opts["password"]):
            raise CommandError("give --username and --password, or --api-token")
        if Panel.objects.filter(name=opts["name"]).exists():
            raise CommandError(f"a panel named {opts['name']!r} already exists")
        flag, _, location = opts["location"].strip().partition(" ")
        if not location or flag.isalnum():
            flag, location = "", opts["location"].strip()
        panel = Panel(
            name=opts["name"],
            location_name=location,
            location_flag=flag,
            base_url=url,
            username=opts["username"],
            password=opts["password"],
            api_token=opts["api_token"],
            verify_tls=not opts["no_verify_tls"],
            public_host=opts["public_host"] or parts.hostname,
            sub_base_url=opts["sub_base_url"],
            capacity=opts["capacity"],
        )
        client = XuiClient(panel_config(panel))
        try:
            panel.api_generation = client.detect()
        except PanelAuthError as exc:
            raise CommandError(f"cannot log in to {url}: {exc}") from None
        except PanelError as exc:
            raise CommandError(f"cannot reach the panel at {url}: {exc}") from None
        with transaction.atomic():
            panel.health = Panel.Health.OK
            panel.save()
        self.stdout.write(f"Logged in to {url} — API generation: {panel.api_generation}.")
        result = panel_sync(panel=panel)
        if not result.ok:
            raise CommandError(
                f"saved panel #{panel.pk}, but its first sync failed: {result.error}"
            )
        self.stdout.write(
            f"Saved panel #{panel.pk} {panel}: {result.inbounds} inbounds found "
            f"(none is sold until an operator marks it sellable)."
        )
        for inbound in panel.inbounds.order_by("remote_id"):
            note = f" — not sellable: {inbound.link_problem}" if inbound.link_problem else ""
            self.stdout.write(
                f"  #{inbound.remote_id} {inbound.remark or '-'}: {inbound.protocol} "
                f"{inbound.network}/{inbound.security or 'none'} port {inbound.port}, "
                f"{inbound.client_count} clients{note}"
            )
