/**
 * The command line's one analysis: reads the given paths into an Engine (as the server reads a
 * workspace), analyses once, and returns a Report that every output format renders.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Engine } from '../core/engine';
import { HostMap } from '../core/hosts';
import { PORTOLAN_JSON } from '../core/portolanJson';
import type { FolderHosts } from '../core/hosts';
import type { Finding, FormatId, Severity } from '../core/types';
import { createFormatModules, detectFormat } from '../formats/index';
import { RULES } from '../rules/index';
import { loadRegistry } from '../workspace/data';
import { loadFirewalldServices } from '../workspace/firewalldData';
import { readFolderHostsOrError, readTextOrReason, scanFolder, toPosix, type SkippedFile } from '../workspace/files';
import { fingerprints } from './fingerprint';

/** A broken input the user must fix before anything is checked (exit 2). */
export class ConfigError extends Error {}

/** 1-based line, 1-based column in UTF-16 code units (LSP's character + 1). */
export interface Position1 {
  line: number;
  column: number;
}
export interface Located {
  /** As printed: relative to the working directory when under it, else absolute. */
  shown: string;
  absolute: string;
  start: Position1;
  /** Exclusive. */
  end: Position1;
}
export interface ReportFinding extends Located {
  finding: Finding;
  host: string;
  format?: FormatId;
  related: (Located & { message: string })[];
  fixes: { title: string; preferred: boolean; edits: (Located & { newText: string })[] }[];
  /** Stable across runs and unrelated edits (see fingerprint.ts). */
  fingerprint: string;
}
export interface ReportFile {
  shown: string;
  absolute: string;
  /** undefined: read (an include may reach it) but no format claims it. */
  format?: FormatId;
  host: string;
  /** Root files (shown) of the program instances that read this file. */
  instances: string[];
  /** A symbolic link to this other file of the folder (shown). */
  aliasOf?: string;
  /**
   * How its instances run on the host (core/mainConfigs.ts): inactive and why (no nginx.conf loads it, an
   * alternative main config), or read by a stock main config the workspace does not hold.
   */
  notes?: string[];
}
export interface Report {
  cwd: string;
  files: ReportFile[];
  skipped: { shown: string; absolute: string; reason: string }[];
  findings: ReportFinding[];
}

export interface Loaded {
  engine: Engine;
  aliases: Map<string, string>;
  skipped: SkippedFile[];
}

/** The engine over `paths` as the command line reads them (folders scanned, their hosts and aliases set), before any analysis. */
export function load(paths: string[], cwd: string): Loaded {
  const registry = loadRegistry();
  const modules = createFormatModules(registry, { firewalldServices: loadFirewalldServices() });
  const engine = new Engine(modules, registry, RULES);
  const folderHosts: FolderHosts[] = [];
  const aliases = new Map<string, string>();
  const skipped: SkippedFile[] = [];
  for (const p of paths.length ? paths : ['.']) {
    const abs = toPosix(path.resolve(cwd, p));
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      throw new ConfigError(`${p}: no such file or directory`);
    }
    if (st.isDirectory()) {
      const hosts = readFolderHostsOrError(abs);
      if ('error' in hosts) throw new ConfigError(hosts.error);
      folderHosts.push(hosts.hosts ?? { folder: abs, hosts: {} });
      // Its mistakes that still leave the hosts known are findings on it.
      if (hosts.text !== undefined) engine.setFile(`${abs}/${PORTOLAN_JSON}`, hosts.text);
      const onSkip = (s: SkippedFile) => {
        skipped.push(s);
        if (s.unread) engine.setUnread(s.path, s.unread);
      };
      for (const f of scanFolder(abs, modules, undefined, onSkip)) {
        if (f.aliasOf) {
          engine.setAlias(f.path, f.aliasOf);
          aliases.set(f.path, f.aliasOf);
        }
        engine.setFile(f.path, f.text);
        engine.setEncoding(f.path, f.encoding);
      }
    } else {
      const read = readTextOrReason(abs);
      if ('reason' in read) throw new ConfigError(`${p}: ${read.reason}`);
      const hint = modules.some((m) => m.matchesPath(abs)) ? undefined : detectFormat(modules, abs, read.text)?.id;
      engine.setFile(abs, read.text, hint);
      engine.setEncoding(abs, read.encoding);
    }
  }
  engine.hosts.setFolders(folderHosts);
  return { engine, aliases, skipped };
}

export function collect(paths: string[], cwd: string = process.cwd()): Report {
  const { engine, aliases, skipped } = load(paths, cwd);
  const result = engine.analyze();
  const base = toPosix(cwd);
  const shown = (file: string) => {
    const rel = path.posix.relative(base, file);
    return rel === '' ? '.' : rel.startsWith('..') || path.posix.isAbsolute(rel) ? file : rel;
  };
  const hostLabel = (host: string) => (host.includes('#') ? HostMap.label(host) : shown(host));
  const located = (file: string, span: { start: number; end: number }): Located => {
    const index = engine.lineIndex(file);
    const s = index.position(span.start);
    const e = index.position(span.end);
    return { shown: shown(file), absolute: file, start: { line: s.line + 1, column: s.character + 1 }, end: { line: e.line + 1, column: e.character + 1 } };
  };

  const findings: ReportFinding[] = [];
  for (const file of [...result.findingsByFile.keys()].sort()) {
    const list = result.findingsByFile.get(file)!;
    const prints = fingerprints(engine.text(file) ?? '', shown(file), list);
    list.forEach((f, i) =>
      findings.push({
        ...located(f.file, f.span),
        finding: f,
        host: hostLabel(engine.hosts.hostOf(f.file)),
        format: result.formatOf.get(f.file),
        related: (f.related ?? []).map((r) => ({ ...located(r.file, r.span), message: r.message })),
        fixes: (f.fixes ?? []).map((x) => ({
          title: x.title,
          preferred: x.preferred ?? false,
          edits: x.edits.map((e) => ({ ...located(e.file, e.span), newText: e.newText })),
        })),
        fingerprint: prints[i],
      }),
    );
  }

  const linksTo = new Map<string, string[]>();
  for (const [link, target] of aliases) linksTo.set(target, [...(linksTo.get(target) ?? []), link]);
  // A file the scan did not read (too large, not text) is listed as skipped, with its note among the findings.
  const unread = new Set(skipped.filter((s) => s.unread).map((s) => s.path));
  const files: ReportFile[] = engine
    .fileNames()
    .filter((file) => !unread.has(file))
    .sort()
    .map((file) => {
      const instances = new Set(engine.instancesOf(file));
      for (const link of linksTo.get(file) ?? []) for (const i of engine.instancesOf(link)) instances.add(i);
      const entry: ReportFile = {
        shown: shown(file),
        absolute: file,
        format: result.formatOf.get(file),
        host: hostLabel(engine.hosts.hostOf(file)),
        instances: [...instances].map(shown).sort(),
      };
      if (aliases.has(file)) entry.aliasOf = shown(aliases.get(file)!);
      const notes = engine.instanceNotes(file);
      if (notes.length > 0) entry.notes = notes;
      return entry;
    });
  return {
    cwd: base,
    files,
    skipped: skipped.map((s) => ({ shown: shown(s.path), absolute: s.path, reason: s.reason })).sort((a, b) => a.shown.localeCompare(b.shown)),
    findings,
  };
}

export const SEVERITY_RANK: Record<Severity, number> = { error: 3, warning: 2, information: 1, hint: 0 };
