import hashlib
import hmac
import json
import re

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import http
from odoo.http import request
from odoo.tools import consteq

from odoo.addons.payment.logging import get_payment_logger

from .. import const, utils

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

WEBHOOK_ROUTE = '/payment/clover/webhook'
# Clover's batches are a few hundred bytes per event; a megabyte holds thousands of events. The
# body is refused unread past this size (answer 413), so no one can make Odoo parse a huge body.
MAX_WEBHOOK_BYTES = 1024 * 1024
AUTH_HEADER = 'X-Clover-Auth'
# `{"verificationCode": "<uuid>"}` is about 60 bytes; larger unauthenticated bodies are not parsed.
MAX_VERIFICATION_BYTES = 256

# The shapes of what Clover sends (clover-api.md §6.1). Anything else is refused whole (400):
# these values end up in the database and in log lines.
_VERIFICATION_CODE_RE = re.compile(r'[A-Za-z0-9-]{1,64}')
_OBJECT_ID_RE = re.compile(r'[A-Z]{1,3}:[A-Za-z0-9]{1,32}')
_EVENT_TYPE_RE = re.compile(r'[A-Z_]{1,32}')
_MAX_TS = 253_402_300_800_000  # Milliseconds: the end of 9999, the last date Python knows.


class MalformedWebhook(ValueError):
    """The body is not a Clover webhook (the reason is logged, never sent back)."""


class CloverWebhookController(http.Controller):

    @http.route(
        WEBHOOK_ROUTE, type='http', auth='public', methods=['POST'], csrf=False,
        save_session=False, max_content_length=MAX_WEBHOOK_BYTES,
    )
    def clover_webhook(self):
        """Receive Clover's app webhooks: record their events and answer at once.

        The events are processed right after, outside this request, by reading each payment back
        from Clover (the body is never trusted for money). Only the one-shot verification body is
        accepted without authentication; everything else carries `X-Clover-Auth`: the static code
        Clover shows after verification, or the hex HMAC-SHA256 of the raw body keyed with the
        app secret (the form the original module checked). Refusals carry no detail.
        """
        body = self._clover_read_body()
        if body is None:
            return self._clover_refuse(413, f"body larger than {MAX_WEBHOOK_BYTES} bytes")
        header = request.httprequest.headers.get(AUTH_HEADER)
        keys = request.env['clover.webhook.event'].sudo()._clover_webhook_keys()
        authenticated = self._clover_authenticated_providers(keys, header, body)
        if not authenticated:
            # Only a body as small as the verification body is parsed before authentication.
            data = _loads(body) if len(body) <= MAX_VERIFICATION_BYTES else None
            if self._clover_is_verification(data):
                return self._clover_log_verification(data['verificationCode'])
            return self._clover_refuse(*self._clover_refusal(keys, header))
        data = _loads(body)
        if self._clover_is_verification(data):
            return self._clover_log_verification(data['verificationCode'])
        try:
            events = clover_parse_events(data)
        except MalformedWebhook as error:
            return self._clover_refuse(400, str(error))
        return self._clover_record(authenticated, events)

    @staticmethod
    def _clover_refusal(keys, header):
        """Return the status and the logged reason of refusing an unauthenticated webhook."""
        if not header:
            return 401, f"no {AUTH_HEADER} header"
        if not any(key.auth_code or key.app_secret for key in keys):
            return 403, "no enabled Clover provider has a webhook auth code or app secret"
        return 403, f"wrong {AUTH_HEADER}"

    @staticmethod
    def _clover_read_body():
        """Return the raw body, or None when it is larger than the limit.

        A declared length past the limit is refused before anything is read (here, and already
        by the route's `max_content_length`). A body of undeclared length (chunked, which
        neither Clover nor the dispatcher sends) is read within Odoo's own request limit, then
        refused all the same.
        """
        httprequest = request.httprequest
        if (httprequest.content_length or 0) > MAX_WEBHOOK_BYTES:
            return None
        try:
            body = httprequest.get_data(cache=False)
        except RequestEntityTooLarge:
            return None
        return body if len(body) <= MAX_WEBHOOK_BYTES else None

    @staticmethod
    def _clover_authenticated_providers(keys, header, body):
        """Return the `CloverWebhookKeys` whose webhook auth code, or HMAC of `body` with their
        app secret, is `header`; compared in constant time."""
        if not header:
            return []
        return [key for key in keys if clover_header_matches(key, header, body)]

    @staticmethod
    def _clover_is_verification(data):
        return (
            isinstance(data, dict) and list(data) == ['verificationCode']
            and isinstance(data['verificationCode'], str)
            and bool(_VERIFICATION_CODE_RE.fullmatch(data['verificationCode']))
        )

    @staticmethod
    def _clover_log_verification(code):
        _logger.warning(
            "CLOVER WEBHOOK VERIFICATION CODE: %s (paste it in Clover's Developer Dashboard > App "
            "Settings > Webhooks and press Verify; then paste the Clover Auth Code it shows in the "
            "Clover provider's Webhook Auth Code field)", code,
        )
        return request.make_response('ok', status=200)

    def _clover_record(self, keys, events):
        """Record the events of the merchants these providers hold and trigger their processing.

        A batch naming none of them is not for this Odoo: it is refused and nothing is recorded.
        """
        provider_by_merchant = {}
        for key in keys:  # Oldest provider first: it keeps a merchant two providers hold.
            provider_by_merchant.setdefault(key.merchant_id, key.provider_id)
        ours = [event for event in events if event['merchant_id'] in provider_by_merchant]
        if not ours:
            return self._clover_refuse(403, "no merchant of this Odoo in the batch")
        if len(ours) < len(events):
            _logger.info(
                "Ignored %s Clover webhook event(s) of merchants this Odoo does not hold.",
                len(events) - len(ours),
            )
        request.env['clover.webhook.event'].sudo()._clover_record_events(provider_by_merchant, ours)
        return request.make_response('ok', status=200)

    @staticmethod
    def _clover_refuse(status, reason):
        """Answer a refusal with its bare status and log why, once, without a traceback."""
        _logger.warning(
            "Refused a Clover webhook from %s (HTTP %s): %s",
            request.httprequest.remote_addr, status, reason,
        )
        return request.make_response('', status=status)


