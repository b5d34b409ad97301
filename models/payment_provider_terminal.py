from odoo import fields, models

from .payment_provider import CloverAPIError


class PaymentProvider(models.Model):
    _inherit = 'payment.provider'

    clover_terminal_ids = fields.One2many(
        string="Clover Terminals", comodel_name='clover.terminal', inverse_name='provider_id',
    )
    clover_device_id_kind = fields.Selection(
        string="Terminal Identified By",
        selection=[('serial', "Serial number"), ('uuid', "Clover device ID")],
        default='serial', required=True,
        help="What REST Pay Display receives in X-Clover-Device-Id. Clover's examples send the "
             "serial number; some Clover accounts expect the device ID instead. If Ping says "
             "Clover does not recognize a terminal, switch this.",
    )

    def action_clover_sync_terminals(self):
        """Sync Terminals: pull the merchant's devices from Clover (see `clover.terminal`)."""
        self.ensure_one()
        self._clover_check_admin()
        summary = self.env['clover.terminal'].sudo()._clover_sync(self)
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success',
                'message': self.env._("Terminals synced: %s", summary),
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
            },
        }

    def _parse_response_content(self, response, **kwargs):
        """Override to treat REST Pay Display's 209 (canceled on the device) as the refusal it is:
        a success status carrying an error body (clover-api.md §5.3)."""
        if self.code == 'clover' and kwargs.get('clover_surface') == 'connect' \
                and response.status_code == 209:
            details = self._clover_error_details(response)
            raise CloverAPIError(
                self.env._("The payment was canceled on the terminal."),
                status=209, code=details['code'], error_type=details['error_type'],
            )
        return super()._parse_response_content(response, **kwargs)

    def _log_request(self, method, url, payload, *, reference=None, **kwargs):
        """Override to end the database transaction at the last moment before a terminal call
        that may block for minutes: whoever asks (context key `clover_commit_before_waiting`)
        holds no snapshot and no lock while the customer decides."""
        result = super()._log_request(method, url, payload, reference=reference, **kwargs)
        if self.env.context.get('clover_commit_before_waiting'):
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return result
