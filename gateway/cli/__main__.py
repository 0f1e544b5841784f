"""``python -m gateway.cli``: the ``catalog-gateway`` command."""

import sys

from gateway.cli import main

sys.exit(main())
