/**
 * Every LSP feature the server offers, registered by server.ts in this order. A new feature is a
 * `features/<request>.ts` exporting a `Feature`, and one line here.
 */
import type { ServerCapabilities } from 'vscode-languageserver/node';
import type { Feature } from './feature';
import { hoverFeature } from './hover';
import { codeActionFeature } from './codeActions';
import { portMapFeature } from './portMap';
import { referencesFeature } from './references';
import { definitionFeature } from './definition';
import { renameFeature } from './rename';
import { documentSymbolFeature } from './documentSymbols';
import { workspaceSymbolFeature } from './workspaceSymbols';
import { completionFeature } from './completion';
import { codeLensFeature } from './codeLens';
import { inlayHintFeature } from './inlayHints';
import { documentLinkFeature } from './documentLinks';

export const FEATURES: Feature[] = [
  hoverFeature,
  codeActionFeature,
  portMapFeature,
  referencesFeature,
  definitionFeature,
  renameFeature,
  documentSymbolFeature,
  workspaceSymbolFeature,
  completionFeature,
  codeLensFeature,
  inlayHintFeature,
  documentLinkFeature,
];

/** The capabilities of every feature, merged (a later feature's keys win). */
export function featureCapabilities(features: Feature[] = FEATURES): ServerCapabilities {
  return Object.assign({}, ...features.map((f) => f.capabilities));
}
