"""Write src/chistka/targets/calibration.csv from the record (the rows a run report scores).

Usage: python scripts/export_targets.py

The file is the record's calibration rows with their observables and accepted ranges
(`chistka.analysis.validate.export_targets`); tests/test_record.py checks it is up to date.
"""

from __future__ import annotations

import argparse

from chistka.analysis.validate import calibration_targets, export_targets


def main() -> None:
    """Write the shipped calibration targets."""
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    path = calibration_targets()
    export_targets("calibration").to_csv(path, index=False, float_format="%.10g")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
