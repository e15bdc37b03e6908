/**
 * The status bar item: the server's state (starting, analysing N files, ready, stopped) and, when
 * ready, the errors and warnings of the host of the active editor (of every host when the active
 * file belongs to none). Click: a menu to open the output, restart the server or open the port map.
 */
import * as vscode from 'vscode';
import type { PortMapHost, ServerStatus } from '../../server/out/protocol';

export const STATUS_MENU_COMMAND = 'portolan.statusMenu';

export type ClientState = 'starting' | 'running' | 'stopped';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export class StatusItem implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem('portolan.status', vscode.StatusBarAlignment.Left, 10);
  private client: ClientState = 'starting';
  private server?: ServerStatus;
  private hosts?: { label: string; hosts: PortMapHost[] };

  constructor(private readonly version: string) {
    this.item.name = 'Portolan';
    this.item.command = STATUS_MENU_COMMAND;
    this.render();
    this.item.show();
  }

  setClientState(state: ClientState): void {
    this.client = state;
    if (state !== 'running') this.server = undefined;
    this.render();
  }

  setServerStatus(status: ServerStatus): void {
    this.server = status;
    this.render();
  }

  /** The hosts whose counts are shown: the active file's host (label = its name), or all of them. */
  setHosts(label: string, hosts: PortMapHost[]): void {
    this.hosts = { label, hosts };
    this.render();
  }

  get text(): string {
    return this.item.text;
  }

  private render(): void {
    const item = this.item;
    item.backgroundColor = undefined;
    if (this.client === 'stopped') {
      item.text = '$(debug-disconnect) Portolan: server stopped';
      item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
      item.tooltip = 'The Portolan language server is not running. Click to see its output or restart it.';
      return;
    }
    if (this.client === 'starting' || !this.server) {
      item.text = '$(sync~spin) Portolan: starting';
      item.tooltip = `Portolan ${this.version}: the language server is starting.`;
      return;
    }
    if (this.server.state === 'analysing') {
      item.text = `$(sync~spin) Portolan: analysing ${plural(this.server.files, 'file')}`;
      item.tooltip = `Portolan ${this.version}: analysing the workspace.`;
      return;
    }
    const hosts = this.hosts?.hosts ?? [];
    const errors = hosts.reduce((n, h) => n + h.errors, 0);
    const warnings = hosts.reduce((n, h) => n + h.warnings, 0);
    const icon = errors > 0 ? '$(error)' : warnings > 0 ? '$(warning)' : '$(check)';
    const label = this.hosts?.label ?? '';
    item.text = `${icon} Portolan${label ? ` ${label}` : ''}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
    const tip = new vscode.MarkdownString();
    tip.appendMarkdown(`**Portolan ${this.version}** — ready\n\n`);
    tip.appendMarkdown(`${label ? `Host \`${label}\`` : `${plural(hosts.length, 'host')}`}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}\n\n`);
    tip.appendMarkdown(`${plural(this.server.files, 'file')} analysed in ${this.server.durationMs ?? 0} ms\n\n`);
    tip.appendMarkdown('Click for the output, a restart or the port map.');
    item.tooltip = tip;
  }

  dispose(): void {
    this.item.dispose();
  }
}
