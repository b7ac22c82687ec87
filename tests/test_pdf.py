"""PDF output through the real command: no page lost, paper sizes, encodings, metadata, DPI.

Every PDF made here is opened with pypdf, a reader independent of img2pdf (which writes
them): page count, page size in points, where the image sits, and how it is encoded.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import struct

import cv2
import numpy as np
import pypdf
import pytest
from PIL import Image

from imgtool import __version__
from imgtool.io import encode_image, format_for, read_image
from tests.conftest import encode, listing, natural_image, run_cli

A4_PT = (595.276, 841.89)
LETTER_PT = (612.0, 792.0)


def page_photo(page_w: int, page_h: int, seed: int = 0) -> np.ndarray:
    """A light page of page_w x page_h pixels with dark text lines, on a dark desk."""
    rng = np.random.default_rng(seed)
    h, w = int(page_h * 1.4) + 40, int(page_w * 1.4) + 40
    photo = np.full((h, w, 3), 45, np.uint8) + rng.integers(0, 12, (h, w, 1), dtype=np.uint8)
    y0, x0 = (h - page_h) // 2, (w - page_w) // 2
    photo[y0 : y0 + page_h, x0 : x0 + page_w] = 235
    for k in range(8):
        y = y0 + page_h // 10 + k * page_h // 11
        photo[y : y + max(2, page_h // 80), x0 + page_w // 8 : x0 + page_w * 7 // 8] = 30
    return photo


def flat_photo() -> np.ndarray:
    """A photo with no page in it (uniform grey, 160 x 120)."""
    return np.full((120, 160, 3), 128, np.uint8)


def write(path, image):
    path.write_bytes(encode(image, path.suffix))
    return path


def pdf_pages(path) -> list[dict]:
    """Each page as pypdf reads it: size in points, image placement, the image's encoding."""
    reader = pypdf.PdfReader(path)
    pages = []
    for page in reader.pages:
        (name, ref), = page["/Resources"]["/XObject"].items()
        xobj = ref.get_object()
        ops = page.get_contents().get_data().decode()
        cm = [float(v) for v in re.search(r"([-\d.]+ ){6}cm", ops)[0].split()[:6]]
        filters = xobj["/Filter"]
        pages.append({
            "size": (float(page.mediabox.width), float(page.mediabox.height)),
            "image_box": (cm[0], cm[3]),  # width and height drawn, in points
            "image_at": (cm[4], cm[5]),
            "filter": filters[0] if isinstance(filters, pypdf.generic.ArrayObject) else filters,
            "bits": int(xobj["/BitsPerComponent"]),
            "pixels": (int(xobj["/Width"]), int(xobj["/Height"])),
            "data": xobj.get_data(),
            "decoded": page.images[0].image,
        })  # fmt: skip
    return pages


def jpeg_quant_tables(data: bytes) -> list[bytes]:
    """The DQT segments of a JPEG: fixed by the encoder's quality, whatever the image."""
    tables, i = [], 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker == 0xDB:
            tables.append(data[i + 4 : i + 2 + length])
        if marker == 0xDA:
            break
        i += 2 + length
    return tables


