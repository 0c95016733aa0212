"""A round's dashboard: its figures, its Excel workbook and its SVG charts."""
