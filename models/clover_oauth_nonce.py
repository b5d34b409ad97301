from datetime import timedelta

from odoo import api, fields, models

from .. import const


class CloverOauthNonce(models.Model):
    """The nonces of signed OAuth states already used, kept until their state expires, so that a
    state captured in a log or a browser history cannot be replayed."""

    _name = 'clover.oauth.nonce'
    _description = "Consumed Clover OAuth State Nonce"
    _log_access = False

    nonce = fields.Char(required=True, readonly=True)
    expires_at = fields.Datetime(required=True, readonly=True, index=True)

    _nonce_unique = models.Constraint('UNIQUE(nonce)', "A state nonce can be used only once.")

    @api.model
    def _consume(self, nonce, issued_at):
        """Record `nonce` as used; return False if it was used before.

        One INSERT decides between concurrent callbacks carrying the same state.

        :param str nonce: The state's nonce.
        :param datetime issued_at: The state's `iat`, as a naive UTC datetime.
        :rtype: bool
        """
        self._gc_expired()
        expires_at = issued_at + timedelta(seconds=const.STATE_MAX_AGE + const.STATE_CLOCK_SKEW)
        self.env.cr.execute(
            "INSERT INTO clover_oauth_nonce (nonce, expires_at) VALUES (%s, %s)"
            " ON CONFLICT (nonce) DO NOTHING RETURNING id",
            [nonce, expires_at],
        )
        return bool(self.env.cr.fetchone())

    @api.model
    def _gc_expired(self):
        self.env.cr.execute(
            "DELETE FROM clover_oauth_nonce WHERE expires_at < %s", [fields.Datetime.now()]
        )
