import json
from datetime import timedelta

from odoo import fields, models

from odoo.addons.payment import utils as payment_utils

from .payment_provider import CloverAPIError
from .payment_transaction import _logger

# How long a request Clover did not answer is sent again with its idempotency key. Clover does not
# document how long it remembers keys; past this window, a person checks the Clover dashboard.
RETRY_WINDOW = timedelta(hours=1)
# Clover requires the shopper's IP on charges and captures; without a customer, the server's.
SERVER_FORWARDED_FOR = '127.0.0.1'


class PaymentTransaction(models.Model):
    """Money-moving requests to Clover: sent once with a stable idempotency key, and sent again,
    unchanged, while Clover has not told their outcome."""

    _inherit = 'payment.transaction'

    # === BUSINESS METHODS - REQUESTS WHOSE OUTCOME IS UNKNOWN === #

    def _clover_send_money_request(self, kind, endpoint, payload, scope):
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
            'forwarded_for': self._clover_forwarded_for(),
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

    def _clover_forwarded_for(self):
        """Return the shopper's address Clover requires: the one captured when the customer paid
        (a capture or a refund comes later, from a clerk or a cron), else the caller's, else the
        server's."""
        return (
            self.clover_customer_ip or self.source_transaction_id.clover_customer_ip
            or payment_utils.get_customer_ip_address() or SERVER_FORWARDED_FOR
        )

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
        """Give up asking Clover: forget the stored request, whose card token must not outlive
        its use, and leave the transaction pending for a person to settle from Clover's
        dashboard."""
        for tx in self:
            _logger.warning(
                "Clover never told the outcome of transaction %s; check the Clover dashboard for "
                "the charge whose metadata odoo_reference is that reference.", tx.reference,
            )
            tx.sudo().clover_pending_request = False
            tx.state_message = self.env._(
                "Clover never told the outcome of this payment. Check the Clover dashboard for a "
                "charge whose metadata odoo_reference is %s before doing anything else.",
                tx.reference,
            )

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
