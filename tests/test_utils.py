from datetime import datetime

from odoo.tests import BaseCase, TransactionCase, tagged

from odoo.addons.fusion_clover import const, utils


@tagged('post_install', '-at_install')
class TestCloverAmounts(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.usd = cls.env.ref('base.USD')
        cls.jpy = cls.env.ref('base.JPY')
        cls.kwd = cls.env.ref('base.KWD')

    def test_format_amount_in_cents(self):
        for amount, cents in ((0, 0), (0.0, 0), (0.01, 1), (19.99, 1999), (1e6, 100000000),
                              (1.005, 101), (0.1 + 0.2, 30), (999999.99, 99999999)):
            with self.subTest(amount=amount):
                self.assertEqual(utils.format_clover_amount(amount, self.usd), cents)

    def test_format_amount_follows_currency_decimals(self):
        self.assertEqual(utils.format_clover_amount(1234, self.jpy), 1234)
        self.assertEqual(utils.format_clover_amount(1234.5, self.jpy), 1235)
        self.assertEqual(utils.format_clover_amount(1.234, self.kwd), 1234)
        self.assertEqual(utils.format_clover_amount(19.9995, self.kwd), 20000)

    def test_format_amount_returns_int(self):
        self.assertIs(type(utils.format_clover_amount(19.99, self.usd)), int)

    def test_negative_amount_rejected(self):
        for amount in (-0.01, -1, -1e6):
            with self.subTest(amount=amount), self.assertRaises(ValueError):
                utils.format_clover_amount(amount, self.usd)

    def test_parse_amount_is_inverse_of_format(self):
        for currency, amount in ((self.usd, 19.99), (self.jpy, 1234.0), (self.kwd, 1.234)):
            with self.subTest(currency=currency.name):
                cents = utils.format_clover_amount(amount, currency)
                self.assertEqual(utils.parse_clover_amount(cents, currency), amount)


@tagged('post_install', '-at_install')
class TestCloverTimes(BaseCase):

    def test_times_are_milliseconds_since_the_epoch_in_utc(self):
        # Clover's documented charge example: created 1623551758243 is 2021-06-13 02:35:58.243 UTC.
        when = datetime(2021, 6, 13, 2, 35, 58, 243000)
        self.assertEqual(utils.format_clover_time(when), 1623551758243)
        self.assertEqual(utils.parse_clover_time(1623551758243), when)


@tagged('post_install', '-at_install')
class TestCloverHelpers(TransactionCase):

    def test_base64url_round_trip_without_padding(self):
        for data in (b'a', b'ab', b'abc', bytes(range(256))):
            with self.subTest(length=len(data)):
                text = utils.b64url_encode(data)
                self.assertNotIn('=', text)
                self.assertNotIn('+', text)
                self.assertNotIn('/', text)
                self.assertEqual(utils.b64url_decode(text), data)

    def test_base64url_decode_rejects_padding_and_foreign_characters(self):
        for text in ('', 'YQ==', 'a+b/', 'a b', 'abcde', 'YR', None):
            with self.subTest(text=text), self.assertRaises(ValueError):
                utils.b64url_decode(text)

    def test_detect_brand_from_pan(self):
        for pan, brand in (
            ('4242424242424242', 'VISA'), ('5424180273333333', 'MC'), ('2223003122003222', 'MC'),
            ('378282246310005', 'AMEX'), ('6011000990139424', 'DISCOVER'),
            ('30569309025904', 'DINERS'), ('3566002020360505', 'JCB'),
            ('4242 4242 4242 4242', 'VISA'), ('9999999999999995', None), ('42', None), ('', None),
        ):
            with self.subTest(pan=pan):
                self.assertEqual(utils.detect_brand_from_pan(pan), brand)

    def test_redact_masks_secrets_cards_and_tokens_at_any_depth(self):
        data = {
            'amount': 1999,
            'source': 'clv_1ABCDefgHI23jKL4m5nOP',
            'nested': [{'refresh_token': 'r-123', 'note': 'card 4242 4242 4242 4242'}],
            'description': 'token clv_9ZZZ used',
        }
        redacted = utils.redact(data)
        text = repr(redacted)
        self.assertEqual(redacted['amount'], 1999)
        for secret in ('clv_1ABCDefgHI23jKL4m5nOP', 'r-123', '4242 4242 4242 4242', 'clv_9ZZZ'):
            self.assertNotIn(secret, text)

    def test_redact_text_and_url(self):
        body = '{"access_token": "a-1", "refresh_token": "r-1", "access_token_expiration": 17}'
        self.assertNotIn('a-1', utils.redact_text(body))
        self.assertIn('17', utils.redact_text(body))
        url = utils.redact_url(
            'https://x.test/oauth/token?client_id=APP&client_secret=s3&code=c0de', const.OAUTH_SENSITIVE_KEYS,
        )
        self.assertIn('client_id=APP', url)
        self.assertNotIn('s3', url)
        self.assertNotIn('c0de', url)
