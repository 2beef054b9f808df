#!/usr/bin/env python3
"""Draws the app icons in public/icons/ from the mark in public/favicon.svg
(a rounded square with a rising line). Needs Pillow: pip install pillow.
The PNGs are committed; run this again only when the mark changes."""

from pathlib import Path

from PIL import Image, ImageDraw

BACKGROUND = (15, 23, 42, 255)  # #0f172a, the favicon's square
LINE = (56, 189, 248, 255)  # #38bdf8
POINTS = [(6, 15), (10, 11), (13, 14), (18, 8)]  # the favicon's path, 24-unit box
SUPERSAMPLE = 4
OUT = Path(__file__).resolve().parent.parent / "public" / "icons"


def draw(size: int, maskable: bool) -> Image.Image:
    big = size * SUPERSAMPLE
    unit = big / 24
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if maskable:
        # Full bleed: the platform cuts its own shape; the line stays well
        # inside the central safe circle (radius 40 %).
        d.rectangle([0, 0, big, big], fill=BACKGROUND)
    else:
        d.rounded_rectangle([1 * unit, 1 * unit, 23 * unit, 23 * unit], radius=5 * unit, fill=BACKGROUND)
    width = 2.4 * unit
    pts = [(x * unit, y * unit) for x, y in POINTS]
    d.line(pts, fill=LINE, width=round(width), joint="curve")
    r = width / 2
    for x, y in (pts[0], pts[-1]):
        d.ellipse([x - r, y - r, x + r, y + r], fill=LINE)
    return img.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, False).save(OUT / f"icon-{size}.png", optimize=True)
        draw(size, True).save(OUT / f"icon-maskable-{size}.png", optimize=True)


if __name__ == "__main__":
    main()
