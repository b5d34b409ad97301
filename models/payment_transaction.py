import base64
import hashlib
import json
import re
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.logging import get_payment_logger

from .. import const, utils
from .payment_provider import CloverAPIError

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

# How long a request Clover did not answer is sent again with its idempotency key. Clover does not
# document how long it remembers keys; past this window, a person checks the Clover dashboard.
RETRY_WINDOW = timedelta(hours=1)
# Clover requires the shopper's IP on charges and captures; server-initiated calls have none.
SERVER_FORWARDED_FOR = '127.0.0.1'
# `external_reference_id`: at most 12 letters, digits or spaces (clover-api.md §2.3).
EXTERNAL_REFERENCE_LENGTH = 12
METADATA_REFERENCE_LENGTH = 400  # Clover caps the whole metadata object at 500 characters.


class PaymentTransaction(models.Model):
    _inherit = 'payment.transaction'

    clover_order_id = fields.Char(string="Clover Order ID", readonly=True, copy=False)
    clover_card_brand = fields.Char(string="Card Brand", readonly=True, copy=False)
    clover_card_last4 = fields.Char(string="Card Last 4 Digits", readonly=True, copy=False)
    clover_auth_code = fields.Char(string="Authorization Code", readonly=True, copy=False)
    # Clover's `cardTransaction.entryType` as sent (EMV_CONTACTLESS, EMV_CONTACT, SWIPED, KEYED, ...);
    # online charges leave it empty.
    clover_entry_type = fields.Char(string="Card Entry", readonly=True, copy=False)
    clover_terminal_id = fields.Many2one(
        string="Clover Terminal", comodel_name='clover.terminal', readonly=True, copy=False,
        index='btree_not_null',
    )
    # REST Pay Display's reconciliation key, saved before the payment is sent (≤ 32 characters).
    clover_external_payment_id = fields.Char(
        string="Clover External Payment ID", readonly=True, copy=False, index='btree_not_null',
    )
    # The card processing fee included in `amount`, booked on its own line.
    clover_surcharge_amount = fields.Monetary(
        string="Card Surcharge", currency_field='currency_id', readonly=True, copy=False,
    )
    # JSON text rather than a Json field: PostgreSQL would reorder the body's keys, and the
    # request is sent again byte for byte.
    clover_pending_request = fields.Text(
        string="Unanswered Clover Request",
        help="A money-moving request Clover did not answer, as JSON. It is sent again, unchanged "
             "and with the same idempotency key, until Clover tells its outcome.",
        readonly=True, copy=False, groups='base.group_system',
    )

    # === ACTION METHODS === #

    def action_clover_void(self):
        """Void authorized Clover charges (the name operators' scripts use)."""
        return self.action_void()

    # === BUSINESS METHODS - PAYMENT FLOW === #

    def _get_specific_processing_values(self, processing_values):
        """Override of `payment` to sign the reference the browser sends back with its card token."""
        if self.provider_code != 'clover':
            return super()._get_specific_processing_values(processing_values)
        return {
            'access_token': payment_utils.generate_access_token(
                processing_values['reference'], processing_values['partner_id'], env=self.env,
            ),
        }

    def _clover_pay_with_card_token(self, card_token):
        """Pay (or, for a validation, save the card) with a single-use `clv_` token from the
        browser, then process Clover's answer.

        The row lock makes a second request for the same transaction wait, then find it no
        longer a draft: the token is spent once and the customer is charged once.

        :param str card_token: The `clv_` token made by Clover's iframe.
        """
        self.ensure_one()
        self._clover_lock()
        if self.state != 'draft' or self.operation not in ('online_direct', 'validation'):
            _logger.warning(
                "Refused to pay transaction %s (%s, %s) with a card token.",
                self.reference, self.operation, self.state,
            )
            return
        try:
            if self.operation == 'validation':
                self._clover_save_card_without_payment(card_token)
            elif self.tokenize:
                customer = self._clover_create_customer(card_token)
                self._clover_charge(customer['id'] if customer else card_token)
            else:
                self._clover_charge(card_token)
        except ValidationError as error:
            self._set_error(str(error))

    def _send_payment_request(self):
        """Override of `payment` to charge a saved card (operations `online_token`, `offline`)."""
        if self.provider_code != 'clover':
            return super()._send_payment_request()
        self._clover_charge(self.token_id.clover_source_token)
        return None

    def _clover_save_card_without_payment(self, card_token):
        """Save a card for later payments (a validation operation): Clover keeps it on file with
        a customer; no money moves."""
        customer = self._clover_create_customer(card_token)
        if not customer:
            raise ValidationError(self.env._("Clover could not save this card."))
        self._process('clover', {'reference': self.reference, 'customer': customer})

    def _clover_create_customer(self, card_token):
        """Create a Clover customer holding the card on file, to charge it again later.

        Saving the card must not stand in the way of the payment: when Clover does not create the
        customer, None is returned and the caller charges the token itself. That is safe even if
        Clover created the customer without answering: the token is then spent and the charge is
        refused, so the card is never charged twice.

        :param str card_token: The `clv_` token, spent by Clover on success.
        :return: The Clover customer, or None.
        :rtype: dict|None
        """
        first_name, last_name = payment_utils.split_partner_name(self.partner_name or '')
        payload = {'source': card_token}
        for key, value in (('firstName', first_name), ('lastName', last_name),
                           ('email', self.partner_email)):
            if value:
                payload[key] = value
        try:
            return self.provider_id._clover_api_request(
                'ecommerce', 'POST', '/v1/customers', payload=payload, reference=self.reference,
                idempotency_key=payment_utils.generate_idempotency_key(self, scope='customer'),
            )
        except CloverAPIError as error:
            _logger.warning(
                "Clover did not save the card of transaction %s (%s); paying without saving it.",
                self.reference, error,
            )
            return None

    def _clover_charge(self, source):
        """Charge `source` (a `clv_` token or a Clover customer id) for this transaction."""
        self._clover_send('charge', '/v1/charges', self._clover_charge_payload(source), scope='charge')

    def _clover_charge_payload(self, source):
        return {
            'amount': utils.format_clover_amount(self.amount, self.currency_id),
            'currency': self.currency_id.name.lower(),
            'source': source,
            'capture': not self.provider_id.capture_manually,
            'ecomind': 'ecom',
            'external_reference_id': self._clover_external_reference_id(),
            'metadata': self._clover_metadata(),
        }

    def _clover_metadata(self):
        """Return the metadata that ties a Clover object to this transaction (see
        `_extract_reference`)."""
        return {'odoo_reference': self.reference[:METADATA_REFERENCE_LENGTH]}

    def _clover_external_reference_id(self):
        """Return the reference Clover shows in settlement reports: the reference's letters and
        digits when they fit in 12 characters, else their first 6 and a 6-character digest of the
        whole reference, so that distinct references stay distinct. The metadata holds the full
        reference."""
        alphanumerics = re.sub(r'[^A-Za-z0-9]', '', self.reference)
        if 0 < len(alphanumerics) <= EXTERNAL_REFERENCE_LENGTH:
            return alphanumerics
        prefix = alphanumerics[:EXTERNAL_REFERENCE_LENGTH // 2]
        digest = base64.b32encode(hashlib.sha256(self.reference.encode()).digest()).decode()
        return prefix + digest[:EXTERNAL_REFERENCE_LENGTH - len(prefix)]

    def _clover_lock(self):
        """Lock this transaction's row until the end of the database transaction."""
        self.env.cr.execute(
            "SELECT 1 FROM payment_transaction WHERE id = %s FOR NO KEY UPDATE", [self.id],
        )
        self.invalidate_recordset()

    # === BUSINESS METHODS - REQUESTS WHOSE OUTCOME IS UNKNOWN === #

    def _clover_send(self, kind, endpoint, payload, scope):
        """Send a money-moving request with an idempotency key stable for this transaction and
        process Clover's answer.

        :param str kind: What Clover answers with: `charge` or `refund`.
        :param str endpoint: The Ecommerce endpoint.
        :param dict payload: The JSON body.
        :param str scope: Tells apart the keys of the different requests of one transaction.
        :raise CloverAPIError: When Clover refuses the request (not for declines: they are
                               processed as the outcome they are).
        """
        request = {
            'kind': kind,
            'endpoint': endpoint,
            'payload': payload,
            'idempotency_key': payment_utils.generate_idempotency_key(self, scope=scope),
            'forwarded_for': payment_utils.get_customer_ip_address() or SERVER_FORWARDED_FOR,
            'sent_at': fields.Datetime.to_string(fields.Datetime.now()),
        }
        try:
            answer = self._clover_post(request)
        except CloverAPIError as error:
            if not error.outcome_unknown:
                raise
            self._clover_wait_for_outcome(request, error)
            return
        self._clover_process_answer(request['kind'], answer)

    def _clover_post(self, request):
        """Send `request` and return Clover's answer; a decline is an answer too.

        :rtype: dict
        :raise CloverAPIError: When Clover refuses the request or does not answer.
        """
        try:
            return self.provider_id._clover_api_request(
                'ecommerce', 'POST', request['endpoint'], payload=request['payload'],
                idempotency_key=request['idempotency_key'], reference=self.reference,
                headers={'x-forwarded-for': request['forwarded_for']},
            )
        except CloverAPIError as error:
            if not error.is_decline:
                raise
            return {'error': {
                'message': str(error), 'code': error.code, 'decline_code': error.decline_code,
            }}

    def _clover_process_answer(self, kind, answer):
        """Process Clover's answer: a `kind` object (`charge` or `refund`), or a decline."""
        kind = 'error' if 'error' in answer else kind
        self._process('clover', {'reference': self.reference, kind: answer.get('error', answer)})

    def _clover_wait_for_outcome(self, request, error):
        """Keep the transaction pending, never paid nor failed, and the request to send again."""
        _logger.warning(
            "Clover did not answer %s for transaction %s: %s", request['endpoint'], self.reference,
            error,
        )
        self.sudo().clover_pending_request = json.dumps(request)
        self._set_pending(state_message=self.env._(
            "Clover did not answer (%s). The outcome is being checked with Clover; the customer "
            "will not be charged twice.", error,
        ))

    def _clover_resend_pending_request(self):
        """Send again, unchanged, the request Clover did not answer, to learn its outcome: for
        Clover, the same idempotency key and body make it the same request.

        Only an answer ends the wait. Any refusal is no outcome: the first request may have gone
        through (its token spent, its key forgotten), so the transaction stays pending.
        """
        self.ensure_one()
        # A concurrent post-processing is already asking Clover: let it.
        self.env.cr.execute(
            "SELECT 1 FROM payment_transaction WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED",
            [self.id],
        )
        if not self.env.cr.fetchone():
            return
        self.invalidate_recordset()
        if self.state != 'pending' or not self.sudo().clover_pending_request:
            return
        request = json.loads(self.sudo().clover_pending_request)
        try:
            answer = self._clover_post(request)
        except CloverAPIError as error:
            _logger.warning(
                "Clover still gives no outcome for transaction %s: %s", self.reference, error,
            )
            return
        self.sudo().clover_pending_request = False
        self._clover_process_answer(request['kind'], answer)

    def _clover_can_resend(self):
        """Whether Clover left a request unanswered recently enough to send it again."""
        if self.provider_code != 'clover' or self.state != 'pending':
            return False
        request = self.sudo().clover_pending_request
        return bool(request) and (
            fields.Datetime.from_string(json.loads(request)['sent_at']) + RETRY_WINDOW
            > fields.Datetime.now()
        )

    def _clover_resend_window_closed(self):
        return (
            self.provider_code == 'clover' and self.state == 'pending'
            and bool(self.sudo().clover_pending_request) and not self._clover_can_resend()
        )

    def _clover_stop_resending(self):
        """Stop sending the request again: forget the stored request, whose card token must not
        outlive its use, and leave the transaction pending for the reconciliation cron, which
        looks the payment up at Clover (see `_cron_clover_reconcile_pending`)."""
        for tx in self:
            _logger.warning(
                "Clover never answered the request of transaction %s; the reconciliation looks "
                "its payment up at Clover.", tx.reference,
            )
            tx.sudo().clover_pending_request = False
            tx.state_message = self.env._(
                "Clover never answered this payment request. Odoo keeps looking the payment up "
                "at Clover (by the reference %s) and settles it as soon as Clover has it.",
                tx.reference,
            )

    # === BUSINESS METHODS - PROCESSING === #

    @api.model
    def _extract_reference(self, provider_code, payment_data):
        """Override of `payment` to also find the transaction from a Clover charge or refund
        alone, by the reference its metadata carries (e.g. one fetched back from Clover)."""
        if provider_code != 'clover':
            return super()._extract_reference(provider_code, payment_data)
        clover_object = payment_data.get('charge') or payment_data.get('refund') or {}
        return payment_data.get('reference') or (clover_object.get('metadata') or {}).get(
            'odoo_reference'
        )

    def _extract_amount_data(self, payment_data):
        """Override of `payment` to extract the amount and currency from Clover's answer."""
        if self.provider_code != 'clover':
            return super()._extract_amount_data(payment_data)
        if 'charge' in payment_data:
            charge = payment_data['charge']
            # A capture answers with the whole charge: what counts is what it captured.
            amount = charge['amount_captured'] if self.source_transaction_id else charge['amount']
            currency_code = charge['currency']
        elif 'refund' in payment_data:
            amount = payment_data['refund']['amount']
            currency_code = payment_data['refund']['currency']
        else:  # A decline or a saved card: no money moved.
            return None
        return {
            'amount': utils.parse_clover_amount(amount, self.currency_id),
            'currency_code': currency_code.upper(),
        }

    def _validate_amount(self, payment_data):  # pylint: disable=missing-return
        """Override of `payment` to keep the id of a Clover object whose amount is not the
        transaction's: money moved at Clover, and someone must find it to set things right."""
        previous_state = self.state
        super()._validate_amount(payment_data)
        if self.provider_code == 'clover' and self.state == 'error' and previous_state != 'error':
            clover_object = payment_data.get('charge') or payment_data.get('refund') or {}
            self.provider_reference = clover_object.get('id')
            _logger.error(
                "Clover object %s does not match transaction %s: %s",
                self.provider_reference, self.reference, self.state_message,
            )

    def _apply_updates(self, payment_data):
        """Override of `payment` to update the transaction from Clover's answer."""
        if self.provider_code != 'clover':
            return super()._apply_updates(payment_data)
        if 'error' in payment_data:
            self._set_error(payment_data['error']['message'])
        elif 'customer' in payment_data:
            sources = payment_data['customer'].get('sources', {}).get('data') or [{}]
            self.write(self._clover_card_values(sources[0]))
            self._set_done()
        elif 'refund' in payment_data:
            self._clover_apply_refund(payment_data['refund'])
        else:
            self._clover_apply_charge(payment_data['charge'])
        return None

    def _clover_apply_charge(self, charge):
        self.write({
            'provider_reference': charge['id'],
            'clover_order_id': charge.get('order'),
            **self._clover_card_values(charge.get('source') or {}),
        })
        status = charge.get('status')
        if status == 'succeeded' and charge.get('captured'):
            self._set_done()
        elif status == 'succeeded':
            self._set_authorized()
        elif status == 'pending':
            self._set_pending()
        else:
            self._set_error(charge.get('failure_message') or self.env._(
                "Clover did not accept the payment (status %s).", status,
            ))

    def _clover_apply_refund(self, refund):
        self.provider_reference = refund['id']
        if refund.get('status') != 'succeeded':
            self._set_error(self.env._("Clover did not make the refund (status %s).", refund.get('status')))
        elif self.operation == 'refund':
            self._set_done()
            # No customer polls a refund: post-process it now (creates its payment).
            self.env.ref('payment.cron_post_process_payment_tx')._trigger()
        else:  # The void of an uncaptured charge.
            self._set_canceled()

    def _clover_card_values(self, card):
        """Return the values recording the card Clover charged: brand, last 4 digits and the
        matching payment method."""
        if not card:
            return {}
        payment_method = self.env['payment.method']._get_from_code(
            card.get('brand'), mapping=const.PAYMENT_METHODS_MAPPING,
        )
        return {
            'clover_card_brand': card.get('brand'),
            'clover_card_last4': card.get('last4'),
            'payment_method_id': (payment_method or self.payment_method_id).id,
        }

    def _extract_token_values(self, payment_data):
        """Override of `payment` to save the Clover customer holding the card on file."""
        if self.provider_code != 'clover':
            return super()._extract_token_values(payment_data)
        if 'customer' in payment_data:
            customer_id = payment_data['customer']['id']
        else:
            customer_id = payment_data.get('charge', {}).get('customer')
        if not customer_id:
            _logger.warning("Transaction %s was paid without saving the card.", self.reference)
            return {}
        return {
            'provider_ref': customer_id,
            'clover_source_token': customer_id,
            'payment_details': self.clover_card_last4,
        }

    # === BUSINESS METHODS - POST-PROCESSING === #

    def _post_process(self):  # pylint: disable=missing-return
        """Override of `payment` to ask Clover again for the outcome of requests it did not
        answer. The status page and the post-processing cron call this until Clover answers or
        the retry window closes."""
        resendable = self.filtered(lambda tx: tx._clover_can_resend())
        for tx in resendable:
            tx._clover_resend_pending_request()
        self.filtered(lambda tx: tx._clover_resend_window_closed())._clover_stop_resending()
        super()._post_process()
        # Keep unanswered transactions in the cron's queue.
        resendable.filtered(lambda tx: tx._clover_can_resend()).is_post_processed = False
