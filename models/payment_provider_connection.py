from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg2.errors

from odoo import api, fields, models

from .. import const
from .payment_provider import CloverAPIError, _logger

# The columns that hold the connection. They are written only through
# `_clover_commit_connection_values` and the refresh, where the connection lives (see
# `_clover_connection_cursor`).
CONNECTION_FIELDS = (
    'clover_merchant_id',
    'clover_merchant_name',
    'clover_oauth_access_token',
    'clover_oauth_refresh_token',
    'clover_oauth_token_expiry',
    'clover_oauth_last_refresh',
    'clover_pakms_key',
)
_LOCK_PROVIDER = "SELECT id FROM payment_provider WHERE id = %s FOR NO KEY UPDATE"
# How long a connection cursor waits for another transaction holding the provider row: a
# concurrent refresh holds it while Clover answers (the OAuth surface's timeout).
_LOCK_TIMEOUT_SECONDS = 15
# Attempts at a connection cursor whose snapshot a concurrent refresh made stale.
_ATTEMPTS = 3


class PaymentProvider(models.Model):
    """Where the Clover connection (tokens, merchant, PAKMS key) is stored and kept fresh."""

    _inherit = 'payment.provider'

    # === CONNECTION STORAGE === #

    @contextmanager
    def _clover_connection_cursor(self):
        """Yield this provider as superuser, its row locked, where the connection is read and
        written: a cursor of its own, committed on exit.

        Clover's refresh tokens are single use: a rotated token written in the business
        transaction would be lost if that transaction rolled back, while Clover has already burnt
        the old one. So the connection columns live outside business transactions.

        A cursor of its own can never write a row this transaction wrote or locked: it would wait
        for this very transaction until the lock timeout. That is recognised before any wait, and
        this transaction's own provider is yielded instead: the connection then commits with the
        change this transaction made to the provider. Who must commit apart (a refresh) checks
        `_clover_is_apart`.
        """
        self.ensure_one()
        # The other cursor reads the database: hand it this transaction's pending writes.
        self.flush_recordset()
        with self.env.registry.cursor() as cr:
            cr.execute("SELECT set_config('lock_timeout', %s, true)", [f'{_LOCK_TIMEOUT_SECONDS}s'])
            apart = self._clover_lock_apart(cr)
            if apart:
                yield self.with_env(self.env(cr=cr, su=True))
        if not apart:
            yield self.sudo()

    def _clover_is_apart(self, provider):
        """Whether `provider`, yielded by `_clover_connection_cursor`, commits apart from this
        transaction."""
        return provider.env.cr is not self.env.cr

    def _clover_lock_apart(self, cr):
        """Lock this provider's row in `cr`, waiting for other transactions but never for this
        one.

        :return: False, without waiting, when this transaction holds the row.
        :rtype: bool
        """
        for _attempt in range(_ATTEMPTS):
            if self._clover_try_lock(cr, keep=True):
                return True
            if not self._clover_try_lock(self.env.cr, keep=False):
                # Another transaction holds the row (a concurrent refresh): wait for it.
                cr.execute(_LOCK_PROVIDER, [self.id], log_exceptions=False)
                return True
            # This transaction can take the lock that `cr` could not: it holds the row, unless
            # the other holder let go in between; asking again tells.
        return False

    def _clover_try_lock(self, cr, keep):
        """Try to lock this provider's row in `cr` without waiting; keep the lock or let it go.

        In this transaction, a row changed by a concurrent transaction since its snapshot cannot
        be locked either, and is not held by this transaction: both answer False.
        """
        own = cr is self.env.cr
        savepoint = cr.savepoint(flush=False)
        try:
            cr.execute(_LOCK_PROVIDER + " NOWAIT", [self.id], log_exceptions=False)
        except psycopg2.errors.LockNotAvailable:
            savepoint.close(rollback=True)
            return False
        except psycopg2.errors.SerializationFailure:
            savepoint.close(rollback=True)
            if not own:
                raise
            return False
        # Rolling back the savepoint lets go of a lock it took, not of one held before.
        savepoint.close(rollback=not keep)
        return True

    def _clover_on_connection(self, func):
        """Return `func(provider)` run on `_clover_connection_cursor`'s provider, again on a new
        cursor when a concurrent change made its snapshot stale while it waited for the row."""
        for attempt in range(_ATTEMPTS):
            try:
                with self._clover_connection_cursor() as provider:
                    return func(provider)
            except psycopg2.errors.SerializationFailure:
                if attempt == _ATTEMPTS - 1:
                    raise
        return None  # Unreachable; keeps linters certain of the return type.

    def _clover_commit_connection_values(self, values):
        """Write connection values (tokens, merchant, PAKMS key) and commit them at once."""
        self.ensure_one()
        self._clover_on_connection(lambda provider: provider.write(values))
        self._clover_remember_connection(values)

    def _clover_get_connection_values(self):
        """Read the connection as committed now, not as this transaction's snapshot saw it."""
        self.ensure_one()
        return self._clover_on_connection(lambda provider: provider._clover_read_connection())

    def _clover_read_connection(self):
        self.invalidate_recordset(CONNECTION_FIELDS)
        return self.read(CONNECTION_FIELDS)[0]

    def _clover_remember_connection(self, values):
        """Let this transaction see the connection values just committed apart: its snapshot
        predates them, and the next call to Clover must not look for them again."""
        self.invalidate_recordset([*values, 'clover_is_connected', 'clover_has_credential'])
        self.sudo()._update_cache(values, validate=False)

    @api.model
    def _clover_disconnected_values(self):
        return dict.fromkeys(CONNECTION_FIELDS, False)

    @api.model
    def _clover_token_values(self, token_data):
        """Return the provider values of a token or refresh response: the access token and its
        expiry, and the refresh token when Clover sends one (else the stored one stays good)."""
        expiration = token_data.get('access_token_expiration')
        values = {
            'clover_oauth_access_token': token_data['access_token'],
            'clover_oauth_token_expiry': expiration and datetime.fromtimestamp(
                int(expiration), tz=UTC
            ).replace(tzinfo=None),
            'clover_oauth_last_refresh': fields.Datetime.now(),
        }
        if token_data.get('refresh_token'):
            values['clover_oauth_refresh_token'] = token_data['refresh_token']
        return values

    # === TOKEN FRESHNESS === #

    def _clover_get_platform_token(self):
        """Return the OAuth access token to use now, refreshed first if it expires within 60 s."""
        return self._clover_refresh_oauth_if_needed()

    def _clover_refresh_oauth_if_needed(self):
        """Return a usable access token, refreshing it when it is about to expire, or None when
        this provider has no OAuth token.

        This transaction's view of the token decides, without another cursor: only a token due
        for a refresh goes through the locked, committed refresh. A provider without OAuth (a
        private key, a legacy token) never opens one.
        """
        provider_sudo = self.sudo()
        values = {
            'clover_oauth_access_token': provider_sudo.clover_oauth_access_token,
            'clover_oauth_token_expiry': provider_sudo.clover_oauth_token_expiry,
        }
        if not self._clover_needs_refresh(values, None, False):
            return values['clover_oauth_access_token'] or None
        return self._clover_locked_refresh(rejected_token=None)

    def _clover_refresh_oauth_token(self, rejected_token=None):
        """Refresh the OAuth access token (unless a concurrent caller just did).

        :return: True when a usable access token is stored.
        :rtype: bool
        """
        return bool(self._clover_locked_refresh(rejected_token=rejected_token, force=not rejected_token))

    def _clover_locked_refresh(self, rejected_token=None, force=False):
        """Return a usable access token, refreshing it at Clover only if still needed once the
        provider row is locked, so that N concurrent callers cause exactly one refresh.

        :param str rejected_token: A token Clover just answered 401 to.
        :param bool force: Refresh even if the token looks valid.
        :return: The access token to use, or None when no OAuth token is stored.
        :rtype: str|None
        """
        self.ensure_one()
        for attempt in range(_ATTEMPTS):
            try:
                return self._clover_refresh_in_own_cursor(rejected_token, force)
            except psycopg2.errors.SerializationFailure:
                # A concurrent refresher committed while we waited for the lock: our snapshot
                # is stale. A new cursor sees its result and will not refresh again.
                if attempt == _ATTEMPTS - 1:
                    raise
                force = False
        return None  # Unreachable; keeps linters certain of the return type.

    def _clover_refresh_in_own_cursor(self, rejected_token, force):
        with self._clover_connection_cursor() as provider:
            values = provider._clover_read_connection()
            if not provider._clover_needs_refresh(values, rejected_token, force):
                access_token = values['clover_oauth_access_token'] or None
                refreshed = None
            else:
                refreshed = provider._clover_refresh_at_clover(values, apart=self._clover_is_apart(provider))
                access_token = refreshed['clover_oauth_access_token']
        self._clover_remember_connection(refreshed or {
            field: values[field] for field in ('clover_oauth_access_token', 'clover_oauth_token_expiry')
        })
        return access_token

    def _clover_refresh_at_clover(self, values, apart):
        """Refresh the token at Clover and write the result; return the values written.

        :param bool apart: Whether this provider commits apart from the business transaction; a
                           rotated refresh token must, so a refresh is refused otherwise.
        """
        if not apart:
            raise CloverAPIError(self.env._(
                "The Clover access token must be renewed, and the renewed token is saved apart "
                "from this operation, which changed the Clover provider. Save the provider "
                "first, then try again."
            ), status=401)
        if not values['clover_oauth_refresh_token']:
            raise CloverAPIError(
                self.env._("The Clover access token expired and there is no refresh token. "
                           "Reconnect to Clover."), status=401,
            )
        token_data = self._clover_api_request('oauth', 'POST', '/oauth/v2/refresh', payload={
            'client_id': self.clover_app_id,
            'refresh_token': values['clover_oauth_refresh_token'],
        })
        refreshed = self._clover_token_values(token_data)
        self.write(refreshed)
        _logger.info("Refreshed the Clover OAuth token of provider %s.", self.id)
        return refreshed

    @api.model
    def _clover_needs_refresh(self, values, rejected_token, force):
        access_token = values['clover_oauth_access_token']
        if not access_token:
            return False
        if force or (rejected_token and access_token == rejected_token):
            return True
        expiry = values['clover_oauth_token_expiry']
        margin = timedelta(seconds=const.TOKEN_REFRESH_MARGIN)
        return bool(expiry) and expiry - margin <= fields.Datetime.now()
