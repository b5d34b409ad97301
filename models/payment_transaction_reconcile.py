from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain

from odoo.addons.payment.logging import get_payment_logger

from .. import const, utils
from .payment_provider import CloverAPIError

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

# What the v3 payment must carry to be reconciled: its state, card and refunds.
PAYMENT_EXPAND = 'cardTransaction,refunds,order'
# A pending transaction younger than this is still in someone's hands (the customer's browser,
# the terminal engine, the resend of an unanswered request): the cron leaves it alone.
RECONCILE_AFTER = timedelta(minutes=5)
# A REST Pay payment blocks for up to 5 minutes (X-Clover-Timeout): give the terminal engine more.
RECONCILE_TERMINAL_AFTER = timedelta(minutes=10)
# Past this, a pending transaction is no longer looked up on every run.
RECONCILE_FOR = timedelta(days=7)
# Transactions looked up between two commits of the reconciliation cron.
RECONCILE_BATCH = 20
# Charges listed per page when looking for a charge whose answer was lost. Clover lists the
# newest first; the lookup stops at the first page reaching back before the transaction (less
# CHARGE_CLOCK_SKEW, for the two clocks), and reads at most CHARGE_PAGES_MAX pages in one run.
CHARGE_PAGE_SIZE = 100
CHARGE_PAGES_MAX = 20
CHARGE_CLOCK_SKEW = timedelta(minutes=15)
# The transaction states Clover's record may still change.
OPEN_STATES = ('draft', 'pending', 'authorized')


