import json
import uuid
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.logging import get_payment_logger

from .. import const, utils
from . import clover_terminal_runner as runner
from .payment_provider import CloverAPIError

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

PAYMENT_ENDPOINT = '/connect/v1/payments'
CREDIT_ENDPOINT = '/connect/v1/credits'
WELCOME_ENDPOINT = '/connect/v1/device/welcome'
# Clover lists "Display the thank you screen" without its path; this is the likeliest (§5.2, §10).
THANK_YOU_ENDPOINT = '/connect/v1/device/thank-you'
RUNNER_CRON = 'fusion_clover.cron_clover_terminal_runner'
# Seconds the device waits for the customer (X-Clover-Timeout); a system parameter may change it.
DEVICE_TIMEOUT_PARAM = 'fusion_clover.terminal_timeout'
DEFAULT_DEVICE_TIMEOUT = 120
# A runner owns a payment this long without renewing its claim (see clover_terminal_runner).
LEASE = timedelta(seconds=3 * runner.RENEW_INTERVAL)
# Seconds before asking Clover again for a payment it did not answer, by attempt.
RECOVERY_DELAYS = (2, 5, 10, 30, 60)
# Clover does not say how long it remembers idempotency keys: past this, a person checks Clover.
RECOVERY_WINDOW = timedelta(hours=1)
FINAL_STATES = ('done', 'cancel', 'error', 'authorized')


