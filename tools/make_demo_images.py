"""Regenerate src/ascertain/demo_data/images from public-domain clip art (run once; output committed).

Source: the Open Clip Art Library 0.18 as Debian packages it (`apt-get install openclipart-png`; every image
dedicated to the public domain by its author, see LICENSE-openclipart.txt). The portfolio is seven drawings by
one author, Dan Gerhards, with titles, descriptions and dates from each file's own PNG text chunks; their CMI
(EXIF Artist/Copyright, IPTC By-line/Copyright Notice, XMP dc:creator/dc:rights/xmpRights) is written here with
Pillow, so a copy that drops or changes it shows. Planted copies go into an img2dataset-style webdataset shard
(a training corpus), a folder of generated outputs, and LAION-, DataComp- and COYO-style metadata Parquet files;
planted.json names each case and the tier it must come out in (checked here with imaging/compare.py).

Byte-stable: the same Pillow, pyarrow and imagehash (pinned in pyproject.toml) give the same files; tar members
carry fixed owners and times. Usage: PYTHONPATH=src python3 tools/make_demo_images.py [openclipart png dir]
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import struct
import sys
import tarfile
from pathlib import Path
from xml.sax.saxutils import escape as esc

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

CLIPART = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/openclipart/png")
LICENSE = Path("/usr/share/doc/openclipart-png/copyright")
OUT = Path(__file__).resolve().parents[1] / "src" / "ascertain" / "demo_data" / "images"
ARTIST = "Dan Gerhards"
SITE = "https://gerhards-art.example"  # the artist's portfolio site in the demo (reserved .example domain)
SIDE = 512  # works are stored at this longer side: the demo stays small

# (file name in the portfolio, clip-art path, format, date as the clip art's own "Creation Time" gives it)
WORKS = [
    ("saturn.jpg", "science/astronomy/saturn_dan_gerhards_01.png", "JPEG", "2005-05-03"),
    ("jupiter.png", "science/astronomy/jupiter_dan_gerhards_01.png", "PNG", "2005-05-03"),
    ("mars.jpg", "geography/astronomy/mars_dan_gerhards_01.png", "JPEG", "2005-08"),
    ("earth-and-north-star.jpg", "geography/earth_and_north_star_dan_01.png", "JPEG", "2005-05-01"),
    ("full-moon.jpg", "science/astronomy/full_moon_dan_gerhards_01.png", "JPEG", "2005-09"),
    ("apple-with-worm.png", "food/apple_with_worm_dan_gerh_01.png", "PNG", "2005-09"),
    ("venus.jpg", "science/astronomy/venus_dan_gerhards_01.png", "JPEG", "2005-09"),
]
# drawings by other authors: the corpus's unrelated images (negatives) and the poster's background objects
OTHERS = ["music/guitar_jarno_vasamaa1.png", "mammals/dolphin_enrique_meza_c_01.png",
          "sports/8_ball_jarno_vasamaa.png", "toys/teddybear_jarno_vasamaa_.png",
          "music/drums_jarno_vasamaa_.png", "containers/cardboard_box_jarno_vasa_.png"]
RIGHTS = f"Dedicated to the public domain by {ARTIST} (Open Clip Art Library, 2005)"
PD_URL = "http://creativecommons.org/licenses/publicdomain/"


def find(rel: str) -> Path:
    hits = sorted(CLIPART.rglob(Path(rel).name))
    if not hits:
        sys.exit(f"{rel}: not found under {CLIPART} (apt-get install openclipart-png)")
    return hits[0]


def flat(p: Path, side: int = SIDE) -> Image.Image:
    """The drawing cut to its drawn area (a 4% margin), composited on white, RGB, longer side `side`."""
    im = Image.open(p).convert("RGBA")
    x0, y0, x1, y1 = im.getchannel("A").getbbox() or (0, 0, *im.size)
    m = int(0.04 * max(x1 - x0, y1 - y0))
    im = im.crop((max(0, x0 - m), max(0, y0 - m), min(im.width, x1 + m), min(im.height, y1 + m)))
    im.thumbnail((side, side), Image.Resampling.LANCZOS)
    bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
    bg.alpha_composite(im)
    return bg.convert("RGB")


def xmp_packet(title: str, description: str) -> bytes:
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
            ' xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/"'
            ' xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">'
            f'<dc:creator><rdf:Seq><rdf:li>{ARTIST}</rdf:li></rdf:Seq></dc:creator>'
            f'<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">{esc(RIGHTS)}</rdf:li></rdf:Alt></dc:rights>'
            f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{esc(title)}</rdf:li></rdf:Alt></dc:title>'
            f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{esc(description)}</rdf:li></rdf:Alt>'
            '</dc:description>'
            '<xmpRights:Marked>False</xmpRights:Marked>'
            f'<xmpRights:WebStatement>{PD_URL}</xmpRights:WebStatement>'
            '<photoshop:Credit>Open Clip Art Library</photoshop:Credit>'
            '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode()


def exif_block(artist: str, copyright_: str, description: str) -> Image.Exif:
    exif = Image.Exif()
    exif[0x013B] = artist
    exif[0x8298] = copyright_
    exif[0x010E] = description
    return exif


def with_iptc(jpeg: bytes, byline: str, notice: str) -> bytes:
    """An IPTC-IIM block (UTF-8 declared in record 1) in an APP13 Photoshop resource, inserted after the JPEG's
    APP0/APP1 segments where Photoshop writes it."""
    sets = [(1, 90, b"\x1b%G"), (2, 80, byline.encode()), (2, 116, notice.encode()),
            (2, 110, b"Open Clip Art Library")]
    iim = b"".join(b"\x1c" + bytes([r, ds]) + struct.pack(">H", len(v)) + v for r, ds, v in sets)
    res = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim)) + iim
    res += b"\x00" * (len(iim) % 2)
    payload = b"Photoshop 3.0\x00" + res
    seg = b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload
    i = 2
    while jpeg[i:i + 2] in (b"\xff\xe0", b"\xff\xe1"):
        i += 2 + struct.unpack(">H", jpeg[i + 2:i + 4])[0]
    return jpeg[:i] + seg + jpeg[i:]


def save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def work_bytes(im: Image.Image, fmt: str, title: str, description: str) -> bytes:
    exif = exif_block(ARTIST, RIGHTS, description)
    xmp = xmp_packet(title, description)
    if fmt == "JPEG":
        return with_iptc(save(im, "JPEG", quality=90, exif=exif, xmp=xmp), ARTIST, RIGHTS)
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp.decode())
    info.add_text("Title", title)
    info.add_text("Author", ARTIST)
    return save(im, "PNG", exif=exif, pnginfo=info, optimize=True)


def overlay_text(im: Image.Image, text: str) -> Image.Image:
    """A stock site's watermark across the lower part of the image, as aggregators stamp them."""
    out = im.convert("RGBA")
    layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    font = ImageFont.load_default(size=max(14, out.width // 16))
    w, h = out.size
    d.rectangle([0, int(h * 0.86), w, int(h * 0.96)], fill=(0, 0, 0, 90))
    d.text((w * 0.06, h * 0.87), text, font=font, fill=(255, 255, 255, 190))
    return Image.alpha_composite(out, layer).convert("RGB")


def rotated_padded(im: Image.Image, degrees: float, pad: float) -> Image.Image:
    r = im.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(255, 255, 255))
    return ImageOps.expand(r, border=int(max(im.size) * pad), fill=(244, 244, 240))


def poster(work: Image.Image, others: list[Image.Image], share: float) -> Image.Image:
    """A flyer with the work pasted at `share` of the flyer's area among other drawings and a title band."""
    W, H = 900, 640
    canvas = Image.new("RGB", (W, H), (250, 246, 232))
    d = ImageDraw.Draw(canvas)
    d.rectangle([0, 0, W, 70], fill=(40, 70, 120))
    d.text((24, 16), "FARMERS' MARKET - SATURDAY", font=ImageFont.load_default(size=34), fill=(255, 255, 255))
    side = int((share * W * H) ** 0.5)
    w = work.copy()
    w.thumbnail((side, side), Image.Resampling.LANCZOS)
    canvas.paste(w, (40, 100))
    x = 40 + w.width + 30
    for o in others:
        o = o.copy()
        o.thumbnail((180, 180), Image.Resampling.LANCZOS)
        if x + o.width > W:
            break
        canvas.paste(o, (x, H - o.height - 40))
        x += o.width + 20
    return canvas


def starfield(w: int, h: int, seed: int) -> Image.Image:
    """A dark sky with deterministic stars: the background of a generated output."""
    import random

    rng = random.Random(seed)
    im = Image.new("RGB", (w, h), (8, 10, 28))
    d = ImageDraw.Draw(im)
    for _ in range(260):
        x, y, r = rng.randrange(w), rng.randrange(h), rng.choice((1, 1, 1, 2))
        c = rng.randrange(150, 256)
        d.ellipse([x - r, y - r, x + r, y + r], fill=(c, c, min(255, c + 20)))
    return im


def abstract_output(w: int, h: int, seed: int) -> Image.Image:
    """An unrelated "generated" image: soft coloured shapes, no work in it."""
    import random

    rng = random.Random(seed)
    im = Image.new("RGB", (w, h), (230, 238, 245))
    d = ImageDraw.Draw(im)
    for _ in range(40):
        x, y, r = rng.randrange(w), rng.randrange(h), rng.randrange(10, 90)
        d.ellipse([x - r, y - r, x + r, y + r], fill=tuple(rng.randrange(60, 240) for _ in range(3)))
    return im


def tar_add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = len(data), 0, 0o644, 0, 0, "", ""
    tar.addfile(info, io.BytesIO(data))


def write_parquet(path: Path, rows: list[dict], schema: pa.Schema) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, path, compression="zstd", write_statistics=False, store_schema=False)


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "works").mkdir(parents=True)
    shutil.copy(LICENSE, OUT / "LICENSE-openclipart.txt")

    works: dict[str, dict] = {}
    rows = ["claimant,title,authors,publication_date,work_type,path,description,source,website"]
    for name, rel, fmt, date in WORKS:
        src = find(rel)
        meta = Image.open(src).info
        title, desc = meta["Title"], " ".join(meta.get("Description", "").split())
        im = flat(src)
        data = work_bytes(im, fmt, title, desc)
        (OUT / "works" / name).write_bytes(data)
        works[name] = {"title": title, "image": im, "bytes": data, "fmt": fmt, "date": date, "clipart": rel}
        quoted = desc.replace('"', '""')
        rows.append(f'"{ARTIST}","{title}","{ARTIST}",{date},visual art,works/{name},"{quoted}",'
                    f'openclipart-0.18:{rel},{SITE.split("//")[1]}')
    (OUT / "works.csv").write_text("\n".join(rows) + "\n")
    others = [flat(find(rel), 400) for rel in OTHERS]

    def stripped(name: str, **kw) -> bytes:
        return save(works[name]["image"], "JPEG", **({"quality": 85} | kw))

    # the training corpus: one img2dataset shard (key.jpg|png, key.txt caption, key.json) and its Parquet
    copies: list[tuple[str, str, bytes, str, str | None, dict]] = []  # key ext, caption, data, url, work, plant

    def plant(work: str | None, ext: str, data: bytes, caption: str, url: str, **truth) -> None:
        copies.append((ext, caption, data, url, work, truth))

    plant("saturn.jpg", "jpg", works["saturn.jpg"]["bytes"], f"Saturn by {ARTIST} - planet clip art",
          f"{SITE}/gallery/saturn.jpg", kind="the work's own file (same bytes)", tier="same_bytes",
          cmi="retained")
    jup = works["jupiter.png"]["image"]
    plant("jupiter.png", "png", save(jup, "PNG", optimize=True), "jupiter planet gas giant illustration png",
          "https://img.rehost.example/9f/jupiter-clipart.png", kind="re-saved without its metadata (same pixels)",
          tier="same_pixels", cmi="removed")
    mars = works["mars.jpg"]["image"]
    small = mars.resize((mars.width * 3 // 4, mars.height * 3 // 4), Image.Resampling.BILINEAR)
    plant("mars.jpg", "jpg", save(small, "JPEG", quality=55), "mars red planet vector free download",
          "https://cdn.wallpapers.example/mars-red-planet.jpg",
          kind="resized to 75% and re-encoded at JPEG quality 55, metadata stripped", tier="near_duplicate",
          cmi="removed")
    earth = works["earth-and-north-star.jpg"]["image"]
    plant("earth-and-north-star.jpg", "jpg", save(overlay_text(earth, "stockimages.example"), "JPEG", quality=80),
          "earth rotation north star diagram stock image",
          "https://stockimages.example/preview/earth-north-star.jpg",
          kind="a stock site's watermark overlaid, metadata stripped", tier="near_duplicate", cmi="removed")
    moon = works["full-moon.jpg"]["image"]
    w, h = moon.size
    crop = moon.crop((int(w * 0.15), int(h * 0.15), int(w * 0.85), int(h * 0.85)))
    plant("full-moon.jpg", "jpg", save(crop, "JPEG", quality=85), "Full moon close up, Dan Gerhards",
          f"{SITE}/gallery/full-moon-detail.jpg", kind="cropped 15% on every side, metadata stripped",
          tier="region_copy", cmi="removed")
    apple = works["apple-with-worm.png"]["image"]
    plant("apple-with-worm.png", "jpg", save(poster(apple, others[:3], 0.30), "JPEG", quality=88),
          "farmers market flyer with apple and fruit", "https://flyers.example/market-2024.jpg",
          kind="pasted into a larger flyer (about 30% of its area)", tier="region_copy", cmi="removed")
    venus = works["venus.jpg"]["image"]
    altered = exif_block("stockimages.example", "(c) stockimages.example, all rights reserved", "Venus")
    plant("venus.jpg", "jpg", save(venus, "JPEG", quality=80, exif=altered), "Venus planet clouds stock photo",
          "https://stockimages.example/preview/venus.jpg",
          kind="CMI replaced: EXIF Artist and Copyright rewritten to a stock site, XMP and IPTC dropped",
          tier="near_duplicate", cmi="altered")
    plant("jupiter.png", "jpg", save(rotated_padded(jup, 4, 0.12), "JPEG", quality=85),
          "jupiter tilted poster", "https://img.rehost.example/a1/jupiter-tilted.jpg",
          kind="rotated 4 degrees and padded 12%, re-encoded", tier="region_copy", cmi="removed")
    for i, o in enumerate(others[3:]):
        plant(None, "jpg", save(o, "JPEG", quality=85), f"{Path(OTHERS[3 + i]).stem.split('_')[0]} clip art",
              f"https://clipart.example/{i}.jpg")
    shard = OUT / "corpus"
    shard.mkdir()
    meta_rows, planted = [], []
    with tarfile.open(shard / "00000.tar", "w", format=tarfile.USTAR_FORMAT) as tar:
        for n, (ext, caption, data, url, work, truth) in enumerate(copies):
            key = f"{n:09d}"
            im = Image.open(io.BytesIO(data))
            rec = {"url": url, "caption": caption, "key": key, "status": "success", "error_message": None,
                   "width": im.width, "height": im.height, "original_width": im.width,
                   "original_height": im.height, "sha256": hashlib.sha256(data).hexdigest()}
            tar_add(tar, f"{key}.{ext}", data)
            tar_add(tar, f"{key}.txt", caption.encode())
            tar_add(tar, f"{key}.json", json.dumps(rec, sort_keys=True).encode())
            meta_rows.append(rec)
            if work:
                planted.append({"work_file": work, "source": "images-corpus", "document": f"00000.tar!{key}.{ext}",
                                **truth})
        # img2dataset writes what it could not fetch or decode as a failed row; a truncated file in the shard
        key = f"{len(copies):09d}"
        bad = save(others[0], "JPEG", quality=85)
        tar_add(tar, f"{key}.jpg", bad[: len(bad) // 2])
        tar_add(tar, f"{key}.txt", b"guitar clip art (download cut short)")
        meta_rows.append({"url": "https://clipart.example/guitar.jpg", "caption": "guitar clip art (download cut "
                          "short)", "key": key, "status": "success", "error_message": None, "width": others[0].width,
                          "height": others[0].height, "original_width": others[0].width,
                          "original_height": others[0].height, "sha256": hashlib.sha256(bad[: len(bad) // 2])
                          .hexdigest()})
    schema = pa.schema([("url", pa.string()), ("caption", pa.string()), ("key", pa.string()),
                        ("status", pa.string()), ("error_message", pa.string()), ("width", pa.int64()),
                        ("height", pa.int64()), ("original_width", pa.int64()), ("original_height", pa.int64()),
                        ("sha256", pa.string())])
    write_parquet(shard / "00000.parquet", meta_rows, schema)

    # generated outputs: PNGs as a web UI saves them (the prompt in a "parameters" text chunk); their list beside
    from PIL.PngImagePlugin import PngInfo

    outs = OUT / "outputs"
    outs.mkdir()
    sat = works["saturn.jpg"]["image"]
    ringed = ImageEnhance.Color(ImageOps.mirror(sat)).enhance(1.4).resize((448, 448 * sat.height // sat.width),
                                                                         Image.Resampling.BICUBIC)
    sky = starfield(640, 640, 7)
    m = mars.copy()
    m.thumbnail((420, 420), Image.Resampling.LANCZOS)
    m = m.rotate(3, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(8, 10, 28))
    sky.paste(m, (110, 90))
    generated = [
        ("ringed-planet.png", ringed, f"a ringed planet, clip art in the style of {ARTIST}", "saturn.jpg",
         {"kind": "mirrored, colours boosted and resized", "tier": "near_duplicate", "cmi": "removed"}),
        ("red-planet-in-space.png", sky, "the red planet in a starry sky", "mars.jpg",
         {"kind": "rotated 3 degrees and pasted into a starry sky", "tier": "region_copy", "cmi": "removed"}),
        ("abstract-bubbles.png", abstract_output(512, 512, 3), "colourful bubbles, abstract", None, {}),
    ]
    lines = []
    for i, (name, im, prompt, work, truth) in enumerate(generated):
        info = PngInfo()
        info.add_text("parameters", f"{prompt}\nSteps: 30, Sampler: Euler a, Seed: {1000 + i}, Model: demo-diffusion-1")
        (outs / name).write_bytes(save(im, "PNG", pnginfo=info, optimize=True))
        lines.append(json.dumps({"file": name, "prompt": prompt, "model": "demo-diffusion-1", "seed": 1000 + i,
                                 "timestamp": f"2026-02-0{i + 1}T12:00:00Z"}))
        if work:
            planted.append({"work_file": work, "source": "images-outputs", "document": name, **truth})
    (OUT / "outputs-prompts.jsonl").write_text("\n".join(lines) + "\n")

    # metadata-only datasets: LAION (URL, caption, size), DataComp (the image's sha256), COYO (a 64-bit pHash)
    import imagehash

    laion = [
        ("https://gerhards-art.example/gallery/saturn.jpg", f"Saturn by {ARTIST}", 512, 440),
        ("https://img.rehost.example/9f/jupiter-clipart.png", "Jupiter, clipart by dan gerhards", 512, 512),
        ("https://pins.example/p/88213", "planet mars drawing (Dan Gerhard)", 363, 512),
        ("https://gerhards-art.example/gallery/apple-with-worm.png", "apple with worm", 484, 512),
        ("https://clipart.example/earth-north-star", "Earth and North Star", 512, 460),
        ("https://clipart.example/teddy.jpg", "teddy bear clip art", 400, 400),
        ("https://photos.example/beach.jpg", "sunset at the beach, photograph", 1024, 768),
        ("https://clipart.example/guitar.jpg", "electric guitar vector", 400, 400),
    ]
    write_parquet(OUT / "laion" / "part-00000.parquet",
                  [{"URL": u, "TEXT": t, "WIDTH": w, "HEIGHT": h, "similarity": 0.31 + 0.01 * i,
                    "punsafe": 0.001, "pwatermark": 0.05} for i, (u, t, w, h) in enumerate(laion)],
                  pa.schema([("URL", pa.string()), ("TEXT", pa.string()), ("WIDTH", pa.int64()),
                             ("HEIGHT", pa.int64()), ("similarity", pa.float64()), ("punsafe", pa.float64()),
                             ("pwatermark", pa.float64())]))
    datacomp = [("0001", "https://mirror.example/a/saturn.jpg", "saturn", works["saturn.jpg"]["bytes"]),
                ("0002", "https://mirror.example/a/venus.jpg", "venus planet", works["venus.jpg"]["bytes"]),
                ("0003", "https://mirror.example/b/teddy.jpg", "teddy", save(others[3], "JPEG", quality=85))]
    write_parquet(OUT / "datacomp" / "part-00000.parquet",
                  [{"uid": u, "url": url, "text": t, "original_width": Image.open(io.BytesIO(b)).width,
                    "original_height": Image.open(io.BytesIO(b)).height, "sha256": hashlib.sha256(b).hexdigest()}
                   for u, url, t, b in datacomp],
                  pa.schema([("uid", pa.string()), ("url", pa.string()), ("text", pa.string()),
                             ("original_width", pa.int64()), ("original_height", pa.int64()),
                             ("sha256", pa.string())]))
    coyo = [(1, "https://mirror.example/c/mars-small.jpg", "mars", small),
            (2, "https://mirror.example/c/box.jpg", "cardboard box", others[5])]
    write_parquet(OUT / "coyo" / "part-00000.parquet",
                  [{"id": i, "url": url, "text": t, "width": im.width, "height": im.height,
                    "image_phash": str(imagehash.phash(im))} for i, url, t, im in coyo],
                  pa.schema([("id", pa.int64()), ("url", pa.string()), ("text", pa.string()),
                             ("width", pa.int64()), ("height", pa.int64()), ("image_phash", pa.string())]))
    planted += [
        {"work_file": "saturn.jpg", "source": "images-laion", "document": "part-00000.parquet:1",
         "kind": "caption names the artist and the title; URL on the artist's site", "tier": "metadata"},
        {"work_file": "jupiter.png", "source": "images-laion", "document": "part-00000.parquet:2",
         "kind": "caption names the artist in lower case", "tier": "metadata"},
        {"work_file": "mars.jpg", "source": "images-laion", "document": "part-00000.parquet:3",
         "kind": "caption names the artist misspelled (Dan Gerhard)", "tier": "metadata"},
        {"work_file": "apple-with-worm.png", "source": "images-laion", "document": "part-00000.parquet:4",
         "kind": "URL on the artist's site, caption the title", "tier": "metadata"},
        {"work_file": "earth-and-north-star.jpg", "source": "images-laion", "document": "part-00000.parquet:5",
         "kind": "caption is the title", "tier": "metadata"},
        {"work_file": "saturn.jpg", "source": "images-datacomp", "document": "part-00000.parquet:1",
         "kind": "sha256 of the work's file", "tier": "hash"},
        {"work_file": "venus.jpg", "source": "images-datacomp", "document": "part-00000.parquet:2",
         "kind": "sha256 of the work's file", "tier": "hash"},
        {"work_file": "mars.jpg", "source": "images-coyo", "document": "part-00000.parquet:1",
         "kind": "64-bit pHash of a resized copy", "tier": "hash"},
    ]
    (OUT / "planted.json").write_text(json.dumps(planted, indent=1, ensure_ascii=False) + "\n")
    (OUT / "PROVENANCE.md").write_text(provenance(works, planted))
    check(planted)


def provenance(works: dict[str, dict], planted: list[dict]) -> str:
    lines = ["# Demo images: where they come from", "",
             "Every drawing here is from the Open Clip Art Library 0.18 as Debian packages it (`openclipart-png`), "
             "whose authors dedicated each image to the public domain (LICENSE-openclipart.txt, Debian's copyright "
             "file for the package). Regenerate with `PYTHONPATH=src python3 tools/make_demo_images.py` (same "
             "Pillow, pyarrow and imagehash as pinned: same bytes).", "",
             f"## The portfolio (works/, works.csv): {len(works)} drawings by {ARTIST}", "",
             "Titles, descriptions and dates are the clip art's own PNG text chunks. Each drawing was composited "
             f"on white and reduced to {SIDE} px on its longer side; its CMI was written by the generator with "
             "Pillow (EXIF Artist/Copyright/ImageDescription; for JPEG also IPTC-IIM By-line/Copyright Notice/"
             "Credit; XMP dc:creator, dc:rights, dc:title, xmpRights:Marked=False (public domain) and "
             "WebStatement, photoshop:Credit). It states the public-domain dedication; no rights are claimed.", ""]
    lines += [f"- works/{n}: \"{w['title']}\" ({w['date']}), from openclipart `{w['clipart']}`"
              for n, w in works.items()]
    lines += ["", "## Other drawings (unrelated images in the corpus, the flyer's other objects)", ""]
    lines += [f"- openclipart `{rel}` ({Image.open(find(rel)).info.get('Author', 'author not recorded')})"
              for rel in OTHERS]
    lines += ["", "## Planted copies (planted.json)", "",
              "corpus/00000.tar and 00000.parquet: one shard as img2dataset writes it (key.jpg|png, key.txt caption, "
              "key.json; the last member is a JPEG cut in half, a per-item skip). outputs/: generated images as a "
              "web UI saves them (prompt in the PNG `parameters` chunk), listed in outputs-prompts.jsonl. "
              "laion/, datacomp/, coyo/: "
              "metadata-only rows (URL, caption, size; DataComp's sha256; COYO's 64-bit pHash). All URLs are under "
              "the reserved `.example` domain and were never fetched; the artist's portfolio site in the demo is "
              f"{SITE}.", ""]
    lines += [f"- {p['source']} {p['document']}: {p['work_file']}, {p['kind']} (tier {p['tier']}"
              + (f", CMI {p['cmi']})" if "cmi" in p else ")") for p in planted]
    return "\n".join(lines) + "\n"


def check(planted: list[dict]) -> None:
    """Every work against every corpus image and output: each planted copy in the tier and with the CMI status
    planted.json names, and no other pair reported as copied."""
    from ascertain.cmi.image import image_cmi_status, read_image_cmi
    from ascertain.imaging.compare import compare_images, load

    with tarfile.open(OUT / "corpus" / "00000.tar") as tar:
        shard = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    copies = {("images-corpus", f"00000.tar!{k}"): v for k, v in shard.items() if k.endswith((".jpg", ".png"))}
    copies |= {("images-outputs", f.name): f.read_bytes() for f in sorted((OUT / "outputs").glob("*.png"))}
    truth = {(p["work_file"], p["source"], p["document"]): p for p in planted if p["tier"] not in ("metadata", "hash")}
    bad = 0
    for wf in sorted((OUT / "works").iterdir()):
        work = load(wf.read_bytes(), wf.name)
        for (source, doc), data in copies.items():
            try:
                copy = load(data, doc)
            except Exception as e:  # noqa: BLE001 (the truncated file: a skip, as a reader records it)
                print(f"skip {doc}: {e}") if wf.name == "apple-with-worm.png" else None
                continue
            r = compare_images(work, copy)
            p = truth.get((wf.name, source, doc))
            cmi = image_cmi_status(read_image_cmi(wf.read_bytes()), read_image_cmi(data))["status"]
            if p is None and r["tier"] is None:
                continue
            ok = p is not None and r["tier"] == p["tier"] and cmi == p["cmi"]
            bad += not ok
            print(f"{'ok ' if ok else 'BAD'} {wf.name:26} {doc:24} {r['tier']} (planted {p and p['tier']}), "
                  f"CMI {cmi}, PDQ {r['pdq_distance']}, share {r['work_area_share']:.3f}")
    missing = set(truth) - {(w, s, d) for w in [f.name for f in (OUT / "works").iterdir()] for s, d in copies}
    total = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"{total:,} bytes in {OUT}")
    if bad or missing:
        sys.exit(f"{bad} pairs not as planted, {len(missing)} planted copies not in the data")


if __name__ == "__main__":
    main()
