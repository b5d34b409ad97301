from odoo.exceptions import AccessError
from odoo.tests import JsonRpcException, tagged
from odoo.tools import mute_logger

from odoo.addons.fusion_clover.tests.terminal_common import PAYMENTS, CloverTerminalCommon
from odoo.addons.payment.tests.http_common import PaymentHttpCommon


@tagged('post_install', '-at_install')
class TestCloverTerminalAccess(CloverTerminalCommon, PaymentHttpCommon):
    """The terminal routes, as a clerk's browser calls them: Clover users of the transaction's
    company only; anyone else learns nothing and sends nothing."""

    def setUp(self):
        super().setUp()
        self.clerk = self._clover_user()
        self.other_company = self.env['res.company'].create({
            'name': "Other Shop", 'currency_id': self.currency.id,
        })
        self.outsider = self._clover_user(login='other_clerk', company=self.other_company)
        self.portal = self._create_new_portal_user(login='terminal_portal')
        self.employee = self._create_new_internal_user(login='no_clover_group')

    def _rpc(self, login, route, **params):
        self.authenticate(login, login)
        return self.make_jsonrpc_request(f'/payment/clover/{route}', params)

    def _send_params(self):
        return {'terminal_id': self.terminal.id, 'amount': 10, 'partner_id': self.partner.id}

    def test_a_clerk_lists_sends_follows_and_cancels(self):
        terminals = self._rpc('clover_clerk', 'terminals')
        self.assertEqual({t['id'] for t in terminals}, set(self.terminals.ids))
        self.assertTrue(next(t for t in terminals if t['id'] == self.terminal.id)['is_default'])

        status = self._rpc('clover_clerk', 'send_to_terminal', terminal_id=self.terminal.id, amount=42.5,
                           partner_id=self.partner.id)
        tx = self.env['payment.transaction'].browse(status['id'])
        self.assertEqual((status['state'], status['final']), ('pending', False))
        self.assertEqual(tx.amount, 42.5)
        self.assertEqual(tx.clover_terminal_user_id, self.clerk)
        self.assertEqual(self._rpc('clover_clerk', 'terminal_status', transaction_id=tx.id)['id'], tx.id)

        status = self._rpc('clover_clerk', 'terminal_cancel', transaction_id=tx.id)
        self.assertEqual(status['state'], 'cancel')  # Not sent yet: canceled at once.
        self.assertEqual(self._calls(f'POST {PAYMENTS}'), 0)

    @mute_logger('odoo.http')
    def test_portal_users_and_employees_outside_the_group_are_refused(self):
        tx = self._start()
        for login in ('terminal_portal', 'no_clover_group'):
            for route, params in (
                ('terminals', {}),
                ('send_to_terminal', self._send_params()),
                ('terminal_status', {'transaction_id': tx.id}),
                ('terminal_cancel', {'transaction_id': tx.id}),
            ):
                with self.subTest(login=login, route=route), self.assertRaises(JsonRpcException):
                    self._rpc(login, route, **params)
        self.assertEqual(tx.state, 'pending')
        terminal_txs = self.env['payment.transaction'].search([('clover_terminal_id', '!=', False)])
        self.assertEqual(terminal_txs, tx)

    @mute_logger('odoo.http')
    def test_a_clerk_of_another_company_cannot_read_start_or_cancel(self):
        tx = self._start()
        self.assertEqual(self._rpc('other_clerk', 'terminals'), [])
        for route, params in (
            ('send_to_terminal', self._send_params()),
            ('send_to_terminal', {'transaction_id': tx.id}),
            ('terminal_status', {'transaction_id': tx.id}),
            ('terminal_cancel', {'transaction_id': tx.id}),
        ):
            with self.subTest(route=route), self.assertRaises(JsonRpcException):
                self._rpc('other_clerk', route, **params)
        self.assertEqual(tx.state, 'pending')
        with self.assertRaises(AccessError):
            tx.with_user(self.outsider)._clover_terminal_status()

    @mute_logger('odoo.http')
    def test_bad_input_is_refused_and_sends_nothing(self):
        for params in (
            {'terminal_id': self.terminal.id, 'amount': -5, 'partner_id': self.partner.id},
            {'terminal_id': self.terminal.id, 'amount': 'lots', 'partner_id': self.partner.id},
            {'terminal_id': self.terminal.id, 'amount': 10},  # Who pays?
            {'terminal_id': 'x', 'amount': 10, 'partner_id': self.partner.id},
            {'terminal_id': 999999, 'amount': 10, 'partner_id': self.partner.id},
            {'transaction_id': 999999},
        ):
            with self.subTest(params=params), self.assertRaises(JsonRpcException):
                self._rpc('clover_clerk', 'send_to_terminal', **params)
        self.assertFalse(self.env['payment.transaction'].search([('clover_terminal_id', '!=', False)]))
