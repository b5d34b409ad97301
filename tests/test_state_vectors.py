import json

from odoo.tests import BaseCase, tagged
from odoo.tools.misc import file_path

from odoo.addons.fusion_clover import const, utils


@tagged('post_install', '-at_install')
class TestSignedStateVectors(BaseCase):
    """The signed states shared with the dispatcher's tests: both verifiers must agree on each."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(file_path('fusion_clover/tests/data/signed_state_vectors.json'), encoding='utf-8') as f:
            cls.vectors = json.load(f)

    def _verdict(self, state):
        data = self.vectors
        try:
            payload = utils.verify_state(state, data['secret'], data['now'], data['max_age'], data['skew'])
        except utils.InvalidState as error:
            return False, error.reason
        reason = utils.redirect_problem(payload['redirect_to'], set(data['allowed_hosts']))
        return reason is None, reason

    def test_every_vector(self):
        self.assertEqual(self.vectors['version'], const.STATE_VERSION)
        self.assertGreaterEqual(len(self.vectors['vectors']), 80)
        for vector in self.vectors['vectors']:
            with self.subTest(vector=vector['name']):
                self.assertEqual(self._verdict(vector['state']), (vector['valid'], vector['reason']))

    def test_valid_vectors_give_their_payload(self):
        data = self.vectors
        for vector in filter(lambda vector: vector['valid'], data['vectors']):
            with self.subTest(vector=vector['name']):
                payload = utils.verify_state(
                    vector['state'], data['secret'], data['now'], data['max_age'], data['skew'],
                )
                self.assertEqual(payload, vector['payload'])
                self.assertIs(type(payload['v']), int)

    def test_signing_round_trips_through_the_verifier(self):
        data = self.vectors
        for binding in ({'sub': utils.b64url_encode(bytes(32))}, {'merchant_id': 'MA1'}):
            with self.subTest(binding=binding):
                payload = utils.new_state_payload(
                    'https://odoo-a.example.com/payment/clover/oauth/callback', data['now'],
                    nonce=utils.new_state_nonce(), customer="Clinique Été", **binding,
                )
                state = utils.sign_state(payload, data['secret'])
                self.assertEqual(self._verdict(state), (True, None))
                self.assertEqual(utils.verify_state(state, data['secret'], data['now']), payload)

    def test_a_state_has_exactly_one_binding(self):
        for bindings in ({}, {'sub': utils.b64url_encode(bytes(32)), 'merchant_id': 'MA1'}):
            with self.subTest(bindings=bindings), self.assertRaises(ValueError):
                utils.new_state_payload('https://odoo-a.example.com/cb', 0, nonce='0' * 32, **bindings)
