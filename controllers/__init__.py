from . import collect
from . import main
from . import portal
from . import terminal
from . import webhook
