/**
 * The port map chart: the 0–65535 line of one host as an SVG, with IANA's well-known (0–1023),
 * registered (1024–49151) and dynamic (49152–65535) bands, the configured ephemeral ranges over them,
 * and every port of the host as a marker (red: a conflict; amber: other findings). Pure: a port map
 * host in, the webview's HTML out (no `vscode` import, so unit tests load it).
 *
 * The scale is piecewise linear so that the well-known band, where most servers live, is readable:
 * each band gets a fixed share of the width (the axis labels say where each band starts and ends).
 */
import type { PortMapEntry, PortMapHost } from '../../server/out/protocol';

export const WIDTH = 1000;
const LEFT = 40;
const RIGHT = 40;
/** Share of the drawn width per IANA band. */
const BANDS = [
  { from: 0, to: 1023, share: 0.3, name: 'well-known', label: 'well-known 0–1023' },
  { from: 1024, to: 49151, share: 0.5, name: 'registered', label: 'registered 1024–49151' },
  { from: 49152, to: 65535, share: 0.2, name: 'dynamic', label: 'dynamic / ephemeral 49152–65535' },
] as const;

/** x of a port on the drawn line. */
export function xOf(port: number): number {
  const span = WIDTH - LEFT - RIGHT;
  let x = LEFT;
  for (const band of BANDS) {
    const w = span * band.share;
    if (port <= band.to) return x + (w * (Math.max(port, band.from) - band.from)) / (band.to - band.from + 1);
    x += w;
  }
  return LEFT + span;
}

export interface ChartMarker {
  entry: PortMapEntry;
  x: number;
  /** Row above the line (0 = nearest), so that close ports do not cover one another. */
  row: number;
  state: 'conflict' | 'error' | 'warning' | 'ok';
}

const MIN_GAP = 11;

/** Places every port of the host: its x, a row so that close markers stack, and its colour. */
export function placeMarkers(ports: PortMapEntry[]): ChartMarker[] {
  const lastXInRow: number[] = [];
  return [...ports]
    .sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol))
    .map((entry) => {
      const x = xOf(entry.port);
      let row = 0;
      while (lastXInRow[row] !== undefined && x - lastXInRow[row] < MIN_GAP) row++;
      lastXInRow[row] = x;
      return { entry, x, row, state: stateOf(entry) };
    });
}

