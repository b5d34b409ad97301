from . import clover_refund_wizard
