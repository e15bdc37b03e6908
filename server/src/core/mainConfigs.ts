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

export interface PlacedInstances {
  instances: HostInstance[];
  /** Root of a fragment instance -> the stock main configuration that now loads it. */
  implicitOf: Map<string, string>;
}

interface Group {
  module: FormatModule;
  mains: HostInstance[];
  fragments: { instance: HostInstance; parse: FileParse }[];
}

/** The instances as they run on their hosts: fragments joined under a stock main, unloaded roots and alternatives inactive. */
export function placeInstances(instances: readonly HostInstance[], src: MainsSource): PlacedInstances {
  const groups = new Map<string, Group>();
  for (const instance of instances) {
    const module = src.moduleOf(instance.format);
    const parse = module?.mains ? src.rootParse(instance) : undefined;
    if (!module?.mains || !parse) continue;
    const key = `${instance.format}\u0000${src.hostOf(instance.root)}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { module, mains: [], fragments: [] }));
    if (module.mains.isMain(parse)) group.mains.push(instance);
    else group.fragments.push({ instance, parse });
  }
  const replaced = new Map<HostInstance, HostInstance | undefined>();
  const implicitOf = new Map<string, string>();
  for (const group of groups.values()) {
    if (group.mains.length > 0) markUnloaded(group, replaced);
    else joinUnderStockMain(group, src, replaced, implicitOf);
  }
  if (replaced.size === 0) return { instances: [...instances], implicitOf };
  const out: HostInstance[] = [];
  const placed = new Set<HostInstance>();
  for (const instance of instances) {
    const by = replaced.has(instance) ? replaced.get(instance) : instance;
    if (by && !placed.has(by)) out.push(by);
    if (by) placed.add(by);
  }
  return { instances: out, implicitOf };
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
