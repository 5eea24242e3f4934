"""Page skeleton, CSS, JS and table markup of the HTML report. Everything inline, nothing fetched.

Every string that can come from the user goes through :func:`esc`; numbers are formatted here.
The Content-Security-Policy allows no network at all and only this file's own script (by hash),
so even a string that escaped escaping could not run code or load anything.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
from collections.abc import Sequence
from typing import Any

CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#ffffff;--card:#f6f8fa;--pos:#D55E00;--neg:#0072B2}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
header{padding:18px 28px;border-bottom:1px solid var(--line);background:var(--card)}
header h1{margin:0 0 4px;font-size:1.5em}
header p{margin:0;color:var(--muted)}
nav{padding:8px 28px;border-bottom:1px solid var(--line);position:sticky;top:0;background:var(--bg);z-index:2;font-size:.92em}
nav a{margin-right:14px;color:var(--neg);text-decoration:none}
nav a:hover{text-decoration:underline}
main{max-width:1280px;margin:0 auto;padding:8px 28px 48px}
section.report-part{margin-top:26px}
h2{font-size:1.3em;border-bottom:2px solid var(--line);padding-bottom:4px}
h3{font-size:1.08em;margin:22px 0 8px}
.grid{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:18px;align-items:start}
@media (max-width:1000px){.grid{grid-template-columns:minmax(0,1fr)}}
figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px}
figure svg.plot,figure img.plot{display:block;width:100%;height:auto;margin:0 auto}
figcaption{color:var(--muted);font-size:.85em;margin-top:4px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-width:150px}
.card b{display:block;font-size:1.15em}
.card span{color:var(--muted);font-size:.82em}
.note{color:var(--muted);font-size:.88em}
.table-wrap{max-height:420px;overflow:auto;border:1px solid var(--line);border-radius:6px}
table.sortable{border-collapse:collapse;width:100%;font-size:.88em}
table.sortable th,table.sortable td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap;max-width:360px;overflow:hidden;text-overflow:ellipsis}
table.sortable td.num{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{position:sticky;top:0;background:var(--card);cursor:pointer;user-select:none}
table.sortable th::after{content:" \\2195";color:var(--muted);font-size:.8em}
table.sortable th[aria-sort=ascending]::after{content:" \\2191"}
table.sortable th[aria-sort=descending]::after{content:" \\2193"}
table.sortable tbody tr:hover{background:#fff3d6}
td .swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;vertical-align:middle}
svg.plot .tip:hover{opacity:.75}
#tooltip{position:fixed;pointer-events:none;background:#1f2328;color:#fff;padding:4px 8px;border-radius:4px;font-size:12px;max-width:420px;display:none;z-index:5;white-space:pre-wrap}
.seqshap-text{background:#fff;border:1px solid var(--line);border-radius:6px;padding:10px}
footer{color:var(--muted);font-size:.8em;text-align:center;padding:20px}
"""

