"""The 专班's Word documents (reports/documents.py on reports/docx_layout.py), on all three counties' plans through
`fuquan report`: GB/T 9704 page and fonts, the three sections, the 专班 named in the plan's own words (no 湾沚 in
another county's papers), the workbook as 附件 beside it; and one converted to PDF by LibreOffice when installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt

from models.db import make_engine, reading
from models.stored import find_plan, read_plan
from reports import gather
from tests.conftest import ROOT

PLANS = ROOT / "tests" / "plans"


@dataclass(frozen=True)
class County:
    file: str
    issuer: str  # district + programme + 工作专班
    addressees: str
    today: str
    reports: tuple[tuple[str, str], ...]  # (kind, period)
    close_until: date | None = None  # months closed as the daily run would have, up to this day


COUNTIES = {
    "wanzhi-2023": County("wanzhi-2023.yaml", "芜湖市湾沚区镇赋权工作专班", "各镇、区直有关单位：", "2023-07-10",
                          (("monthly", "2023-05"), ("annual", "2023")), close_until=date(2023, 6, 21)),
    "qingshan-2024": County("qingshan-2024.yaml", "某市青山县乡镇（街道）赋权工作专班", "各乡镇（街道）、县直有关单位：",
                            "2024-04-10", (("monthly", "2024-03"), ("quarterly", "2024Q1"))),
    "lianhe-2025": County("lianhe-2025.yaml", "某市莲河县乡镇赋权工作专班", "各乡镇、县直有关单位：", "2025-05-06",
                          (("monthly", "2025-04"), ("quarterly", "2025Q2"))),
}
SECTIONS = ["一、总体进展", "二、存在问题", "三、下一步工作"]


def _fonts(style) -> tuple[str | None, float | None]:  # type: ignore[no-untyped-def]
    """A paragraph style's East Asian face and size in points."""
    rfonts = style.element.rPr.rFonts
    return rfonts.get(qn("w:eastAsia")), style.font.size.pt if style.font.size else None


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    """Every county's reports, written once through the CLI (each plan in a database of its own)."""
    from cli.main import main
    from tests import dbs

    out: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    mp = pytest.MonkeyPatch()
    try:
        for name, c in COUNTIES.items():
            tmp = tmp_path_factory.mktemp(name)
            url = dbs.fresh_url(tmp, name)
            mp.setenv("FUQUAN_DATABASE_URL", url)
            mp.setenv("FUQUAN_CONFIG", str(PLANS / c.file))
            mp.setenv("FUQUAN_DATA_DIR", str(tmp / "data"))
            assert main(["sync"]) == 0
            if c.close_until:
                engine = make_engine(url)
                with reading(engine) as s:
                    sp = read_plan(s, find_plan(s))
                gather.close_months(engine, sp, c.close_until)
                engine.dispose()
            out[name] = []
            for kind, period in c.reports:
                args = ["report", kind, "--period", period, "--today", c.today, "--out", str(tmp / "out"), "--json"]
                cap = tmp / f"{kind}.json"
                with cap.open("w", encoding="utf-8") as f, _stdout(f):
                    assert main(args) == 0
                out[name].append(json.loads(cap.read_text(encoding="utf-8")))
    finally:
        mp.undo()
    return out


def _stdout(f):  # type: ignore[no-untyped-def]
    import contextlib

    return contextlib.redirect_stdout(f)


def _text(doc) -> str:  # type: ignore[no-untyped-def]
    """Every word a reader sees: body, tables, footers, the document's properties."""
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    s = doc.sections[0]
    parts += [p.text for f in (s.footer, s.even_page_footer) for p in f.paragraphs]
    parts += [doc.core_properties.title or "", doc.core_properties.author or ""]
    return "\n".join(parts)


