import sys

from ingest.embedmodel.cli import main

sys.exit(main())
