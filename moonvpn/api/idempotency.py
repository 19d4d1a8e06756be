"""Idempotent actions: a POST that moves money or changes a panel acts once per key."""

import functools
import hashlib
import json
import re

from django.db import IntegrityError, OperationalError, transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.response import Response

from accounts.models import IdempotencyKey
from moonvpn.api.errors import Conflict

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=IDEMPOTENCY_HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    pattern=r"^[A-Za-z0-9._:-]{1,64}$",
    description=(
        "A name for this request (e.g. a UUID). Sent again with the same body, the "
        "request does nothing more and answers what it answered the first time (with "
        "the header Idempotent-Replayed: true). The same key with another request "
        "answers 409, and so does a retry while the first is still running."
    ),
)


def _fingerprint(request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, default=str)
    except TypeError:
        body = repr(request.data)
    text = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def idempotent(action_method):
    """A POST that moves money or changes a panel acts once per Idempotency-Key.

    Keys are per staff user. The row is claimed before the action runs (the unique
    constraint settles a race) and keeps the answer of a successful action; a failed
    one frees its key, so a retry may act.
    """

    @functools.wraps(action_method)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return action_method(view, request, *args, **kwargs)
        if not IDEMPOTENCY_KEY_RE.fullmatch(key):
            raise exceptions.ValidationError(
                {IDEMPOTENCY_HEADER: [_("Use 1 to 64 letters, digits and . _ : -")]}
            )
        fingerprint = _fingerprint(request)
        claim = replay = None
        for _attempt in range(3):
            try:
                with transaction.atomic():
                    claim = IdempotencyKey.objects.create(
                        user=request.user, key=key, fingerprint=fingerprint
                    )
                break
            except OperationalError:
                # MariaDB may pick this insert as a deadlock victim when the same key
                # arrives twice at once: try again.
                continue
            except IntegrityError:
                # Taken: by this request before (replay), another request (refused), or
                # one running now. A failed one frees its key, so look again if gone.
                replay = IdempotencyKey.objects.filter(user=request.user, key=key).first()
                if replay is not None:
                    break
        if claim is None:
            if replay is None or replay.status_code is None:
                raise Conflict(_("The request with this Idempotency-Key is still running."))
            if replay.fingerprint != fingerprint:
                raise Conflict(_("This Idempotency-Key was used for another request."))
            response = Response(replay.response, status=replay.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            response = action_method(view, request, *args, **kwargs)
        except BaseException:
            claim.delete()
            raise
        if 200 <= response.status_code < 300:
            IdempotencyKey.objects.filter(pk=claim.pk).update(
                status_code=response.status_code,
                response=json.loads(json.dumps(response.data, default=str)),
            )
        else:
            claim.delete()
        return response

    wrapper.idempotent = True
    return wrapper
