"""Who may deliver: the bearer token, and the signature of a source that signs its requests.

Every request carries `Authorization: Bearer $INCIDENTCTL_INTAKE_TOKEN` (Alertmanager's
`http_config.authorization`, a Grafana contact point's header, a PagerDuty subscription's
custom header). Where a signing secret is set, the source's signature must verify too:
PagerDuty's `X-PagerDuty-Signature: v1=<hex HMAC-SHA256>` (one of several, while a secret
rotates), Standard Webhooks' `webhook-id`/`webhook-timestamp`/`webhook-signature` (for the
generic source). Sentry cannot add a header to its webhooks, so with
$INCIDENTCTL_SENTRY_SECRET set its `Sentry-Hook-Signature` (hex HMAC-SHA256 of the body with
the integration's client secret) authenticates a Sentry delivery in place of the token.

The checks are the standard library's: HMAC-SHA256 and constant-time comparison are a few
lines each, and a vendor SDK for each would bring an HTTP client along.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from incidentctl.core.errors import IncidentctlError

TOKEN = "INCIDENTCTL_INTAKE_TOKEN"
PAGERDUTY_SECRET = "INCIDENTCTL_PAGERDUTY_SECRET"
SENTRY_SECRET = "INCIDENTCTL_SENTRY_SECRET"
WEBHOOK_SECRET = "INCIDENTCTL_WEBHOOK_SECRET"  # Standard Webhooks (whsec_...)
TOLERANCE = 300  # seconds a Standard Webhooks timestamp may be off: replays are refused


@dataclass(frozen=True)
class Credentials:
    token: str
    pagerduty: str | None = None
    sentry: str | None = None
    webhook: bytes | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Credentials:
        """The secrets, from the environment; no token is a refusal to start (the receiver
        never runs open)."""
        token = environ.get(TOKEN, "").strip()
        if not token:
            raise IncidentctlError(
                f"${TOKEN} is not set: the receiver never accepts deliveries without a token",
                hint=f"export {TOKEN}=$(openssl rand -hex 32), and give the same value to the "
                "senders as their bearer token",
            )
        webhook = environ.get(WEBHOOK_SECRET, "").strip() or None
        return cls(
            token=token,
            pagerduty=environ.get(PAGERDUTY_SECRET, "").strip() or None,
            sentry=environ.get(SENTRY_SECRET, "").strip() or None,
            webhook=_webhook_key(webhook) if webhook else None,
        )

    def token_refusal(self, source: str, authorization: str) -> str | None:
        """The check made before the body is read: the bearer token (none for Sentry, whose
        signature over the body stands in for it)."""
        if source == "sentry" and self.sentry is not None:
            return None
        if not _bearer(self.token, authorization):
            return "missing or wrong bearer token"
        return None

    def refusal(
        self, source: str, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> str | None:
        """Why the request is not authenticated, or None when it is."""
        if source == "sentry" and self.sentry is not None:
            return _sentry(self.sentry, headers, body)
        if (token := self.token_refusal(source, headers.get("authorization", ""))) is not None:
            return token
        if source == "pagerduty" and self.pagerduty is not None:
            return _pagerduty(self.pagerduty, headers, body)
        if source == "generic" and self.webhook is not None:
            return _standard(self.webhook, headers, body, now)
        return None


def _webhook_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise IncidentctlError(
            f"${WEBHOOK_SECRET} is not a Standard Webhooks secret (whsec_ and base64)"
        ) from None


def _bearer(token: str, header: str) -> bool:
    scheme, _, given = header.strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def _hex(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _pagerduty(secret: str, headers: Mapping[str, str], body: bytes) -> str | None:
    given = headers.get("x-pagerduty-signature", "")
    if not given:
        return "missing X-PagerDuty-Signature"
    expected = "v1=" + _hex(secret.encode(), body)
    if any(hmac.compare_digest(part.strip(), expected) for part in given.split(",")):
        return None
    return "X-PagerDuty-Signature does not verify"


def _sentry(secret: str, headers: Mapping[str, str], body: bytes) -> str | None:
    given = headers.get("sentry-hook-signature", "").strip()
    if not given:
        return "missing Sentry-Hook-Signature"
    if hmac.compare_digest(given, _hex(secret.encode(), body)):
        return None
    return "Sentry-Hook-Signature does not verify"


def _standard(key: bytes, headers: Mapping[str, str], body: bytes, now: datetime) -> str | None:
    ident = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    given = headers.get("webhook-signature", "")
    if not (ident and stamp and given):
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    try:
        sent = int(stamp)
    except ValueError:
        return "webhook-timestamp is not a number of seconds"
    if abs(now.timestamp() - sent) > TOLERANCE:
        return "webhook-timestamp is too far from now (a replay?)"
    digest = hmac.new(key, f"{ident}.{stamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    for part in given.split():
        version, _, signature = part.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return None
    return "webhook-signature does not verify"
