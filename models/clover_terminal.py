from odoo import fields, models


class CloverTerminal(models.Model):
    """A Clover device that takes card payments through REST Pay Display (Cloud Pay Display)."""

    _name = 'clover.terminal'
    _description = "Clover Terminal"
    _order = 'is_default desc, name, id'

    name = fields.Char(string="Name", required=True, help="What clerks call this terminal.")
    serial_number = fields.Char(string="Serial Number", required=True, readonly=True, copy=False)
    clover_device_id = fields.Char(
        string="Clover Device ID", readonly=True, copy=False,
        help="The device's id on Clover's Platform API.",
    )
    model = fields.Char(string="Model", readonly=True)
    provider_id = fields.Many2one(
        string="Provider", comodel_name='payment.provider', required=True, ondelete='cascade',
        domain=[('code', '=', 'clover')], index=True,
    )
    company_id = fields.Many2one(related='provider_id.company_id', store=True, index=True)
    active = fields.Boolean(default=True)
    is_default = fields.Boolean(
        string="Default", help="Preselected when a clerk collects a payment on a terminal.",
    )
    last_ping_ok = fields.Boolean(string="Last Ping Answered", readonly=True)
    last_ping_message = fields.Char(string="Last Ping Result", readonly=True)
    last_ping_at = fields.Datetime(string="Last Ping", readonly=True)

    _serial_provider_unique = models.Constraint(
        'UNIQUE(serial_number, provider_id)',
        "This terminal is already registered for this Clover provider.",
    )
    _one_default_per_provider = models.UniqueIndex(
        '(provider_id) WHERE is_default AND active',
        "A Clover provider has one default terminal.",
    )
