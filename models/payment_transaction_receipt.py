import base64
import logging

import pytz

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import format_datetime

_logger = logging.getLogger(__name__)

# States in which a transaction is a proof of payment (or of refund) worth emailing.
RECEIPT_STATES = ('authorized', 'done')
# States after which the transaction will not become a proof of payment any more.
FINAL_STATES = ('done', 'cancel', 'error')


class PaymentTransaction(models.Model):
    _inherit = 'payment.transaction'

    clover_receipt_requested = fields.Boolean(
        string="Email Receipt When Confirmed", readonly=True, copy=False,
        help="The receipt is emailed to the customer as soon as Clover confirms the payment.",
    )
    clover_receipt_sent = fields.Boolean(string="Receipt Emailed", readonly=True, copy=False)

    # === ACTION METHODS === #

    def action_clover_send_receipt(self):
        """Email the receipt again, from the transaction form: refuse clearly what cannot be
        sent rather than sending nothing."""
        for tx in self:
            tx._clover_check_receipt_sendable()
        for tx in self:
            tx._clover_email_receipt()
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success',
                'message': self.env._("The receipt was sent to %s.", ", ".join(
                    self.mapped('partner_id.email')
                )),
                'next': {'type': 'ir.actions.act_window_close'},
            },
        }

    # === BUSINESS METHODS - EMAIL === #

    def _clover_send_receipt(self):
        """Email the receipt of each transaction to its customer, and post it in the chatter of
        the document it pays (invoice or sales order).

        What the collection and refund wizards call when their "Send receipt" box is ticked. A
        transaction Clover has not confirmed yet (a terminal payment in progress) gets its receipt
        when it is confirmed, from the post-processing; one that failed gets none. It never
        raises (no email, PDF not rendered): the payment is made, the receipt is a courtesy that
        must not undo it; the form's "Send Receipt" button tells what went wrong.

        :return: The transactions whose receipt was queued now.
        :rtype: payment.transaction
        """
        sent = self.browse()
        for tx in self.filtered(lambda tx: tx.provider_code == 'clover'):
            if tx.state in RECEIPT_STATES:
                if tx._clover_try_email_receipt():
                    sent |= tx
            elif tx.state not in FINAL_STATES:
                # Clerks read transactions and never write them: the flag is the system's.
                tx.sudo().clover_receipt_requested = True
            else:
                _logger.info("No receipt for transaction %s: it is %s.", tx.reference, tx.state)
        return sent

    def _clover_check_receipt_sendable(self):
        """Raise a clear error when this transaction's receipt cannot be emailed."""
        self.ensure_one()
        if self.provider_code != 'clover':
            raise UserError(self.env._("Only Clover transactions have a Clover receipt."))
        if self.state not in RECEIPT_STATES:
            raise UserError(self.env._(
                "Transaction %(reference)s is %(state)s: only a confirmed payment or refund has a "
                "receipt.", reference=self.reference, state=self._clover_state_label(),
            ))
        if not self.partner_id.email:
            raise UserError(self.env._(
                "%s has no email address: add one to the customer to send the receipt.",
                self.partner_id.display_name,
            ))

    def _clover_try_email_receipt(self):
        """Queue the receipt email, or log why not without undoing anything else done in this
        database transaction (the payment, its accounting entry)."""
        try:
            with self.env.cr.savepoint():
                return self._clover_email_receipt()
        except Exception as error:  # Whatever failed, a receipt never undoes a payment.
            _logger.warning("The receipt of transaction %s was not sent: %s", self.reference, error)
            return False

    def _clover_email_receipt(self):
        """Queue the receipt email with its PDF; return whether it was queued."""
        self.ensure_one()
        if not self.partner_id.email:
            _logger.info("No receipt emailed for %s: the customer has no email.", self.reference)
            self.sudo().clover_receipt_requested = False
            return False
        template = self.env.ref('fusion_clover.mail_template_clover_receipt')
        document = self._clover_receipt_document()
        if document:
            self._clover_post_receipt(template, document)
        else:
            template.send_mail(self.id, force_send=False)
        self.sudo().write({'clover_receipt_sent': True, 'clover_receipt_requested': False})
        return True

    def _clover_post_receipt(self, template, document):
        """Post the rendered receipt email in the document's chatter, to the customer only.

        The mail is queued, not sent in this request: the mail queue sends it, so a slow mail
        server never holds the clerk's screen.
        """
        values = template._generate_template(
            self.ids, ('subject', 'body_html', 'email_from', 'report_template_ids'),
        )[self.id]
        document.message_post(
            body=values['body_html'],
            subject=values['subject'],
            email_from=values['email_from'],
            author_id=self.env.user.partner_id.id,
            partner_ids=self.partner_id.ids,
            attachments=[
                (name, base64.b64decode(content)) for name, content in values['attachments']
            ],
            message_type='comment',
            subtype_xmlid='mail.mt_comment',
            email_layout_xmlid='mail.mail_notification_light',
            force_send=False,
        )

    def _clover_receipt_document(self):
        """Return the document the transaction pays, in whose chatter its receipt is posted: its
        invoice, else its sales order; a refund's are those of the payment it refunds."""
        self.ensure_one()
        for tx in (self, self.source_transaction_id):
            if document := tx.invoice_ids[:1] or tx.sale_order_ids[:1]:
                return document
        return None

    # === BUSINESS METHODS - PROCESSING === #

    def _clover_apply_charge(self, charge):  # pylint: disable=missing-return
        """Override to keep the authorization code Clover's charge carries: the receipt prints
        it, as the card network's proof of approval."""
        super()._clover_apply_charge(charge)
        if charge.get('auth_code'):
            self.clover_auth_code = charge['auth_code']

    # === BUSINESS METHODS - POST-PROCESSING === #

    def _post_process(self):  # pylint: disable=missing-return
        """Override of `payment` to email the receipts asked for before Clover confirmed the
        payment (a terminal payment still on the device when the clerk ticked "Send receipt")."""
        super()._post_process()
        for tx in self.filtered('clover_receipt_requested'):
            if tx.state in RECEIPT_STATES:
                tx._clover_try_email_receipt()
            elif tx.state in FINAL_STATES:
                tx.sudo().clover_receipt_requested = False

    # === BUSINESS METHODS - WHAT THE RECEIPT PRINTS === #

    def _clover_receipt_pages(self):
        """Return the transactions printed, one page each: a refund is followed by the payment it
        refunds, so that the customer holds both."""
        self.ensure_one()
        if self.operation == 'refund' and self.source_transaction_id:
            return self | self.source_transaction_id
        return self

    def _clover_receipt_kind(self):
        """Return what the page is: a payment, a refund of a payment, or a credit (money sent to
        a card without a payment to refund)."""
        self.ensure_one()
        if self.operation != 'refund':
            return 'payment'
        return 'refund' if self.source_transaction_id else 'credit'

    def _clover_receipt_title(self):
        return {
            'payment': self.env._("Payment Receipt"),
            'refund': self.env._("Refund Receipt"),
            'credit': self.env._("Credit Receipt"),
        }[self._clover_receipt_kind()]

    def _clover_receipt_approval(self):
        """Return the wording of the outcome, as a terminal prints it."""
        self.ensure_one()
        return {
            'done': {
                'payment': self.env._("APPROVED"),
                'refund': self.env._("REFUND APPROVED"),
                'credit': self.env._("CREDIT APPROVED"),
            }[self._clover_receipt_kind()],
            'authorized': self.env._("AUTHORIZED - NOT YET CAPTURED"),
            'cancel': self.env._("VOIDED - NO MONEY WAS TAKEN"),
            'error': self.env._("DECLINED"),
        }.get(self.state, self.env._("PENDING - NOT YET CONFIRMED"))

    def _clover_state_label(self):
        return dict(self._fields['state']._description_selection(self.env))[self.state]

    def _clover_receipt_entry(self):
        """Return how the card was presented, in words: Clover's raw entry type, or "Online" for
        a charge made from Odoo's card form (which has none)."""
        self.ensure_one()
        entry_type = self._clover_receipt_card_tx().clover_entry_type
        if not entry_type:
            return self.env._("Online")
        return self._clover_entry_type_words().get(
            entry_type, entry_type.replace('_', ' ').capitalize(),
        )

    def _clover_entry_type_words(self):
        """Clover's raw `cardTransaction.entryType`, in the words a customer knows from the
        terminal."""
        return {
            'EMV_CONTACTLESS': self.env._("Tap (contactless chip)"),
            'MSD_CONTACTLESS': self.env._("Tap (contactless)"),
            'EMV_CONTACT': self.env._("Chip"),
            'SWIPED': self.env._("Swipe"),
            'FALLBACK_SWIPED': self.env._("Swipe (chip fallback)"),
            'KEYED': self.env._("Keyed"),
            'VAULTED': self.env._("Card on file"),
            'SCANNED': self.env._("Scanned"),
        }

    def _clover_receipt_card_tx(self):
        """Return the transaction that knows the card: a refund made against a charge may not
        repeat the card Clover charged."""
        self.ensure_one()
        if not self.clover_card_last4 and self.source_transaction_id:
            return self.source_transaction_id
        return self

    def _clover_receipt_card(self):
        """Return the card as printed: its brand and last 4 digits, never more."""
        card_tx = self._clover_receipt_card_tx()
        if not card_tx.clover_card_last4:
            return ''
        brand = (card_tx.clover_card_brand or self.env._("Card")).upper()
        return f"{brand} **** {card_tx.clover_card_last4[-4:]}"

    def _clover_receipt_terminal(self):
        return self._clover_receipt_card_tx().clover_terminal_id.name or ''

    def _clover_receipt_datetime(self):
        """Return when the transaction settled, in the company's time zone (that of its address,
        else the user's), with the zone's abbreviation."""
        self.ensure_one()
        moment = self.last_state_change or self.create_date
        tz_name = self.company_id.partner_id.tz or self.env.user.tz or 'UTC'
        local = pytz.utc.localize(moment).astimezone(pytz.timezone(tz_name))
        formatted = format_datetime(self.env, moment, tz=tz_name, dt_format='medium')
        return f"{formatted} {local.tzname()}"

    def _clover_receipt_address_lines(self):
        """Return the company's address as printed: its lines, without the empty ones."""
        address = self.company_id.partner_id._display_address(without_company=True)
        return [line.strip() for line in address.splitlines() if line.strip()]

    def _clover_receipt_documents(self):
        """Return (label, name) of the documents the transaction pays, for the receipt."""
        self.ensure_one()
        source = self if (self.invoice_ids or self.sale_order_ids) else self.source_transaction_id
        lines = [(self.env._("Invoice"), name) for name in source.invoice_ids.mapped('name')]
        lines += [(self.env._("Order"), name) for name in source.sale_order_ids.mapped('name')]
        return lines
