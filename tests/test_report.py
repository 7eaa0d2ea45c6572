"""`stancekit report`: one self-contained HTML page (inline SVG, no scripts, nothing fetched) with charts by
month, spokesperson and ministry, hedge/denial phrasings and the most confidently hedged answers; and it
renders in a real browser (headless Chromium screenshot, chart colours counted in the PNG)."""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from stancekit.report import COLORS, build_report
from stancekit.scoring import read_scores, score

BRIEFINGS = Path(__file__).resolve().parent / "fixtures" / "briefings"
SCREENSHOT_COPY = Path("/tmp/stancekit_report.png")


def cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stancekit", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=dict(os.environ, PYTHONIOENCODING="utf-8"), timeout=300)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """``briefings/`` scored by the default model into ``out/scores.jsonl``, and its ``out/report.html``."""
    base = tmp_path_factory.mktemp("report")
    shutil.copytree(BRIEFINGS, base / "briefings")
    (base / "out").mkdir()
    r = cli("score", "briefings", "--out", "out/scores.jsonl", cwd=base)
    assert r.returncode == 0, r.stderr
    r = cli("report", "out/scores.jsonl", "--out", "out/report.html", cwd=base)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines() == ["wrote out/report.html"]
    return base


@pytest.fixture(scope="module")
def page(work) -> str:
    return (work / "out" / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rows(work):
    return read_scores(work / "out" / "scores.jsonl")


class Tags(HTMLParser):
    """Every start tag with its attributes, and each section's text."""

    def __init__(self):
        super().__init__()
        self.tags, self.sections, self.current = [], {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "section":
            self.current = attrs["id"]
            self.sections[self.current] = []

    def handle_data(self, data):
        if self.current:
            self.sections[self.current].append(data)


def parse(page: str) -> Tags:
    t = Tags()
    t.feed(page)
    t.close()
    return t


def section(page: str, css_id: str) -> str:
    m = re.search(rf'<section id="{css_id}">(.*?)</section>', page, re.S)
    assert m, f"no section {css_id}"
    return m.group(1)


def test_report_is_one_self_contained_page(page):
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    lowered = page.lower()
    for banned in ("<script", "<link", "<iframe", "<img", "<object", "<embed", "@import", "url(", "src="):
        assert banned not in lowered, banned
    # the one http URL is the SVG namespace, which is a name, never fetched
    assert not re.search(r"https?://", lowered.replace('xmlns="http://www.w3.org/2000/svg"', ""))
    for tag, attrs in parse(page).tags:
        for name, value in attrs.items():
            if (tag, name) == ("svg", "xmlns"):
                continue
            assert not (value or "").lower().startswith(("http:", "https:", "//", "javascript:")), (tag, name)
    assert '<meta charset="utf-8">' in page


def test_report_charts_stances_by_month_spokesperson_and_ministry(page, rows):
    months, speakers, ministries = Counter(), Counter(), Counter()
    for r in rows:
        months[r["date"][:7], r["label"]] += 1
        speakers[r["spokesperson"] or "unknown", r["label"]] += 1
        ministries[r["ministry"] or "unknown", r["label"]] += 1
    assert {m for m, _ in months} == {"2025-01", "2025-02", "2025-03", "2025-04", "2025-05"}
    assert {s for s, _ in speakers} == {"Mao Ning", "Lin Jian", "MS BRUCE", "Aiko Tanaka", "Guo Jiakun", "unknown"}
    assert {m for m, _ in ministries} == {"China MFA", "US State Department", "unknown"}
    for css_id, counts in (("by-month", months), ("by-spokesperson", speakers), ("by-ministry", ministries)):
        svg = section(page, css_id)
        assert svg.count("<svg") == 1
        totals = Counter()
        for (group, _), n in counts.items():
            totals[group] += n
        for (group, label), n in counts.items():
            # one bar segment per group and label, in the label's colour, with its count in the tooltip
            segment = f'fill="{COLORS[label]}"><title>{html.escape(group)}: {label} {n} of {totals[group]}</title>'
            assert segment in svg, (css_id, group, label)
        for group, total in totals.items():
            assert f">n={total}</text>" in svg
        assert len(re.findall(r'<rect [^>]*fill="#[0-9a-f]{6}"><title>', svg)) == len(counts)
    # months run in order
    by_month = section(page, "by-month")
    assert [by_month.index(f">{m}</text>") for m in sorted({m for m, _ in months})] == \
        sorted(by_month.index(f">{m}</text>") for m in {m for m, _ in months})


def test_report_lists_hedge_and_denial_phrasings(page, rows):
    for label, css_id in (("hedge", "hedge-phrases"), ("deny", "deny-phrases")):
        expected = Counter(" ".join(e["text"].lower().split()).strip(" .,;:!?")
                           for r in rows if r["label"] == label for e in r["evidence"] if e["label"] == label)
        svg = section(page, css_id)
        for phrase, n in expected.most_common(12):
            assert re.search(rf"“{re.escape(html.escape(phrase))}”</text><rect [^>]*fill=\"{COLORS[label]}\"/>"
                             rf"<text [^>]*>{n}</text>", svg), (label, phrase, n)
        assert not re.search(r"[.,;:!?]”", svg)  # "No." and "no" count as one phrasing
    assert "“no information to provide”" in section(page, "hedge-phrases")
    assert "“sheer fabrication”" in section(page, "deny-phrases")


def test_report_table_links_the_most_confidently_hedged_answers(work, page, rows):
    hedged = sorted((r for r in rows if r["label"] == "hedge"), key=lambda r: -r["scores"]["hedge"])
    assert hedged
    table = section(page, "hedged")
    found = re.findall(r'<tr><td>([0-9.]+)</td>.*?<a href="([^"]+)">([^<]+)</a> turn (\d+)</td></tr>', table, re.S)
    assert len(found) == min(20, len(hedged))
    scores = [float(s) for s, _, _, _ in found]
    assert scores == sorted(scores, reverse=True)
    for (shown, href, name, turn), r in zip(found, hedged):
        assert float(shown) == pytest.approx(r["scores"]["hedge"], abs=0.005)
        target = (work / "out" / html.unescape(href)).resolve()
        assert target == (work / r["source"]).resolve() and target.is_file()
        assert html.unescape(name) == Path(r["source"]).name
        assert (Path(r["source"]).name, int(turn)) in {(Path(h["source"]).name, h["turn"]) for h in hedged}
    # the link points at the right answer: that turn of that file is a hedge
    for _, href, _, turn in found:
        source = os.path.relpath(work / "out" / html.unescape(href), work)
        assert any(r["source"] == source and r["turn"] == int(turn) and r["label"] == "hedge" for r in rows)


def test_report_is_the_same_from_csv_and_parquet(work, rows, tmp_path, monkeypatch):
    monkeypatch.chdir(work)
    pages = set()
    for ext in ("jsonl", "csv", "parquet"):
        out = Path("out") / f"again.{ext}"
        score(["briefings"], out, model="rules")
        pages.add(build_report(read_scores(out), work / "out", "t"))
    assert len(pages) == 1


def test_report_escapes_what_it_shows():
    row = {"source": "a<b>.txt", "turn": 1, "date": "2025-01-02", "ministry": "<i>M</i>",
           "spokesperson": "<script>alert(1)</script>", "question": "Q & <b>A</b>?",
           "answer": "<img src=x onerror=alert(1)> We have no information to provide.", "label": "hedge",
           "scores": {"confirm": 0.1, "deny": 0.1, "hedge": 0.8},
           "evidence": [{"start": 0, "end": 5, "text": "<svg onload=x>", "label": "hedge", "cue": "c",
                         "negated": False}],
           "model": {"name": "<m>", "version": "<1>"}, "error": None}
    page = build_report([row], Path("."), "<title>")
    assert "<script" not in page and "<img" not in page and "<svg onload" not in page and "<i>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("scores, out, mentions", [
    ("out/missing.jsonl", "out/r.html", "no such file"),
    ("briefings/china_mfa_qa.txt", "out/r.html", "unknown output format"),
    ("out/garbage.jsonl", "out/r.html", "garbage.jsonl"),
    ("out/lists.jsonl", "out/r.html", "lists.jsonl: row 1 is not a stancekit row"),
    ("out/unscored.jsonl", "out/r.html", "unscored.jsonl: row 1 has no valid label"),
    ("out/other.csv", "out/r.html", "other.csv: row 1 is not a stancekit row"),
    ("out/scores.jsonl", "nowhere/r.html", "nowhere/r.html"),
], ids=["missing", "not-a-scores-file", "garbage", "not-rows", "no-scores", "other-csv", "unwritable"])
def test_report_unusable_input_exits_2_with_one_line(work, scores, out, mentions):
    (work / "out" / "garbage.jsonl").write_text('{"label": "hedge"}\n', encoding="utf-8")
    (work / "out" / "lists.jsonl").write_text("[1, 2]\n", encoding="utf-8")
    row = dict.fromkeys(("source", "turn", "date", "ministry", "spokesperson", "question", "answer", "label",
                         "scores", "evidence", "model", "error"))
    (work / "out" / "unscored.jsonl").write_text(json.dumps({**row, "label": "hedge", "answer": "x"}) + "\n",
                                                 encoding="utf-8")
    (work / "out" / "other.csv").write_text("id,text\n1,hello\n", encoding="utf-8")
    before = sorted(work.rglob("*"))
    r = cli("report", scores, "--out", out, cwd=work)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stancekit: error: ") and mentions in lines[0], r.stderr
    assert sorted(work.rglob("*")) == before


