package records

// renderTemplates are the fragments of the rendered pages. A thread page is
// "head", then for each item in reading order "item" (which leaves the
// item's article and its replies open: closeItem ends them), then "foot".
// Nothing here loads anything from outside the bag.
const renderTemplates = `
{{define "css"}}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:1.5em auto;max-width:60em;padding:0 1em;color:#1b1b1b;background:#fff}
h1{font-size:1.35em;margin:.2em 0}
.about,.meta,.files,.where{color:#555;font-size:.9em}
code{font-size:.85em;word-break:break-all}
article.item{border-left:3px solid #8aa4c8;margin:.8em 0 .8em 0;padding:.2em 0 .2em .8em}
article.post{border-left-color:#2d5da1}
article.deleted{border-left-color:#b3261e;background:#fff6f5}
article.hidden{background:#f6f6f6}
.replies{margin-left:1.2em}
.replies:empty{display:none}
.kind{text-transform:uppercase;font-size:.75em;letter-spacing:.05em;background:#e8eef7;padding:.1em .4em;border-radius:3px}
.mark{font-weight:600;margin:.3em 0}
.del{color:#b3261e}.hid{color:#6b4e00}.edit{color:#2d5da1}.disp{color:#555}
.note{font-style:italic;color:#555}
.version{border:1px solid #ddd;border-radius:4px;margin:.4em 0;padding:.3em .6em}
.version.current{border-color:#8aa4c8}
.version h4{margin:.1em 0;font-size:.9em}
.text{white-space:pre-wrap;overflow-wrap:anywhere;margin:.3em 0}
.media img{max-width:20em;max-height:20em;display:block}
.context{border:1px dashed #aaa;padding:.3em .8em;margin:.8em 0}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.3em;text-align:left;vertical-align:top;font-size:.92em}
tr.deleted{background:#fff6f5}
{{end}}

{{define "page-top"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src 'self' file: data:; media-src 'self' file:">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{template "css"}}</style>
</head>
<body>
{{end}}

{{define "about"}}<p class="about">{{.Entity}} · litigation export {{.ExportID}}{{if .Matter}} · matter: {{.Matter}}{{end}} · all times are UTC (RFC 3339)</p>{{end}}

{{define "head"}}{{template "page-top" .}}<nav><a href="index.html">All threads of this export</a></nav>
<h1>{{.Title}}</h1>
{{template "about" .}}
<p class="about">{{.Items}} exported item(s) in this thread. Each shows every version captured, with the capture time and the files it came from.</p>
{{if .Missing}}<p class="note">The post of this thread (item {{.RootID}}) is not in the catalog.</p>{{end}}
{{with .Context}}<aside class="context"><p class="note">The post of this thread is not among the exported items; it is shown for context only, as last captured.</p>
{{template "item-body" .}}</aside>{{end}}
<main>
{{end}}

{{define "item"}}<article class="item {{.Kind}}{{if .Deleted}} deleted{{end}}{{if .Hidden}} hidden{{end}}" id="item-{{.ID}}">
{{template "item-body" .}}<div class="replies">{{end}}

{{define "item-body"}}<header><span class="kind">{{.Kind}}</span> <strong>{{if .Author}}{{.Author}}{{else}}(no author name){{end}}</strong>
<span class="where">{{.Platform}} · account @{{.Account}} · native id <code>{{.NativeID}}</code> · item {{.ID}}</span></header>
{{- if .Deleted}}<p class="mark del">DELETED from the platform: noticed missing by the capture of {{.Deleted}}</p>{{end}}
{{- if .Hidden}}<p class="mark hid">HIDDEN on the platform (hidden from the public) when last captured</p>{{end}}
{{- if .Disposed}}<p class="mark disp">Content disposed of under the retention schedule on {{.Disposed}}; this record of it remains</p>{{end}}
{{- if gt (len .Versions) 1}}<p class="mark edit">EDITED: {{len .Versions}} versions captured</p>{{end}}
{{- if .Detached}}<p class="note">In reply to {{.ParentNativeID}}, which is not in this export.</p>{{end}}
<p class="meta">Posted {{or .Created "(time not given by the platform)"}}{{if .Edited}} · edited on the platform {{.Edited}}{{end}} · first captured {{.FirstSeen}} · last seen {{.LastSeen}}</p>
{{if .URL}}<p class="meta">Address on the platform (not a link: this page makes no outside requests): <code>{{.URL}}</code></p>{{end}}
{{if .Exported}}{{range .Versions}}<section class="version{{if .Current}} current{{end}}">
<h4>Version {{.Seq}}{{if .Current}} (current){{end}}, captured {{.Captured}}{{if .Marker}}, platform edit marker {{.Marker}}{{end}}</h4>
<div class="text">{{.Text}}</div>
<p class="files">content SHA-256 <code>{{.SHA256}}</code> · <a href="{{.Normalized}}">normalised JSON</a>{{if .Raw}} · <a href="{{.Raw}}">raw platform response</a>{{end}}</p>
</section>
{{else}}<p class="note">No version of this item is kept.</p>
{{end}}{{if .Media}}<ul class="media">{{range .Media}}<li>{{if .Path}}{{if .Image}}<a href="{{.Path}}"><img src="{{.Path}}" alt="attachment {{.SHA256}}"></a>{{end}}<a href="{{.Path}}">{{or .Type "file"}}, {{.Size}} bytes</a>{{else}}{{or .Type "file"}}, {{.Size}} bytes (not in this bundle){{end}} · SHA-256 <code>{{.SHA256}}</code></li>
{{end}}</ul>{{end}}{{else}}<div class="text">{{.CurrentText}}</div>{{end}}
{{end}}

{{define "foot"}}</main>
<footer><p class="about">Made by civicarchive. The files this page links to are in the same bag; manifest-sha256.txt holds the SHA-256 of each.</p></footer>
</body></html>
{{end}}

{{define "index-head"}}{{template "page-top" .}}<h1>Threads of litigation export {{.ExportID}}</h1>
{{template "about" .}}
<p class="about">{{.Items}} exported item(s). Each thread is one page: its post, comments and replies with every version captured.</p>
<table><thead><tr><th>Thread</th><th>Post</th><th>Platform</th><th>Account</th><th>Posted</th><th>Items</th><th>Text</th></tr></thead>
<tbody>
{{end}}

{{define "index-row"}}<tr{{if .Deleted}} class="deleted"{{end}}><td><a href="{{.Page}}">{{.Root}}</a></td><td>{{.Kind}}{{if not .Exported}} (context only){{end}}{{if .Deleted}}, deleted{{end}}</td><td>{{.Platform}}</td><td>@{{.Account}}</td><td>{{.Created}}</td><td>{{.Items}}</td><td>{{.Text}}</td></tr>
{{end}}

{{define "index-foot"}}</tbody></table>
</body></html>
{{end}}
`