export function stateOf(entry: PortMapEntry): ChartMarker['state'] {
  if (entry.conflict) return 'conflict';
  if (entry.findings.some((f) => f.severity === 'error')) return 'error';
  if (entry.findings.some((f) => f.severity === 'warning')) return 'warning';
  return 'ok';
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The tooltip of a marker: number, service, who binds it, what points at it, firewall, findings. */
export function describeEntry(entry: PortMapEntry): string[] {
  const num = entry.portEnd !== entry.port ? `${entry.port}-${entry.portEnd}` : String(entry.port);
  const lines = [`${entry.protocol.toUpperCase()} ${num}${entry.service ? ` — ${entry.service}` : ''} (${entry.rangeClass})`];
  for (const b of entry.binds) lines.push(`${b.label} — ${b.where}`);
  for (const p of entry.pointers) lines.push(`${p.label} — ${p.where}`);
  for (const f of entry.firewall) lines.push(`${firewallName(f, entry.firewall)}: ${verdictText(f)}`);
  for (const f of entry.findings) lines.push(`${f.severity}: ${f.message} [${f.code}]`);
  return lines;
}

/** "iptables", or "ufw (IPv6)" when the same firewall says something else for the other family. */
export function firewallName(f: PortMapEntry['firewall'][number], all: PortMapEntry['firewall']): string {
  const split = f.family !== 'both' && all.some((o) => o !== f && o.tool === f.tool && o.family !== f.family);
  return split ? `${f.tool} (${f.family === 'ipv4' ? 'IPv4' : 'IPv6'})` : f.tool;
}

export function verdictText(f: PortMapEntry['firewall'][number]): string {
  const at = f.location ? ` at line ${f.location.range.start.line + 1}` : '';
  const by = f.by === 'rule' ? `by the rule${at}` : f.by === 'policy' ? `by the default policy${at || ' (not written)'}` : '';
  const main = f.verdict === 'disabled' ? 'disabled' : f.verdict === 'unknown' ? 'no rule or policy decides' : `${f.verdict} ${by}`.trim();
  return f.conditional.length > 0 ? `${main}; ${f.conditional.join('; ')}` : main;
}

export interface ChartOptions {
  /** Ranges treated as ephemeral (`portolan.ephemeralRanges`). */
  ephemeral: { from: number; to: number }[];
  /** Hosts to offer in the picker: id and label. */
  hosts: { id: string; label: string }[];
  nonce: string;
  cspSource: string;
}

/** The SVG of one host's ports. */
export function chartSvg(host: PortMapHost, ephemeral: { from: number; to: number }[]): string {
  const markers = placeMarkers(host.ports);
  const rows = Math.max(1, ...markers.map((m) => m.row + 1));
  const lineY = 40 + rows * 14;
  const height = lineY + 70;
  const parts: string[] = [];
  parts.push(`<svg id="chart" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="ports of ${escape(host.label)} on 0–65535">`);
  let x = LEFT;
  for (const band of BANDS) {
    const w = (WIDTH - LEFT - RIGHT) * band.share;
    parts.push(
      `<rect class="band band-${band.name}" x="${x.toFixed(1)}" y="${lineY - 8}" width="${w.toFixed(1)}" height="16"><title>${escape(band.label)}</title></rect>`,
    );
    parts.push(`<text class="band-label" x="${(x + w / 2).toFixed(1)}" y="${lineY + 30}" text-anchor="middle">${escape(band.label)}</text>`);
    x += w;
  }
  for (const r of ephemeral) {
    const x0 = xOf(r.from);
    const x1 = xOf(r.to);
    parts.push(
      `<rect class="ephemeral" x="${x0.toFixed(1)}" y="${lineY + 9}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="5"><title>ephemeral ${r.from}–${r.to} (portolan.ephemeralRanges)</title></rect>`,
    );
  }
  for (const tick of [0, 1024, 49152, 65535]) {
    parts.push(`<text class="tick" x="${xOf(tick).toFixed(1)}" y="${lineY + 50}" text-anchor="middle">${tick}</text>`);
  }
  markers.forEach((m, i) => {
    const y = lineY - 14 - m.row * 14;
    const num = m.entry.portEnd !== m.entry.port ? `${m.entry.port}-${m.entry.portEnd}` : String(m.entry.port);
    const label = `${m.entry.protocol} ${num}`;
    parts.push(
      `<g class="marker ${m.state}" data-index="${i}" tabindex="0" role="button" aria-label="${escape(label)}">` +
        `<line x1="${m.x.toFixed(1)}" y1="${y + 5}" x2="${m.x.toFixed(1)}" y2="${lineY - 8}" />` +
        `<circle cx="${m.x.toFixed(1)}" cy="${y}" r="5" />` +
        `<title>${escape(describeEntry(m.entry).join('\n'))}</title></g>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The whole webview page: host picker, chart, legend, the details of the port under the mouse. */
export function chartHtml(host: PortMapHost | undefined, options: ChartOptions): string {
  const markers = host ? placeMarkers(host.ports) : [];
  const data = markers.map((m) => ({ lines: describeEntry(m.entry), location: (m.entry.binds[0] ?? m.entry.pointers[0] ?? m.entry.rules[0])?.location }));
  const picker = options.hosts.map((h) => `<option value="${escape(h.id)}"${host && h.id === host.id ? ' selected' : ''}>${escape(h.label)}</option>`).join('');
  const summary = host
    ? `${host.ports.length} ports · ${host.errors} errors · ${host.warnings} warnings · ${markers.filter((m) => m.state === 'conflict').length} in conflict`
    : 'No host has ports yet.';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${options.cspSource} 'nonce-${options.nonce}'; script-src 'nonce-${options.nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Port map</title>
<style nonce="${options.nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 8px 16px; }
header { display: flex; gap: 12px; align-items: center; }
h1 { font-size: 1.2em; margin: 0; }
select { background: var(--vscode-dropdown-background); color: var(--vscode-dropdown-foreground); border: 1px solid var(--vscode-dropdown-border); }
.summary { opacity: 0.8; }
.band { stroke: none; }
.band-well-known { fill: var(--vscode-charts-blue, #3794ff); opacity: 0.35; }
.band-registered { fill: var(--vscode-charts-green, #89d185); opacity: 0.3; }
.band-dynamic { fill: var(--vscode-charts-purple, #b180d7); opacity: 0.35; }
.ephemeral { fill: var(--vscode-charts-orange, #d18616); opacity: 0.7; }
.band-label, .tick { fill: var(--vscode-foreground); font-size: 11px; }
.marker { cursor: pointer; }
.marker line { stroke: var(--vscode-foreground); stroke-width: 1; opacity: 0.5; }
.marker circle { fill: var(--vscode-charts-blue, #3794ff); stroke: var(--vscode-editor-background); stroke-width: 1; }
.marker.warning circle { fill: var(--vscode-charts-yellow, #cca700); }
.marker.error circle, .marker.conflict circle { fill: var(--vscode-charts-red, #f14c4c); }
.marker:hover circle, .marker:focus circle, .marker.active circle { r: 7; stroke: var(--vscode-focusBorder); stroke-width: 2; }
#details { white-space: pre-wrap; font-family: var(--vscode-editor-font-family); font-size: 12px; min-height: 6em; border-top: 1px solid var(--vscode-panel-border); padding-top: 6px; }
.legend span { margin-right: 14px; }
.legend .dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 4px; }
.dot.red { background: var(--vscode-charts-red, #f14c4c); }
.dot.yellow { background: var(--vscode-charts-yellow, #cca700); }
.dot.blue { background: var(--vscode-charts-blue, #3794ff); }
.dot.orange { background: var(--vscode-charts-orange, #d18616); border-radius: 0; }
</style></head>
<body>
<header><h1>Port map</h1><select id="host" aria-label="host">${picker}</select><span class="summary">${escape(summary)}</span></header>
${host ? chartSvg(host, options.ephemeral) : '<p>Open a folder with server configuration to see its ports.</p>'}
<div class="legend"><span><i class="dot red"></i>conflict or error</span><span><i class="dot yellow"></i>warning</span><span><i class="dot blue"></i>no finding</span><span><i class="dot orange"></i>ephemeral ranges (portolan.ephemeralRanges)</span></div>
<div id="details" aria-live="polite">Hover a port for its details; click it to go to the line.</div>
<script nonce="${options.nonce}">
const vscode = acquireVsCodeApi();
const data = ${JSON.stringify(data).replace(/</g, '\\u003c')};
const details = document.getElementById('details');
for (const g of document.querySelectorAll('.marker')) {
  const item = data[Number(g.dataset.index)];
  const show = () => { details.textContent = item.lines.join('\\n'); document.querySelectorAll('.marker.active').forEach((m) => m.classList.remove('active')); g.classList.add('active'); };
  g.addEventListener('mouseenter', show);
  g.addEventListener('focus', show);
  const open = () => { if (item.location) vscode.postMessage({ type: 'open', location: item.location }); };
  g.addEventListener('click', open);
  g.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') open(); });
}
document.getElementById('host').addEventListener('change', (e) => vscode.postMessage({ type: 'host', host: e.target.value }));
</script>
</body></html>`;
}
