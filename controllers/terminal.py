import math

from odoo import http
from odoo.exceptions import AccessError, ValidationError
from odoo.fields import Command
from odoo.http import request

USER_GROUP = 'fusion_clover.group_fusion_clover_user'
# REST Pay Display takes at most 999999999 minor units (clover-api.md §5.2).
MAX_AMOUNT = 9_999_999.99


class CloverTerminalController(http.Controller):
    """The clerk's browser and terminals: JSON-RPC for Clover users only. Each route acts as the
    calling user, so Odoo's record rules decide what they may see (a clerk of another company sees
    nothing); writes then go through the model's own checks."""

    @http.route('/payment/clover/terminals', type='jsonrpc', auth='user')
    def clover_terminals(self, provider_id=None):
        """Return the active terminals the user may use, the default first."""
        env = self._clover_env()
        domain = [('provider_id', '=', self._int(provider_id))] if provider_id else []
        terminals = env['clover.terminal'].search(domain)
        return [{
            'id': terminal.id,
            'name': terminal.name,
            'provider_id': terminal.provider_id.id,
            'is_default': terminal.is_default,
            'last_ping_ok': terminal.last_ping_ok,
            'last_ping_message': terminal.last_ping_message or '',
        } for terminal in terminals]

    @http.route('/payment/clover/send_to_terminal', type='jsonrpc', auth='user')
    def clover_send_to_terminal(self, terminal_id=None, amount=None, partner_id=None, invoice_ids=None,
                                sale_order_ids=None, transaction_id=None):
        """Send a payment to a terminal; return its status at once (see `terminal_status`).

        Either `transaction_id` names a draft terminal transaction made beforehand (the collect
        wizard's way), or the transaction is made here from a terminal, a positive amount, and a
        partner and/or the invoices or sale orders it pays.
        """
        env = self._clover_env()
        if transaction_id:
            tx = self._clover_transaction(env, transaction_id)
        else:
            tx = self._clover_new_transaction(
                env, terminal_id, amount, partner_id, invoice_ids, sale_order_ids,
            )
        return tx._clover_start_terminal_payment()

    @http.route('/payment/clover/terminal_status', type='jsonrpc', auth='user', readonly=True)
    def clover_terminal_status(self, transaction_id):
        """Where a terminal payment stands; cheap enough to poll."""
        return self._clover_transaction(self._clover_env(), transaction_id)._clover_terminal_status()

    @http.route('/payment/clover/terminal_cancel', type='jsonrpc', auth='user')
    def clover_terminal_cancel(self, transaction_id):
        """Ask the terminal to cancel the payment; it settles as canceled once Clover confirms."""
        return self._clover_transaction(self._clover_env(), transaction_id)._clover_cancel_terminal_payment()

    # === HELPERS === #

    @staticmethod
    def _clover_env():
        if not request.env.user.has_group(USER_GROUP):
            raise AccessError(request.env._("Only Clover users can use Clover terminals."))
        return request.env

    @staticmethod
    def _int(value):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValidationError(request.env._("Expected a record id, got %r.", value))
        return value

    def _clover_transaction(self, env, transaction_id):
        tx = env['payment.transaction'].browse(self._int(transaction_id)).exists()
        if tx:
            tx.check_access('read')
        if not tx or not tx.clover_terminal_id:
            raise AccessError(env._("No such terminal payment."))
        return tx

    def _clover_new_transaction(self, env, terminal_id, amount, partner_id, invoice_ids, sale_order_ids):
        terminal = env['clover.terminal'].browse(self._int(terminal_id)).exists()
        if not terminal:
            raise AccessError(env._("No such terminal."))
        terminal.check_access('read')
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not math.isfinite(amount) \
                or not 0 < amount <= MAX_AMOUNT:
            raise ValidationError(env._("The amount must be a number above 0 and at most %s.", MAX_AMOUNT))
        invoices = self._clover_documents(env, 'account.move', invoice_ids)
        orders = self._clover_documents(env, 'sale.order', sale_order_ids)
        documents = invoices or orders
        partner = env['res.partner'].browse(self._int(partner_id)).exists() if partner_id \
            else documents[:1].partner_id
        if not partner:
            raise ValidationError(env._("Say who pays: a partner, an invoice or a sale order."))
        partner.check_access('read')
        values = {}
        if invoices:
            values['invoice_ids'] = [Command.set(invoices.ids)]
        if orders:
            values['sale_order_ids'] = [Command.set(orders.ids)]
        currency = documents[:1].currency_id or terminal.company_id.currency_id
        return env['payment.transaction']._clover_new_terminal_transaction(
            terminal, amount, partner, currency=currency, **values,
        )

    def _clover_documents(self, env, model, ids):
        if not ids:
            return env[model]
        if not isinstance(ids, list):
            raise ValidationError(env._("Expected a list of ids, got %r.", ids))
        records = env[model].browse([self._int(record_id) for record_id in ids]).exists()
        if len(records) != len(set(ids)):
            raise AccessError(env._("No such document."))
        records.check_access('read')
        return records
