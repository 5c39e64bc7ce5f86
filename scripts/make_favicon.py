"""Draw app/static/img/favicon.ico: a white shopping bag on the brand vermilion
(#FF4D2E), at 16, 32, 48 and 64 px. Run once; the icon is committed."""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

BRAND = (255, 77, 46, 255)
WHITE = (255, 255, 255, 255)
SIZE = 256  # drawn large, scaled down by Pillow for each size in the .ico
OUT = Path(__file__).resolve().parent.parent / "app" / "static" / "img" / "favicon.ico"


def draw() -> Image.Image:
    img = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(img)
    pen.rounded_rectangle((0, 0, SIZE - 1, SIZE - 1), radius=56, fill=BRAND)
    pen.rounded_rectangle((52, 92, 204, 212), radius=18, fill=WHITE)  # the bag
    pen.arc((88, 40, 168, 132), start=180, end=360, fill=WHITE, width=18)  # its handle
    pen.ellipse((96, 118, 112, 134), fill=BRAND)  # where the handle meets the bag
    pen.ellipse((144, 118, 160, 134), fill=BRAND)
    return img


if __name__ == "__main__":
    draw().save(OUT, format="ICO", sizes=[(16, 16), (32, 32), (48, 48), (64, 64)])
    print(OUT)