def quant_tables_at(quality: int, gray: bool) -> list[bytes]:
    probe = np.zeros((16, 16), np.uint8) if gray else np.zeros((16, 16, 3), np.uint8)
    ok, buf = cv2.imencode(".jpg", probe, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return jpeg_quant_tables(buf.tobytes())


@pytest.fixture
def three(tmp_path):
    """a (an A4-proportioned page), b (no page), c (a Letter-proportioned page)."""
    return (write(tmp_path / "a.png", page_photo(210, 297, 1)),
            write(tmp_path / "b.png", flat_photo()),
            write(tmp_path / "c.png", page_photo(216, 279, 2)))


@pytest.mark.parametrize("jobs", [1, 2])  # 2: pages come back from worker processes
def test_fallback_full_puts_the_whole_photo_in_its_place(tmp_path, three, jobs):
    pdf = tmp_path / "pages.pdf"
    r = run_cli(["scan", *three, "-o", pdf, "--json", "--jobs", jobs])
    assert r.code == 6, r.err  # one input of the batch had no page
    pages = pdf_pages(pdf)
    assert [p["pixels"] for p in pages] == [(210, 297), (160, 120), (216, 279)]
    records = [json.loads(line) for line in r.text.splitlines()]
    assert [rec["found"] for rec in records] == [True, False, True]
    assert [rec["output"] for rec in records] == [str(pdf)] * 3
    assert "the whole photo as page 2 (" in r.err and "b.png" in r.err.splitlines()[-1]
    assert listing(tmp_path) == ["a.png", "b.png", "c.png", "pages.pdf"]


def test_fallback_skip_leaves_the_page_out_and_says_so(tmp_path, three):
    pdf = tmp_path / "pages.pdf"
    r = run_cli(["scan", *three, "-o", pdf, "--fallback", "skip"])
    assert r.code == 6
    assert [p["pixels"] for p in pdf_pages(pdf)] == [(210, 297), (216, 279)]
    last = r.err.splitlines()[-1]
    assert "2 pages from 3 inputs" in last and "left out:" in last and "b.png" in last


def test_every_input_falling_back_still_makes_a_pdf(tmp_path):
    flats = [write(tmp_path / f"f{i}.png", flat_photo()) for i in range(2)]
    pdf = tmp_path / "pages.pdf"
    r = run_cli(["scan", *flats, "-o", pdf])
    assert r.code == 5  # no input had a page: scan's own code, not 6 (some failed)
    pages = pdf_pages(pdf)
    assert [p["pixels"] for p in pages] == [(160, 120)] * 2
    # 160 x 120 is 0.750, within 3 % of Letter (0.773): landscape Letter
    assert pages[0]["size"] == pytest.approx(LETTER_PT[::-1], abs=0.01)


def test_no_page_at_all_is_a_clear_error_and_no_file(tmp_path):
    flats = [write(tmp_path / f"f{i}.png", flat_photo()) for i in range(2)]
    pdf = tmp_path / "pages.pdf"
    r = run_cli(["scan", *flats, "-o", pdf, "--fallback", "skip"])
    assert r.code == 5
    said = f"imgtool: {pdf}: not written: none of the 2 inputs gave a page"
    assert r.err.splitlines()[-1] == said
    assert listing(tmp_path) == ["f0.png", "f1.png"]  # no PDF, no temporary file
    r = run_cli(["scan", flats[0], "-o", pdf, "--fallback", "skip"])  # one input
    assert r.code == 5 and "no page found" in r.err and not pdf.exists()


def test_folder_pages_in_natural_order(tmp_path):
    folder = tmp_path / "book"
    folder.mkdir()
    # page N is N + 100 pixels wide, so the PDF's order is readable from the sizes
    for n in (10, 2, 1, 11):
        write(folder / f"page{n}.png", np.full((60, 100 + n), 200, np.uint8))
    pdf = tmp_path / "book.pdf"
    r = run_cli(["filter", "--average", "3", folder, "-o", pdf, "--json"])
    assert r.code == 0, r.err
    assert [p["pixels"][0] for p in pdf_pages(pdf)] == [101, 102, 110, 111]
    assert [json.loads(x)["input"].rsplit("/", 1)[1] for x in r.text.splitlines()] == [
        "page1.png", "page2.png", "page10.png", "page11.png"]
    # the order given on the command line is kept as it is
    r = run_cli(["filter", "--average", "3", folder / "page11.png", folder / "page2.png",
                 "-o", tmp_path / "given.pdf"])
    assert [p["pixels"][0] for p in pdf_pages(tmp_path / "given.pdf")] == [111, 102]


def _check_centred_fit(page, paper_pt):
    (pw, ph), (iw, ih), (x, y) = page["size"], page["image_box"], page["image_at"]
    assert (pw, ph) == pytest.approx(paper_pt, abs=0.01)
    w_px, h_px = page["pixels"]
    assert iw / ih == pytest.approx(w_px / h_px, rel=1e-4)  # never stretched
    assert min(pw - iw, ph - ih) == pytest.approx(0, abs=0.01)  # fits one side exactly
    assert (x, y) == pytest.approx(((pw - iw) / 2, (ph - ih) / 2), abs=0.01)  # centred


OWN = 72 / 200  # points per pixel at the default 200 dpi


@pytest.mark.parametrize(("paper", "page", "expected", "fitted"), [
    ("auto", (210, 297), A4_PT, True),  # A4 proportions: on A4 paper
    ("auto", (216, 279), LETTER_PT, True),
    ("auto", (150, 300), (150 * OWN, 300 * OWN), False),  # neither: its own size
    # neither, and at 200 dpi 381 x 762 mm: shrunk to at most 215.9 x 297 mm, not stretched
    ("auto", (3000, 6000), (297 / 2 / 25.4 * 72, 297 / 25.4 * 72), False),
    ("page", (3000, 6000), (3000 * OWN, 6000 * OWN), False),  # page: its own size, uncapped
    ("page", (210, 297), (210 * OWN, 297 * OWN), False),
    ("a4", (300, 200), A4_PT[::-1], True),  # a landscape page on landscape A4
    ("legal", (150, 300), (612.0, 1008.0), True),
    ("100x150mm", (150, 300), (283.465, 425.197), True),
    ("8.5x11in", (210, 297), LETTER_PT, True),
])
def test_paper(tmp_path, paper, page, expected, fitted):
    photo = write(tmp_path / "p.png", page_photo(*page))
    pdf = tmp_path / "p.pdf"
    r = run_cli(["scan", photo, "--paper", paper, "-o", pdf])
    assert r.code == 0, r.err
    (got,) = pdf_pages(pdf)
    assert got["pixels"] == page
    if fitted:
        _check_centred_fit(got, expected)
    else:
        assert got["size"] == pytest.approx(expected, abs=0.01)
        assert got["image_box"] == pytest.approx(expected, abs=0.01)


def test_paper_and_dpi_own_size(tmp_path):
    photo = write(tmp_path / "p.png", page_photo(150, 300))
    pdf = tmp_path / "p.pdf"
    r = run_cli(["scan", photo, "--dpi", "100", "-o", pdf])
    assert r.code == 0, r.err
    assert pdf_pages(pdf)[0]["size"] == pytest.approx((108.0, 216.0), abs=0.01)


@pytest.mark.parametrize("paper", ["huge", "210x297", "0x10mm", "axbmm"])
def test_bad_paper_is_refused_up_front(tmp_path, paper):
    photo = write(tmp_path / "p.png", page_photo(150, 300))
    r = run_cli(["scan", photo, "--paper", paper, "-o", tmp_path / "p.pdf"])
    assert r.code == 2
    assert len(r.err.strip().splitlines()) == 1 and "--paper" in r.err
    assert listing(tmp_path) == ["p.png"]


@pytest.mark.parametrize("quality", [35, 95])
def test_quality_applies_to_jpeg_pages(tmp_path, three, quality):
    pdf = tmp_path / "q.pdf"
    r = run_cli(["scan", three[0], three[2], "--quality", quality, "-o", pdf])
    assert r.code == 0, r.err
    for page in pdf_pages(pdf):
        assert page["filter"] == "/DCTDecode" and page["bits"] == 8
        assert jpeg_quant_tables(page["data"]) == quant_tables_at(quality, gray=False)
    one = tmp_path / "one.pdf"  # a single input's PDF too
    r = run_cli(["scan", three[0], "--mode", "gray", "--quality", quality, "-o", one])
    assert r.code == 0, r.err
    (page,) = pdf_pages(one)
    assert page["filter"] == "/DCTDecode"
    assert jpeg_quant_tables(page["data"]) == quant_tables_at(quality, gray=True)


def test_black_and_white_pages_are_one_bit_ccitt(tmp_path, three):
    pdf = tmp_path / "bw.pdf"
    r = run_cli(["scan", three[0], three[2], "--mode", "bw", "-o", pdf])
    assert r.code == 0, r.err
    pages = pdf_pages(pdf)
    assert [(p["filter"], p["bits"]) for p in pages] == [("/CCITTFaxDecode", 1)] * 2
    # the pixels are the bw scan's, exactly (compared with the same scan written as PNG)
    for src, page in zip((three[0], three[2]), pages, strict=True):
        png = tmp_path / f"{src.stem}.bw.png"
        assert run_cli(["scan", src, "--mode", "bw", "-o", png]).code == 0
        expected = read_image(png)
        assert set(np.unique(expected)) == {0, 255}
        np.testing.assert_array_equal(np.asarray(page["decoded"].convert("L")), expected)
        # 1 bit and Group 4: far smaller than the 8-bit page would be
        assert len(page["data"]) < expected.size / 8


def test_metadata_title_producer_date(tmp_path, three):
    pdf = tmp_path / "m.pdf"
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    assert run_cli(["scan", three[2], three[0], "-o", pdf]).code == 0
    after = datetime.datetime.now(datetime.timezone.utc)
    meta = pypdf.PdfReader(pdf).metadata
    assert meta.title == "c"  # the first input's name without extension
    assert meta.producer == f"imgtool {__version__}"
    assert before <= meta.creation_date.astimezone(datetime.timezone.utc) <= after
    titled = tmp_path / "t.pdf"
    assert run_cli(["scan", three[0], "--title", "Lease, page 1", "-o", titled]).code == 0
    assert pypdf.PdfReader(titled).metadata.title == "Lease, page 1"
    single = tmp_path / "s.pdf"
    assert run_cli(["scan", three[0], "-o", single]).code == 0
    assert pypdf.PdfReader(single).metadata.title == "a"


def dpi_of(path) -> tuple[float, float] | None:
    """The resolution Pillow reads from a file (PNG pHYs, JPEG JFIF, TIFF), or None."""
    with Image.open(io.BytesIO(path.read_bytes())) as im:
        if path.suffix == ".jpg" and "dpi" in im.info:
            assert im.info["jfif_unit"] == 1  # dots per inch, not an aspect
        return im.info.get("dpi")


@pytest.mark.parametrize(("ext", "mode"), [(".png", "bw"), (".jpg", "color"), (".tif", "gray")])
@pytest.mark.parametrize(("page", "options", "dpi"), [
    ((150, 300), [], 200),  # no paper matches: --dpi (default 200)
    ((150, 300), ["--dpi", "300"], 300),
    ((210, 297), ["--paper", "page", "--dpi", "300"], 300),
    ((210, 297), [], 25.4),  # --paper auto puts it on A4: 210 px across 210 mm
    ((216, 279), ["--paper", "a4"], 216 / (210 / 25.4)),  # fitted across A4's width
])
def test_scanned_images_carry_the_dpi_of_their_pdf_page(tmp_path, ext, mode, page, options,
                                                        dpi):
    photo = write(tmp_path / "in.png", page_photo(*page))
    out = tmp_path / f"page{ext}"
    r = run_cli(["scan", photo, "--mode", mode, "-o", out, *options])
    assert r.code == 0, r.err
    assert read_image(out).shape[:2] == page[::-1]
    whole = ext == ".jpg" or ext == ".tif"  # JFIF and OpenCV's TIFF take whole numbers
    expected = round(dpi) if whole else dpi
    # PNG stores whole pixels per metre: within 0.0127 dpi
    assert dpi_of(out) == pytest.approx((expected, expected), abs=0.013)
    # the PDF of the same scan prints the page at that resolution
    pdf = tmp_path / "page.pdf"
    assert run_cli(["scan", photo, "--mode", mode, "-o", pdf, *options]).code == 0
    width_pt = pdf_pages(pdf)[0]["image_box"][0]
    assert page[0] / width_pt * 72 == pytest.approx(dpi, rel=1e-4)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".tif"])
