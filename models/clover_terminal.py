from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.payment.logging import get_payment_logger

from .. import const
from .payment_provider import CloverAPIError

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

# Seconds the HTTP client waits beyond the device's own timeout (X-Clover-Timeout) before it gives
# up on an answer: Clover's cloud needs a moment to relay the device's result (clover-api.md §5).
DEVICE_TIMEOUT_MARGIN = 30
USER_GROUP = 'fusion_clover.group_fusion_clover_user'


class CloverTerminal(models.Model):
    """A Clover device that takes card payments through REST Pay Display (Cloud Pay Display)."""

    _name = 'clover.terminal'
    _description = "Clover Terminal"
    _order = 'is_default desc, name, id'

    name = fields.Char(required=True, help="What clerks call this terminal.")
    serial_number = fields.Char(required=True, readonly=True, copy=False)
    clover_device_id = fields.Char(
        string="Clover Device ID", readonly=True, copy=False,
        help="The device's id on Clover's Platform API.",
    )
    model = fields.Char(readonly=True)
    provider_id = fields.Many2one(
        comodel_name='payment.provider', required=True, ondelete='cascade',
        domain=[('code', '=', 'clover')], index=True,
    )
    company_id = fields.Many2one(related='provider_id.company_id', store=True, index=True)
    active = fields.Boolean(default=True)
    is_default = fields.Boolean(
        string="Default", help="Preselected when a clerk collects a payment on a terminal.",
    )
    last_ping_ok = fields.Boolean(string="Last Ping Answered", readonly=True)
    last_ping_message = fields.Char(string="Last Ping Result", readonly=True)
    last_ping_at = fields.Datetime(string="Last Ping", readonly=True)

    _serial_provider_unique = models.Constraint(
        'UNIQUE(serial_number, provider_id)',
        "This terminal is already registered for this Clover provider.",
    )
    _one_default_per_provider = models.UniqueIndex(
        '(provider_id) WHERE is_default AND active',
        "A Clover provider has one default terminal.",
    )

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        terminals = super().create([dict(vals, is_default=False) for vals in vals_list])
        for terminal, vals in zip(terminals, vals_list, strict=True):
            if vals.get('is_default'):
                terminal._clover_make_default()
        return terminals

    def write(self, vals):
        """Setting a terminal as default (inline, in the list) takes the flag from the provider's
        previous default, so that the one-default rule never refuses a clerk's edit."""
        if not vals.get('is_default') or self.env.context.get('clover_making_default'):
            return super().write(vals)
        result = super().write(dict(vals, is_default=False))
        self[-1:]._clover_make_default()
        return result

    def _clover_make_default(self):
        self.ensure_one()
        others = self.search([
            ('provider_id', '=', self.provider_id.id), ('is_default', '=', True), ('id', '!=', self.id),
        ])
        if others:
            others.write({'is_default': False})
            # The unique index must see the old default go before the new one comes.
            others.flush_recordset(['is_default'])
        self.with_context(clover_making_default=True).write({'is_default': True})

    # === ACTION METHODS === #

    def action_clover_set_default(self):
        self.ensure_one()
        self.is_default = True
        return True

    def action_clover_ping(self):
        """Ask Clover whether Cloud Pay Display answers on the device, and say so in plain words."""
        self.ensure_one()
        self._clover_check_user()
        try:
            self._clover_request('POST', '/connect/v1/device/ping')
        except (CloverAPIError, UserError) as error:
            ok, message = False, self._clover_explain(error)
        else:
            ok, message = True, self.env._(
                "Ready: Cloud Pay Display is running on %s.", self.name,
            )
        self.sudo().write({
            'last_ping_ok': ok, 'last_ping_message': message, 'last_ping_at': fields.Datetime.now(),
        })
        return self._clover_notification(message, ok)

    def action_clover_show_welcome(self):
        return self._clover_device_action(
            'POST', '/connect/v1/device/welcome',
            self.env._("%s shows the welcome screen.", self.name),
        )

    def action_clover_cancel_current(self):
        return self._clover_device_action(
            'POST', '/connect/v1/device/cancel',
            self.env._("%s canceled what it was doing and shows the welcome screen.", self.name),
        )

    def action_clover_reset(self):
        return self._clover_device_action(
            'PUT', '/connect/v1/device/reset',
            self.env._("%s was reset and shows the welcome screen.", self.name),
        )

    def _clover_device_action(self, method, endpoint, done_message):
        self.ensure_one()
        self._clover_check_user()
        try:
            self._clover_request(method, endpoint)
        except (CloverAPIError, UserError) as error:
            return self._clover_notification(self._clover_explain(error), False)
        return self._clover_notification(done_message, True)

    def _clover_notification(self, message, ok):
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success' if ok else 'warning',
                'message': message,
                'sticky': not ok,
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
            },
        }

    def _clover_check_user(self):
        """Terminals are used by Clover users; the ACL gives them read access only, so the
        actions that record a ping result check the group themselves."""
        if not self.env.is_superuser() and not self.env.user.has_group(USER_GROUP):
            raise AccessError(self.env._("Only Clover users can use Clover terminals."))
        self.check_access('read')

    def _clover_explain(self, error):
        """Turn a refused device call into words a clerk at the counter understands."""
        if not isinstance(error, CloverAPIError):
            return str(error)
        if error.status == 504:
            return self.env._(
                "Not ready: %s does not answer. Open the Cloud Pay Display app on the terminal and "
                "check that the terminal is on and online.", self.name,
            )
        if error.status == 503:
            return self.env._(
                "Busy: %s is in the middle of another payment. Finish or cancel it on the terminal.",
                self.name,
            )
        if error.status == 404:
            return self.env._(
                "Clover does not recognize %s. Sync the terminals, and check on the provider whether "
                "Clover expects the serial number or the device ID.", self.name,
            )
        if error.status is None:
            return self.env._("Could not reach Clover: check this Odoo's internet connection.")
        return str(error)

    # === BUSINESS METHODS === #

    def _clover_device_header(self):
        """Return what identifies this device in X-Clover-Device-Id, as the provider says Clover
        expects it: the serial number (the docs' examples) or the device's v3 id."""
        self.ensure_one()
        if self.provider_id.clover_device_id_kind == 'uuid':
            if not self.clover_device_id:
                raise UserError(self.env._(
                    "%s has no Clover device ID yet: sync the terminals.", self.name,
                ))
            return self.clover_device_id
        return self.serial_number

    def _clover_request(self, method, endpoint, *, payload=None, idempotency_key=None, timeout=None,
                        reference=None, device_timeout=None, device_id=None):
        """The one way to call REST Pay Display for this device.

        :param int device_timeout: Sent as X-Clover-Timeout (seconds the device waits for the
                                   customer); the HTTP timeout then allows for it.
        :param str device_id: The X-Clover-Device-Id to send instead of the computed one, so that a
                              replay is the very request first sent.
        :return: Clover's JSON answer.
        :raise CloverAPIError: When Clover refuses the call, does not answer, or the customer
                               canceled (status 209).
        """
        self.ensure_one()
        headers = {'X-Clover-Device-Id': device_id or self._clover_device_header()}
        if device_timeout is not None:
            headers['X-Clover-Timeout'] = str(int(device_timeout))
            timeout = timeout or device_timeout + DEVICE_TIMEOUT_MARGIN
        return self.provider_id._clover_api_request(
            'connect', method, endpoint, payload=payload, idempotency_key=idempotency_key,
            reference=reference, timeout=timeout, headers=headers,
        )

    # === BUSINESS METHODS: SYNC === #

    @api.model
    def _clover_sync(self, provider):
        """Bring the provider's terminals in line with Clover's device list: create new devices,
        update the ids and model of known ones (keeping the names people gave them), archive those
        Clover no longer lists, and restore those it lists again.

        :return: What changed, in words ("2 added, 1 archived").
        :rtype: str
        """
        provider.ensure_one()
        devices = provider._clover_api_request(
            'platform', 'GET', f'/v3/merchants/{provider.clover_merchant_id}/devices',
        ).get('elements') or []
        listed = {device['serial']: device for device in devices if device.get('serial')}
        terminals = self.with_context(active_test=False).search([('provider_id', '=', provider.id)])
        known = {terminal.serial_number: terminal for terminal in terminals}
        counts = dict.fromkeys(('added', 'updated', 'restored', 'archived'), 0)
        for serial, device in listed.items():
            values = {'clover_device_id': device.get('id'),
                      'model': device.get('productName') or device.get('model')}
            terminal = known.get(serial)
            if not terminal:
                self.create({**values, 'serial_number': serial, 'provider_id': provider.id,
                             'name': device.get('name') or values['model'] or serial})
                counts['added'] += 1
                continue
            if not terminal.active:
                values['active'] = True
                counts['restored'] += 1
            elif any(terminal[name] != value for name, value in values.items()):
                counts['updated'] += 1
            terminal.write(values)
        gone = terminals.filtered(lambda t: t.active and t.serial_number not in listed)
        gone.write({'active': False, 'is_default': False})
        counts['archived'] = len(gone)
        self._clover_ensure_default(provider)
        _logger.info("Synced the Clover terminals of provider %s: %s", provider.id, counts)
        return self._clover_sync_summary(counts)

    @api.model
    def _clover_ensure_default(self, provider):
        terminals = self.search([('provider_id', '=', provider.id)])
        if terminals and not terminals.filtered('is_default'):
            terminals[0]._clover_make_default()

    @api.model
    def _clover_sync_summary(self, counts):
        labels = {
            'added': self.env._("%s added"), 'updated': self.env._("%s updated"),
            'restored': self.env._("%s restored"), 'archived': self.env._("%s archived"),
        }
        parts = [labels[key] % count for key, count in counts.items() if count]
        return ", ".join(parts) if parts else self.env._("The terminals are up to date.")
