/**
 * nginx's main configurations (core/mainConfigs.ts): a file in the main context (worker_processes,
 * events, http {...}) is one nginx started with it; a server file (conf.d/x.conf, sites-enabled/x) is
 * loaded only by a main configuration's include. A host that holds no nginx.conf runs the stock one
 * the package installs, whose http block includes conf.d/*.conf and sites-enabled/*: one nginx for all
 * the host's server files.
 */
import * as path from 'path';
import { literalPattern } from '../../core/includes';
import type { FileParse, IncludeRef, MainConfigs } from '../../core/types';
import type { NginxExtra } from './index';

/** nginx's conf directory as seen from a file read on its own. */
export function confDirOf(file: string): string {
  const dir = path.posix.dirname(file);
  if (/^(sites|streams?)-(available|enabled)$|^(conf|stream|http)\.d$|^snippets$/.test(path.posix.basename(dir))) return path.posix.dirname(dir);
  return dir;
}

const contextOf = (f: FileParse) => (f.extra as NginxExtra | undefined)?.context;

/** What the stock nginx.conf's http block includes: conf.d/*.conf and sites-enabled/* of its conf directory. */
const STOCK_LOADED = /(^|\/)(conf\.d\/[^/]+\.conf|sites-enabled\/[^/]+)$/;

/**
 * The stock nginx.conf for the host's server files: an http-level include of each file of conf.d/ and
 * sites-enabled/ (in path order), in the conf directory of the first. The host's other server files
 * (examples/x.conf, a file a Dockerfile copies in) run in that nginx too, from a place we do not see:
 * alongside, sharing its ports. Snippets (server or location level) and stream files stay as they are.
 */
function implicitMain(fragments: readonly FileParse[], taken: (file: string) => boolean): { root: FileParse; alongside: string[] } | undefined {
  const servers = fragments
    .filter((f) => contextOf(f) === 'http')
    .map((f) => f.file)
    .sort();
  if (servers.length === 0) return undefined;
  const loaded = servers.filter((s) => STOCK_LOADED.test(s));
  const file = path.posix.join(confDirOf(loaded[0] ?? servers[0]), 'nginx.conf');
  const includes: IncludeRef[] = loaded.map((s) => ({ span: { start: 0, end: 0 }, pattern: literalPattern(s), relativeTo: 'root-file-dir' }));
  const extra: NginxExtra = { context: 'main', implicit: true, events: includes.map((ref) => ({ kind: 'include' as const, ref })) };
  const root: FileParse = { format: 'nginx', file: taken(file) ? `${file}#stock` : file, facts: [], findings: [], includes, extra };
  return { root, alongside: servers.filter((s) => !STOCK_LOADED.test(s)) };
}

export const nginxMains: MainConfigs = {
  mainName: 'nginx.conf',
  isMain: (root) => contextOf(root) === 'main',
  implicitMain,
};