def test_filter_keeps_the_inputs_dpi(tmp_path, ext):
    src = tmp_path / f"in{ext}"
    src.write_bytes(encode_image(natural_image(40, 50), format_for(src),
                                 dpi=150))
    out = tmp_path / f"out{ext}"
    assert run_cli(["filter", "--average", "3", src, "-o", out]).code == 0
    assert dpi_of(out) == pytest.approx((150, 150), abs=0.013)
    plain = tmp_path / "plain.png"  # no resolution in: none made up
    plain.write_bytes(encode(natural_image(40, 50)))
    assert run_cli(["filter", "--average", "3", plain, "-o", tmp_path / "o.png"]).code == 0
    assert dpi_of(tmp_path / "o.png") is None


def test_fixed_aspect_that_stretches_the_page_warns(tmp_path, three):
    # a: an A4 page (0.707); Letter is 0.773, 9 % wider
    r = run_cli(["scan", three[0], "--aspect", "letter", "-o", tmp_path / "l.png"])
    assert r.code == 0, r.err
    (line,) = r.err.splitlines()
    assert line.startswith("imgtool: warning: ") and "stretches the page 9%" in line
    r = run_cli(["scan", three[0], "--aspect", "a4", "-o", tmp_path / "a4.png"])
    assert r.code == 0 and r.err == ""
    r = run_cli(["-q", "scan", three[0], "--aspect", "letter", "-o", tmp_path / "q.png"])
    assert r.code == 0 and r.err == ""