# --------------------------------------------------------------------------- in a real browser

def chromium() -> str | None:
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def read_png(data: bytes) -> np.ndarray:
    """Decode an 8-bit, non-interlaced RGB/RGBA PNG (what Chromium writes) to an (h, w, 3) array."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks = 8, []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
    assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
    bpp = 3 if color == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(chunks))
    assert len(raw) == height * (stride + 1)
    image = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1)
        if kind == 0:  # None
            cur = line.copy()
        elif kind == 1:  # Sub: running sum per channel, mod 256
            cur = np.cumsum(line.reshape(width, bpp), axis=0, dtype=np.uint8).reshape(stride)
        elif kind == 2:  # Up
            cur = line + prev
        elif kind in (3, 4):  # Average, Paeth: sequential, byte by byte
            out, up, filt = bytearray(stride), prev.tobytes(), line.tobytes()
            for i in range(stride):
                a = out[i - bpp] if i >= bpp else 0
                b = up[i]
                if kind == 3:
                    out[i] = (filt[i] + ((a + b) >> 1)) & 255
                else:
                    c = up[i - bpp] if i >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    out[i] = (filt[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            cur = np.frombuffer(bytes(out), np.uint8)
        else:
            raise AssertionError(f"bad PNG filter {kind}")
        image[y] = cur
        prev = cur
    return image.reshape(height, width, bpp)[:, :, :3]


def colour_mask(image: np.ndarray, hex_colour: str, tolerance: int = 8) -> np.ndarray:
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
    return (np.abs(image.astype(np.int16) - rgb) <= tolerance).all(axis=-1)


def bands(mask: np.ndarray, gap: int = 30) -> int:
    """How many separate horizontal bands (charts) hold the colour."""
    ys = np.flatnonzero(mask.sum(axis=1) >= 10)
    return 0 if len(ys) == 0 else 1 + int((np.diff(ys) > gap).sum())


def test_png_reader_decodes_every_filter():
    width, height = 5, 5
    pixels = np.arange(height * width * 3, dtype=np.uint8).reshape(height, width * 3) * 7
    rows = []
    for y, kind in enumerate(range(5)):  # one row per filter type, encoded by hand
        line, up = pixels[y].astype(int), (pixels[y - 1].astype(int) if y else np.zeros(width * 3, int))
        left = np.concatenate([[0, 0, 0], line[:-3]])
        upleft = np.concatenate([[0, 0, 0], up[:-3]])
        if kind == 0:
            filt = line
        elif kind == 1:
            filt = line - left
        elif kind == 2:
            filt = line - up
        elif kind == 3:
            filt = line - (left + up) // 2
        else:
            p = left + up - upleft
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
            filt = line - np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
        rows.append(bytes([kind]) + bytes((filt % 256).astype(np.uint8)))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))
    assert (read_png(png) == pixels.reshape(height, width, 3)).all()


def test_report_renders_its_charts_in_headless_chromium(work, tmp_path):
    browser = chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (apt-get install chromium) to check the report renders")
        pytest.skip("no Chromium here (CI installs it)")
    shot = tmp_path / "report.png"
    r = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,2400",
                        f"--screenshot={shot}", (work / "out" / "report.html").as_uri()],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0 and shot.is_file(), r.stderr[-3000:]
    try:
        shutil.copyfile(shot, SCREENSHOT_COPY)
    except OSError:
        pass  # a convenience copy for people; the test does not need it
    image = read_png(shot.read_bytes())
    assert image.shape == (2400, 1000, 3)
    white = colour_mask(image, "#ffffff", 0).sum()
    assert white < image.shape[0] * image.shape[1] * 0.97, "the page is (nearly) blank"
    counts = {label: int(colour_mask(image, colour).sum()) for label, colour in COLORS.items()}
    for label, n in counts.items():
        assert n >= 5000, f"{label} ({COLORS[label]}): only {n} pixels of the chart colour"
    # confirm appears in the three stance charts; deny and hedge there and in their phrasing chart
    found = {label: bands(colour_mask(image, colour)) for label, colour in COLORS.items()}
    assert found["confirm"] >= 3 and found["deny"] >= 4 and found["hedge"] >= 4, (found, counts)
