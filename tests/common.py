from contextlib import contextmanager
from unittest.mock import patch

import requests

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import DummyRLock, Registry
from odoo.tests import BaseCase
from odoo.tests import common as odoo_test_common
from odoo.tests.common import get_db_name

from odoo.addons.fusion_clover import const
from odoo.addons.fusion_clover.emulator import running_emulator
from odoo.addons.payment.tests.common import PaymentCommon


class EmulatorMixin:
    """Runs the Clover emulator in-process on a free loopback port for a test class.

    Odoo talks to it over real HTTP through `fusion_clover.api_base_url`, exactly as it would talk
    to Clover; the control API scripts outcomes and counts what crossed the wire.
    """

    @classmethod
    def _start_emulator(cls):
        cls.emulator = cls.enterClassContext(running_emulator(port=0))
        cls.emulator_url = cls.emulator.base_url
        cls.identities = cls._emulator('GET', 'state')

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Odoo's tests stretch short timeouts to 10 s; the emulator is local, so keep the timeouts
        # the code chose and let the timeout tests be fast.
        emulator_url = getattr(cls, 'emulator_url', None)
        if emulator_url and r.url.startswith(emulator_url):
            return odoo_test_common._super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    @classmethod
    def _emulator(cls, method, route, payload=None, **params):
        response = requests.request(
            method, f'{cls.emulator_url}/_emulator/{route}', json=payload, params=params, timeout=10,
        )
        response.raise_for_status()
        return response.json() if response.content else {}

    @classmethod
    def _provider_values(cls):
        return {
            'clover_app_id': cls.identities['app_id'],
            'clover_app_secret': cls.identities['app_secret'],
            'clover_merchant_id': cls.identities['merchant_id'],
        }

    @classmethod
    def _issue_tokens(cls):
        """Return provider values holding fresh OAuth tokens, as a Connect would store them."""
        token_data = cls._emulator('POST', 'oauth/issue', {'merchant_id': cls.identities['merchant_id']})
        return cls.env['payment.provider']._clover_token_values(token_data)

    def _counters(self):
        return self._emulator('GET', 'counters')

    def _calls(self, method_and_path):
        return self._counters()['calls'].get(method_and_path, 0)


class CloverCommittedCommon(EmulatorMixin, BaseCase):
    """A Clover provider committed for the class in cursors of its own, as workers see it, and
    removed afterwards: for tests of real concurrent transactions, which no test transaction can
    hold. Subclasses add provider values and remove what they committed besides."""

    provider_name = "Clover (committed test)"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        cls._start_emulator()
        with cls._cursor_env() as env:
            params = env['ir.config_parameter']
            cls.previous_base_url = params.get_param(const.API_BASE_URL_PARAM)
            params.set_param(const.API_BASE_URL_PARAM, cls.emulator_url)
            cls.provider_id = env.ref('fusion_clover.payment_provider_clover').copy({
                'name': cls.provider_name, 'state': 'test', **cls._provider_values(),
            }).id
            cls.partner_id = env['res.partner'].create({'name': "Committed Test Customer"}).id
        cls.addClassCleanup(cls._remove_committed_data)

    @classmethod
    def _remove_committed_data(cls):
        with cls._cursor_env() as env:
            cls._remove_committed_records(env)
            env['payment.provider'].browse(cls.provider_id).unlink()
            env['res.partner'].browse(cls.partner_id).unlink()
            env['ir.config_parameter'].set_param(const.API_BASE_URL_PARAM, cls.previous_base_url or False)

    @classmethod
    def _remove_committed_records(cls, env):
        """Remove what the tests committed for the provider, before it goes."""

    @classmethod
    @contextmanager
    def _cursor_env(cls):
        """An environment on a new cursor, committed on success like a request's."""
        with cls.registry.cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {})

    @staticmethod
    def _run_threads(threads, timeout=30):
        """Run `threads` to their end as concurrent workers. The test runner holds the registry
        lock for the whole run; HTTP test workers get past it the same way (HttpCase's registry
        test mode)."""
        with patch.object(Registry, '_lock', DummyRLock()):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=timeout)

    @classmethod
    def _commit_fresh_tokens(cls, merchant_id=None):
        """Store fresh OAuth tokens on the committed provider, as a Connect would."""
        token_data = cls._emulator('POST', 'oauth/issue', {
            'merchant_id': merchant_id or cls.identities['merchant_id'],
        })
        with cls._cursor_env() as env:
            provider = env['payment.provider'].browse(cls.provider_id)
            provider.write(provider._clover_token_values(token_data))


class CloverCommon(EmulatorMixin, PaymentCommon):
    """A Clover provider in test mode, connected to the emulator, in the test's transaction."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The connection is stored through cursors of its own (see `_clover_connection_cursor`):
        # in test mode they wrap the test's cursor, so they see the test's provider.
        if not cls._registry_patched:
            cls.registry_enter_test_mode_cls()
        cls._start_emulator()
        cls.env['ir.config_parameter'].set_param(const.API_BASE_URL_PARAM, cls.emulator_url)
        cls.currency = cls.currency_usd
        cls.provider = cls._prepare_provider('clover', update_values=cls._provider_values())

    def setUp(self):
        super().setUp()
        self._emulator('POST', 'reset')
        self.provider.write(self._issue_tokens())


# Clover's test cards (clover-api.md §2.6): any future expiry, any CVV.
APPROVED_VISA = '4242424242424242'
DECLINED_VISA = '4264281511117771'
DECLINED_MASTERCARD = '5424180273333333'


class CloverPaymentCommon(CloverCommon):
    """A connected Clover provider taking card payments, and the browser's part: tokenizing a card
    at Clover with the PAKMS key, as Clover's iframe does."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider.write({'clover_pakms_key': cls.identities['pakms_key'], 'is_published': True})
        cls.payment_method = cls.env.ref('payment.payment_method_card')
        cls.payment_method_id = cls.payment_method.id
        cls.amount = 123.45

    def _card_token(self, number=APPROVED_VISA, exp_month='12', exp_year='2031', cvv='123'):
        """Return a `clv_` token for a card, made the way Clover's iframe makes it."""
        response = requests.post(
            f'{self.emulator_url}/v1/tokens',
            json={'card': {'number': number, 'exp_month': exp_month, 'exp_year': exp_year, 'cvv': cvv}},
            headers={'apikey': self.identities['pakms_key']}, timeout=10,
        )
        response.raise_for_status()
        return response.json()['id']

    def _clover_requests(self, path, method='POST'):
        """Return the calls Clover received at `path`, oldest first."""
        recorded = self._emulator('GET', 'requests', path=path)['requests']
        return [request for request in recorded if request['method'] == method]

    def _clover_get(self, path):
        """Return an Ecommerce object as Clover has it now."""
        response = requests.get(
            f'{self.emulator_url}{path}',
            headers={'Authorization': f"Bearer {self.identities['private_key']}"}, timeout=10,
        )
        response.raise_for_status()
        return response.json()

    def _clover_charge(self, charge_id):
        return self._clover_get(f'/v1/charges/{charge_id}')
