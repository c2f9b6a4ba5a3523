/// One self-contained HTML5 page: inline CSS, inline SVG, one small inline script (sortable
/// tables, bar-chart order), no external resources — it opens offline, from an e-mail or a CI
/// artifact, and shows the same thing in every browser.
///
/// Layout: a sticky header with the title and links to the sections, then the sections in order,
/// each `<section id="…">` with an `<h2>`. Colours come from CSS variables (light and dark
/// schemes); op families use the `cat-*` classes of `HTML.category(of:)` and the diff states the
/// classes `added`, `removed` and `changed` on table rows, bars and graph nodes and edges.
package struct HTMLPage {
    package struct Section {
        /// The element id (`summary`, `ops`, …); also the anchor the header links to.
        package var id: String
        /// Heading and header link text (plain text).
        package var title: String
        /// The section's content (markup, built from the other building blocks).
        package var body: String
        /// A short plain-text line under the heading.
        package var note: String? = nil

        package init(id: String, title: String, body: String, note: String? = nil) {
            self.id = id
            self.title = title
            self.body = body
            self.note = note
        }
    }

    /// The `<title>` and the header's heading (plain text).
    package var title: String
    /// A plain-text line beside the title (the file, the tool).
    package var subtitle: String
    package var sections: [Section]

    package init(title: String, subtitle: String, sections: [Section]) {
        self.title = title
        self.subtitle = subtitle
        self.sections = sections
    }

    /// The whole document.
    package func render() -> String {
        var html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        html += "<meta name=\"generator\" content=\"keraslite\">\n"
        html += "<title>\(HTML.escape(title))</title>\n<style>\n\(Self.css)</style>\n</head>\n<body>\n"
        html += "<header class=\"top\"><div class=\"brand\"><span class=\"logo\">keraslite</span>"
        html += "<h1>\(HTML.escape(title))</h1><span class=\"sub\">\(HTML.escape(subtitle))</span></div>\n<nav>"
        html += sections.map { "<a href=\"#\(HTML.escape($0.id))\">\(HTML.escape($0.title))</a>" }.joined()
        html += "</nav></header>\n<main>\n"
        for section in sections {
            html += "<section id=\"\(HTML.escape(section.id))\">\n<h2>\(HTML.escape(section.title))</h2>\n"
            if let note = section.note { html += "<p class=\"note\">\(HTML.escape(note))</p>\n" }
            html += section.body
            html += "\n</section>\n"
        }
        html += "</main>\n<script>\n\(Self.script)</script>\n</body>\n</html>\n"
        return html
    }

    /// `<dl class="facts">` of label/value cards; values are plain text unless `markup` says so.
    package static func facts(_ items: [(label: String, value: String)], markup: Bool = false) -> String {
        "<dl class=\"facts\">" + items.map { item in
            "<div><dt>\(HTML.escape(item.label))</dt><dd>\(markup ? item.value : HTML.escape(item.value))</dd></div>"
        }.joined() + "</dl>\n"
    }

    /// `<ul class="warnings">`, one item per (plain-text) warning; empty for none.
    package static func warnings(_ items: [String]) -> String {
        guard !items.isEmpty else { return "" }
        return "<ul class=\"warnings\">" + items.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul>\n"
    }

    /// A colour legend for the `cat-*` op families that occur in `used` (all when nil).
    package static func legend(_ used: Set<String>? = nil) -> String {
        let items = HTML.categories.filter { used?.contains($0.name) ?? true }
        return "<div class=\"legend\">" + items.map { "<span class=\"\($0.name)\"><i></i>\(HTML.escape($0.label))</span>" }
            .joined() + "</div>\n"
    }

    package static let css = """
    :root{--bg:#fff;--fg:#1f2328;--muted:#656d76;--line:#d8dee4;--soft:#f6f8fa;--accent:#0969da;--edge:#8c959f;
    --added:#1a7f37;--removed:#cf222e;--changed:#bf8700;--warn-bg:#fff8c5;--warn-line:#d4a72c;color-scheme:light dark}
    @media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#8d96a0;--line:#30363d;--soft:#161b22;
    --accent:#4493f8;--edge:#6e7681;--added:#3fb950;--removed:#f85149;--changed:#d29922;--warn-bg:#272115;--warn-line:#9e6a03}}
    .cat-conv{--c:#4e79a7}.cat-dense{--c:#7b61c4}.cat-norm{--c:#b07aa1}.cat-act{--c:#e8772e}.cat-pool{--c:#59a14f}
    .cat-merge{--c:#1c9aa8}.cat-shape{--c:#8f9aa5}.cat-other{--c:#a0845c}.cat-io{--c:#57606a}
    *{box-sizing:border-box}
    html{scroll-padding-top:64px}
    body{margin:0;background:var(--bg);color:var(--fg);
    font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","Noto Sans","Liberation Sans",Arial,sans-serif}
    .mono,code,td.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace;font-size:12px}
    header.top{position:sticky;top:0;z-index:10;display:flex;flex-wrap:wrap;align-items:center;gap:4px 24px;
    padding:8px 24px;background:color-mix(in srgb,var(--bg) 92%,transparent);backdrop-filter:blur(6px);border-bottom:1px solid var(--line)}
    .brand{display:flex;align-items:baseline;gap:10px;min-width:0;flex:1 1 420px}
    .logo{font-weight:700;color:var(--accent);letter-spacing:.02em}
    h1{font-size:16px;margin:0;white-space:nowrap;min-width:0;overflow:hidden;text-overflow:ellipsis}
    .sub{color:var(--muted);font-size:12px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;min-width:0}
    nav{display:flex;flex-wrap:wrap;gap:2px}
    nav a{color:var(--fg);text-decoration:none;font-size:13px;padding:3px 9px;border-radius:6px}
    nav a:hover{background:var(--soft);color:var(--accent)}
    main{max-width:1360px;margin:0 auto;padding:4px 24px 64px}
    section{padding-top:10px;border-bottom:1px solid var(--line);padding-bottom:18px}
    section:last-child{border-bottom:0}
    h2{font-size:15px;margin:10px 0 8px;font-weight:600}
    h3{font-size:13px;margin:14px 0 6px;font-weight:600;color:var(--muted)}
    p.note{color:var(--muted);font-size:12.5px;margin:-4px 0 10px}
    dl.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:8px;margin:0}
    dl.facts>div{background:var(--soft);border:1px solid var(--line);border-radius:8px;padding:7px 11px;min-width:0}
    dl.facts dt{font-size:11.5px;color:var(--muted)}
    dl.facts dd{margin:0;font-size:15px;font-weight:600;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
    ul.warnings{list-style:none;padding:0;margin:10px 0 0}
    ul.warnings li{background:var(--warn-bg);border:1px solid var(--warn-line);border-radius:6px;padding:6px 10px;margin:4px 0}
    ul.warnings li::before{content:"⚠ ";font-weight:700}
    .scroll{max-height:72vh;overflow:auto;border:1px solid var(--line);border-radius:8px}
    table{border-collapse:separate;border-spacing:0;width:100%;font-size:12.5px;font-variant-numeric:tabular-nums}
    th,td{padding:3px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
    th{position:sticky;top:0;z-index:1;background:var(--soft);font-weight:600;white-space:nowrap;font-size:12px;color:var(--muted)}
    table.sortable th{cursor:pointer;user-select:none}
    table.sortable th:hover{color:var(--fg)}
    th[data-dir=asc]::after{content:" ▲"}th[data-dir=desc]::after{content:" ▼"}
    td.num,th.num{text-align:right;white-space:nowrap}
    td.name{overflow-wrap:anywhere;min-width:12ch}
    td.dim{color:var(--muted)}
    td.nowrap{white-space:nowrap}
    tbody tr:hover td{background:var(--soft)}
    tr.nested td:nth-child(2){font-weight:600}
    tr.added td{background:color-mix(in srgb,var(--added) 12%,var(--bg))}
    tr.removed td{background:color-mix(in srgb,var(--removed) 12%,var(--bg))}
    tr.changed td{background:color-mix(in srgb,var(--changed) 14%,var(--bg))}
    td.changed,span.changed{color:var(--changed);font-weight:600}
    .swatch{display:inline-block;width:9px;height:9px;border-radius:2px;background:var(--c);margin-right:7px;vertical-align:0}
    .tag{display:inline-block;font-size:10.5px;padding:0 5px;border-radius:9px;background:var(--soft);border:1px solid var(--line);color:var(--muted);margin-left:6px}
    .share{display:flex;align-items:center;gap:8px;min-width:150px}
    .share>div{flex:1;height:8px;background:var(--soft);border-radius:4px;overflow:hidden}
    .share>div>div{height:100%;background:var(--c,var(--accent));border-radius:4px}
    .share>span{width:46px;text-align:right}
    .toolbar{display:flex;gap:6px;align-items:center;margin:0 0 8px;font-size:12px;color:var(--muted)}
    .toolbar button{font:inherit;color:var(--fg);background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:2px 9px;cursor:pointer}
    .toolbar button.on{border-color:var(--accent);color:var(--accent)}
    .bars{max-height:60vh;overflow:auto;border:1px solid var(--line);border-radius:8px;padding:6px 0}
    .bar-row{display:grid;grid-template-columns:minmax(140px,380px) 1fr 88px;align-items:center;gap:10px;padding:1px 12px;font-size:12px}
    .bar-row:hover{background:var(--soft)}
    .bar-label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;text-align:right}
    .bar-track{height:12px;position:relative}
    .bar{height:100%;min-width:2px;background:var(--c,var(--accent));border-radius:2px}
    .bar-value{text-align:right;font-variant-numeric:tabular-nums;color:var(--muted)}
    .bar-row.added .bar{outline:2px solid var(--added)}.bar-row.removed .bar{outline:2px solid var(--removed)}
    .bar-row.changed .bar{outline:2px solid var(--changed)}
    .hist{display:flex;align-items:flex-end;gap:6px;height:230px;padding:8px 12px 0;border:1px solid var(--line);border-radius:8px;overflow-x:auto}
    .hist-bin{flex:1 0 64px;display:flex;flex-direction:column;align-items:center;justify-content:flex-end;height:100%;min-width:0}
    .hist-count{font-size:11px;color:var(--muted);font-variant-numeric:tabular-nums;margin-bottom:2px}
    .hist-col{width:72%;background:var(--accent);border-radius:3px 3px 0 0;min-height:0}
    .hist-bin.zero .hist-col{background:var(--removed)}
    .hist-bin.near .hist-col{background:var(--changed)}
    .hist-label{font-size:11px;color:var(--muted);border-top:1px solid var(--line);width:100%;text-align:center;padding:3px 0 6px;white-space:nowrap}
    details.tensors{margin-top:14px}
    details.tensors>summary{cursor:pointer;font-size:13px;font-weight:600;color:var(--muted);margin-bottom:6px}
    .legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:var(--muted);margin:0 0 8px}
    .legend i{display:inline-block;width:10px;height:10px;border-radius:2px;background:var(--c);margin-right:5px;vertical-align:-1px}
    .legend span.added i{background:var(--added)}.legend span.removed i{background:var(--removed)}.legend span.changed i{background:var(--changed)}
    .graph-wrap{max-height:80vh;overflow:auto;border:1px solid var(--line);border-radius:8px;background:var(--bg)}
    svg.graph{display:block;margin:0 auto}
    svg.graph text{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace;fill:var(--fg)}
    svg.graph .node rect{fill:color-mix(in srgb,var(--c,var(--edge)) 15%,var(--bg));stroke:var(--c,var(--edge));stroke-width:1.2}
    svg.graph .node .t{font-size:11px;font-weight:700}
    svg.graph .node .s{font-size:10px;fill:var(--muted)}
    svg.graph .node:hover rect{stroke-width:2.4}
    svg.graph .node.io rect{fill:var(--soft);stroke-dasharray:3 2}
    svg.graph .edge{fill:none;stroke:var(--edge);stroke-width:1.2}
    svg.graph .edge:hover{stroke:var(--accent);stroke-width:2.4}
    svg.graph marker path{fill:var(--edge)}
    svg.graph .node.added rect{stroke:var(--added);stroke-width:2.6;fill:color-mix(in srgb,var(--added) 16%,var(--bg))}
    svg.graph .node.removed rect{stroke:var(--removed);stroke-width:2.6;fill:color-mix(in srgb,var(--removed) 16%,var(--bg))}
    svg.graph .node.changed rect{stroke:var(--changed);stroke-width:2.6;fill:color-mix(in srgb,var(--changed) 18%,var(--bg))}
    svg.graph .edge.added{stroke:var(--added);stroke-width:2}svg.graph marker.added path{fill:var(--added)}
    svg.graph .edge.removed{stroke:var(--removed);stroke-width:2;stroke-dasharray:4 3}svg.graph marker.removed path{fill:var(--removed)}
    svg.graph .edge.changed{stroke:var(--changed);stroke-width:2}svg.graph marker.changed path{fill:var(--changed)}
    .side-by-side{display:grid;grid-template-columns:1fr 1fr;gap:16px;align-items:start}
    .side-by-side>*{min-width:0}
    @media (max-width:900px){.side-by-side{grid-template-columns:1fr}.bar-row{grid-template-columns:120px 1fr 70px}}
    @media print{header.top{position:static}.scroll,.bars,.graph-wrap{max-height:none;overflow:visible}}

    """

    /// Click a column heading to sort the table (numbers by their `data-v`); the bar charts'
    /// buttons switch between model order and largest first.
    package static let script = """
    "use strict";
    for (const th of document.querySelectorAll("table.sortable th")) {
      th.addEventListener("click", () => {
        const table = th.closest("table"), body = table.tBodies[0], column = th.cellIndex;
        const numeric = th.classList.contains("num");
        const dir = th.dataset.dir ? (th.dataset.dir === "asc" ? "desc" : "asc") : (numeric ? "desc" : "asc");
        for (const other of table.querySelectorAll("th")) delete other.dataset.dir;
        th.dataset.dir = dir;
        const key = row => { const cell = row.cells[column]; if (!cell) return ""; return cell.dataset.v !== undefined ? Number(cell.dataset.v) : cell.textContent; };
        const rows = [...body.rows].sort((a, b) => {
          const x = key(a), y = key(b);
          const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
          return dir === "asc" ? order : -order;
        });
        body.append(...rows);
      });
    }
    for (const button of document.querySelectorAll("button[data-order]")) {
      button.addEventListener("click", () => {
        const box = document.getElementById(button.dataset.target), byValue = button.dataset.order === "v";
        const rows = [...box.children].sort((a, b) => byValue ? b.dataset.v - a.dataset.v : a.dataset.i - b.dataset.i);
        box.append(...rows);
        for (const other of button.parentElement.querySelectorAll("button")) other.classList.toggle("on", other === button);
      });
    }
    document.documentElement.classList.add("js");

    """
}
