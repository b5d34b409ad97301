import logging
from contextlib import contextmanager

from odoo.tests import HttpCase, JsonRpcException, tagged
from odoo.tools import mute_logger

from odoo.addons.fusion_clover.tests.test_collect_common import CloverCollectCommon

# Typed into Clover's frames by the tour: an approved Visa and a CVV no other data contains.
KEYED_PAN = '4000056655665556'
KEYED_CVV = '7391'


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


@tagged('post_install', '-at_install')
class TestCloverCollectTours(CloverCollectCommon, HttpCase):
    """A clerk collects in a real browser: the dialog's Clover frames come from the emulator's
    sdk.js, the browser sends Odoo only the card token, Odoo charges and books it."""

    def setUp(self):
        super().setUp()
        self._emulator('POST', 'config', {'sdk_fill_hook': True})

    @contextmanager
    def _server_log(self):
        """Capture every log record of this process (the HTTP server serving the tour runs in it)
        at the level the server logs."""
        handler = _Capture()
        root = logging.getLogger()
        root.addHandler(handler)
        try:
            yield handler.lines
        finally:
            root.removeHandler(handler)

    def _rows_containing(self, pattern):
        """Count, table by table, the rows of the whole database whose text matches `pattern` (a
        POSIX regular expression).

        The database is read through the test's own transaction: the rows the tour's requests
        wrote are uncommitted, and a pg_dump from another connection would not see them. Reading
        every row of every table as text here is that dump, uncommitted rows included.
        """
        self.env.flush_all()
        self.env.cr.execute("""
            SELECT quote_ident(table_name) FROM information_schema.tables
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
        """)
        counts = {}
        for (table,) in self.env.cr.fetchall():
            self.env.cr.execute(f"SELECT count(*) FROM {table} t WHERE t::text ~ %s", [pattern])  # noqa: S608
            if count := self.env.cr.fetchone()[0]:
                counts[table] = count
        return counts

    def _open_document(self, document, tour):
        self.start_tour(f'/odoo/{document._name}/{document.id}', tour, login='clover_clerk')

    # === Keyed card === #

    def test_clerk_keys_a_card_on_an_invoice_with_surcharge_and_the_card_stays_out_of_odoo(self):
        self._set_surcharge(rate=3.0, fixed=0.30)
        invoice = self._open_invoice(100.0)
        pan_pattern = KEYED_PAN
        cvv_pattern = f'(^|[^0-9]){KEYED_CVV}([^0-9]|$)'
        cvv_rows_before = self._rows_containing(cvv_pattern)

        with self._server_log() as log_lines:
            self._open_document(invoice, 'clover_collect_invoice_keyed_card')

        tx = invoice.transaction_ids
        self.assertEqual((tx.state, tx.amount, tx.clover_surcharge_amount), ('done', 103.30, 3.30))
        self.assertEqual((tx.clover_card_brand, tx.clover_card_last4), ('VISA', '5556'))
        [charge] = self._clover_requests('/v1/charges')
        self.assertEqual((charge['json']['amount'], charge['json']['ecomind']), (10330, 'moto'))
        self.assertEqual(len(self._clover_requests('/v1/tokens')), 1)  # Made by Clover's frame.
        fee_invoice = tx.clover_surcharge_invoice_id
        for paid in (invoice, fee_invoice):
            self.assertTrue(paid.currency_id.is_zero(paid.amount_residual))
        # The card number and CVV reached Clover, and nothing of Odoo.
        self.assertEqual(self._clover_requests('/v1/tokens')[0]['json']['card']['number'], KEYED_PAN)
        self.assertEqual(self._rows_containing(pan_pattern), {})
        self.assertEqual(self._rows_containing(cvv_pattern), cvv_rows_before)
        self.assertTrue(log_lines)  # The capture works: the tour's requests were logged.
        self.assertFalse([line for line in log_lines if KEYED_PAN in line or KEYED_CVV in line])

    @mute_logger('odoo.addons.fusion_clover.models.payment_transaction',
                 'odoo.addons.fusion_clover.models.payment_provider')
    def test_declined_keyed_card_shows_clovers_reason_and_books_nothing(self):
        invoice = self._open_invoice(75.0)
        self._open_document(invoice, 'clover_collect_invoice_declined_card')

        tx = invoice.transaction_ids
        self.assertEqual(tx.state, 'error')
        self.assertFalse(tx.payment_id)
        self.assertEqual((invoice.payment_state, invoice.amount_residual), ('not_paid', 75.0))

    def test_clerk_takes_a_down_payment_on_a_quotation(self):
        order = self._quotation(120.0)
        self._open_document(order, 'clover_collect_order_keyed_card')

        tx = order.transaction_ids
        self.assertEqual((tx.state, tx.amount), ('done', 50.0))
        self.assertEqual(order.state, 'sale')
        self.assertEqual(order.amount_paid, 50.0)
        self.assertEqual(tx.payment_id.amount, 50.0)

    # === The route === #

    @mute_logger('odoo.http')
    def test_route_refuses_users_outside_the_group_and_other_clerks_dialogs(self):
        invoice = self._open_invoice(40.0)
        wizard = self._wizard(invoice, mode='card')
        token = self._card_token()

        self.authenticate('plain_accountant', 'plain_accountant')
        with self.assertRaisesRegex(JsonRpcException, 'AccessError'):
            self.make_jsonrpc_request(
                '/payment/clover/collect/card', {'wizard_id': wizard.id, 'card_token': token},
            )
        self.assertFalse(invoice.transaction_ids)
        self.assertEqual(self._calls('POST /v1/charges'), 0)

    @mute_logger('odoo.http')
    def test_route_refuses_anything_but_a_card_token(self):
        invoice = self._open_invoice(40.0)
        wizard = self._wizard(invoice, mode='card')
        self.authenticate('clover_clerk', 'clover_clerk')
        for card_token in (self._card_token()[4:], '4242424242424242', None, {'x': 1}):
            with self.assertRaises(JsonRpcException):
                self.make_jsonrpc_request(
                    '/payment/clover/collect/card', {'wizard_id': wizard.id, 'card_token': card_token},
                )
        self.assertEqual(self._calls('POST /v1/charges'), 0)

    def test_route_charges_the_clerks_own_dialog(self):
        invoice = self._open_invoice(40.0)
        wizard = self._wizard(invoice, mode='card')
        self.authenticate('clover_clerk', 'clover_clerk')
        status = self.make_jsonrpc_request(
            '/payment/clover/collect/card', {'wizard_id': wizard.id, 'card_token': self._card_token()},
        )
        self.assertTrue(status['approved'], status)
        self.assertEqual(invoice.transaction_ids.state, 'done')
