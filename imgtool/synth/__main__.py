"""``python -m imgtool.synth samples [FOLDER]``: write the bundled samples."""

import sys

from imgtool.synth import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