class PaymentTransaction(models.Model):
    _inherit = 'payment.transaction'

    # === RECONCILIATION OF ONE CLOVER PAYMENT === #

    @api.model
    def _clover_reconcile_payment(self, provider, payment_id):
        """Read the payment from Clover's Platform API and bring Odoo in line with it.

        A webhook only says that a payment changed; what changed is read back from Clover, so a
        forged or stale event cannot move money in Odoo.

        :param payment.provider provider: The provider holding the payment's merchant.
        :param str payment_id: Clover's payment (= charge) id.
        :return: The transactions updated (empty when Odoo knows no transaction of the payment),
                 or None when Clover does not know the payment.
        :raise CloverAPIError: When Clover cannot be asked now.
        """
        try:
            payment = self._clover_fetch_payment(provider, payment_id)
        except CloverAPIError as error:
            if error.status == 404:
                return None
            raise
        tx = self._clover_find_payment_transaction(provider, payment)
        if not tx:
            _logger.info("Clover payment %s matches no Odoo transaction; skipped.", payment_id)
            return tx
        return tx._clover_apply_payment(payment)

    @api.model
    def _clover_fetch_payment(self, provider, payment_id):
        return provider._clover_api_request(
            'platform', 'GET', f'/v3/merchants/{provider.clover_merchant_id}/payments/{payment_id}',
            params={'expand': PAYMENT_EXPAND},
        )

    @api.model
    def _clover_find_payment_transaction(self, provider, payment):
        """Return the transaction of a v3 payment: by REST Pay's `externalPaymentId` (terminal),
        by the charge id (online), else the pending transaction whose `external_reference_id` it
        carries (a charge whose answer was lost, so Odoo never learned its id)."""
        base = Domain('provider_id', '=', provider.id) & Domain('operation', '!=', 'refund')
        if external_payment_id := payment.get('externalPaymentId'):
            tx = self.search(
                base & Domain('clover_external_payment_id', '=', external_payment_id), limit=1,
            )
            if tx:
                return tx
        tx = self.search(
            base & Domain('provider_reference', '=', payment['id'])
            & Domain('source_transaction_id', '=', False), limit=1,
        )
        if tx or not (external_reference := payment.get('externalReferenceId')):
            return tx
        return self.search(
            base & Domain('state', '=', 'pending') & Domain('provider_reference', '=', False)
            & Domain('clover_external_payment_id', '=', False)
        ).filtered(lambda t: t._clover_external_reference_id() == external_reference)[:1]

    def _clover_apply_payment(self, payment):
        """Apply Clover's record of this transaction's payment: settle, cancel, record refunds.

        :return: This transaction and the refund transactions recorded or settled.
        """
        self.ensure_one()
        self._clover_lock()
        previous_state = self.state
        if self.state in OPEN_STATES and self._clover_payment_changes_state(payment):
            if self._clover_is_terminal():
                # The terminal engine maps REST Pay / v3 payment objects (see CONTRACTS.md).
                self._process('clover', {'payment': payment})
            else:
                self._clover_settle_online(payment)
            if self.state != 'pending':
                self.sudo().clover_pending_request = False
        refunds = self._clover_record_refunds(payment) if self.state == 'done' else self.browse()
        if self.state != previous_state:
            _logger.info(
                "Transaction %s reconciled with Clover payment %s: %s -> %s.",
                self.reference, payment['id'], previous_state, self.state,
            )
            # Nobody is polling this payment any more: post-process it now.
            self.env.ref('payment.cron_post_process_payment_tx')._trigger()
        return self | refunds

    def _clover_is_terminal(self):
        return bool(self.clover_terminal_id or self.clover_external_payment_id)

    def _clover_payment_changes_state(self, payment):
        """Whether Clover's record says more than Odoo knows: an authorized transaction only
        moves when Clover captured or voided it."""
        if self.state == 'authorized':
            return payment.get('result') in ('SUCCESS', 'VOIDED')
        return True

    def _clover_settle_online(self, payment):
        """Settle an online charge from Clover's own record of it, through the same processing
        as Clover's answer to the charge request (Ecommerce charge object)."""
        if payment.get('result') == 'VOIDED':
            self.provider_reference = payment['id']
            self._set_canceled(state_message=self.env._("The payment was voided at Clover."))
            return
        charge = self.provider_id._clover_api_request(
            'ecommerce', 'GET', f"/v1/charges/{payment['id']}", reference=self.reference,
        )
        reference = (charge.get('metadata') or {}).get('odoo_reference')
        if reference and reference != self.reference:
            _logger.warning(
                "Clover charge %s belongs to %s, not to transaction %s; left alone.",
                charge['id'], reference, self.reference,
            )
            return
        self._process('clover', {'reference': self.reference, 'charge': charge})

    # === REFUNDS MADE AT CLOVER === #

    def _clover_record_refunds(self, payment):
        """Record in Odoo the refunds of this payment that Odoo did not make or never heard
        back about (e.g. one made in the Clover dashboard).

        :return: The refund transactions recorded or settled.
        """
        refund_txs = self.child_transaction_ids.filtered(lambda t: t.operation == 'refund')
        known = set(refund_txs.filtered('provider_reference').mapped('provider_reference'))
        recorded = self.browse()
        for element in (payment.get('refunds') or {}).get('elements') or []:
            if element.get('id') and element['id'] not in known:
                recorded |= self._clover_record_refund(element, refund_txs)
        return recorded

    def _clover_record_refund(self, element, refund_txs):
        """Settle the Odoo refund this Clover refund is, or record it as a new refund."""
        refund = self._clover_fetch_refund(element)
        reference = (refund.get('metadata') or {}).get('odoo_reference')
        refund_tx = refund_txs.filtered(lambda t: t.reference == reference and t.state in OPEN_STATES)
        if not refund_tx and not reference:
            # An online Odoo refund whose answer was lost names itself in the metadata; a
            # terminal refund carries none and is recognised by its amount. Never an online one
            # by its amount: it may not have reached Clover, and would be sent again.
            amount = utils.parse_clover_amount(refund['amount'], self.currency_id)
            refund_tx = refund_txs.filtered(
                lambda t: t.state in OPEN_STATES and not t.provider_reference
                and t._clover_is_terminal()
                and self.currency_id.compare_amounts(-t.amount, amount) == 0
            )[:1]
        if not refund_tx:
            refund_tx = self._create_child_transaction(
                utils.parse_clover_amount(refund['amount'], self.currency_id), is_refund=True,
            )
            _logger.info(
                "Recorded Clover refund %s of %s made outside Odoo as %s.",
                refund['id'], self.reference, refund_tx.reference,
            )
        refund_tx._process('clover', {'reference': refund_tx.reference, 'refund': refund})
        refund_tx.sudo().clover_pending_request = False
        return refund_tx

    def _clover_fetch_refund(self, element):
        """Return the Ecommerce refund object of a v3 refund. A refund Ecommerce does not serve
        (made on a device) is described from the v3 record, which Clover only lists once made."""
        try:
            return self.provider_id._clover_api_request(
                'ecommerce', 'GET', f"/v1/refunds/{element['id']}", reference=self.reference,
            )
        except CloverAPIError as error:
            if error.status != 404:
                raise
        return {
            'id': element['id'], 'amount': element['amount'], 'status': 'succeeded',
            'currency': self.currency_id.name.lower(),
        }

    # === THE RECONCILIATION CRON: WHAT NO WEBHOOK SETTLED === #

    @api.model
    def _cron_clover_reconcile_pending(self):
        """Look up at Clover the pending Clover transactions no webhook settled, and settle them.

        Clover does not promise to deliver webhooks (clover-api.md §6.1). Small batches, each
        committed, so one slow lookup never holds many transactions.
        """
        txs = self.search(self._clover_reconcile_domain(), order='last_state_change')
        txs = txs.filtered(lambda t: t._clover_due_for_reconciliation())
        for index in range(0, len(txs), RECONCILE_BATCH):
            for tx in txs[index:index + RECONCILE_BATCH]:
                tx._clover_reconcile_one()
            remaining = max(len(txs) - index - RECONCILE_BATCH, 0)
            if not self.env['ir.cron']._commit_progress(RECONCILE_BATCH, remaining=remaining):
                return

    @api.model
    def _clover_reconcile_domain(self):
        now = fields.Datetime.now()
        return [
            ('provider_code', '=', 'clover'),
            ('state', '=', 'pending'),
            ('operation', '!=', 'refund'),
            ('last_state_change', '<=', now - RECONCILE_AFTER),
            ('last_state_change', '>=', now - RECONCILE_FOR),
        ]

    def _clover_due_for_reconciliation(self):
        """Whether the transaction waited long enough: terminal ones wait for the terminal
        engine to have had its time."""
        wait = RECONCILE_TERMINAL_AFTER if self._clover_is_terminal() else RECONCILE_AFTER
        return self.last_state_change <= fields.Datetime.now() - wait

    def _clover_reconcile_one(self):
        """Find this transaction's payment at Clover and apply it; errors wait for the next run."""
        try:
            with self.env.cr.savepoint():
                payment = self._clover_lookup_payment()
                if payment:
                    self._clover_apply_payment(payment)
        except (CloverAPIError, UserError) as error:
            _logger.warning("Could not reconcile transaction %s with Clover: %s", self.reference, error)

    def _clover_lookup_payment(self):
        """Return Clover's v3 payment of this transaction, or None when Clover has none (yet)."""
        provider = self.provider_id
        payment_id = self.provider_reference
        if not payment_id and self._clover_is_terminal():
            payment_id = self._clover_find_terminal_payment_id()
        elif not payment_id:
            payment_id = self._clover_find_charge_id()
        if not payment_id:
            return None
        try:
            return self._clover_fetch_payment(provider, payment_id)
        except CloverAPIError as error:
            if error.status == 404:
                return None
            raise

    def _clover_find_charge_id(self):
        """Return the id of the Clover charge made for this transaction, found by the reference
        its metadata carries among the charges made since it was created (a charge whose answer
        was lost)."""
        oldest_ms = utils.format_clover_time(self.create_date - CHARGE_CLOCK_SKEW)
        params = {'limit': CHARGE_PAGE_SIZE}
        for _page in range(CHARGE_PAGES_MAX):
            listing = self.provider_id._clover_api_request(
                'ecommerce', 'GET', '/v1/charges', params=params, reference=self.reference,
            )
            charges = listing.get('data') or listing.get('elements') or []
            for charge in charges:
                if (charge.get('metadata') or {}).get('odoo_reference') == self.reference:
                    return charge['id']
            if not listing.get('has_more') or not charges or _created_before(charges[-1], oldest_ms):
                return None
            params = {**params, 'starting_after': charges[-1]['id']}
        _logger.warning(
            "Clover charge of %s not found in the latest %s charges; look for its reference in "
            "the Clover dashboard (its webhook still settles it).",
            self.reference, CHARGE_PAGES_MAX * CHARGE_PAGE_SIZE,
        )
        return None

    def _clover_find_terminal_payment_id(self):
        """Return the id of the v3 payment REST Pay made with this transaction's
        `externalPaymentId`, if any."""
        provider = self.provider_id
        listing = provider._clover_api_request(
            'platform', 'GET', f'/v3/merchants/{provider.clover_merchant_id}/payments',
            params={'filter': f'externalPaymentId={self.clover_external_payment_id}'},
            reference=self.reference,
        )
        for payment in listing.get('elements') or []:
            if payment.get('externalPaymentId') == self.clover_external_payment_id:
                return payment['id']
        return None


def _created_before(charge, milliseconds):
    """Whether Clover says the charge was made before this time (one without a time is not)."""
    created = charge.get('created')
    return isinstance(created, int) and created < milliseconds
