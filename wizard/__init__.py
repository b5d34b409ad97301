from . import clover_payment_wizard
