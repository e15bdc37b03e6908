/**
 * The VS Code client: starts the Portolan language server over IPC, and shows what it finds beyond
 * diagnostics and hovers: the Port Map view and chart (from the `portolan/portMap` request), a status
 * bar item (server state and the current host's findings, from `portolan/status`), and the output
 * channel. All analysis lives in the server.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { LanguageClient, State, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { PORT_MAP_REQUEST, STATUS_NOTIFICATION, type Location, type PortMapParams, type PortMapResult, type ServerStatus } from '../../server/out/protocol';
import { ChartPanel } from './chartPanel';
import { PortMapTree, REVEAL_COMMAND } from './portMapTree';
import { STATUS_MENU_COMMAND, StatusItem } from './status';

let client: LanguageClient | undefined;

/** What activate() returns: for the real-VS-Code tests and for other extensions. */
export interface PortolanApi {
  languageClient(): LanguageClient | undefined;
  portMap(params?: PortMapParams): Promise<PortMapResult>;
  tree: PortMapTree;
  status: StatusItem;
  chart: ChartPanel;
  output: vscode.LogOutputChannel;
  /** Bumped each time the tree and status bar have taken in a new analysis. */
  readonly refreshed: number;
}

export async function activate(context: vscode.ExtensionContext): Promise<PortolanApi> {
  const version = String(context.extension.packageJSON.version ?? '');
  const output = vscode.window.createOutputChannel('Portolan', { log: true });
  output.appendLine(`Portolan ${version} in ${vscode.env.appName} ${vscode.version} (extension at ${context.extensionPath})`);
  const fetchHost = async (id: string) => (await portMap({ host: id })).hosts[0];
  const tree = new PortMapTree(fetchHost);
  const status = new StatusItem(version);
  const chart = new ChartPanel(reveal, ephemeralSetting, fetchHost);
  const view = vscode.window.createTreeView('portolan.portMap', { treeDataProvider: tree, showCollapseAll: true });
  context.subscriptions.push(output, status, chart, view);

  const module = context.asAbsolutePath(path.join('server', 'out', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const clientOptions: LanguageClientOptions = {
    // Formats are detected by path and content in the server, so every file-backed document goes to it.
    documentSelector: [{ scheme: 'file' }],
    synchronize: { configurationSection: 'portolan' },
    outputChannel: output,
  };
  client = new LanguageClient('portolan', 'Portolan', serverOptions, clientOptions);
  let refreshed = 0;
  let restarting = false;

  const portMap = async (params: PortMapParams = {}): Promise<PortMapResult> => {
    if (!client || client.state !== State.Running) return { hosts: [] };
    return client.sendRequest<PortMapResult>(PORT_MAP_REQUEST, params);
  };
  const refresh = debounce(async () => {
    try {
      const all = await portMap({ summary: true });
      tree.update(all.hosts);
      await chart.update(all.hosts);
      const active = activeFileUri();
      const own = active ? await portMap({ uri: active, summary: true }) : { hosts: [] };
      if (own.hosts.length === 1) status.setHosts(own.hosts[0].label, own.hosts);
      else status.setHosts(all.hosts.length === 1 ? all.hosts[0].label : '', all.hosts);
      refreshed++;
    } catch (err) {
      output.appendLine(`[client] port map request failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }, 150);

  context.subscriptions.push(
    client.onDidChangeState(({ newState }) => {
      if (newState === State.Running) status.setClientState('running');
      else if (newState === State.Starting) status.setClientState('starting');
      else if (!restarting) status.setClientState('stopped');
    }),
    client.onNotification(STATUS_NOTIFICATION, (s: ServerStatus) => {
      status.setServerStatus(s);
      if (s.state === 'ready') refresh();
    }),
    vscode.window.onDidChangeActiveTextEditor(() => refresh()),
    vscode.commands.registerCommand('portolan.restartServer', async () => {
      output.appendLine('[client] restarting the language server');
      restarting = true;
      try {
        await client?.restart();
      } finally {
        restarting = false;
      }
    }),
    vscode.commands.registerCommand('portolan.showOutput', () => output.show(true)),
    vscode.commands.registerCommand('portolan.refreshPortMap', () => refresh()),
    vscode.commands.registerCommand('portolan.showPortMap', async (node?: { kind?: string; host?: { id: string } }) => {
      const all = await portMap({ summary: true });
      const own = activeFileUri() ? (await portMap({ uri: activeFileUri(), summary: true })).hosts[0] : undefined;
      await chart.show(all.hosts, node?.host?.id ?? own?.id);
    }),
    vscode.commands.registerCommand(REVEAL_COMMAND, reveal),
    vscode.commands.registerCommand(STATUS_MENU_COMMAND, statusMenu),
    // The code lens over a bind: the server sends LSP positions and locations, the peek wants VS Code's.
    vscode.commands.registerCommand('portolan.showReferences', (uri: string, position: Location['range']['start'], locations: Location[]) => {
      const c = client?.protocol2CodeConverter;
      if (!c) return;
      return vscode.commands.executeCommand(
        'editor.action.showReferences',
        c.asUri(uri),
        c.asPosition(position),
        locations.map((l) => c.asLocation(l)),
      );
    }),
  );
  try {
    await client.start();
  } catch (err) {
    output.appendLine(`[client] the language server did not start: ${err instanceof Error ? err.message : String(err)}`);
    status.setClientState('stopped');
  }
  return {
    languageClient: () => client,
    portMap,
    tree,
    status,
    chart,
    output,
    get refreshed() {
      return refreshed;
    },
  };
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

// Kept for tests written against the first client.
export function languageClient(): LanguageClient | undefined {
  return client;
}

function activeFileUri(): string | undefined {
  const uri = vscode.window.activeTextEditor?.document.uri;
  return uri && uri.scheme === 'file' ? uri.toString() : undefined;
}

async function reveal(location: Location): Promise<void> {
  const { start, end } = location.range;
  const range = new vscode.Range(start.line, start.character, end.line, end.character);
  const editor = await vscode.window.showTextDocument(vscode.Uri.parse(location.uri), { selection: range, preview: true });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

function ephemeralSetting(): { from: number; to: number }[] {
  const ranges = vscode.workspace.getConfiguration('portolan').get<string[]>('ephemeralRanges') ?? [];
  return ranges
    .map((r) => /^(\d{1,5})-(\d{1,5})$/.exec(r))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ from: Number(m[1]), to: Number(m[2]) }))
    .filter((r) => r.from <= r.to && r.to <= 65535);
}

async function statusMenu(): Promise<void> {
  const items: (vscode.QuickPickItem & { command: string })[] = [
    { label: '$(output) Show Output', description: 'the server log: version, start, files analysed, errors', command: 'portolan.showOutput' },
    { label: '$(debug-restart) Restart Server', command: 'portolan.restartServer' },
    { label: '$(list-tree) Open Port Map', command: 'portolan.portMap.focus' },
    { label: '$(graph-line) Open Port Map Chart', command: 'portolan.showPortMap' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Portolan' });
  if (picked) await vscode.commands.executeCommand(picked.command);
}

function debounce(fn: () => Promise<void>, ms: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  return () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void fn();
    }, ms);
  };
}
