"""A Word document laid out as a 公文 (GB/T 9704-2012), for what the 专班 hands its leaders: A4; margins 37 mm top,
35 bottom, 28 left, 26 right (a 156 × 225 mm type area of 22 lines); the title in 二号 方正小标宋, the body in 三号
仿宋_GB2312 with 黑体 and 楷体_GB2312 for the first and second heading levels; the page number in 四号 宋体 as
“— 1 —”, outside right on odd pages and outside left on even ones.

Fonts. A run names one East Asian font (w:rFonts/@w:eastAsia). The standard's faces are not on every machine, so
the document's font table gives each an alternative Word looks for when it is missing (w:altName): 方正小标宋简体 →
宋体, 仿宋_GB2312 → 仿宋, 楷体_GB2312 → 楷体, all three shipped with Windows; 黑体 and 宋体 are Windows' own. Latin
letters and digits of the body are Times New Roman, as 公文 templates set them; the title's are its own face.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree

from .files import replacing

MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
LINE = Pt(28.95)  # 225 mm / 22 lines
BODY_PT, TITLE_PT, PAGE_NO_PT = 16, 22, 14  # 三号, 二号, 四号
CHAR = Pt(BODY_PT)  # one character of the body: indents are counted in these
RED = RGBColor(0xC0, 0x00, 0x00)
# what may follow w:pBdr in a w:pPr (ECMA-376 CT_PPrBase): a border goes in before the first of these present
AFTER_PBDR = tuple(f"w:{t}" for t in (
    "shd tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
    "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection "
    "textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange").split())


@dataclass(frozen=True)
class Face:
    name: str  # East Asian face the document asks for
    alt: str  # what Word uses where it is missing (the font table's w:altName)
    latin: str  # Latin letters and digits


TITLE = Face("方正小标宋简体", "宋体", "方正小标宋简体")
BODY = Face("仿宋_GB2312", "仿宋", "Times New Roman")
HEI = Face("黑体", "SimHei", "黑体")
KAI = Face("楷体_GB2312", "楷体", "Times New Roman")
SONG = Face("宋体", "SimSun", "宋体")
FACES = (TITLE, BODY, HEI, KAI, SONG)

# style name → (face, size, first-line indent in characters, outline level)
STYLES = {"公文标题": (TITLE, TITLE_PT, 0, None), "一级标题": (HEI, BODY_PT, 2, 0), "二级标题": (KAI, BODY_PT, 2, 1),
          "表头": (HEI, 14, 0, None), "表格文字": (BODY, 14, 0, None)}


def set_face(rpr_parent: object, face: Face) -> None:
    """Name `face` in every slot of a style's or run's w:rFonts, dropping the template's theme fonts (which win
    over named ones)."""
    rfonts = rpr_parent.get_or_add_rPr().get_or_add_rFonts()  # type: ignore[attr-defined]
    for attr in [a for a in rfonts.attrib if a.endswith("Theme") or a.endswith("theme")]:
        del rfonts.attrib[attr]
    for slot, name in (("ascii", face.latin), ("hAnsi", face.latin), ("eastAsia", face.name), ("cs", face.latin)):
        rfonts.set(qn(f"w:{slot}"), name)


def _song(run: Run) -> Run:
    """A run of the page number: 四号 半角 宋体."""
    set_face(run._r, SONG)  # noqa: SLF001
    run.font.size = Pt(PAGE_NO_PT)
    return run


class Official:
    """One 公文 being written, top to bottom."""

    def __init__(self, *, title: str, author: str, when: date) -> None:
        self.doc = Document()
        section = self.doc.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        for side, mm in MARGINS_MM.items():
            setattr(section, f"{side}_margin", Mm(mm))
        section.footer_distance = Mm(22)  # the page number's dash 7 mm below the type area
        section.start_type = WD_SECTION.NEW_PAGE
        self._styles()
        self._font_table()
        self._page_numbers()
        props = self.doc.core_properties
        stamp = datetime(when.year, when.month, when.day, tzinfo=UTC)  # the document's own date, not the clock
        props.title, props.author, props.last_modified_by = title, author, author
        props.created = props.modified = props.last_printed = stamp
        props.comments = props.subject = props.keywords = ""

    def _styles(self) -> None:
        styles = self.doc.styles
        defaults = styles.element.find(qn("w:docDefaults"))
        rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
        rpr.find(qn("w:lang")).set(qn("w:eastAsia"), "zh-CN")
        normal = styles["Normal"]
        set_face(normal.element, BODY)
        normal.font.size = Pt(BODY_PT)
        fmt = normal.paragraph_format
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.line_spacing = LINE
        fmt.first_line_indent = CHAR * 2
        fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        fmt.widow_control = False
        for name, (face, size, indent, outline) in STYLES.items():
            style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            style.base_style = normal
            set_face(style.element, face)
            style.font.size = Pt(size)
            style.paragraph_format.first_line_indent = CHAR * indent if indent else Pt(0)
            if outline is not None:
                style.paragraph_format.keep_with_next = True
                style.element.get_or_add_pPr().get_or_add_outlineLvl().val = outline  # the navigation pane's levels
        styles["公文标题"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        styles["公文标题"].paragraph_format.line_spacing = Pt(35)
        for name in ("表头", "表格文字"):
            styles[name].paragraph_format.line_spacing = Pt(22)
        styles["表头"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        styles["表格文字"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT

    def _font_table(self) -> None:
        """Each face in word/fontTable.xml with its alternative (python-docx writes no font table of its own)."""
        part = next(p for p in self.doc.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml")
        root = etree.fromstring(part.blob)
        for face in FACES:
            font = etree.SubElement(root, qn("w:font"), {qn("w:name"): face.name})
            etree.SubElement(font, qn("w:altName"), {qn("w:val"): face.alt})
            etree.SubElement(font, qn("w:charset"), {qn("w:val"): "86"})  # GB2312
            etree.SubElement(font, qn("w:family"), {qn("w:val"): "modern" if face is HEI else "roman"})
            etree.SubElement(font, qn("w:pitch"), {qn("w:val"): "variable"})
        part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)  # noqa: SLF001

    def _page_numbers(self) -> None:
        self.doc.settings.odd_and_even_pages_header_footer = True
        section = self.doc.sections[0]
        for footer, odd in ((section.footer, True), (section.even_page_footer, False)):
            footer.is_linked_to_previous = False
            p = footer.paragraphs[0]
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
            fmt = p.paragraph_format
            fmt.first_line_indent, fmt.line_spacing = Pt(0), 1.0
            # 单页码居右空一字, 双页码居左空一字
            fmt.right_indent, fmt.left_indent = (Pt(PAGE_NO_PT), Pt(0)) if odd else (Pt(0), Pt(PAGE_NO_PT))
            _song(p.add_run("— "))
            for kind, instr in (("begin", ""), ("", " PAGE "), ("separate", ""), ("", ""), ("end", "")):
                run = _song(p.add_run("1" if not kind and not instr else ""))
                if kind:
                    el = OxmlElement("w:fldChar")
                    el.set(qn("w:fldCharType"), kind)
                    run._r.append(el)  # noqa: SLF001
                elif instr:
                    el = OxmlElement("w:instrText")
                    el.set(qn("xml:space"), "preserve")
                    el.text = instr
                    run._r.append(el)  # noqa: SLF001
            _song(p.add_run(" —"))

    # ── the page, top to bottom ──────────────────────────────────────────────────────────────────────────────
    def banner(self, issuer: str, number: str | None = None) -> None:
        """The 版头: the issuer in red (as large as fits the type area, at most 小初), its number, the red rule."""
        size = min(36.0, int(2 * 150 / 0.3528 / max(len(issuer), 1)) / 2)  # 150 of the 156 mm, in half points
        p = self.paragraph(issuer, style="公文标题", align=WD_ALIGN_PARAGRAPH.CENTER)
        p.paragraph_format.line_spacing = Pt(size * 1.3)
        p.runs[0].font.size, p.runs[0].font.color.rgb = Pt(size), RED
        rule = self.paragraph(number or "", align=WD_ALIGN_PARAGRAPH.CENTER, indent=0)
        borders = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for k, v in (("val", "single"), ("sz", "18"), ("space", "8"), ("color", "C00000")):
            bottom.set(qn(f"w:{k}"), v)
        borders.append(bottom)
        ppr = rule._p.get_or_add_pPr()  # noqa: SLF001
        ppr.insert_element_before(borders, *AFTER_PBDR)  # Word wants pPr's children in the schema's order
        self.paragraph("")

    def title(self, lines: list[str], note: str | None = None, note_colour: RGBColor | None = None) -> None:
        """The title, broken where the caller says (a title is broken between words, never inside one), and a note
        under it in 楷体."""
        p = self.paragraph(lines[0], style="公文标题")
        for line in lines[1:]:
            p.add_run().add_break()
            p.add_run(line)
        if note:
            p = self.paragraph(note, align=WD_ALIGN_PARAGRAPH.CENTER, indent=0)
            set_face(p.runs[0]._r, KAI)  # noqa: SLF001
            if note_colour is not None:
                p.runs[0].font.color.rgb = note_colour
        self.paragraph("")

    def heading(self, text: str, level: int = 1) -> Paragraph:
        return self.paragraph(text, style="一级标题" if level == 1 else "二级标题")

    def paragraph(self, text: str, *, style: str | None = None, align: WD_ALIGN_PARAGRAPH | None = None,
                  indent: int | None = None) -> Paragraph:
        p = self.doc.add_paragraph(text, style=style)
        if align is not None:
            p.alignment = align
        if indent is not None:
            p.paragraph_format.first_line_indent = CHAR * indent if indent else Pt(0)
        return p

    def table(self, heads: list[str], rows: list[list[str]], widths_mm: Sequence[float],
              centred: Sequence[int] = ()) -> None:
        """A ruled table the width of the type area; columns `centred` (by index) centre their cells."""
        table = self.doc.add_table(rows=1, cols=len(heads))
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        for column, width in zip(table.columns, widths_mm, strict=True):
            column.width = Mm(width)  # the grid: what LibreOffice reads
        for r, values in enumerate([heads, *rows]):
            row = table.rows[0] if r == 0 else table.add_row()
            flags = row._tr.get_or_add_trPr()  # noqa: SLF001
            flags.append(OxmlElement("w:cantSplit"))  # a row is never cut across two pages … (a new row's trPr is
            if r == 0:  # empty: these two are in the schema's order)
                flags.append(OxmlElement("w:tblHeader"))  # … and the heads repeat on each
            cells = row.cells
            for i, (cell, value, width) in enumerate(zip(cells, values, widths_mm, strict=True)):
                cell.width = Mm(width)  # each cell's own: what Word reads
                cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                p = cell.paragraphs[0]
                p.text = value
                p.style = self.doc.styles["表头" if r == 0 else "表格文字"]
                if i in centred:
                    p.alignment = WD_ALIGN_PARAGRAPH.CENTER

    def point(self, lead: str, text: str) -> Paragraph:
        """A numbered point of the body: its lead-in (（一）抓紧补办逾期事项。) in 楷体, then the text."""
        p = self.paragraph("")
        set_face(p.add_run(lead)._r, KAI)  # noqa: SLF001
        p.add_run(text)
        return p

    def attachment(self, name: str) -> None:
        """附件说明: below the body after a blank line, two characters in; a long name wraps under its own first
        character (GB/T 9704 7.3.4)."""
        self.paragraph("")
        p = self.paragraph(f"附件：{name}", align=WD_ALIGN_PARAGRAPH.LEFT)
        p.paragraph_format.left_indent, p.paragraph_format.first_line_indent = CHAR * 5, -CHAR * 3

    def signature(self, issuer: str, when: str) -> None:
        """发文机关署名 and 成文日期 without a seal (GB/T 9704 7.3.5.2): the issuer two characters from the right, the
        date on the next line starting two characters right of it — or, when the date is the longer, the date two
        characters from the right and the issuer moved to match."""
        issuer_right = 2
        date_right = issuer_right + len(issuer) - len(when) - 2
        if date_right < 2:
            date_right, issuer_right = 2, 2 + len(when) + 2 - len(issuer)
        self.paragraph("")
        for text, right in ((issuer, issuer_right), (when, date_right)):
            p = self.paragraph(text, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=0)
            p.paragraph_format.right_indent = CHAR * right

    def save(self, path: Path) -> Path:
        with replacing(path) as tmp:
            self.doc.save(str(tmp))
        return path
