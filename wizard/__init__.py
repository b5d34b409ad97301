from . import clover_payment_wizard
from . import clover_refund_wizard
