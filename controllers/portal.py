from odoo.addons.account_payment.controllers.portal import PortalAccount


class CloverPortalAccount(PortalAccount):

    def _overdue_invoices_get_page_view_values(self, overdue_invoices, **kwargs):
        """Override of `account_payment` to ask for the amount due on the overdue invoices, not
        their total: a partly paid invoice must not be charged again for what was paid."""
        values = super()._overdue_invoices_get_page_view_values(overdue_invoices, **kwargs)
        if overdue_invoices:
            amount_due = sum(overdue_invoices.mapped('amount_residual'))
            values['amount'] = amount_due
            values['payment']['amount'] = amount_due
        return values
