"""Regenerates static/fonts/*.woff2: the few glyphs the page draws that
many systems have no font for (the Control Pictures ␍ ␊ ␉ ... and a handful
of arrows and marks), cut from Debian's fonts so every browser shows the same
shapes. Run from the repository root with Debian's python3-fonttools,
python3-brotli, fonts-freefont-ttf and fonts-dejavu-core installed:

    /usr/bin/python3 docs/fonts/subset.py
"""

from fontTools import subset
from fontTools.ttLib import TTFont

CUTS = [
    # GNU FreeMono: the whole Control Pictures block U+2400-2426.
    ("/usr/share/fonts/truetype/freefont/FreeMono.ttf",
     range(0x2400, 0x2427), "wirelab control pictures",
     "static/fonts/control-pictures.woff2"),
    # DejaVu Sans: the arrows, bullets, triangles and the warning sign.
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
     [0x2190, 0x2192, 0x2022, 0x25B8, 0x25BE, 0x25CF, 0x25CB, 0x26A0],
     "wirelab symbols", "static/fonts/symbols.woff2"),
]


def cut(source, codepoints, family, output):
    font = TTFont(source)
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=list(codepoints))
    subsetter.subset(font)
    # A cut is a modified font: the Bitstream Vera licence asks for a new
    # name, and a new name also keeps it from passing for the full font.
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):
            record.string = family
        elif record.nameID == 6:
            record.string = family.replace(" ", "-")
        elif record.nameID == 3:
            record.string = family + " subset"
    font.flavor = "woff2"
    font.save(output)


for args in CUTS:
    cut(*args)
