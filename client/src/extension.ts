/**
 * The VS Code client: starts the Portolan language server over IPC and restarts it on request.
 * All analysis lives in the server.
 */
import * as path from 'path';
import { commands, type ExtensionContext } from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';

let client: LanguageClient | undefined;

export async function activate(context: ExtensionContext): Promise<void> {
  const module = context.asAbsolutePath(path.join('server', 'out', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const clientOptions: LanguageClientOptions = {
    // Formats are detected by path and content in the server, so every file-backed document goes to it.
    documentSelector: [{ scheme: 'file' }],
    synchronize: { configurationSection: 'portolan' },
  };
  client = new LanguageClient('portolan', 'Portolan', serverOptions, clientOptions);
  context.subscriptions.push(
    commands.registerCommand('portolan.restartServer', async () => {
      await client?.restart();
    }),
  );
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

// Re-exported for tests that need to wait for the server.
export function languageClient(): LanguageClient | undefined {
  return client;
}