class PaymentTransaction(models.Model):
    _inherit = 'payment.transaction'

    # Where a terminal payment stands while it is pending; empty once it settled.
    clover_terminal_phase = fields.Selection(
        string="Terminal Step",
        selection=[
            ('queued', "Sending to the terminal"),
            ('waiting', "Waiting for the customer"),
            ('canceling', "Canceling"),
            ('recovering', "Checking the outcome with Clover"),
        ],
        readonly=True, copy=False, index='btree_not_null',
    )
    # The request as first sent (endpoint, body, device id, key): every resend is this very request.
    clover_terminal_request = fields.Text(string="Terminal Request", readonly=True, copy=False)
    clover_terminal_idempotency_key = fields.Char(
        string="Terminal Idempotency Key", readonly=True, copy=False,
    )
    # No runner may take the payment before then: a runner's claim, or the next recovery attempt.
    clover_terminal_hold_until = fields.Datetime(readonly=True, copy=False)
    clover_terminal_attempts = fields.Integer(string="Terminal Attempts", readonly=True, copy=False)
    clover_terminal_user_id = fields.Many2one(
        string="Sent to Terminal By", comodel_name='res.users', readonly=True, copy=False,
    )

    # === BUSINESS METHODS - STARTING AND CANCELING === #

    @api.model
    def _clover_new_terminal_transaction(self, terminal, amount, partner, currency=None, **values):
        """Create the draft transaction of a payment (amount > 0) or of a non-referenced credit
        (amount < 0) on `terminal`; `values` may hold `invoice_ids` or `sale_order_ids` commands."""
        currency = currency or terminal.company_id.currency_id
        return self.sudo().create({
            'provider_id': terminal.provider_id.id,
            'payment_method_id': self.env.ref('payment.payment_method_card').id,
            'amount': amount,
            'currency_id': currency.id,
            'partner_id': partner.id,
            'operation': 'offline' if amount > 0 else 'refund',
            'clover_terminal_id': terminal.id,
            **values,
        }).with_env(self.env)

    def _clover_start_terminal_payment(self):
        """Send this draft transaction to its terminal, in the background; return at once.

        The transaction turns pending with its idempotency key, `externalPaymentId` and the exact
        request saved before anything is sent. The runner is woken when the caller's transaction
        commits: a caller that fails afterwards rolls back the payment with it, and nothing reaches
        the device.
        """
        self.ensure_one()
        self._clover_check_terminal_start()
        key = payment_utils.generate_idempotency_key(self, scope='terminal')
        external_id = uuid.uuid4().hex  # 32 characters, Clover's maximum (clover-api.md §5.2).
        request = {
            'endpoint': CREDIT_ENDPOINT if self.operation == 'refund' else PAYMENT_ENDPOINT,
            'payload': self._clover_terminal_payload(external_id),
            'device_id': self.clover_terminal_id._clover_device_header(),
            'device_timeout': int(self.env['ir.config_parameter'].sudo().get_param(
                DEVICE_TIMEOUT_PARAM, DEFAULT_DEVICE_TIMEOUT,
            )),
            'idempotency_key': key,
            'created_at': fields.Datetime.to_string(fields.Datetime.now()),
        }
        self.sudo().write({
            'clover_terminal_request': json.dumps(request),
            'clover_terminal_idempotency_key': key,
            'clover_external_payment_id': external_id,
            'clover_terminal_phase': 'queued',
            'clover_terminal_attempts': 0,
            'clover_terminal_hold_until': False,
            'clover_terminal_user_id': self.env.uid,
        })
        self.sudo()._set_pending(state_message=self.env._(
            "Sending to %s…", self.clover_terminal_id.name,
        ))
        self._clover_notify_terminal_status()
        self.env.ref(RUNNER_CRON).sudo()._trigger()
        return self._clover_terminal_status()

    def _clover_check_terminal_start(self):
        terminal = self.clover_terminal_id
        if self.provider_code != 'clover' or not terminal:
            raise ValidationError(self.env._("This transaction is not a Clover terminal payment."))
        if self.state != 'draft':
            raise ValidationError(self.env._(
                "Transaction %(reference)s was already sent (it is %(state)s).",
                reference=self.reference, state=self.state,
            ))
        if not terminal.active or terminal.provider_id != self.provider_id:
            raise ValidationError(self.env._(
                "Terminal %s cannot take payments for this provider.", terminal.name,
            ))
        is_sale = self.operation == 'offline' and self.amount > 0
        is_credit = self.operation == 'refund' and self.amount < 0 and not self.source_transaction_id
        if not (is_sale or is_credit):
            raise ValidationError(self.env._(
                "A terminal takes a payment (a positive amount) or gives a credit that refers to no "
                "earlier payment (a negative amount); refund a payment from that payment instead.",
            ))

    def _clover_terminal_payload(self, external_id):
        amount = utils.format_clover_amount(abs(self.amount), self.currency_id)
        if self.operation == 'refund':
            return {'amount': amount}
        # final: a closed sale, no tip adjustment later (clover-api.md §5.2).
        return {
            'amount': amount,
            'final': True,
            'externalPaymentId': external_id,
            'externalReferenceId': self._clover_external_reference_id(),
        }

    def _clover_cancel_terminal_payment(self):
        """Ask the terminal to cancel this payment. It settles as canceled once Clover answers
        that nothing was taken (209); a customer who already paid makes it done instead.

        :return: The status (see `_clover_terminal_status`).
        :raise UserError: When the terminal cannot be reached to cancel.
        """
        self.ensure_one()
        self._clover_lock()
        if self.state != 'pending' or not self.clover_terminal_phase:
            return self._clover_terminal_status()
        tx_sudo = self.sudo()
        not_sent = self.clover_terminal_phase == 'queued' and not self.clover_terminal_attempts and (
            not self.clover_terminal_hold_until
            or self.clover_terminal_hold_until <= fields.Datetime.now()
        )
        if not_sent:  # No runner holds it: it never reached the device.
            tx_sudo._clover_settle(lambda: tx_sudo._set_canceled(
                state_message=self.env._("Canceled before it reached the terminal."),
            ))
            return self._clover_terminal_status()
        tx_sudo.clover_terminal_phase = 'canceling'
        self._clover_notify_terminal_status()
        try:
            self.clover_terminal_id._clover_request('POST', '/connect/v1/device/cancel')
        except (CloverAPIError, UserError) as error:
            raise UserError(self.env._(
                "Could not cancel on the terminal: %s Cancel it on the terminal itself.",
                self.clover_terminal_id._clover_explain(error),
            )) from error
        return self._clover_terminal_status()

    # === BUSINESS METHODS - STATUS === #

    def _clover_terminal_status(self):
        """Return where the payment stands, in words for the clerk:
        `{'id', 'reference', 'state', 'message', 'final'}`."""
        self.ensure_one()
        return {
            'id': self.id,
            'reference': self.reference,
            'state': self.state,
            'message': self._clover_terminal_message(),
            # A pending payment with no terminal step left waits for a person (see _clover_stop_recovering).
            'final': self.state in FINAL_STATES or not self.clover_terminal_phase,
        }

    def _clover_terminal_message(self):
        terminal = self.clover_terminal_id.name
        if self.state == 'done':
            last4 = self.clover_card_last4 and f"•••• {self.clover_card_last4}"
            card = " ".join(filter(None, (self.clover_card_brand, last4)))
            if self.operation == 'refund':
                return self.env._(
                    "Credited %(amount)s to %(card)s.", amount=self._clover_amount_text(), card=card,
                )
            return self.env._(
                "Approved: %(amount)s on %(card)s (authorization %(code)s).",
                amount=self._clover_amount_text(), card=card, code=self.clover_auth_code or "-",
            )
        if self.state == 'pending':
            return {
                'queued': self.env._("Sending to %s…", terminal),
                'waiting': self.env._("Waiting for the customer on %s…", terminal),
                'canceling': self.env._("Canceling on %s…", terminal),
            }.get(self.clover_terminal_phase) or self.state_message or self.env._("Pending.")
        return self.state_message or dict(self._fields['state']._description_selection(self.env))[self.state]

    def _clover_amount_text(self):
        return self.currency_id.format(abs(self.amount))

    def _clover_notify_terminal_status(self):
        """Tell the clerk's browser (bus notification `fusion_clover.terminal_status`); it is sent
        when the transaction that changed the payment commits."""
        if self.clover_terminal_user_id:
            self.clover_terminal_user_id._bus_send(
                'fusion_clover.terminal_status', self._clover_terminal_status(),
            )

    # === BUSINESS METHODS - THE RUNNER === #

    @api.model
    def _cron_clover_run_terminal_payments(self):
        """Claim the terminal payments to send (new ones, and those to recover) and serve them in
        threads of this process (see `clover_terminal_runner`); return at once."""
        txs = self._clover_claim_terminal_payments()
        # The claims must be durable before the payments are sent (a cron may commit).
        self.env.cr.commit()  # pylint: disable=invalid-commit
        runner.serve(self.env.cr.dbname, txs.ids)

    @api.model
    def _clover_claim_terminal_payments(self):
        """Lease the pending terminal payments no runner holds to this process.

        :return: The claimed transactions.
        """
        now = fields.Datetime.now()
        self.flush_model(['state', 'clover_terminal_phase', 'clover_terminal_hold_until'])
        self.env.cr.execute(
            """SELECT id FROM payment_transaction
                WHERE state = 'pending' AND clover_terminal_phase IS NOT NULL
                  AND (clover_terminal_hold_until IS NULL OR clover_terminal_hold_until <= %s)
                  AND NOT (id = ANY(%s))
                  FOR NO KEY UPDATE SKIP LOCKED""",
            [now, runner.running_ids(self.env.cr.dbname)],
        )
        txs = self.browse([row[0] for row in self.env.cr.fetchall()])
        expired = txs.filtered(lambda tx: tx._clover_recovery_window_closed())
        expired._clover_stop_recovering()
        claimed = txs - expired
        claimed.write({'clover_terminal_hold_until': now + LEASE})
        self._clover_wake_runner_at(now + LEASE)
        return claimed

    @api.model
    def _clover_renew_terminal_leases(self, tx_ids):
        """Keep this process's claims on the payments it serves, and book a run of the runner for
        when they would run out: if this process dies, that run replays them."""
        until = fields.Datetime.now() + LEASE
        self.env.cr.execute(
            "UPDATE payment_transaction SET clover_terminal_hold_until = %s"
            " WHERE id = ANY(%s) AND clover_terminal_phase IS NOT NULL",
            [until, list(tx_ids)],
        )
        self.invalidate_model(['clover_terminal_hold_until'])
        self._clover_wake_runner_at(until)

    @api.model
    def _clover_wake_runner_at(self, moment):
        self.env.ref(RUNNER_CRON).sudo()._trigger(moment + timedelta(seconds=1))

    def _clover_recovery_window_closed(self):
        created = fields.Datetime.from_string(json.loads(self.clover_terminal_request)['created_at'])
        return self.clover_terminal_attempts and created + RECOVERY_WINDOW <= fields.Datetime.now()

    def _clover_stop_recovering(self):
        for tx in self:
            _logger.warning(
                "Clover never told the outcome of terminal payment %s (externalPaymentId %s).",
                tx.reference, tx.clover_external_payment_id,
            )
            tx._clover_settle(lambda tx=tx: tx.write({'state_message': self.env._(
                "Clover never told the outcome of this terminal payment. Look for the payment with "
                "external payment ID %s on the Clover dashboard before doing anything else.",
                tx.clover_external_payment_id,
            )}))

    def _clover_terminal_exchange(self):
        """Send the payment to its device, wait for the customer, and record the outcome.

        Runs in a runner thread, in a cursor of its own: a short transaction before the call, none
        during it (see `_log_request`), a short one after.
        """
        self.ensure_one()
        self._clover_lock()
        if self.state != 'pending' or not self.clover_terminal_phase:
            return
        request = json.loads(self.clover_terminal_request)
        if self.clover_terminal_phase == 'canceling' and not self.clover_terminal_attempts:
            # The clerk canceled while this runner was about to send it: it is not sent.
            self._clover_settle(lambda: self._set_canceled(
                state_message=self.env._("Canceled before it reached the terminal."),
            ))
            return
        if self.clover_terminal_phase != 'canceling':
            self.clover_terminal_phase = 'recovering' if self.clover_terminal_attempts else 'waiting'
        self.clover_terminal_attempts += 1
        self._clover_notify_terminal_status()
        self.env.cr.commit()  # pylint: disable=invalid-commit
        try:
            answer = self.clover_terminal_id.with_context(clover_commit_before_waiting=True)._clover_request(
                'POST', request['endpoint'], payload=request['payload'],
                idempotency_key=request['idempotency_key'], reference=self.reference,
                device_timeout=request['device_timeout'], device_id=request['device_id'],
            )
        except (CloverAPIError, UserError) as error:
            answer, failure = None, error
        else:
            failure = None
        self._clover_lock()
        self._clover_record_outcome(answer, failure)
        self.env.cr.commit()  # pylint: disable=invalid-commit
        self._clover_after_outcome()

    def _clover_record_outcome(self, answer, failure):
        """Process Clover's answer to the terminal request, or its refusal."""
        if self.state != 'pending':
            # Two runners replayed the same request (a lease ran out under a slow one): Clover
            # gave both the same payment. Anything else needs a person.
            paid = (answer or {}).get('payment') or {}
            same = bool(paid) and paid.get('id') == self.provider_reference
            (_logger.info if same else _logger.error)(
                "Clover answered terminal payment %s, already %s: %s", self.reference, self.state,
                answer or failure,
            )
            return
        key = 'credit' if answer and 'credit' in answer else 'payment'
        clover_object = (answer or {}).get(key)
        if isinstance(clover_object, dict):
            self._clover_settle(lambda: self._process('clover', {key: clover_object}))
        elif answer is not None or self._clover_outcome_unknown(failure):
            self._clover_schedule_recovery(failure or self.env._("an answer without a payment"))
        else:
            message = self._clover_failure_message(failure)
            settle = self._set_canceled if getattr(failure, 'status', None) == 209 else self._set_error
            self._clover_settle(lambda: settle(state_message=message))

    @api.model
    def _clover_outcome_unknown(self, error):
        """Whether Clover may have taken the payment without telling: no answer, a lost
        connection, or a 5xx that is not one of the device's documented refusals."""
        return (
            isinstance(error, CloverAPIError) and error.outcome_unknown
            and not self._clover_is_refusal(error)
        )

    @api.model
    def _clover_is_refusal(self, error):
        """Whether a 5xx from REST Pay Display says the device took nothing (clover-api.md §5.3):
        503 busy (RESOURCE_CONFLICT) and 504 (the device did not answer)."""
        return (error.status == 503 and error.error_type == 'RESOURCE_CONFLICT') or error.status == 504

    def _clover_failure_message(self, error):
        terminal = self.clover_terminal_id.name
        if not isinstance(error, CloverAPIError):
            return str(error)
        if error.status == 209:
            return self.env._("Canceled on %s: nothing was charged.", terminal)
        if error.is_decline:
            reason = f"{error} ({error.decline_code})" if error.decline_code else str(error)
            return self.env._("Declined: %s", reason)
        if error.status == 503:
            return self.env._(
                "%s is busy with another payment: nothing was sent. Finish or cancel the other "
                "payment on the terminal, then send this one again.", terminal,
            )
        if error.status == 504 and error.code == 'device_not_connected':
            return self.env._(
                "Cloud Pay Display is not running on %s: nothing was charged. Open the Cloud Pay "
                "Display app on the terminal, then send the payment again.", terminal,
            )
        if error.status == 504:
            return self.env._(
                "%s did not answer in time: nothing was charged. Check the terminal is on and "
                "online, then send the payment again.", terminal,
            )
        return self.clover_terminal_id._clover_explain(error)

    def _clover_schedule_recovery(self, error):
        """Keep the payment pending and ask Clover again later with the same request and key:
        Clover answers with the outcome of the first one, never a second payment."""
        delay = RECOVERY_DELAYS[min(self.clover_terminal_attempts, len(RECOVERY_DELAYS)) - 1]
        retry_at = fields.Datetime.now() + timedelta(seconds=delay)
        _logger.warning(
            "Clover gave no outcome for terminal payment %s (%s); asking again in %s s.",
            self.reference, error, delay,
        )
        self.write({
            'clover_terminal_phase': 'recovering',
            'clover_terminal_hold_until': retry_at,
            'state_message': self.env._(
                "Lost contact with Clover (%s). Checking the payment's outcome with Clover; the "
                "customer will not be charged twice.", error,
            ),
        })
        self._clover_wake_runner_at(retry_at)
        self._clover_notify_terminal_status()

    def _clover_settle(self, apply):
        """Apply an outcome, end the terminal step and tell the clerk."""
        apply()
        self.write({'clover_terminal_phase': False, 'clover_terminal_hold_until': False})
        self._clover_notify_terminal_status()

    def _clover_after_outcome(self):
        """Once the outcome is committed: book an approved payment as Odoo's own flow does, and
        end the device's spinning result screen with thank-you or welcome."""
        if self.state == 'done':
            try:
                self._post_process()
                self.env.cr.commit()  # pylint: disable=invalid-commit
            except Exception:  # noqa: BLE001 - the post-processing cron retries it.
                self.env.cr.rollback()
                _logger.exception("Could not post-process terminal payment %s now.", self.reference)
                self.env.ref('payment.cron_post_process_payment_tx')._trigger()
        if self.state in FINAL_STATES:
            self._clover_show_closing_screen()

    def _clover_show_closing_screen(self):
        terminal = self.clover_terminal_id.with_context(clover_commit_before_waiting=True)
        screen = THANK_YOU_ENDPOINT if self.state == 'done' else WELCOME_ENDPOINT
        try:
            terminal._clover_request('POST', screen, reference=self.reference)
        except (CloverAPIError, UserError) as error:
            _logger.warning(
                "Could not end the screen of %s after %s: %s", terminal.name, self.reference, error,
            )

    # === BUSINESS METHODS - PROCESSING === #

    @api.model
    def _extract_reference(self, provider_code, payment_data):
        """Override of `payment` to find a terminal payment from a REST Pay / v3 payment object:
        by its `externalPaymentId`, else by Clover's payment id."""
        clover_payment = payment_data.get('payment') if provider_code == 'clover' else None
        if not isinstance(clover_payment, dict):
            return super()._extract_reference(provider_code, payment_data)
        domain = [('provider_code', '=', 'clover')]
        if clover_payment.get('externalPaymentId'):
            domain.append(('clover_external_payment_id', '=', clover_payment['externalPaymentId']))
        else:
            domain.append(('provider_reference', '=', clover_payment.get('id')))
        return self.search(domain, limit=1).reference or payment_data.get('reference')

    def _extract_amount_data(self, payment_data):
        """Override of `payment` to read the amount of a REST Pay payment or credit; REST Pay
        objects carry no currency: the device charges the merchant's."""
        clover_object = payment_data.get('payment') or payment_data.get('credit')
        if self.provider_code != 'clover' or not isinstance(clover_object, dict):
            return super()._extract_amount_data(payment_data)
        if clover_object.get('result') not in ('SUCCESS', 'AUTH'):
            return None  # A declined or voided payment moved no money.
        return {
            'amount': utils.parse_clover_amount(clover_object.get('amount') or 0, self.currency_id),
            'currency_code': self.currency_id.name,
        }

    def _apply_updates(self, payment_data):
        """Override of `payment` to update the transaction from a REST Pay payment or credit."""
        clover_object = payment_data.get('payment') or payment_data.get('credit')
        if self.provider_code != 'clover' or not isinstance(clover_object, dict):
            return super()._apply_updates(payment_data)
        card = clover_object.get('cardTransaction') or {}
        self.write({
            'provider_reference': clover_object.get('id'),
            'clover_order_id': (clover_object.get('order') or {}).get('id'),
            'clover_auth_code': card.get('authCode'),
            'clover_entry_type': card.get('entryType'),
            **(self._clover_card_values({'brand': card['cardType'], 'last4': card.get('last4')})
               if card.get('cardType') else {}),
        })
        result = clover_object.get('result')
        if result == 'SUCCESS':
            self._set_done()
        elif result == 'AUTH':
            self._set_authorized()
        elif result in ('VOIDED', 'VOIDING'):
            self._set_canceled(state_message=self.env._("Clover voided this payment."))
        elif result in ('FAIL', 'VOID_FAILED'):
            self._set_error(self.env._(
                "Declined on %s: the card was not accepted.", self.clover_terminal_id.name or "the terminal",
            ))
        else:
            self._set_pending()
        return None
