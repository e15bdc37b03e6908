/**
 * The Port Map view (activity bar → Portolan): host → port/protocol → who binds it, who points at it,
 * what each firewall does with it, the findings and the firewall rules naming it. Every line with a
 * place in a file jumps there. Refreshed by extension.ts when the server reports a new analysis: the
 * hosts come as a summary (counts only), and a host's ports are asked for when it is expanded.
 */
import * as vscode from 'vscode';
import type { Location, PortMapEntry, PortMapHost } from '../../server/out/protocol';
import { describeEntry, firewallName, stateOf, verdictText } from './portMapChart';

export type PortMapNode =
  | { kind: 'host'; host: PortMapHost }
  | { kind: 'port'; host: PortMapHost; entry: PortMapEntry }
  | { kind: 'leaf'; id: string; label: string; description?: string; icon: vscode.ThemeIcon; location?: Location; tooltip?: string };

export const REVEAL_COMMAND = 'portolan.revealLocation';

export class PortMapTree implements vscode.TreeDataProvider<PortMapNode> {
  private readonly changed = new vscode.EventEmitter<PortMapNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private current: PortMapHost[] = [];
  /** Hosts with their ports, fetched on expansion, for the analysis now shown. */
  private readonly details = new Map<string, Promise<PortMapHost | undefined>>();

  /** `fetchHost` asks the server for one host with its ports. */
  constructor(private readonly fetchHost: (id: string) => Promise<PortMapHost | undefined>) {}

  /** The hosts shown now, as summaries (for tests and the chart's host picker). */
  get hosts(): PortMapHost[] {
    return this.current;
  }

  /** A new analysis: the host summaries; expanded hosts ask for their ports again. */
  update(hosts: PortMapHost[]): void {
    this.current = hosts;
    this.details.clear();
    this.changed.fire(undefined);
  }

  async getChildren(node?: PortMapNode): Promise<PortMapNode[]> {
    if (!node) return this.current.map((host) => ({ kind: 'host', host }));
    if (node.kind === 'host') {
      let detail = this.details.get(node.host.id);
      if (!detail) this.details.set(node.host.id, (detail = this.fetchHost(node.host.id)));
      const host = await detail;
      return host ? host.ports.map((entry) => ({ kind: 'port', host, entry })) : [];
    }
    if (node.kind === 'port') return leaves(node.host, node.entry);
    return [];
  }

  getTreeItem(node: PortMapNode): vscode.TreeItem {
    if (node.kind === 'host') return hostItem(node.host, this.current.length === 1);
    if (node.kind === 'port') return portItem(node.host, node.entry);
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = node.description;
    item.iconPath = node.icon;
    item.tooltip = node.tooltip ?? node.label;
    if (node.location) item.command = { command: REVEAL_COMMAND, title: 'Go to line', arguments: [node.location] };
    return item;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function hostItem(host: PortMapHost, only: boolean): vscode.TreeItem {
  const item = new vscode.TreeItem(host.label, only ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `host|${host.id}`;
  item.contextValue = 'host';
  item.description = `${plural(host.portCount, 'port')} · ${plural(host.errors, 'error')} · ${plural(host.warnings, 'warning')}`;
  item.iconPath = new vscode.ThemeIcon('server');
  item.tooltip = `${host.label}: ${plural(host.files, 'file')}, ${plural(host.portCount, 'port')}; ${host.firewalls.map((f) => f.tool).join(', ') || 'no firewall'}`;
  return item;
}

function portItem(host: PortMapHost, entry: PortMapEntry): vscode.TreeItem {
  const num = entry.portEnd !== entry.port ? `${entry.port}-${entry.portEnd}` : String(entry.port);
  const item = new vscode.TreeItem(`${entry.protocol} ${num}`, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `port|${host.id}|${entry.protocol}|${entry.port}|${entry.portEnd}`;
  const programs = [...new Set(entry.binds.map((b) => b.program))].sort();
  item.description = [entry.service, programs.join(', '), entry.conflict ? 'conflict' : undefined].filter(Boolean).join(' · ');
  const state = stateOf(entry);
  item.iconPath =
    state === 'conflict' || state === 'error'
      ? new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground'))
      : state === 'warning'
        ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'))
        : new vscode.ThemeIcon('plug');
  item.tooltip = new vscode.MarkdownString(
    describeEntry(entry)
      .map((l) => l.replace(/[\\`*_[\]<>]/g, '\\$&'))
      .join('  \n'),
  );
  const first = entry.binds[0] ?? entry.pointers[0] ?? entry.rules[0];
  if (first) item.command = { command: REVEAL_COMMAND, title: 'Go to line', arguments: [first.location] };
  return item;
}

function leaves(host: PortMapHost, entry: PortMapEntry): PortMapNode[] {
  const base = `${host.id}|${entry.protocol}|${entry.port}|${entry.portEnd}`;
  const out: PortMapNode[] = [];
  entry.binds.forEach((b, i) =>
    out.push({ kind: 'leaf', id: `${base}|bind|${i}`, label: b.label, description: b.where, icon: new vscode.ThemeIcon('radio-tower'), location: b.location }),
  );
  entry.pointers.forEach((p, i) =>
    out.push({
      kind: 'leaf',
      id: `${base}|pointer|${i}`,
      label: `points at it: ${p.label}`,
      description: p.where,
      icon: new vscode.ThemeIcon('arrow-right'),
      location: p.location,
    }),
  );
  entry.firewall.forEach((f, i) => {
    const open = f.verdict === 'accept' || f.verdict === 'disabled';
    out.push({
      kind: 'leaf',
      id: `${base}|firewall|${i}`,
      label: `${firewallName(f, entry.firewall)}: ${verdictText(f)}`,
      description: f.where,
      icon: new vscode.ThemeIcon(open ? 'shield' : 'circle-slash'),
      location: f.location,
    });
  });
  entry.findings.forEach((f, i) =>
    out.push({
      kind: 'leaf',
      id: `${base}|finding|${i}`,
      label: f.message,
      description: f.code,
      tooltip: `${f.severity} ${f.code}: ${f.message}`,
      icon: new vscode.ThemeIcon(f.severity === 'error' ? 'error' : f.severity === 'warning' ? 'warning' : 'info'),
      location: f.location,
    }),
  );
  entry.rules.forEach((r, i) =>
    out.push({
      kind: 'leaf',
      id: `${base}|rule|${i}`,
      label: `rule: ${r.label}`,
      description: r.where,
      icon: new vscode.ThemeIcon('list-filter'),
      location: r.location,
    }),
  );
  return out;
}
