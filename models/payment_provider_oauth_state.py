import time

from odoo import models
from odoo.tools import consteq
from odoo.tools.misc import hmac as odoo_hmac

from .. import utils

# The scope of the HMAC in a Connect state's `sub` (see `_clover_state_subject`).
_SUBJECT_SCOPE = 'fusion_clover.oauth_state_sub'


class PaymentProvider(models.Model):
    """The binding of signed OAuth states to whoever may complete them (issue: login CSRF).

    A state alone proves that a trusted party issued it, not that the browser bringing it back
    belongs to the admin who asked for it: an attacker could otherwise have an admin open the
    attacker's own `code` with a valid state and connect the attacker's merchant. So a Connect
    state carries `sub`, which only the admin who clicked, on the provider they clicked it on,
    completes; a state from the dispatcher's launch carries the merchant it was issued for.
    """

    _inherit = 'payment.provider'

    def _clover_connect_state_payload(self, redirect_to):
        """Return the payload of a Connect state for the current user and this provider."""
        self.ensure_one()
        nonce = utils.new_state_nonce()
        return utils.new_state_payload(
            redirect_to, time.time(), nonce=nonce, sub=self._clover_state_subject(nonce),
        )

    def _clover_state_subject(self, nonce):
        """Return the `sub` binding a state to this database, the current user and this provider.

        An HMAC-SHA256 under `database.secret`, which only this Odoo holds: the dispatcher, and
        the other Odoos sharing its secret, can neither read whom it names nor make a valid one.
        The nonce makes each state's `sub` different, so that states cannot be linked either.

        :param str nonce: The state's nonce.
        :rtype: str
        """
        self.ensure_one()
        message = (self.env.cr.dbname, self.env.uid, self.id, nonce)
        return utils.state_subject(odoo_hmac(self.env(su=True), _SUBJECT_SCOPE, message))

    def _clover_is_state_subject(self, payload):
        """Whether a verified `sub` state was issued to the current user for this provider."""
        self.ensure_one()
        return consteq(self._clover_state_subject(payload['nonce']), payload['sub'])
