import hashlib
from collections import namedtuple

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.payment.logging import get_payment_logger

from .. import const, utils
from .payment_provider import CloverAPIError

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

# Events processed between two commits of the processing cron.
BATCH_SIZE = 50
# Clover unreachable or refusing: an event is tried this many times (one per cron run) before
# it is left failed for a person to look at; the reconciliation cron still settles its payment.
MAX_ATTEMPTS = 5

# What authenticates a webhook for one enabled Clover provider (see `_clover_webhook_keys`).
CloverWebhookKeys = namedtuple('CloverWebhookKeys', 'provider_id merchant_id auth_code app_secret')
_KEY_FIELDS = ['code', 'state', 'clover_merchant_id', 'clover_webhook_auth_code', 'clover_app_secret']


class CloverWebhookEvent(models.Model):
    """One event of a Clover app webhook, recorded as received and processed after the answer.

    Clover does not promise delivery nor say how often it retries (clover-api.md §6.1): a
    duplicate is recognised by its key and changes nothing; a lost event is made up for by the
    reconciliation cron (`payment.transaction._cron_clover_reconcile_pending`).
    """
    _name = 'clover.webhook.event'
    _description = "Clover Webhook Event"
    _order = 'id desc'
    _rec_name = 'object_id'

    event_key = fields.Char(required=True, readonly=True)
    provider_id = fields.Many2one(
        comodel_name='payment.provider', required=True, readonly=True,
        ondelete='cascade', index=True,
    )
    merchant_id = fields.Char(string="Clover Merchant ID", required=True, readonly=True)
    object_id = fields.Char(
        string="Clover Object", required=True, readonly=True,
        help="Clover's objectId: a type prefix (P: payments, O: orders, ...) and the object's id.",
    )
    event_type = fields.Char(readonly=True)
    event_time = fields.Datetime(readonly=True, help="Clover's ts.")
    received_at = fields.Datetime(string="Received", required=True, readonly=True)
    state = fields.Selection(
        string="Status", selection=[
            ('pending', "Pending"), ('done', "Processed"), ('skipped', "Skipped"),
            ('error', "Failed"),
        ], required=True, default='pending', readonly=True, index=True,
    )
    state_message = fields.Char(string="Outcome", readonly=True)
    attempts = fields.Integer(readonly=True)
    transaction_id = fields.Many2one(
        comodel_name='payment.transaction', readonly=True,
        ondelete='set null',
    )

    _event_key_unique = models.Constraint(
        'UNIQUE(event_key)', "A Clover webhook event is recorded once.",
    )

    # === INTAKE === #

    @api.model
    def _clover_webhook_keys(self):
        """Return the `CloverWebhookKeys` of every enabled Clover provider, oldest first.

        Read in one plain query: every webhook pays for this read, forged ones included, and the
        ORM's search and fetch of these fields cost as much as the rest of the request
        (bench/webhook_ingest.py). Callers only compare the secrets: never log nor answer them.
        """
        self.env['payment.provider'].flush_model(_KEY_FIELDS)
        self.env.cr.execute(SQL(
            """SELECT id, clover_merchant_id, clover_webhook_auth_code, clover_app_secret
                 FROM payment_provider
                WHERE code = 'clover' AND state != 'disabled'
             ORDER BY id"""
        ))
        return [CloverWebhookKeys(*row) for row in self.env.cr.fetchall()]

    @api.model
    def _clover_record_events(self, provider_by_merchant, events):
        """Record the events of a webhook, once each, and have them processed right after.

        One INSERT for the whole batch; an event already recorded (a duplicate delivery) is left
        untouched, so the request that carries it changes nothing.

        :param dict provider_by_merchant: Clover merchant id -> the id of the provider holding it.
        :param list events: The parsed events (see `controllers.webhook.clover_parse_events`).
        :return: How many events were new.
        :rtype: int
        """
        now = fields.Datetime.now()
        rows = SQL(', ').join(
            SQL(
                "(%s, %s, %s, %s, %s, %s, %s, 'pending', 0, %s, %s, %s, %s)",
                self._clover_event_key(event), provider_by_merchant[event['merchant_id']],
                event['merchant_id'], event['object_id'], event['event_type'],
                self._clover_event_time(event['ts']), now, self.env.uid, now, self.env.uid, now,
            )
            for event in events
        )
        self.env.cr.execute(SQL(
            """INSERT INTO clover_webhook_event
                   (event_key, provider_id, merchant_id, object_id, event_type, event_time,
                    received_at, state, attempts, create_uid, create_date, write_uid, write_date)
               VALUES %s ON CONFLICT (event_key) DO NOTHING RETURNING id""", rows,
        ))
        recorded = len(self.env.cr.fetchall())
        if recorded:
            self._clover_trigger_processing()
        return recorded

    @api.model
    def _clover_trigger_processing(self):
        """Wake the processing cron up now, unless a wake-up is already due: it processes every
        pending event, so a flood of webhooks adds one wake-up, not one per request."""
        # The cached id, not `env.ref`, which also reads the cron to check it exists.
        cron_id = self.env['ir.model.data']._xmlid_to_res_id(
            'fusion_clover.cron_clover_process_webhook_events', raise_if_not_found=True,
        )
        self.env.cr.execute(SQL(
            "SELECT 1 FROM ir_cron_trigger WHERE cron_id = %s AND call_at <= %s LIMIT 1",
            cron_id, fields.Datetime.now(),
        ))
        if not self.env.cr.fetchone():
            self.env['ir.cron'].browse(cron_id)._trigger()

    @api.model
    def _clover_event_key(self, event):
        """Return what makes an event itself: merchant, object, type and Clover's timestamp. An
        event without a timestamp (the legacy shape) is one per object and type."""
        key = f"{event['merchant_id']}:{event['object_id']}:{event['event_type']}:{event['ts'] or ''}"
        # Bounded and index-friendly whatever Clover sends.
        return hashlib.sha256(key.encode()).hexdigest() if len(key) > 128 else key

    @api.model
    def _clover_event_time(self, ts):
        if ts is None:
            return None
        return utils.parse_clover_time(ts)

    # === PROCESSING === #

    @api.model
    def _cron_clover_process_events(self):
        """Process the pending events, oldest first, in batches with their own commits.

        Each payment is read from Clover once per batch however many of its events arrived.
        """
        last_id = 0
        while True:
            events = self.search(
                [('state', '=', 'pending'), ('id', '>', last_id)], order='id', limit=BATCH_SIZE,
            )
            if not events:
                return
            last_id = events[-1].id
            for (provider, object_id), group in events.grouped(
                lambda e: (e.provider_id, e.object_id)
            ).items():
                group._clover_process(provider, object_id)
            remaining = self.search_count([('state', '=', 'pending'), ('id', '>', last_id)])
            if not self.env['ir.cron']._commit_progress(len(events), remaining=remaining):
                return

    def _clover_process(self, provider, object_id):
        """Process these events of one Clover object: payments are reconciled, other objects
        are recorded and skipped."""
        prefix, _sep, clover_id = object_id.partition(':')
        if prefix != 'P':
            self._clover_finish('skipped', self.env._("Not a payment event."))
            return
        try:
            with self.env.cr.savepoint():
                tx = self.env['payment.transaction']._clover_reconcile_payment(provider, clover_id)
        except (CloverAPIError, UserError) as error:
            self._clover_failed_attempt(error)
            return
        if tx is None:
            self._clover_finish('skipped', self.env._("Clover does not know this payment."))
        elif not tx:
            self._clover_finish('skipped', self.env._("No Odoo transaction for this payment."))
        else:
            self._clover_finish('done', tx[:1].state_message or tx[:1].state, tx[:1])

    def _clover_finish(self, state, message, tx=None):
        self.write({
            'state': state,
            'state_message': message,
            'attempts': self[:1].attempts + 1,
            'transaction_id': tx.id if tx else False,
        })

    def _clover_failed_attempt(self, error):
        """Keep the events pending for the next run, until they are tried too often."""
        attempts = self[:1].attempts + 1
        _logger.warning(
            "Could not reconcile Clover object %s (attempt %s of %s): %s",
            self[:1].object_id, attempts, MAX_ATTEMPTS, error,
        )
        self.write({
            'attempts': attempts,
            'state': 'error' if attempts >= MAX_ATTEMPTS else 'pending',
            'state_message': str(error),
        })
