/**
 * What an LSP feature is: the capabilities it announces and the handlers it registers. Each
 * `features/<request>.ts` exports one; `features/index.ts` lists them, and the server registers the
 * list in one place.
 */
import type { Connection, Diagnostic, ServerCapabilities } from 'vscode-languageserver/node';
import type { Engine, EngineSettings } from '../core/engine';
import type { LineIndex } from '../core/lineIndex';
import type { Finding } from '../core/types';

/** What the server shares with its features: the engine and how to read the client's world. */
export interface ServerContext {
  readonly connection: Connection;
  readonly engine: Engine;
  /** The file a `file:` URI names (POSIX path), undefined for other schemes. */
  pathOf(uri: string): string | undefined;
  /** The workspace folder holding `file`, if any. */
  folderOf(file: string): string | undefined;
  /** The settings in force now. */
  settings(): EngineSettings;
  /** The editor-side switches (`portolan.codeLens.enabled`, `portolan.inlayHints.enabled`). */
  options(): FeatureOptions;
  /** The client applies workspace edits that create files (absent: assume it does). */
  canCreateFiles?(): boolean;
  /** A finding as the diagnostic the client was sent. */
  toDiagnostic(finding: Finding, index: LineIndex): Diagnostic;
}

export interface FeatureOptions {
  codeLens: boolean;
  inlayHints: boolean;
}

export interface Feature {
  /** Short name, for logs. */
  name: string;
  /** Merged into the `initialize` result. */
  capabilities: ServerCapabilities;
  register(ctx: ServerContext): void;
}
