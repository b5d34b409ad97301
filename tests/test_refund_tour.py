from unittest.mock import patch

from odoo.fields import Command
from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser

from odoo.addons.fusion_clover.tests.test_refund_common import CloverRefundCommon

SCREENSHOT_SIGNAL = 'fusion_clover: screenshot'


@tagged('post_install', '-at_install')
class TestCloverRefundTour(CloverRefundCommon, HttpCase):
    """A clerk refunds a credit note with Clover in a real browser."""

    def _start_tour_with_screenshots(self, url, tour, company):
        """Run the tour; when it logs SCREENSHOT_SIGNAL, save a screenshot of the page to Odoo's
        screenshots directory (to look at the new screens)."""
        handle_console = ChromeBrowser._handle_console

        def console_with_screenshots(browser, type, args=None, **kw):  # pylint: disable=redefined-builtin
            handle_console(browser, type, args=args, **kw)
            if args and browser._from_remoteobject(args[0]) == SCREENSHOT_SIGNAL:
                browser.take_screenshot(prefix='clover_refund_')

        # The accounting test company is the superuser's: let the clerk (admin) work in it.
        self.env.ref('base.user_admin').write({
            'company_ids': [Command.link(company.id)], 'company_id': company.id,
        })
        with patch.object(ChromeBrowser, '_handle_console', console_with_screenshots):
            self.start_tour(url, tour, login='admin', cookies={'cids': str(company.id)})

    def test_refund_a_credit_note_from_its_form(self):
        invoice = self._posted_invoice(123.45)
        tx = self._paid_tx(invoice)
        credit_note = self._credit_note(invoice, amount=50.0)

        self._start_tour_with_screenshots(
            f'/odoo/action-account.action_move_out_refund_type/{credit_note.id}',
            'fusion_clover_refund_credit_note', credit_note.company_id,
        )

        refund_tx = self._refunds(tx)
        self.assertEqual((refund_tx.state, refund_tx.amount), ('done', -50.0))
        self.assertEqual(refund_tx.invoice_ids, credit_note)
        self.assertIn(credit_note.payment_state, ('in_payment', 'paid'))
        self.assertEqual(self._clover_charge(tx.provider_reference)['amount_refunded'], 5000)

    def test_an_old_payment_is_credited_from_its_form(self):
        tx = self._paid_tx(tokenize=True)
        self.env.cr.execute(
            "UPDATE payment_transaction SET create_date = create_date - interval '200 days' WHERE id = %s",
            [tx.id],
        )
        tx.invalidate_recordset()

        self._start_tour_with_screenshots(
            f'/odoo/action-payment.action_payment_transaction/{tx.id}',
            'fusion_clover_refund_old_payment', self.env.company,
        )

        credit_tx = self.env['payment.transaction'].search([('clover_refund_kind', '=', 'credit')])
        self.assertEqual((credit_tx.state, credit_tx.amount), ('done', -123.45))
        self.assertEqual(self._calls('POST /v1/credits'), 1)
        self.assertEqual(self._calls('POST /v1/refunds'), 0)
