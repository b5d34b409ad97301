import base64
import hashlib
import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.logging import get_payment_logger

from .. import const, utils
from .payment_provider import CloverAPIError

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

# `external_reference_id`: at most 12 letters, digits or spaces (clover-api.md §2.3).
EXTERNAL_REFERENCE_LENGTH = 12
METADATA_REFERENCE_LENGTH = 400  # Clover caps the whole metadata object at 500 characters.
# Clover's card brand -> the code of Odoo's payment method for it.
BRAND_PAYMENT_METHOD_CODES = {brand: code for code, brand in const.PAYMENT_METHODS_MAPPING.items()}


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
        comodel_name='clover.terminal', readonly=True, copy=False, index='btree_not_null',
    )
    # REST Pay Display's reconciliation key, saved before the payment is sent (≤ 32 characters).
    clover_external_payment_id = fields.Char(
        string="Clover External Payment ID", readonly=True, copy=False, index='btree_not_null',
    )
    # The card processing fee included in `amount`, booked on its own line.
    clover_surcharge_amount = fields.Monetary(
        string="Card Surcharge", currency_field='currency_id', readonly=True, copy=False,
    )
    # Clover requires the shopper's address on charges and captures; captures, refunds and resends
    # are made later, without the customer, and send this one.
    clover_customer_ip = fields.Char(string="Customer IP Address", readonly=True, copy=False)
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

    @api.model
    def _clover_lock_by_reference(self, reference):
        """Return the Clover transaction of `reference`, its row locked as by `_clover_lock`:
        the payment route's lookup and lock in one query, since it runs on every payment."""
        self.env.cr.execute(SQL(
            "SELECT tx.id FROM payment_transaction tx"
            " JOIN payment_provider provider ON provider.id = tx.provider_id"
            " WHERE tx.reference = %s AND provider.code = 'clover'"
            " LIMIT 1 FOR NO KEY UPDATE OF tx", reference,
        ), log_exceptions=False)
        return self.browse(row[0] for row in self.env.cr.fetchall())

    def _clover_pay_with_card_token(self, card_token, locked=False):
        """Pay (or, for a validation, save the card) with a single-use `clv_` token from the
        browser, then process Clover's answer.

        The row lock makes a second request for the same transaction wait, then find it no
        longer a draft: the token is spent once and the customer is charged once.

        :param str card_token: The `clv_` token made by Clover's iframe.
        :param bool locked: Whether the caller locked the row in this transaction already
                            (`_clover_lock_by_reference`).
        """
        self.ensure_one()
        if not locked:
            self._clover_lock()
        if self.operation not in ('online_direct', 'validation'):
            _logger.warning(
                "Refused to pay transaction %s (%s) with a card token.", self.reference, self.operation,
            )
            return
        if self.state != 'draft':  # A repeated submission: the first one paid, or is paying.
            _logger.info("Transaction %s is already %s: nothing more is charged.", self.reference, self.state)
            return
        self.clover_customer_ip = payment_utils.get_customer_ip_address() or False
        try:
            if self.operation == 'validation':
                self._clover_save_card_without_payment(card_token)
                return
            self._clover_check_chargeable()
            if self.tokenize:
                customer = self._clover_create_customer(card_token)
                self._clover_charge(customer['id'] if customer else card_token)
            else:
                self._clover_charge(card_token)
        except ValidationError as error:
            self._set_error(self._clover_customer_message(error))

    def _send_payment_request(self):
        """Override of `payment` to charge a saved card (operations `online_token`, `offline`)."""
        if self.provider_code != 'clover':
            return super()._send_payment_request()
        self._clover_lock()
        if self.state != 'draft':
            _logger.info("Transaction %s is already %s: nothing more is charged.", self.reference, self.state)
            return None
        if self.operation == 'online_token':  # The customer is paying now, from their browser.
            self.clover_customer_ip = payment_utils.get_customer_ip_address() or False
        try:
            self._clover_check_chargeable()
            self._clover_charge(self.token_id.clover_source_token)
        except ValidationError as error:
            self._set_error(self._clover_customer_message(error))
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
        self._clover_send_money_request(
            'charge', '/v1/charges', self._clover_charge_payload(source), scope='charge',
        )

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
        """Lock this transaction's row until the end of the database transaction.

        A concurrent request that changed the row first makes this one fail to serialize (Odoo's
        transactions are repeatable reads): Odoo then runs the request again, which finds the
        transaction as the first one left it. That is expected, so not logged as an error. Once
        the lock is had, the row is as this transaction read it: nothing to read again.
        """
        self.env.cr.execute(
            "SELECT 1 FROM payment_transaction WHERE id = %s FOR NO KEY UPDATE", [self.id],
            log_exceptions=False,
        )

    def _clover_check_chargeable(self):
        """Refuse, before calling Clover, a charge Clover cannot make or that would overpay.

        :raise ValidationError: If the amount is not positive, or more than what is left to pay
                                on the transaction's invoices.
        """
        if self.currency_id.compare_amounts(self.amount, 0) <= 0:
            raise ValidationError(self.env._(
                "The amount to pay must be more than zero (%s).", self.currency_id.format(self.amount),
            ))
        self._clover_check_left_to_pay()

    def _clover_check_left_to_pay(self):
        """Refuse a charge that would take more than what is left to pay on the transaction's
        invoices once their other Clover payments in flight are counted: pending or authorized,
        or done but not yet booked (two browser tabs paying one invoice).

        The invoices are locked first, and their row is renewed so that a concurrent payment of
        the same invoices, whose snapshot predates this one, fails to serialize and is run again
        by Odoo: it then sees this payment.
        """
        invoices = self.invoice_ids.filtered(lambda move: move.move_type == 'out_invoice')
        if not invoices or invoices.currency_id != self.currency_id:
            return
        self.env.cr.execute(
            "UPDATE account_move SET write_date = write_date WHERE id = ANY(%s)", [invoices.ids],
            log_exceptions=False,
        )
        in_flight = self.sudo().search([
            ('id', '!=', self.id),
            ('provider_code', '=', 'clover'),
            ('operation', '!=', 'validation'),
            ('invoice_ids', 'in', invoices.ids),
            '|', ('state', 'in', ('pending', 'authorized')),
            '&', ('state', '=', 'done'), ('is_post_processed', '=', False),
        ])
        left = sum(invoices.mapped('amount_residual')) - sum(in_flight.mapped('amount'))
        if self.currency_id.compare_amounts(self.amount, left) <= 0:
            return
        values = {
            'invoices': ', '.join(invoices.mapped('name')),
            'references': ', '.join(in_flight.mapped('reference')),
            'left': self.currency_id.format(max(left, 0.0)),
            'amount': self.currency_id.format(self.amount),
        }
        if in_flight:
            raise ValidationError(self.env._(
                "%(invoices)s is already being paid (%(references)s): only %(left)s is left to pay, "
                "not %(amount)s. Nothing was charged.", **values,
            ))
        raise ValidationError(self.env._(
            "Only %(left)s is left to pay on %(invoices)s, not %(amount)s. Nothing was charged.", **values,
        ))

    def _clover_customer_message(self, error):
        """Return what to tell the customer about `error`: Clover's own text may quote what it was
        sent (a card token), so a refusal by Clover is told in a plain sentence with its code."""
        if not isinstance(error, CloverAPIError):
            return str(error)
        if error.nothing_sent:
            sentence = self.env._("The payment could not be sent to Clover, so nothing was charged. "
                                  "Please try again in a moment.")
        else:
            sentence = self._clover_customer_sentences().get(error.code) or self.env._(
                "Clover did not accept the payment and nothing was charged. Please try again or "
                "use another card."
            )
        codes = ', '.join(code for code in (error.code, error.decline_code) if code)
        return self.env._("%(sentence)s (Clover: %(codes)s)", sentence=sentence, codes=codes) \
            if codes else sentence

    def _clover_customer_sentences(self):
        """The plain sentences for the Clover error codes a customer can meet when paying."""
        return {
            'card_declined': self.env._("The card was declined."),
            'expired_card': self.env._("The card has expired."),
            'incorrect_cvc': self.env._("The card's security code is incorrect."),
            'invalid_cvc': self.env._("The card's security code is incorrect."),
            'incorrect_number': self.env._("The card number is incorrect."),
            'invalid_number': self.env._("The card number is incorrect."),
            'invalid_card_type': self.env._("This type of card is not accepted."),
            'token_already_used': self.env._(
                "These card details have already been used. Please enter the card again."
            ),
            'resource_missing': self.env._("The card could not be read. Please enter it again."),
            'amount_too_large': self.env._("The amount is too large for a card payment."),
            'processing_error': self.env._("Clover could not process the payment. Please try again."),
            'rate_limit': self.env._("Clover is busy. Please try again in a moment."),
        }

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
            error = payment_data['error']
            self._set_error(self._clover_customer_message(CloverAPIError(
                error.get('message'), code=error.get('code'), decline_code=error.get('decline_code'),
            )))
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
        matching payment method.

        The brand's payment method is the payment module's own record, found by its XML id
        (cached by Odoo) rather than searched for: this runs on every payment.
        """
        if not card:
            return {}
        code = BRAND_PAYMENT_METHOD_CODES.get(card.get('brand'))
        payment_method_id = code and self.env['ir.model.data']._xmlid_to_res_id(
            f'payment.payment_method_{code}', raise_if_not_found=False,
        )
        return {
            'clover_card_brand': card.get('brand'),
            'clover_card_last4': card.get('last4'),
            'payment_method_id': payment_method_id or self.payment_method_id.id,
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