def _loads(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


def clover_header_matches(key, header, body):
    """Whether `X-Clover-Auth` is the provider's static webhook code or the HMAC of the body.

    Compared as bytes: a header may hold any character, and comparing text that is not ASCII
    is not constant-time (Python refuses it).

    :param key: The provider's `CloverWebhookKeys`.
    """
    sent = header.encode('utf-8', 'surrogateescape')
    code = key.auth_code
    if code and consteq(sent, code.encode()):
        return True
    secret = key.app_secret
    return bool(secret) and consteq(sent.lower(), clover_body_signature(secret, body).encode())


def clover_body_signature(secret, body):
    """Return the hex HMAC-SHA256 of the raw `body` keyed with the app `secret`."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def clover_parse_events(data):
    """Return the events of a webhook body: the merchant firehose
    `{"appId", "merchants": {"<mId>": [{"objectId", "type", "ts"}]}}` or the legacy
    `{"type", "merchantId", "data": {"objectId"|"id", "ts"?}}`.

    :return: A list of `{merchant_id, object_id, event_type, ts}` (ts in ms, or None).
    :raise MalformedWebhook: When any part of the body is not of Clover's shape.
    """
    if not isinstance(data, dict):
        raise MalformedWebhook("the body is not a JSON object")
    if 'merchants' in data:
        return _parse_firehose(data)
    if 'type' in data and 'data' in data:
        return [_parse_legacy(data)]
    raise MalformedWebhook("neither a firehose nor a {type, data} body")


def _parse_firehose(data):
    merchants = data['merchants']
    if not isinstance(data.get('appId', ''), str) or not isinstance(merchants, dict) or not merchants:
        raise MalformedWebhook("appId or merchants of the wrong type")
    events = []
    for merchant_id, merchant_events in merchants.items():
        _check(utils.MERCHANT_ID_RE, merchant_id, "merchant id")
        if not isinstance(merchant_events, list) or not merchant_events:
            raise MalformedWebhook("the events of a merchant are not a list")
        for event in merchant_events:
            if not isinstance(event, dict):
                raise MalformedWebhook("an event is not an object")
            events.append(_event(merchant_id, event.get('objectId'), event.get('type'), event.get('ts')))
    return events


def _parse_legacy(data):
    payload = data['data']
    merchant_id = data.get('merchantId')
    if not isinstance(payload, dict) or not isinstance(merchant_id, str):
        raise MalformedWebhook("legacy body without data object or merchantId")
    _check(utils.MERCHANT_ID_RE, merchant_id, "merchant id")
    object_id = payload.get('objectId')
    if object_id is None and isinstance(payload.get('id'), str):
        object_id = 'P:' + payload['id']  # The legacy shape names the payment by its id.
    return _event(merchant_id, object_id, data['type'], payload.get('ts', data.get('ts')))


def _event(merchant_id, object_id, event_type, ts):
    _check(_OBJECT_ID_RE, object_id, "objectId")
    _check(_EVENT_TYPE_RE, event_type, "type")
    if ts is not None and (isinstance(ts, bool) or not isinstance(ts, int) or not 0 <= ts < _MAX_TS):
        raise MalformedWebhook("ts is not a time in milliseconds")
    return {'merchant_id': merchant_id, 'object_id': object_id, 'event_type': event_type, 'ts': ts}


def _check(pattern, value, what):
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise MalformedWebhook(f"invalid {what}")
