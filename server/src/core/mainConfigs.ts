/**
 * Which program instances run on a host, for formats with main configurations (nginx, sshd; issue 9,
 * mechanisms 5 and 7). Per format and host:
 * - with a main configuration (nginx.conf, sshd_config): it loads what it includes; another root of the
 *   format there (a site file in conf.d/<sub>/, a drop-in no Include reaches) is loaded by no one, and
 *   another main configuration beside `nginx.conf` (nginx-tlsv12.conf, nginx.conf.ssl) is an alternative
 *   the program is started with instead (`nginx -c`). Both keep their facts, marked inactive.
 * - with none: the program runs with its package's stock main configuration, which loads the host's
 *   fragments (nginx's conf.d/*.conf and sites-enabled/*, sshd's sshd_config.d/*.conf): one instance of
 *   them all, whose binds share ports as that one program shares them.
 * Pure: the engine hands in hosts, parses and how to link an instance.
 */
import * as path from 'path';
import { insertSorted } from './arrays';
import type { HostInstance } from './hostModel';
import type { FileParse, FormatId, FormatModule } from './types';

export interface MainsSource {
  moduleOf(format: FormatId): FormatModule | undefined;
  /** The root file's parse on its own (undefined: not known, the instance is kept as it is). */
  rootParse(instance: HostInstance): FileParse | undefined;
  hostOf(file: string): string;
  hasFile(file: string): boolean;
  /** The linked instance of a stock main configuration (assembled from its includes). */
  implicitInstance(module: FormatModule, root: FileParse): HostInstance;
}

interface Group {
  module: FormatModule;
  mains: HostInstance[];
  fragments: { instance: HostInstance; parse: FileParse }[];
}

/** The positions (indexes into the linked instances) of one format on one host, ascending, and the roots its stock main loads. */
interface Members {
  format: FormatId;
  positions: number[];
  implicitRoots: string[];
}

/**
 * The instances as they run on their hosts, kept between analyses: fragments joined under a stock
 * main, unloaded roots and alternatives inactive. The instances are given by position (the linked
 * instances of the include graph's roots, in its order); an update names the positions whose linked
 * instance changed, and only the groups (format + host) holding them are placed again.
 */
export class Placement {
  /** Per position, the instance that runs there; undefined: it runs inside a stock main's instance placed before it. */
  private placedAt: (HostInstance | undefined)[] = [];
  /** Per position, the key of its group (format + host), undefined for formats without main configurations. */
  private groupAt: (string | undefined)[] = [];
  private readonly groups = new Map<string, Members>();
  /** Root of a fragment instance -> the stock main configuration that now loads it. */
  readonly implicitOf = new Map<string, string>();

  /** Forget every position (the graph was built again, or the hosts changed). */
  reset(): void {
    this.placedAt = [];
    this.groupAt = [];
    this.groups.clear();
    this.implicitOf.clear();
  }

  /** The placed instance of each position (undefined: inside an earlier position's stock instance). Read-only. */
  get placed(): readonly (HostInstance | undefined)[] {
    return this.placedAt;
  }

