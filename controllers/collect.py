from odoo import http
from odoo.exceptions import AccessError, ValidationError
from odoo.http import request

from .. import utils


class CloverCollectController(http.Controller):

    @http.route('/payment/clover/collect/card', type='jsonrpc', auth='user')
    def clover_collect_card(self, wizard_id, card_token):
        """Charge the card a clerk keyed in to Clover's iframe fields in the collect dialog.

        Only the card's single-use `clv_` token crosses Odoo: the number and the CVV stay in
        Clover's frames. Only Fusion Clover users may call this, for a dialog of their own.

        :param int wizard_id: The collect dialog's record.
        :param str card_token: The `clv_` token.
        :return: The payment's status (see `clover.payment.wizard._clover_status`).
        :rtype: dict
        """
        wizard_model = request.env['clover.payment.wizard']
        wizard_model._clover_check_user()
        if not (isinstance(card_token, str) and len(card_token) <= utils.CARD_TOKEN_MAX_LENGTH
                and utils.CARD_TOKEN_RE.fullmatch(card_token)):
            raise ValidationError(request.env._("The card could not be read. Please try again."))
        wizard = wizard_model.browse(wizard_id if isinstance(wizard_id, int) else 0).exists()
        if not wizard or wizard.create_uid != request.env.user:
            raise AccessError(request.env._("This payment dialog is not yours: open it again."))
        return wizard.clover_charge_card(card_token)
