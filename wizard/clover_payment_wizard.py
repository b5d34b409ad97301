from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from .. import const

COLLECT_GROUP = 'fusion_clover.group_fusion_clover_user'
# Pending payments still count against what is left to collect: they may yet be approved.
IN_FLIGHT_STATES = ('pending', 'authorized')


class CloverPaymentWizard(models.TransientModel):
    """Collect a payment of an invoice or a sale order with Clover: on a terminal, or with a card
    the clerk keys in to Clover's iframe fields in this dialog.

    The dialog is a thin screen over the transaction machinery. Its rows hold no card data: a
    keyed card reaches Odoo as a single-use `clv_` token only, which is charged and never stored.
    """

    _name = 'clover.payment.wizard'
    _description = "Collect a Clover Payment"

    invoice_id = fields.Many2one(
        comodel_name='account.move', readonly=True, ondelete='cascade',
    )
    sale_order_id = fields.Many2one(
        string="Sales Order", comodel_name='sale.order', readonly=True, ondelete='cascade',
    )
    company_id = fields.Many2one(comodel_name='res.company', compute='_compute_document_values')
    currency_id = fields.Many2one(comodel_name='res.currency', compute='_compute_document_values')
    partner_id = fields.Many2one(
        string="Customer", comodel_name='res.partner', compute='_compute_document_values',
    )
    provider_id = fields.Many2one(
        string="Clover Provider", comodel_name='payment.provider',
        compute='_compute_document_values',
    )
    amount_due = fields.Monetary(
        currency_field='currency_id', compute='_compute_document_values',
        help="What is left to pay, less the Clover payments still in progress.",
    )
    amount = fields.Monetary(
        currency_field='currency_id',
        compute='_compute_amount', store=True, readonly=False, precompute=True,
        help="What to collect now: all that is due or part of it.",
    )
    mode = fields.Selection(
        string="Payment Method",
        selection=[('terminal', "Terminal"), ('card', "Keyed card")],
        compute='_compute_mode', store=True, readonly=False, precompute=True, required=True,
    )
    terminal_id = fields.Many2one(
        comodel_name='clover.terminal',
        compute='_compute_terminal_id', store=True, readonly=False, precompute=True,
        domain="[('provider_id', '=', provider_id)]",
    )
    surcharge_waivable = fields.Boolean(related='company_id.clover_surcharge_waivable')
    surcharge_waived = fields.Boolean(
        string="Waive the Card Surcharge",
        help="Collect the amount without the card processing fee.",
    )
    surcharge_amount = fields.Monetary(
        string="Card Processing Fee", currency_field='currency_id',
        compute='_compute_totals',
    )
    surcharge_label = fields.Char(compute='_compute_totals')
    total_amount = fields.Monetary(
        string="Total Charged", currency_field='currency_id', compute='_compute_totals',
        help="What the card is charged: the amount and the card processing fee.",
    )
    send_receipt = fields.Boolean(
        compute='_compute_send_receipt', store=True, readonly=False, precompute=True,
        help="Email the customer the receipt once Clover approves the payment.",
    )
    transaction_id = fields.Many2one(
        comodel_name='payment.transaction', readonly=True,
    )
    locked = fields.Boolean(
        compute='_compute_locked',
        help="A payment is on its way or approved: the dialog no longer changes it.",
    )
    card_form_values = fields.Char(compute='_compute_card_form_values')

    # === COMPUTE METHODS === #

    @api.depends('invoice_id', 'sale_order_id')
    def _compute_document_values(self):
        for wizard in self:
            document = wizard._clover_document()
            wizard.company_id = document.company_id
            wizard.currency_id = document.currency_id
            wizard.partner_id = document.partner_id
            wizard.provider_id = self._clover_get_provider(document.company_id)
            wizard.amount_due = wizard._clover_amount_due() if document else 0.0

    @api.depends('invoice_id', 'sale_order_id')
    def _compute_amount(self):
        for wizard in self:
            wizard.amount = wizard.amount_due

    @api.depends('invoice_id', 'sale_order_id')
    def _compute_send_receipt(self):
        for wizard in self:
            wizard.send_receipt = bool(wizard._clover_document().partner_id.email)

    @api.depends('provider_id')
    def _compute_mode(self):
        for wizard in self:
            wizard.mode = 'terminal' if wizard._clover_terminals() else 'card'

    @api.depends('provider_id', 'mode')
    def _compute_terminal_id(self):
        for wizard in self:
            if wizard.mode != 'terminal':
                wizard.terminal_id = False
            elif not wizard.terminal_id:
                wizard.terminal_id = wizard._clover_terminals()[:1]

    @api.depends('amount', 'surcharge_waived', 'company_id', 'currency_id')
    def _compute_totals(self):
        for wizard in self:
            company = wizard.company_id
            fee = 0.0
            if company and wizard.currency_id and not wizard.surcharge_waived:
                fee = company._clover_compute_surcharge(wizard.amount, wizard.currency_id)
            wizard.surcharge_amount = fee
            wizard.total_amount = wizard.amount + fee
            wizard.surcharge_label = wizard._clover_surcharge_description() if fee else False

    @api.depends('transaction_id.state')
    def _compute_locked(self):
        for wizard in self:
            wizard.locked = wizard.transaction_id.sudo().state not in (False, 'error', 'cancel')

    @api.depends('provider_id')
    def _compute_card_form_values(self):
        for wizard in self:
            provider = wizard.provider_id
            wizard.card_form_values = (
                provider._clover_get_inline_form_values() if provider.clover_pakms_key else False
            )

    # === BUSINESS METHODS - DOCUMENT === #

    @api.model
    def _clover_get_provider(self, company):
        """Return the company's Clover provider that is connected and taking payments, if any."""
        if not company:
            return self.env['payment.provider']
        providers = self.env['payment.provider'].sudo().search([
            ('code', '=', 'clover'), ('state', '!=', 'disabled'),
            *self.env['payment.provider']._check_company_domain(company),
        ])
        return providers.filtered('clover_is_connected')[:1].with_env(self.env)

    @api.model
    def _clover_open(self, document_values):
        """Return the action opening the dialog for a document, once the user may collect."""
        self._clover_check_user()
        wizard = self.create(document_values)
        return {
            'type': 'ir.actions.act_window',
            'name': self.env._("Collect Clover Payment"),
            'res_model': self._name,
            'res_id': wizard.id,
            'view_mode': 'form',
            'views': [(False, 'form')],
            'target': 'new',
        }

    def _clover_document(self):
        return self.invoice_id or self.sale_order_id

    def _clover_terminals(self):
        if not self.provider_id:
            return self.env['clover.terminal']
        return self.env['clover.terminal'].search([('provider_id', '=', self.provider_id.id)])

    def _clover_amount_due(self):
        """What is left to pay on the document, less the Clover payments still in progress (a
        terminal still waiting for the customer must not let the clerk collect it twice)."""
        if self.invoice_id:
            due = self.invoice_id.amount_residual
            transactions = self.invoice_id.transaction_ids
        else:
            due = self.sale_order_id.amount_total - self.sale_order_id.amount_paid
            transactions = self.sale_order_id.transaction_ids.filtered(
                lambda tx: tx.state != 'authorized'  # Already in amount_paid.
            )
        in_flight = transactions.sudo().filtered(lambda tx: tx.state in IN_FLIGHT_STATES)
        due -= sum(tx.amount - tx.clover_surcharge_amount for tx in in_flight)
        return max(self.currency_id.round(due), 0.0)

    def _clover_surcharge_description(self):
        company = self.company_id
        parts = []
        if company.clover_surcharge_rate:
            parts.append(f"{company.clover_surcharge_rate:g} %")
        if company.clover_surcharge_fixed:
            parts.append(company.currency_id.format(company.clover_surcharge_fixed))
        return self.env._("Card processing fee (%s)", " + ".join(parts)) if parts else False

    # === BUSINESS METHODS - CHECKS === #

    @api.model
    def _clover_check_user(self):
        if not self.env.user.has_group(COLLECT_GROUP):
            raise AccessError(self.env._(
                "Only Fusion Clover users may collect payments with Clover."
            ))

    def _clover_check_collectable(self):
        """Refuse, before anything is created or sent, what Clover would refuse or what would
        collect more than is due. Every refusal says what to do.

        :raise UserError: Why the payment cannot be collected as set in the dialog.
        """
        self.ensure_one()
        self._clover_check_user()
        document = self._clover_document()
        document.check_access('read')
        if self.invoice_id and not (
            self.invoice_id.state == 'posted' and self.invoice_id.move_type == 'out_invoice'
        ):
            raise UserError(self.env._("Only posted customer invoices can be collected."))
        if self.sale_order_id and self.sale_order_id.state not in ('draft', 'sent', 'sale'):
            raise UserError(self.env._("A cancelled sales order cannot be collected."))
        provider = self.provider_id
        if not provider:
            raise UserError(self.env._(
                "No Clover provider of %s is connected. An administrator connects it from "
                "Invoicing > Settings > Clover.", self.company_id.name,
            ))
        self._clover_check_currency(provider)
        self._clover_check_amount()
        if self.surcharge_waived and not self.surcharge_waivable:
            raise UserError(self.env._("The Clover settings do not let clerks waive the surcharge."))
        if self.surcharge_amount and not self.company_id.clover_surcharge_product_id:
            raise UserError(self.env._(
                "A card surcharge is set but no surcharge product: choose one in Invoicing > "
                "Settings > Clover."
            ))

    def _clover_check_currency(self, provider):
        supported = provider.sudo().available_currency_ids or self.env['res.currency'].search(
            [('name', 'in', const.SUPPORTED_CURRENCIES)]
        )
        if self.currency_id not in supported or self.currency_id.name not in const.SUPPORTED_CURRENCIES:
            raise UserError(self.env._(
                "Clover does not take payments in %(currency)s. It takes %(supported)s.",
                currency=self.currency_id.name,
                supported=", ".join(sorted(set(supported.mapped('name')) & set(const.SUPPORTED_CURRENCIES))),
            ))

    def _clover_check_amount(self):
        currency = self.currency_id
        if currency.compare_amounts(self.amount, 0) <= 0:
            raise UserError(self.env._("Enter an amount to collect, greater than zero."))
        self._clover_serialize_collections()
        due = self._clover_amount_due()
        if currency.compare_amounts(self.amount, due) > 0:
            raise UserError(self.env._(
                "%(amount)s is more than the %(due)s left to pay on %(document)s.",
                amount=currency.format(self.amount), due=currency.format(due),
                document=self._clover_document().display_name,
            ))

    def _clover_serialize_collections(self):
        """Renew the document's row so that two clerks collecting it at once do not both see it
        unpaid: the second one's request waits for the first, fails to serialize, and Odoo runs
        it again, now seeing the first payment (as the portal's payments of one invoice do)."""
        document = self._clover_document()
        self.env.cr.execute(SQL(
            "UPDATE %s SET write_date = write_date WHERE id = %s",
            SQL.identifier(document._table), document.id,
        ), log_exceptions=False)

    # === BUSINESS METHODS - PAYMENT === #

    def _clover_create_transaction(self, terminal=None):
        """Create the draft transaction of this payment: the amount with its fee, linked to the
        document, as Odoo's own back-office payments are (operation `offline`)."""
        self.ensure_one()
        document_field = 'invoice_ids' if self.invoice_id else 'sale_order_ids'
        document_command = [Command.set(self._clover_document().ids)]
        tx_model = self.env['payment.transaction'].sudo()
        transaction = tx_model.create({
            'provider_id': self.provider_id.id,
            'payment_method_id': self.env.ref('payment.payment_method_card').id,
            'reference': tx_model._compute_reference(
                'clover', **{document_field: document_command},
            ),
            'amount': self.total_amount,
            'currency_id': self.currency_id.id,
            'partner_id': self.partner_id.id,
            'operation': 'offline',
            'clover_surcharge_amount': self.surcharge_amount,
            'clover_terminal_id': terminal.id if terminal else False,
            document_field: document_command,
        })
        self.transaction_id = transaction
        if self.send_receipt:
            # Still a draft: the receipt goes once Clover approves, and never for a decline.
            transaction._clover_send_receipt()
        return transaction

    def clover_charge_card(self, card_token):
        """Charge a keyed card (its `clv_` token) for this payment and book it if approved.

        :param str card_token: The single-use token Clover's iframe made in the clerk's browser.
        :return: The payment's status for the dialog (see `_clover_status`).
        :rtype: dict
        """
        self.ensure_one()
        if self.mode != 'card':
            raise UserError(self.env._("Choose Keyed card to charge a card typed in."))
        self._clover_check_collectable()
        transaction = self._clover_create_transaction()
        transaction._clover_charge_keyed_card(card_token)
        return self._clover_status()

    def clover_send_to_terminal(self):
        """Send this payment to the chosen terminal; the dialog then follows its status.

        :return: The payment's status for the dialog (see `_clover_status`).
        :rtype: dict
        """
        self.ensure_one()
        if self.mode != 'terminal':
            raise UserError(self.env._("Choose Terminal to collect on a terminal."))
        self._clover_check_collectable()
        terminal = self.terminal_id
        if not terminal:
            raise UserError(self.env._(
                "Choose a terminal. If none is listed, an administrator syncs the terminals from "
                "the Clover provider."
            ))
        if terminal.provider_id != self.provider_id:
            raise UserError(self.env._("This terminal belongs to another Clover provider."))
        transaction = self._clover_create_transaction(terminal=terminal.sudo())
        transaction._clover_start_terminal_payment()
        return self._clover_status()

    def clover_cancel_terminal(self):
        """Ask the terminal to cancel the payment in progress; the status says when it is."""
        self.ensure_one()
        self._clover_check_user()
        transaction = self.transaction_id.sudo()
        if transaction.clover_terminal_id and transaction.state in ('draft', 'pending'):
            transaction._clover_cancel_terminal_payment()
        return self._clover_status()

    def clover_poll_status(self):
        """Return the payment's status, booking it once Clover approved it."""
        self.ensure_one()
        self._clover_check_user()
        return self._clover_status()

    def _clover_status(self):
        """The payment's status for the dialog: `{'reference', 'state', 'message', 'final',
        'approved'}`. An approved payment is booked here (post-processing), so the document is
        paid when the clerk closes the dialog; the post-processing cron books it otherwise."""
        transaction = self.transaction_id.sudo()
        if not transaction:
            return {'reference': False, 'state': 'draft', 'message': '', 'final': False,
                    'approved': False}
        if transaction.state in ('done', 'cancel', 'error') and not transaction.is_post_processed:
            transaction._post_process()
        elif transaction.state == 'pending' and not transaction.clover_terminal_id:
            transaction._post_process()  # Asks Clover again for a keyed charge it did not answer.
        if transaction.clover_terminal_id:
            status = transaction._clover_terminal_status()
        else:
            status = self._clover_keyed_card_status(transaction)
        return {**status, 'approved': transaction.state in ('authorized', 'done')}

    def _clover_keyed_card_status(self, transaction):
        state = transaction.state
        if state in ('authorized', 'done'):
            message = self.env._(
                "Approved: %(amount)s on %(brand)s ending %(last4)s, authorization %(auth)s.",
                amount=transaction.currency_id.format(transaction.amount),
                brand=transaction.clover_card_brand or self.env._("card"),
                last4=transaction.clover_card_last4 or '????',
                auth=transaction.clover_auth_code or '-',
            )
        elif state == 'error':
            message = self.env._("Card refused: %s", transaction.state_message)
        elif state == 'cancel':
            message = self.env._("The payment was cancelled.")
        else:
            message = transaction.state_message or self.env._("Waiting for Clover's answer.")
        return {
            'id': transaction.id,
            'reference': transaction.reference,
            'state': state,
            'message': message,
            'final': state in ('authorized', 'done', 'cancel', 'error'),
        }
