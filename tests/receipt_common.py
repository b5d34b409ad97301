import os
import subprocess
import tempfile

from odoo import Command
from odoo.tests.common import HOST
from odoo.tools import config

from odoo.addons.fusion_clover.tests.common import APPROVED_VISA

REPORT = 'fusion_clover.action_report_clover_receipt'
# Set to a folder to keep the PDFs the tests render, to look at them (pdftoppm -png -r 110).
KEEP_PDFS_DIR = os.environ.get('FUSION_CLOVER_RECEIPT_PDF_DIR')


class CloverReceiptMixin:
    """A company with an address and time zone, a customer with an email, and the helpers that
    render the receipt through wkhtmltopdf as a real PDF and read it back with poppler."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.provider.company_id
        cls.company.partner_id.write({
            'street': "120 King Street West", 'city': "Toronto", 'zip': "M5H 1J9",
            'country_id': cls.env.ref('base.ca').id, 'tz': 'America/Toronto',
            'phone': "+1 416-555-0100",
        })
        cls.partner.email = 'norbert.buyer@example.com'
        cls.provider.journal_id = cls.env['account.journal'].search([
            ('type', '=', 'bank'), ('company_id', '=', cls.company.id),
        ], limit=1)
        # wkhtmltopdf loads the report's style sheets from this server, as in production.
        cls.env['ir.config_parameter'].set_param('report.url', f'http://{HOST}:{config["http_port"]}')

    def setUp(self):
        self.enable_post_process_patcher = False  # The real post-processing: payments are made.
        super().setUp()

    # === Helpers === #

    def _invoice(self, amount):
        invoice = self.env['account.move'].create({
            'move_type': 'out_invoice',
            'partner_id': self.partner.id,
            'currency_id': self.currency.id,
            'invoice_line_ids': [Command.create({
                'name': "Espresso machine service", 'quantity': 1, 'price_unit': amount,
                'tax_ids': [Command.clear()],
            })],
        })
        invoice.action_post()
        return invoice

    def _render(self, tx):
        """Render the receipt through wkhtmltopdf, as the Print menu does (test mode renders
        HTML unless told to render the PDF; `allow_pdf_render` lets wkhtmltopdf load the style
        sheets from the test server)."""
        with self.allow_pdf_render():
            pdf, report_type = self.env['ir.actions.report'].with_context(
                force_report_rendering=True,
            )._render_qweb_pdf(REPORT, tx.ids)
        self.assertEqual(report_type, 'pdf')
        if KEEP_PDFS_DIR:
            with open(os.path.join(KEEP_PDFS_DIR, f'{self._testMethodName}.pdf'), 'wb') as file:
                file.write(pdf)
        return pdf

    def _poppler(self, command, pdf, *output):
        with tempfile.NamedTemporaryFile(suffix='.pdf') as file:
            file.write(pdf)
            file.flush()
            return subprocess.run(
                [*command, file.name, *output], capture_output=True, check=True, text=True,
            ).stdout

    def _pages(self, pdf):
        """Return the text of each page, with the PDF's producer checked."""
        info = self._poppler(['pdfinfo'], pdf)
        self.assertRegex(info, r'Creator:\s+wkhtmltopdf')
        pages = self._poppler(['pdftotext', '-layout'], pdf, '-').split('\f')
        pages = [page for page in pages if page.strip()]
        self.assertRegex(info, rf'Pages:\s+{len(pages)}\n')
        return pages

    def _assert_only_last4(self, text):
        self.assertNotIn(APPROVED_VISA, text.replace(' ', ''))
        self.assertNotIn(APPROVED_VISA[:6], text.replace(' ', ''))
        self.assertIn(f"VISA **** {APPROVED_VISA[-4:]}", text)

    def _send_receipt(self, tx):
        """Send the receipt with its PDF really rendered."""
        with self.allow_pdf_render():
            return tx.with_context(force_report_rendering=True)._clover_send_receipt()

    def _mails_to_partner(self):
        return self.env['mail.mail'].search([('recipient_ids', 'in', self.partner.ids)])
