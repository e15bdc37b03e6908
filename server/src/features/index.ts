/**
 * Every LSP feature the server offers, registered by server.ts in this order. A new feature is a
 * `features/<request>.ts` exporting a `Feature`, and one line here.
 */
import type { ServerCapabilities } from 'vscode-languageserver/node';
import type { Feature } from './feature';
import { hoverFeature } from './hover';
import { codeActionFeature } from './codeActions';
import { portMapFeature } from './portMap';

export const FEATURES: Feature[] = [hoverFeature, codeActionFeature, portMapFeature];

/** The capabilities of every feature, merged (a later feature's keys win). */
export function featureCapabilities(features: Feature[] = FEATURES): ServerCapabilities {
  return Object.assign({}, ...features.map((f) => f.capabilities));
}
