"""A ``Sheet`` (app/domain/documents/sheets.py) as an A4 PDF, with ReportLab.

Pure Python: the Chinese glyphs come from the TrueType collection named by ``PDF_FONT_PATH``
(Debian's fonts-wqy-microhei), of which only the characters used are embedded, so the file
reads the same on any machine and its text can be searched and copied. Nothing is fetched.

Every page carries the verification code and where to check it; the first page's heading also
has a QR code of that address.
"""
import io
import logging
import os.path as op
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

logger = logging.getLogger(__name__)

FALLBACK_FONT = "STSong-Light"  # ReportLab's built-in CID font: not embedded, shown by viewers
MARGIN = 2 * cm
LABEL_WIDTH = 4.2 * cm
QR_SIZE = 2.4 * cm
INK, MUTED, RULE, SHADE = (colors.HexColor("#1a1a1a"), colors.HexColor("#555555"),
                           colors.HexColor("#8c8c8c"), colors.HexColor("#f0f2f5"))
_fonts: dict[str, str] = {}


def font_name(path: str) -> str:
    """The registered name of the font at ``path`` (registered once per process)."""
    if path in _fonts:
        return _fonts[path]
    if path and op.isfile(path):
        name = f"PlatformCJK{len(_fonts)}"
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
    else:
        logger.warning("PDF font %r not found; using the built-in %s (not embedded)", path,
                       FALLBACK_FONT)
        name = FALLBACK_FONT
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    _fonts[path] = name
    return name


def _styles(font):
    base = ParagraphStyle("body", fontName=font, fontSize=10, leading=15, textColor=INK,
                          wordWrap="CJK")
    return {
        "body": base,
        "brand": ParagraphStyle("brand", base, fontSize=9, textColor=MUTED, alignment=TA_CENTER),
        "heading": ParagraphStyle("heading", base, fontSize=20, leading=28, alignment=TA_CENTER,
                                  spaceBefore=4, spaceAfter=6),
        "subject": ParagraphStyle("subject", base, fontSize=11, leading=16, alignment=TA_CENTER,
                                  textColor=MUTED, spaceAfter=10),
        "section": ParagraphStyle("section", base, fontSize=12.5, leading=18, spaceBefore=12,
                                  spaceAfter=5, textColor=colors.HexColor("#1f3a5f")),
        "label": ParagraphStyle("label", base, textColor=colors.HexColor("#333333")),
        "text_label": ParagraphStyle("text_label", base, fontSize=10.5,
                                     textColor=colors.HexColor("#1f3a5f"), spaceBefore=6),
        "small": ParagraphStyle("small", base, fontSize=8.5, leading=12, textColor=MUTED),
        "cell": ParagraphStyle("cell", base, fontSize=9, leading=13),
        "code": ParagraphStyle("code", base, fontSize=7, leading=9, textColor=MUTED,
                               alignment=TA_CENTER),
    }


def _p(text, style):
    return Paragraph(escape(str(text or "")).replace("\n", "<br/>"), style)


def _grid(extra=()):
    return TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        *extra,
    ])


def _section(section, styles, width):
    parts = []
    if section.rows:
        data = [[_p(label, styles["label"]), _p(value, styles["body"])]
                for label, value in section.rows]
        table = Table(data, colWidths=[LABEL_WIDTH, width - LABEL_WIDTH], splitInRow=1)
        table.setStyle(_grid([("BACKGROUND", (0, 0), (0, -1), SHADE)]))
        parts.append(table)
    for label, text in section.texts:
        parts.append(_p(label, styles["text_label"]))
        parts.append(_p(text or "—", styles["body"]))
    if section.table:
        data = [[_p(cell, styles["cell"]) for cell in row] for row in section.table]
        table = Table(data, colWidths=[width * w for w in section.widths], repeatRows=1,
                      splitInRow=1)
        table.setStyle(_grid([("BACKGROUND", (0, 0), (-1, 0), SHADE)]))
        parts.append(table)
    # A heading never ends a page alone.
    return [KeepTogether([_p(section.heading, styles["section"]), parts[0]]), *parts[1:]] \
        if parts else [_p(section.heading, styles["section"])]


def _qr(url, code, styles):
    widget = QrCodeWidget(url, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (right - left), 0, 0,
                                                   QR_SIZE / (top - bottom), 0, 0])
    drawing.add(widget)
    return [drawing, _p(code, styles["code"])]


def _header(sheet, styles, width, code, url, platform):
    """The platform, the document's name and subject; beside them the QR code of the check."""
    side = QR_SIZE + 0.6 * cm
    titles = [_p(platform, styles["brand"]), _p(sheet.kind.title, styles["heading"]),
              _p(sheet.title, styles["subject"])]
    table = Table([[titles, _qr(url, code, styles)]], colWidths=[width - side, side])
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "CENTER"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
        # The titles are centred on the page, not on their column.
        ("LEFTPADDING", (0, 0), (0, 0), side)]))
    return table


def render(sheet, *, code: str, verify_url: str, platform: str, font_path: str,
           texts) -> bytes:
    """The PDF of ``sheet``. ``code`` is shown grouped; ``texts`` gives the fixed words in the
    reader's language (``code_label``, ``check``, ``issued``, ``page``)."""
    font = font_name(font_path)
    styles = _styles(font)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN + 0.4 * cm,
                            title=f"{sheet.kind.title} {sheet.title}", author=platform,
                            subject=str(sheet.kind.title), creator=platform)
    width = A4[0] - 2 * MARGIN
    story = [_header(sheet, styles, width, code, verify_url, platform)]
    if sheet.statement:
        story += [_p(sheet.statement, styles["body"]), Spacer(1, 4)]
    for section in sheet.sections:
        story += _section(section, styles, width)
    story += [Spacer(1, 18), _p(texts["issued"], styles["body"]),
              _p(texts["check"], styles["small"])]

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, MARGIN - 0.2 * cm,
                          f"{texts['code_label']} {code} · {verify_url}")
        canvas.drawRightString(A4[0] - MARGIN, MARGIN - 0.2 * cm,
                               texts["page"] % {"page": document.page})
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
