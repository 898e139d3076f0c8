import sys

from voxhub.cli import main

sys.exit(main())