@pytest.mark.parametrize("county", list(COUNTIES))
def test_each_document_is_a_gbt_9704_page_in_the_plans_words(documents, county: str) -> None:  # type: ignore[no-untyped-def]
    c = COUNTIES[county]
    for built in documents[county]:
        path = Path(built["document"])
        assert path.suffix == ".docx" and path.parent == Path(built["excel"]).parent
        doc = Document(str(path))
        s = doc.sections[0]
        assert (round(s.page_width.mm), round(s.page_height.mm)) == (210, 297)
        assert [round(m.mm) for m in (s.top_margin, s.bottom_margin, s.left_margin, s.right_margin)] == [37, 35, 28, 26]
        styles = doc.styles
        assert _fonts(styles["公文标题"]) == ("方正小标宋简体", 22)  # 二号
        assert _fonts(styles["Normal"]) == ("仿宋_GB2312", 16)  # 三号
        assert _fonts(styles["一级标题"])[0] == "黑体" and _fonts(styles["二级标题"])[0] == "楷体_GB2312"
        assert styles["Normal"].paragraph_format.line_spacing == Pt(28.95)  # 22 lines a page
        paragraphs = [p for p in doc.paragraphs if p.text]
        # 版头, title, 主送, the three sections in order, 附件, 署名 and 成文日期
        assert paragraphs[0].text == c.issuer and paragraphs[0].runs[0].font.color.rgb == (0xC0, 0x00, 0x00)
        title = next(p for p in paragraphs if p.style.name == "公文标题" and p.text != c.issuer)
        assert built["title"] in title.text and c.issuer.removesuffix("工作专班") in title.text.replace("\n", "")
        assert c.addressees in [p.text for p in paragraphs]
        assert [p.text for p in paragraphs if p.style.name == "一级标题"] == SECTIONS
        body = "\n".join(p.text for p in paragraphs)
        assert re.search(r"截至\d+月\d+日，\d+项任务分解到各单位的分工共\d+项", body)
        attachment = next(p.text for p in paragraphs if p.text.startswith("附件："))
        assert attachment.endswith(f"（{Path(built['excel']).name}）") and Path(built["excel"]).exists()
        assert [p.text for p in paragraphs[-2:]][0] == c.issuer
        assert re.fullmatch(r"二〇[〇一二三四五六七八九]{2}年[一二三四五六七八九十]+月[一二三四五六七八九十]+日", paragraphs[-1].text)
        assert paragraphs.index(next(p for p in paragraphs if p.text.startswith("附件："))) < len(paragraphs) - 2
        if built["provisional"]:
            assert "尚未关账" in body
        # the page number: “— 1 —” from a PAGE field, outside on odd and even pages, 四号 宋体
        assert doc.settings.odd_and_even_pages_header_footer
        for footer in (s.footer, s.even_page_footer):
            xml = footer.paragraphs[0]._p.xml
            assert "PAGE" in xml and footer.paragraphs[0].text.replace("1", "").strip() == "—  —"
            assert footer.paragraphs[0].runs[0].font.size == Pt(14)
        if county != "wanzhi-2023":
            assert "湾沚" not in _text(doc)
        # the fallbacks Word uses where the standard's faces are not installed
        table = zipfile.ZipFile(path).read("word/fontTable.xml").decode("utf-8")
        assert re.search(r'w:name="方正小标宋简体"><w:altName w:val="宋体"/>', table)
        assert re.search(r'w:name="仿宋_GB2312"><w:altName w:val="仿宋"/>', table)


def test_problems_name_each_late_unit_with_its_due_date_and_working_days(documents) -> None:  # type: ignore[no-untyped-def]
    """湾沚区 in May 2023 (closed on the 20th): 花桥镇 never reports, 区委编办 owes tasks due 3月底前."""
    built = documents["wanzhi-2023"][0]
    assert not built["provisional"] and built["document"].endswith("monthly-2023-05.docx")
    doc = Document(built["document"])
    texts = [p.text for p in doc.paragraphs]
    problems = texts[texts.index("二、存在问题"):texts.index("三、下一步工作")]
    units = [p.text for p in doc.paragraphs if p.style.name == "二级标题"]
    assert units and all(re.fullmatch(r"（[一二三四五六七八九十]+）\S+", u) for u in units)
    assert any("区委编办" in u for u in units)
    assert any(re.search(r"任务1“确定承接事项”（完成时限：3月底前）应于3月31日前完成，已逾期\d+个工作日", p)
               for p in problems)
    steps = texts[texts.index("三、下一步工作"):]
    assert any(p.startswith("（一）抓紧补办逾期事项。请") for p in steps)
    assert "5月月报应报送的5个镇中" in "\n".join(texts)


def test_an_analysis_ranks_towns_and_departments_apart(documents) -> None:  # type: ignore[no-untyped-def]
    built = documents["qingshan-2024"][1]
    doc = Document(built["document"])
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "本季度到期的分工" in body and "各乡镇（街道）得分" in body and "县级部门得分" in body


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice 未安装 (Debian: libreoffice-writer-nogui), 跳过 PDF 转换")
def test_libreoffice_renders_the_monthly_notice_on_a4(documents, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = Path(documents["lianhe-2025"][0]["document"])
    profile = (tmp_path / "lo-profile").as_uri()  # a profile of its own: another soffice may be running
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir",
                    str(tmp_path), str(source)], check=True, capture_output=True, timeout=180)
    pdf = (tmp_path / source.with_suffix(".pdf").name).read_bytes()
    pages = re.findall(rb"/Type\s*/Page(?![s\w])", pdf)
    boxes = {tuple(round(float(x)) for x in m.split()) for m in re.findall(rb"/MediaBox\s*\[\s*([\d.\s]+?)\s*\]", pdf)}
    assert len(pages) >= 1 and boxes == {(0, 0, 595, 842)}  # A4 in points


def test_numbers_and_dates_in_words() -> None:
    from fuquan.words.official import chinese_date, cn_number, slip_number

    assert [cn_number(n) for n in (1, 10, 12, 20, 31, 105, 110, 1001)] == \
        ["一", "十", "十二", "二十", "三十一", "一百零五", "一百一十", "一千零一"]  # a province's list runs past 99
    assert chinese_date(date(2024, 5, 15)) == "二〇二四年五月十五日"
    assert chinese_date(date(2023, 10, 20)) == "二〇二三年十月二十日"
    assert slip_number(2024, 7) == "〔2024〕督办第7号"