  /**
   * Places the instances at `changed` positions of `linked` (every position after `reset`) and the
   * groups they join or leave; returns the positions whose placed instance is not the one before.
   */
  update(linked: readonly HostInstance[], changed: Iterable<number>, src: MainsSource): number[] {
    const out = new Set<number>();
    const dirty = new Set<string>();
    const place = (pos: number, instance: HostInstance | undefined) => {
      if (pos < this.placedAt.length && this.placedAt[pos] === instance) return;
      this.placedAt[pos] = instance;
      out.add(pos);
    };
    for (const pos of changed) {
      const instance = linked[pos];
      const module = src.moduleOf(instance.format);
      const parse = module?.mains ? src.rootParse(instance) : undefined;
      const key = module?.mains && parse ? `${instance.format}\u0000${src.hostOf(instance.root)}` : undefined;
      const old = this.groupAt[pos];
      if (old !== key) {
        if (old !== undefined) {
          const members = this.groups.get(old)!;
          members.positions.splice(members.positions.indexOf(pos), 1);
          dirty.add(old);
        }
        if (key !== undefined) {
          let members = this.groups.get(key);
          if (!members) this.groups.set(key, (members = { format: instance.format, positions: [], implicitRoots: [] }));
          insertSorted(members.positions, pos);
        }
        this.groupAt[pos] = key;
      }
      if (key !== undefined) dirty.add(key);
      else place(pos, instance);
    }
    for (const key of dirty) {
      const members = this.groups.get(key)!;
      for (const root of members.implicitRoots) this.implicitOf.delete(root);
      members.implicitRoots = [];
      if (members.positions.length === 0) {
        this.groups.delete(key);
        continue;
      }
      const module = src.moduleOf(members.format)!;
      const group: Group = { module, mains: [], fragments: [] };
      for (const pos of members.positions) {
        const instance = linked[pos];
        const parse = src.rootParse(instance)!;
        if (module.mains!.isMain(parse)) group.mains.push(instance);
        else group.fragments.push({ instance, parse });
      }
      const replaced = new Map<HostInstance, HostInstance | undefined>();
      const implicitOf = new Map<string, string>();
      if (group.mains.length > 0) markUnloaded(group, replaced);
      else joinUnderStockMain(group, src, replaced, implicitOf);
      for (const [root, main] of implicitOf) {
        this.implicitOf.set(root, main);
        members.implicitRoots.push(root);
      }
      for (const pos of members.positions) {
        const instance = linked[pos];
        place(pos, replaced.has(instance) ? replaced.get(instance) : instance);
      }
    }
    return [...out].sort((a, b) => a - b);
  }
}

function markUnloaded(group: Group, replaced: Map<HostInstance, HostInstance | undefined>): void {
  const { mainName } = group.module.mains!;
  const program = group.module.id;
  const roots = new Set(group.mains.map((m) => m.root));
  for (const main of group.mains) {
    const beside = path.posix.join(path.posix.dirname(main.root), mainName);
    if (main.root === beside || !roots.has(beside)) continue;
    const inactive = `an alternative to ${mainName} beside it (${program} is started with one of them, not both)`;
    replaced.set(main, variant(main, 'inactive', inactive));
  }
  const inactive = `not loaded: no ${mainName} on this host includes it`;
  for (const { instance } of group.fragments) replaced.set(instance, variant(instance, 'inactive', inactive));
}

function joinUnderStockMain(group: Group, src: MainsSource, replaced: Map<HostInstance, HostInstance | undefined>, implicitOf: Map<string, string>): void {
  const stock = group.module.mains!.implicitMain(
    group.fragments.map((f) => f.parse),
    (file) => src.hasFile(file),
  );
  if (!stock) return;
  const implicit = { ...src.implicitInstance(group.module, stock.root), implicit: true };
  const loaded = new Set(implicit.files);
  const alongside = new Set(stock.alongside);
  let first = true;
  for (const { instance } of group.fragments) {
    if (loaded.has(instance.root)) {
      // The stock instance stands where its first fragment stood; the other fragments are in it.
      replaced.set(instance, first ? implicit : undefined);
      implicitOf.set(instance.root, stock.root.file);
      first = false;
    } else if (alongside.has(instance.root)) {
      replaced.set(instance, variant(instance, 'runsAs', implicit.output.program ?? stock.root.file));
    } else if (stock.unloaded?.files.includes(instance.root)) {
      replaced.set(instance, variant(instance, 'inactive', stock.unloaded.why));
    }
  }
}

/** The instances made from one with `inactive` or `runsAs` set, kept while it lives: an edit elsewhere does not copy every instance again. */
const variants = new WeakMap<HostInstance, Map<string, HostInstance>>();

function variant(instance: HostInstance, field: 'inactive' | 'runsAs', value: string): HostInstance {
  let made = variants.get(instance);
  if (!made) variants.set(instance, (made = new Map()));
  const key = `${field}\u0000${value}`;
  let out = made.get(key);
  if (!out) made.set(key, (out = { ...instance, [field]: value }));
  return out;
}
