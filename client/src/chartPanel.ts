/**
 * The port map chart in a webview panel (command "Portolan: Open Port Map Chart"): one host at a time,
 * picked in the page; a click on a port opens its line. The HTML comes from portMapChart.ts.
 */
import * as crypto from 'crypto';
import * as vscode from 'vscode';
import type { Location, PortMapHost } from '../../server/out/protocol';
import { chartHtml } from './portMapChart';

export class ChartPanel implements vscode.Disposable {
  private panel?: vscode.WebviewPanel;
  private hostId?: string;
  private hosts: PortMapHost[] = [];

  constructor(
    private readonly reveal: (location: Location) => Promise<void>,
    private readonly ephemeral: () => { from: number; to: number }[],
  ) {}

  get visible(): boolean {
    return !!this.panel;
  }

  /** The host drawn now (for tests). */
  get host(): PortMapHost | undefined {
    return this.hosts.find((h) => h.id === this.hostId) ?? this.hosts[0];
  }

  show(hosts: PortMapHost[], hostId?: string): void {
    this.hosts = hosts;
    if (hostId) this.hostId = hostId;
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel('portolan.portMapChart', 'Port Map', vscode.ViewColumn.Active, {
        enableScripts: true,
        localResourceRoots: [],
      });
      this.panel.onDidDispose(() => (this.panel = undefined));
      this.panel.webview.onDidReceiveMessage(async (message: { type: string; location?: Location; host?: string }) => {
        if (message.type === 'open' && message.location) await this.reveal(message.location);
        if (message.type === 'host' && message.host) {
          this.hostId = message.host;
          this.render();
        }
      });
    }
    this.render();
    this.panel.reveal(undefined, false);
  }

  /** New data from the server: redraw if open. */
  update(hosts: PortMapHost[]): void {
    this.hosts = hosts;
    if (this.panel) this.render();
  }

  private render(): void {
    if (!this.panel) return;
    const host = this.host;
    this.panel.title = host ? `Port Map: ${host.label}` : 'Port Map';
    this.panel.webview.html = chartHtml(host, {
      ephemeral: this.ephemeral(),
      hosts: this.hosts.map((h) => ({ id: h.id, label: h.label })),
      nonce: crypto.randomBytes(16).toString('base64'),
      cspSource: this.panel.webview.cspSource,
    });
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