JS = """
(function(){
  var errors=[];
  window.addEventListener('error',function(e){errors.push(String(e.message||e));document.documentElement.setAttribute('data-errors',String(errors.length));});
  function cellValue(td){var v=td.getAttribute('data-sort');if(v!==null&&v!==''&&!isNaN(Number(v)))return Number(v);return td.textContent.trim().toLowerCase();}
  function sortTable(th){
    var table=th.closest('table'),tbody=table.tBodies[0],idx=Array.prototype.indexOf.call(th.parentNode.children,th);
    var asc=th.getAttribute('aria-sort')!=='ascending';
    Array.prototype.forEach.call(th.parentNode.children,function(h){h.removeAttribute('aria-sort');});
    th.setAttribute('aria-sort',asc?'ascending':'descending');
    var rows=Array.prototype.slice.call(tbody.rows);
    rows.sort(function(a,b){var x=cellValue(a.cells[idx]),y=cellValue(b.cells[idx]);
      if(typeof x==='number'&&typeof y==='number')return asc?x-y:y-x;
      x=String(x);y=String(y);return asc?x.localeCompare(y):y.localeCompare(x);});
    rows.forEach(function(r){tbody.appendChild(r);});
  }
  function init(){
    document.querySelectorAll('table.sortable th').forEach(function(th){
      th.setAttribute('tabindex','0');th.setAttribute('title','Click to sort');
      th.addEventListener('click',function(){sortTable(th);});
      th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sortTable(th);}});
    });
    var tip=document.getElementById('tooltip');
    document.querySelectorAll('svg.plot .tip').forEach(function(el){
      var t=el.querySelector('title');if(!t)return;var text=t.textContent;
      el.addEventListener('mousemove',function(e){tip.textContent=text;tip.style.display='block';
        tip.style.left=Math.min(e.clientX+14,window.innerWidth-430)+'px';tip.style.top=(e.clientY+14)+'px';});
      el.addEventListener('mouseleave',function(){tip.style.display='none';});
    });
    var plots=document.querySelectorAll('.plot'),ok=0;
    plots.forEach(function(p){var r=p.getBoundingClientRect();
      var drawn=p.tagName.toLowerCase()==='img'?(p.complete&&p.naturalWidth>0):(p.querySelectorAll('path,text,use,image').length>0);
      if(r.width>0&&r.height>0&&drawn)ok++;});
    document.body.setAttribute('data-plots-expected',String(plots.length));
    document.body.setAttribute('data-plots-rendered',String(ok));
    document.body.setAttribute('data-tables',String(document.querySelectorAll('table.sortable').length));
    document.documentElement.setAttribute('data-errors',String(errors.length));
    document.body.setAttribute('data-ready','1');
  }
  if(document.readyState==='loading')document.addEventListener('DOMContentLoaded',init);else init();
})();
"""


def esc(value: Any) -> str:
    """HTML-escape any user-provided value (quotes included)."""
    return html.escape(str(value), quote=True)


def num(value: Any, digits: int = 4) -> str:
    """A number for display (``—`` for missing)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return esc(value)
    if math.isnan(v):
        return "—"
    return f"{v:.{digits}g}"


def script_hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode(
        "ascii"
    )


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    numeric: Sequence[bool] | None = None,
    caption: str | None = None,
    swatches: Sequence[str | None] | None = None,
) -> str:
    """A sortable table; numeric cells keep their full value in ``data-sort``."""
    numeric = list(numeric) if numeric is not None else [False] * len(columns)
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in columns)
    body = []
    for r, row in enumerate(rows):
        cells = []
        for c, val in enumerate(row):
            if numeric[c]:
                try:
                    fv = float(val)
                    sort = "" if math.isnan(fv) else repr(fv)
                except (TypeError, ValueError):
                    sort = ""
                cells.append(f'<td class="num" data-sort="{esc(sort)}">{num(val)}</td>')
            else:
                sw = ""
                if c == 0 and swatches is not None and swatches[r]:
                    sw = f'<span class="swatch" style="background:{esc(swatches[r])}"></span>'
                text = esc(val)
                cells.append(f'<td title="{text}">{sw}{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f'<caption class="note">{esc(caption)}</caption>' if caption else ""
    return (
        f'<div class="table-wrap"><table class="sortable">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def page(title: str, nav: Sequence[tuple[str, str]], body: str, subtitle: str, footer: str) -> str:
    """The whole document. ``nav`` holds (anchor id, label); ``body`` is already-safe markup."""
    csp = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src '{script_hash(JS)}'; base-uri 'none'; form-action 'none'"
    )
    links = "".join(f'<a href="#{esc(a)}">{esc(label)}</a>' for a, label in nav)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>\n"
        f"<nav>{links}</nav>\n<main>\n{body}\n</main>\n"
        f'<div id="tooltip" role="tooltip"></div>\n<footer>{esc(footer)}</footer>\n'
        f"<script>{JS}</script>\n</body>\n</html>\n"
    )
