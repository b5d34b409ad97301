from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import format_date

from odoo.addons.payment.logging import get_payment_logger

from .. import const, utils
from .payment_provider import CloverAPIError

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

# A refund body Clover refused as such (spec.md §7), not a refusal of the refund itself.
REFUND_BODY_ERROR_CODES = (None, 'invalid_request')
# Clover refunds a card payment with a reference to it for 180 days; later, only a
# non-referenced credit gives the money back (spec.md §3).
REFUND_AGE_LIMIT = timedelta(days=180)
# A terminal sale not voided within 25 minutes goes to funding (clover-api.md §5.3). Odoo's
# clock and Clover's differ a little, and the sale is stamped at Clover after the draft was made
# here: deciding a minute early never sends a void Clover would turn into a refund.
TERMINAL_VOID_WINDOW = timedelta(minutes=24)
REFUND_REASONS = [
    ('requested_by_customer', "Requested by the customer"),
    ('duplicate', "Duplicate payment"),
    ('fraudulent', "Fraudulent payment"),
]


class PaymentTransaction(models.Model):
    """Captures, voids and refunds of Clover payments, each checked against Clover's own view of
    the payment first: Odoo's figures are stale as soon as someone uses the Clover dashboard."""

    _inherit = 'payment.transaction'

    clover_refund_kind = fields.Selection(
        string="Clover Operation",
        selection=[('refund', "Refund"), ('void', "Void"), ('credit', "Credit")],
        readonly=True, copy=False,
        help="How Clover gave the money back: a refund of the payment, a void of a sale not yet "
             "funded, or a credit to a card, unrelated to any payment.",
    )
    clover_refund_reason = fields.Selection(
        string="Refund Reason", selection=REFUND_REASONS, readonly=True, copy=False,
    )
    # The Clover payment a transaction is about: its own for a payment, the refunded one for a
    # refund (whose `provider_reference` is the refund's id), so that one search finds both.
    clover_payment_id = fields.Char(
        string="Clover Payment ID", compute='_compute_clover_payment_id', store=True,
        index='btree_not_null',
    )
    clover_payment_age = fields.Integer(
        string="Payment Age (days)", compute='_compute_clover_refund_deadline',
    )
    clover_refund_deadline = fields.Date(
        string="Refundable Until", compute='_compute_clover_refund_deadline',
        help="After this date Clover no longer refunds the payment: only a credit to a card "
             "gives money back.",
    )

    @api.depends('provider_code', 'provider_reference', 'source_transaction_id.provider_reference')
    def _compute_clover_payment_id(self):
        for tx in self:
            if tx.provider_code != 'clover':
                tx.clover_payment_id = False
            elif tx.operation == 'refund':
                tx.clover_payment_id = tx.source_transaction_id.provider_reference
            else:
                tx.clover_payment_id = tx.provider_reference

    @api.depends('create_date')
    def _compute_clover_refund_deadline(self):
        now = fields.Datetime.now()
        for tx in self:
            made_at = tx.create_date or now
            tx.clover_payment_age = (now - made_at).days
            tx.clover_refund_deadline = (made_at + REFUND_AGE_LIMIT).date()

    # === ACTION METHODS === #

    def action_clover_refund(self):
        """Open the refund wizard on this Clover payment."""
        self.ensure_one()
        return self.env['clover.refund.wizard']._clover_open_action(self)

    def _capture(self, amount_to_capture=None):
        """Override of `payment` to lock the Clover payment before its capture transaction is
        even created: a capture and a void clicked at once then run one after the other, and the
        second (retried by Odoo on the serialization failure) finds the first's outcome."""
        if self.provider_code == 'clover':
            self._clover_lock()
        return super()._capture(amount_to_capture=amount_to_capture)

    def _void(self, amount_to_void=None):
        """Override of `payment` to lock the Clover payment first (see `_capture`)."""
        if self.provider_code == 'clover':
            self._clover_lock()
        return super()._void(amount_to_void=amount_to_void)

    def _refund(self, amount_to_refund=None):
        """Override of `payment` to lock the Clover payment first (see `_capture`): refunds of
        one payment are checked and sent one at a time."""
        if self.provider_code == 'clover':
            self._clover_lock()
        return super()._refund(amount_to_refund=amount_to_refund)

    def _create_child_transaction(self, amount, is_refund=False, **custom_create_values):
        """Override of `payment` to give a Clover refund what the refund wizard chose for it (its
        reason, the credit note it pays), passed in the context so that Odoo's own `_refund`
        flow stays the one way to refund; every child keeps the Clover order of its payment."""
        if self.provider_code == 'clover':
            custom_create_values = {
                'clover_order_id': self.clover_order_id,
                **(self.env.context.get('clover_refund_values', {}) if is_refund else {}),
                **custom_create_values,
            }
        return super()._create_child_transaction(amount, is_refund=is_refund, **custom_create_values)

    def _clover_refund_summary(self):
        """Say in a clerk's words what Clover did with this refund, void or credit."""
        self.ensure_one()
        amount = self.currency_id.format(abs(self.amount))
        if self.state == 'pending':
            return self.state_message or self.env._(
                "%(reference)s is waiting for Clover (%(amount)s).", reference=self.reference, amount=amount,
            )
        if self.state == 'cancel' or self.clover_refund_kind == 'void':
            return self.env._("Clover voided the payment: the customer is not charged %s.", amount)
        if self.clover_refund_kind == 'credit':
            return self.env._("Clover credited %(amount)s to the customer's card (%(id)s).",
                              amount=amount, id=self.provider_reference)
        return self.env._("Clover refunded %(amount)s (%(id)s).", amount=amount, id=self.provider_reference)

    # === BUSINESS METHODS - WHAT CLOVER CAN STILL DO === #

    def _clover_refund_window_closed(self):
        """Whether this payment is too old for Clover to refund it (then only a credit works)."""
        self.ensure_one()
        return fields.Datetime.now() > (self.create_date or fields.Datetime.now()) + REFUND_AGE_LIMIT

    def _clover_terminal_void_possible(self):
        """Whether this terminal sale can still be voided whole rather than refunded."""
        self.ensure_one()
        return bool(self.clover_terminal_id) and self.state == 'done' and (
            fields.Datetime.now() < self.create_date + TERMINAL_VOID_WINDOW
        ) and not self.child_transaction_ids.filtered(
            lambda tx: tx.operation == 'refund' and tx.state in ('pending', 'done')
        )

    def _clover_fetch_balance(self):
        """Return Clover's view of this payment, the same for online charges and terminal
        payments.

        :return: `state` (`authorized`, `captured`, `voided` or `failed`), `amount`, `captured`,
                 `refunded` (minor units).
        :rtype: dict
        """
        self.ensure_one()
        if self.clover_terminal_id:
            return self._clover_fetch_terminal_balance()
        charge = self._clover_fetch_charge()
        captured = charge.get('amount_captured', charge['amount'] if charge.get('captured') else 0)
        refunded = charge.get('amount_refunded', 0)
        if charge.get('status') == 'failed':
            state = 'failed'
        elif charge.get('captured'):
            state = 'captured'
        else:
            state = 'voided' if refunded or charge.get('refunded') else 'authorized'
        return {'state': state, 'amount': charge['amount'], 'captured': captured, 'refunded': refunded}

    def _clover_fetch_charge(self):
        return self.provider_id._clover_api_request(
            'ecommerce', 'GET', f'/v1/charges/{self.provider_reference}', reference=self.reference,
        )

    def _clover_fetch_terminal_balance(self):
        merchant_id = self.provider_id._clover_get_connection_values()['clover_merchant_id']
        payment = self.provider_id._clover_api_request(
            'platform', 'GET', f'/v3/merchants/{merchant_id}/payments/{self.provider_reference}',
            params={'expand': 'refunds'}, reference=self.reference,
        )
        state = {'SUCCESS': 'captured', 'AUTH': 'authorized', 'VOIDED': 'voided'}.get(
            payment.get('result'), 'failed'
        )
        refunds = (payment.get('refunds') or {}).get('elements') or []
        refunded = sum(refund.get('amount', 0) for refund in refunds)
        return {
            'state': state, 'amount': payment['amount'],
            'captured': payment['amount'] if state == 'captured' else 0,
            'refunded': payment['amount'] if state == 'voided' else refunded,
        }

    # === BUSINESS METHODS - CAPTURE AND VOID === #

    def _send_capture_request(self):
        """Override of `payment` to capture the authorized Clover charge of the source transaction.

        Clover captures a charge once: the provider supports full captures only. Under the source's
        row lock, a capture racing a void finds the source no longer authorized; a charge captured
        in the Clover dashboard is recorded as it is, not captured again.
        """
        if self.provider_code != 'clover':
            return super()._send_capture_request()
        source_tx = self.source_transaction_id
        source_tx._clover_lock()
        source_tx._clover_check_still_authorized(self.env._("captured"))
        balance = source_tx._clover_fetch_balance()
        if balance['state'] == 'captured':
            _logger.info(
                "Charge of %s was already captured at Clover; recording that capture.",
                source_tx.reference,
            )
            self._process('clover', {'reference': self.reference, 'charge': source_tx._clover_fetch_charge()})
            return None
        if balance['state'] != 'authorized':
            raise ValidationError(source_tx._clover_balance_message(balance))
        charge_id = source_tx.provider_reference
        self._clover_send_money_request(
            'charge', f'/v1/charges/{charge_id}/capture',
            {'amount': utils.format_clover_amount(self.amount, self.currency_id)}, scope='capture',
        )
        return None

    def _send_void_request(self):
        """Override of `payment` to void the uncaptured Clover charge of the source transaction.

        Clover has no void endpoint: a refund without an amount voids an uncaptured charge whole,
        and refunds a captured one. So the charge is checked at Clover first, under the source's
        row lock: a charge captured meanwhile (a racing capture, the Clover dashboard) is refused
        with the reason, never refunded in the name of a void.
        """
        if self.provider_code != 'clover':
            return super()._send_void_request()
        source_tx = self.source_transaction_id
        source_tx._clover_lock()
        source_tx._clover_check_still_authorized(self.env._("voided"))
        balance = source_tx._clover_fetch_balance()
        if balance['state'] == 'voided':
            self._set_canceled(state_message=self.env._("Clover already shows this authorization voided."))
            return None
        if balance['state'] != 'authorized':
            raise ValidationError(source_tx._clover_balance_message(balance) + ' ' + self.env._(
                "Nothing was sent to Clover: a void would now refund the charge. Refund it "
                "instead, so that Odoo books a refund."
            ))
        self.clover_refund_kind = 'void'
        self._clover_send_money_request(
            'refund', '/v1/refunds', utils.build_payment_refund_payload(
                charge_id=source_tx.provider_reference,
            ), scope='void',
        )
        self._clover_check_void_was_a_void()
        return None

    def _clover_check_still_authorized(self, operation):
        """Refuse to capture or void a transaction that stopped being authorized while the caller
        waited for its lock (e.g. a capture and a void clicked at once)."""
        if self.state != 'authorized':
            raise ValidationError(self.env._(
                "%(reference)s cannot be %(operation)s: it is no longer authorized (%(state)s).",
                reference=self.reference, operation=operation,
                state=dict(self._fields['state']._description_selection(self.env))[self.state],
            ))

    def _clover_check_void_was_a_void(self):
        """Say loudly when Clover captured the charge between the check and the void: the bare
        refund then refunded a captured charge. Money moved back to the customer all the same;
        a person must book it as a refund."""
        source_tx = self.source_transaction_id
        if self.state != 'cancel' or source_tx._clover_fetch_balance()['state'] != 'captured':
            return
        _logger.error(
            "Charge of %s was captured at Clover while it was being voided: Clover refunded it in "
            "full (refund %s).", source_tx.reference, self.provider_reference,
        )
        self.state_message = self.env._(
            "Clover captured this charge while it was being voided, so Clover refunded it in full "
            "(refund %s) instead of voiding it. Book that refund: the payment was captured, then "
            "refunded.", self.provider_reference,
        )

    # === BUSINESS METHODS - REFUNDS === #

    def _send_refund_request(self):
        """Override of `payment` to refund (part of) the Clover payment of the source transaction.

        Refunds of one payment are checked and sent one at a time, under the source's row lock:
        against the 180-day limit, against Odoo's figures (no call when they already refuse), then
        against Clover's (someone may have refunded from the Clover dashboard). Terminal payments
        refund through REST Pay, or are voided whole while their sale is not yet funded.
        """
        if self.provider_code != 'clover':
            return super()._send_refund_request()
        source_tx = self.source_transaction_id
        source_tx._clover_lock()
        self._clover_check_refund_age()
        amount = utils.format_clover_amount(-self.amount, self.currency_id)
        self._clover_check_refundable(amount)
        balance = source_tx._clover_fetch_balance()
        self._clover_check_clover_balance(balance, amount)
        if not source_tx.clover_terminal_id:
            self._clover_refund_online(amount)
        elif amount == balance['captured'] and source_tx._clover_terminal_void_possible():
            self._clover_void_terminal_sale()
        else:
            self._clover_refund_on_terminal(amount)
        return None

    def _clover_check_refund_age(self):
        source_tx = self.source_transaction_id
        if source_tx._clover_refund_window_closed():
            raise ValidationError(self.env._(
                "%(reference)s was paid %(days)s days ago: Clover refunds a payment within 180 "
                "days only (until %(deadline)s). Give the customer a credit to their card "
                "instead.",
                reference=source_tx.reference, days=source_tx.clover_payment_age,
                deadline=format_date(self.env, source_tx.clover_refund_deadline),
            ))

    def _clover_check_refundable(self, amount):
        """Refuse, before calling Clover, a refund above what is left to refund on the source.

        Pending refunds count: Clover may have made them.

        :param int amount: The refund in minor units.
        :raise ValidationError: If the refund is larger than what remains.
        """
        source_tx = self.source_transaction_id
        left = source_tx._clover_amount_left_to_refund(exclude=self)
        if amount > utils.format_clover_amount(left, self.currency_id):
            raise ValidationError(self.env._(
                "Cannot refund %(amount)s: only %(left)s of %(reference)s is left to refund.",
                amount=self.currency_id.format(-self.amount),
                left=self.currency_id.format(left),
                reference=source_tx.reference,
            ))

    def _clover_amount_left_to_refund(self, exclude=None):
        """Return what Odoo knows is left to refund on this payment, in major units."""
        self.ensure_one()
        if self.state != 'done':
            return 0.0
        refunded = -sum((self.child_transaction_ids - (exclude or self.browse())).filtered(
            lambda tx: tx.operation == 'refund' and tx.state in ('pending', 'done')
        ).mapped('amount'))
        return max(self.amount - refunded, 0.0)

    def _clover_check_clover_balance(self, balance, amount):
        """Refuse a refund that Clover's view of the payment does not allow, saying what Clover
        shows."""
        source_tx = self.source_transaction_id
        left = balance['captured'] - balance['refunded']
        if balance['state'] == 'captured' and amount <= left:
            return
        message = source_tx._clover_balance_message(balance)
        if balance['state'] == 'captured' and left > 0:
            message += ' ' + self.env._(
                "Odoo's figures are out of date (a refund made in the Clover dashboard?): refund "
                "at most %s.", self._clover_format_minor(left),
            )
        raise ValidationError(message)

    def _clover_balance_message(self, balance):
        """Say in plain words what Clover shows of this payment."""
        fmt = self._clover_format_minor
        if balance['state'] == 'voided':
            return self.env._("Clover shows payment %s voided: nothing was taken.", self.provider_reference)
        if balance['state'] == 'failed':
            return self.env._("Clover shows payment %s declined: nothing was taken.", self.provider_reference)
        if balance['state'] == 'authorized':
            return self.env._(
                "Clover shows payment %(id)s authorized for %(amount)s but not captured: void it.",
                id=self.provider_reference, amount=fmt(balance['amount']),
            )
        if balance['refunded'] >= balance['captured']:
            return self.env._(
                "Clover shows payment %(id)s already refunded in full (%(refunded)s).",
                id=self.provider_reference, refunded=fmt(balance['refunded']),
            )
        return self.env._(
            "Clover shows payment %(id)s captured for %(captured)s, of which %(refunded)s is "
            "already refunded: %(left)s is left.",
            id=self.provider_reference, captured=fmt(balance['captured']),
            refunded=fmt(balance['refunded']), left=fmt(balance['captured'] - balance['refunded']),
        )

    def _clover_format_minor(self, minor_amount):
        return self.currency_id.format(utils.parse_clover_amount(minor_amount, self.currency_id))

    def _clover_refund_online(self, amount):
        """Refund `amount` of an online charge through `/v1/refunds`.

        The refund carries its amount. Some sandboxes refuse any refund body but `{"charge"}`
        (spec.md §7), which refunds all that remains: that body is sent only when Clover confirms
        that what remains is exactly this refund, so a partial refund never becomes a full one.
        """
        self.clover_refund_kind = 'refund'
        charge_id = self.source_transaction_id.provider_reference
        try:
            self._clover_send_money_request('refund', '/v1/refunds', utils.build_payment_refund_payload(
                amount, charge_id=charge_id, reason=self.clover_refund_reason,
                metadata=self._clover_metadata(),
            ), scope='refund')
        except CloverAPIError as error:
            if error.status != 400 or error.code not in REFUND_BODY_ERROR_CODES:
                raise
            self._clover_refund_all_that_remains(charge_id, amount, error)

    def _clover_refund_all_that_remains(self, charge_id, amount, error):
        """Refund with the bare `{"charge"}` body once Clover refused the amount, if and only if
        what remains on the charge at Clover is this very refund."""
        balance = self.source_transaction_id._clover_fetch_balance()
        remaining = balance['captured'] - balance['refunded']
        if remaining != amount:
            raise ValidationError(self.env._(
                "Clover refused a refund with an amount (%(error)s). This Clover account only "
                "refunds all that remains on a charge (%(remaining)s here): make this partial "
                "refund from the Clover dashboard.",
                error=error,
                remaining=self.currency_id.format(
                    utils.parse_clover_amount(remaining, self.currency_id)
                ),
            ))
        _logger.info(
            "Clover refused the refund amount of %s; refunding all that remains, which is the "
            "same amount.", self.reference,
        )
        self._clover_send_money_request(
            'refund', '/v1/refunds', utils.build_payment_refund_payload(charge_id=charge_id),
            scope='refund-all',
        )
