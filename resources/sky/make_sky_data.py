"""Make stars.csv and constellation_lines.json from the d3-celestial project's data.

Source: https://github.com/ofrohn/d3-celestial, data/stars.6.json (Hipparcos
catalogue positions and magnitudes, J2000) and data/constellations.lines.json
(the IAU constellations' stick figures), BSD 3-Clause licence, (c) 2015 Olaf
Frohn. Run once: ``python make_sky_data.py PATH/TO/d3-celestial/data``.
Keeps stars of magnitude 4.5 or brighter; positions rounded to 0.001 degrees.
"""

import json
import sys
from pathlib import Path

LIMIT = 4.5


def main(data: Path) -> None:
    here = Path(__file__).parent
    stars = json.loads((data / "stars.6.json").read_text())["features"]
    rows = ["hip,ra,dec,mag"]
    for s in sorted(stars, key=lambda s: s["properties"]["mag"]):
        mag = float(s["properties"]["mag"])
        if mag > LIMIT:
            continue
        ra, dec = s["geometry"]["coordinates"]
        rows.append(f"{s['id']},{ra % 360:.3f},{dec:.3f},{mag:.2f}")
    (here / "stars.csv").write_text("\n".join(rows) + "\n")
    lines = json.loads((data / "constellations.lines.json").read_text())["features"]
    out = {
        f["id"]: [
            [[round(ra % 360, 3), round(dec, 3)] for ra, dec in line]
            for line in f["geometry"]["coordinates"]
        ]
        for f in lines
    }
    (here / "constellation_lines.json").write_text(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
