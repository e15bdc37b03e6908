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
  /** Every host, as summaries (the picker). */
  private hosts: PortMapHost[] = [];
  /** The host drawn now, with its ports. */
  private drawn?: PortMapHost;

  constructor(
    private readonly reveal: (location: Location) => Promise<void>,
    private readonly ephemeral: () => { from: number; to: number }[],
    private readonly fetchHost: (id: string) => Promise<PortMapHost | undefined>,
  ) {}

  get visible(): boolean {
    return !!this.panel;
  }

  /** The host drawn now (for tests). */
  get host(): PortMapHost | undefined {
    return this.drawn;
  }

  async show(hosts: PortMapHost[], hostId?: string): Promise<void> {
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
          await this.render();
        }
      });
    }
    await this.render();
    this.panel?.reveal(undefined, false);
  }

  /** New data from the server: redraw if open. */
  async update(hosts: PortMapHost[]): Promise<void> {
    this.hosts = hosts;
    if (this.panel) await this.render();
  }

  private async render(): Promise<void> {
    if (!this.panel) return;
    const id = this.hosts.some((h) => h.id === this.hostId) ? this.hostId! : this.hosts[0]?.id;
    const host = id ? await this.fetchHost(id) : undefined;
    if (!this.panel) return;
    this.drawn = host;
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
