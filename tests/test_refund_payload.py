from odoo.tests import BaseCase, tagged

from odoo.addons.fusion_clover import utils


@tagged('post_install', '-at_install')
class TestRefundPayload(BaseCase):
    """One refund body builder for both paths (online `/v1/refunds`, REST Pay refunds)."""

    def test_online_refund_names_the_charge_and_carries_amount_reason_metadata(self):
        self.assertEqual(
            utils.build_payment_refund_payload(
                2000, charge_id='CHG', reason='duplicate', metadata={'odoo_reference': 'R-1'},
            ),
            {'charge': 'CHG', 'amount': 2000, 'reason': 'duplicate', 'metadata': {'odoo_reference': 'R-1'}},
        )
        self.assertEqual(
            utils.build_payment_refund_payload(2000, charge_id='CHG'), {'charge': 'CHG', 'amount': 2000},
        )

    def test_without_an_amount_the_body_refunds_all_that_remains(self):
        # The bare body some sandboxes insist on; no reason or metadata slips in.
        self.assertEqual(
            utils.build_payment_refund_payload(charge_id='CHG', reason='duplicate', metadata={'x': 1}),
            {'charge': 'CHG'},
        )
        self.assertEqual(utils.build_payment_refund_payload(), {'fullRefund': True})

    def test_terminal_refund_carries_the_amount_only(self):
        self.assertEqual(utils.build_payment_refund_payload(1234, reason='duplicate'), {'amount': 1234})
