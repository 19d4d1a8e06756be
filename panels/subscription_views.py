"""``GET /sub/<token>/``: the customer's one subscription (panels.subscription).

No login (the token is the secret), no panel call, two queries. An unknown or revoked
token gets the same bare 404 as any missing page: nothing tells a guesser it was close.
"""

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_safe

from panels import subscription


@require_safe
def subscription_view(request, token: str):
    sub = subscription.subscription_for_token(token)
    if sub is None:
        raise Http404()
    fmt = request.GET.get("format", "base64").strip().lower()
    if fmt not in subscription.FORMATS:
        fmt = "base64"
    body, content_type = subscription.render(sub, fmt)
    response = HttpResponse(body, content_type=content_type)
    for name, value in subscription.headers(sub).items():
        response[name] = value
    return response
