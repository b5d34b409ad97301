from odoo import fields, models


class PaymentToken(models.Model):
    _inherit = 'payment.token'

    clover_source_token = fields.Char(
        string="Clover Source",
        help="What Clover charges as the `source` of a payment with this saved card: the id of the "
             "Clover customer that holds the card on file.",
        readonly=True,
    )
