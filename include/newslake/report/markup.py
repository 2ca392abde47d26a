"""CSS, escaping and the page shell of newslake's HTML pages (the report and the Data
Docs): one stylesheet inlined in every page, no script, no external resource."""

from __future__ import annotations

import html

__all__ = ["CSS", "document", "esc"]

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;
 margin:0;background:#f5f6f8}
main{max-width:1180px;margin:0 auto;padding:20px 24px 48px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 8px}
.sub{color:#5b6472;margin:0 0 16px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:14px 16px;
 margin:0 0 16px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:0 0 16px}
.card{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:10px 14px;min-width:120px}
.card b{display:block;font-size:22px}.card span{color:#5b6472;font-size:12px}
.card.bad b{color:#b42318}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:12px;margin:0 0 6px}
.legend i{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;
 vertical-align:-1px}
svg{display:block;max-width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:#5b6472}
svg .grid{stroke:#e6e8ec}svg .axis{stroke:#9aa3af}
svg .bar:hover,svg .point:hover{opacity:.7}
.empty{color:#5b6472;font-style:italic}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{border-bottom:1px solid #e6e8ec;padding:5px 6px;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600}.nw{white-space:nowrap}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:11.5px;
 word-break:break-all}
tr.failed td{background:#fdecea}tr.unpublished td{background:#fff6e0}
.status{font-weight:600}.status.failed{color:#b42318}.status.published{color:#067647}
.status.unpublished{color:#93620a}
a{color:#0b5cad}
footer{color:#5b6472;font-size:12px}
"""


def esc(value: object) -> str:
    """``value`` as text safe inside an HTML element or a quoted attribute."""
    return html.escape(str(value), quote=True)


def document(title: str, body: str) -> str:
    """A whole HTML page: ``body`` inside ``<main>``, the stylesheet inline."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head>"
            f"<body><main>{body}</main></body></html>\n")
