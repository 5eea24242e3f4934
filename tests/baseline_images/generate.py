"""Regenerate the baseline images: ``python tests/baseline_images/generate.py``.

Run only after checking by eye that a plot change is intended; then look at every PNG written
here before committing. The image tests compare against these files with a tolerance.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sys.path.insert(0, str(HERE))
    import cases

    for name, draw in cases.CASES.items():
        with plt.rc_context(cases.RC):
            ax = draw()
            ax.figure.savefig(HERE / f"{name}.png")
        plt.close("all")
        print(f"wrote {name}.png")  # noqa: T201 - a script, not library code


if __name__ == "__main__":
    main()
