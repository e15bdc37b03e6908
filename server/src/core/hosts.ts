/**
 * Which host a file belongs to. By default a workspace folder is one host; `portolan.hosts`
 * (or `.portolan.json` at the folder root) maps globs, relative to the folder, to host names.
 */
import { globSet } from './globSet';
import * as path from 'path';
import type { HostSharing } from './sharedHost';

export interface FolderHosts {
  folder: string;
  /** host name -> globs relative to the folder */
  hosts: Record<string, string[]>;
  /** `.portolan.json` `oneHost`: true (the whole folder is one machine) or groups of globs whose files run together. */
  oneHost?: boolean | string[][];
  /** `.portolan.json` `hostPerProject`: every project of the folder runs on a machine of its own. */
  hostPerProject?: boolean;
  /** `.portolan.json` `kubernetes`: the cluster's --service-node-port-range when widened. */
  kubernetes?: { nodePortRange?: { from: number; to: number } };
}

/** A workspace path a compose service mounts (a file or a directory): it belongs to that container's host. */
export interface ContainerMount {
  source: string;
  host: string;
}

export class HostMap {
  private mounts: ContainerMount[] = [];
  private folders: { folder: string; matchers: NamedHosts; sharing: HostSharing; nodePortRange?: { from: number; to: number } }[] = [];
  private readonly cache = new Map<string, string>();
  /** Bumped on every change, so analyses made under the old mapping are known stale. */
  version = 0;

  setFolders(folders: FolderHosts[]): void {
    // Longest folder first so nested workspace folders win.
    this.folders = [...folders]
      .sort((a, b) => b.folder.length - a.folder.length)
      .map(({ folder, hosts, oneHost, hostPerProject, kubernetes }) => ({
        folder,
        nodePortRange: kubernetes?.nodePortRange,
        sharing: { folder, oneHost: oneHost === true, groups: Array.isArray(oneHost) ? oneHost : [], hostPerProject: hostPerProject === true },
        matchers: new NamedHosts(hosts),
      }));
    this.cache.clear();
    this.version++;
  }

  /** The same folders and globs as `other` (a scoped engine over some of another's files). */
  copyFolders(other: HostMap): void {
    this.folders = other.folders;
    this.cache.clear();
    this.version++;
  }

  /**
   * The files compose services mount: each is that container's config, on the container's host.
   * Returns whether anything changed (then the version is bumped).
   */
  setContainers(mounts: ContainerMount[]): boolean {
    const sorted = [...mounts].sort((a, b) => b.source.length - a.source.length || (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
    if (sorted.length === this.mounts.length && sorted.every((m, i) => m.source === this.mounts[i].source && m.host === this.mounts[i].host)) return false;
    this.mounts = sorted;
    this.cache.clear();
    this.version++;
    return true;
  }

  /** The nodePort range `.portolan.json` of the folder holding `file` says (undefined: the API server's default). */
  nodePortRangeOf(file: string): { from: number; to: number } | undefined {
    for (const { folder, nodePortRange } of this.folders) if (relativeInside(folder, file) !== undefined) return nodePortRange;
    return undefined;
  }

  hostOf(file: string): string {
    let host = this.cache.get(file);
    if (host === undefined) {
      host = this.compute(file);
      this.cache.set(file, host);
    }
    return host;
  }

  private compute(file: string): string {
    for (const { folder, matchers } of this.folders) {
      const rel = relativeInside(folder, file);
      if (rel === undefined) continue;
      // What the user says wins; then a container's mounted files; then a container image's root filesystem.
      const named = matchers.first(rel);
      if (named !== undefined) return `${folder}#${named}`;
      return this.containerOf(file) ?? rootfsHost(folder, rel) ?? folder;
    }
    // A file outside every folder (opened on its own) is a host of its own directory.
    return this.containerOf(file) ?? path.posix.dirname(file);
  }

  private containerOf(file: string): string | undefined {
    for (const m of this.mounts) if (file === m.source || file.startsWith(m.source + '/')) return m.host;
    return undefined;
  }

  /**
   * What the folder says about which of its files run together, when `host` is a whole workspace
   * folder; undefined for every other host (named, container, rootfs: one machine each).
   */
  sharingOf(host: string): HostSharing | undefined {
    return this.folders.find((f) => f.folder === host)?.sharing;
  }

  /** The workspace folders, longest first. */
  folderNames(): string[] {
    return this.folders.map((f) => f.folder);
  }

  /** A file as messages name it: relative to its workspace folder. */
  shownPath(file: string): string {
    for (const { folder } of this.folders) {
      const rel = relativeInside(folder, file);
      if (rel !== undefined) return rel;
    }
    return file;
  }

  /** The host of a compose service's container (its mounted files; `network_mode: service:x` joins x's). */
  static containerHost(composeRoot: string, service: string): string {
    return `${composeRoot}#container ${service}`;
  }

  /** The compose root and service of a container's host (`containerHost`'s inverse); undefined for any other host. */
  static containerParts(host: string): { root: string; service: string } | undefined {
    const at = host.lastIndexOf('#container ');
    return at < 0 ? undefined : { root: host.slice(0, at), service: host.slice(at + '#container '.length) };
  }

  /** "web1" for a named host, else the folder's base name. */
  static label(host: string): string {
    const hash = host.lastIndexOf('#');
    return hash >= 0 ? host.slice(hash + 1) : path.posix.basename(host) || host;
  }
}

/**
 * `file` relative to `folder` when it is the folder or under it, else undefined. Plain absolute paths
 * (the workspace's, always) by their prefix: path.relative resolves both sides on every call.
 */
export function relativeInside(folder: string, file: string): string | undefined {
  if (isPlainAbsolute(folder) && isPlainAbsolute(file)) {
    if (file === folder) return '';
    const prefix = folder === '/' ? '/' : `${folder}/`;
    return file.startsWith(prefix) ? file.slice(prefix.length) : undefined;
  }
  const rel = path.posix.relative(folder, file);
  return rel === '..' || rel.startsWith('../') || path.posix.isAbsolute(rel) ? undefined : rel;
}

/** Absolute with no '.' or '..' segment, no '//' and no trailing '/': what path.posix.normalize leaves as it is. */
function isPlainAbsolute(p: string): boolean {
  return p.startsWith('/') && !NOT_PLAIN.test(p);
}

const NOT_PLAIN = /\/\.\.?(?:\/|$)|\/\/|.\/$/;

/**
 * The named hosts of a folder (host name -> globs relative to it, `!` globs taking files out: core/globSet.ts), the first whose globs match a path
 * winning. A glob can only match its static directory (picomatch's base) or what is under it, so a path
 * is tested only against the hosts with a glob based on one of its ancestors (1,000 hosts x 10,000 files).
 */
class NamedHosts {
  private readonly hosts: { name: string; isMatch: (rel: string) => boolean }[];
  /** Static base -> the indexes of the hosts with a glob based there, ascending. */
  private readonly byBase = new Map<string, number[]>();

  constructor(hosts: Record<string, string[]>) {
    this.hosts = Object.entries(hosts).map(([name, globs], i) => {
      const set = globSet(globs);
      for (const base of set.bases) {
        const list = this.byBase.get(base);
        if (!list) this.byBase.set(base, [i]);
        else if (list[list.length - 1] !== i) list.push(i);
      }
      return { name, isMatch: set.isMatch };
    });
  }

  /** The name of the first host whose globs match `rel`. */
  first(rel: string): string | undefined {
    if (this.hosts.length === 0) return undefined;
    // The hosts with a glob based on '' or on `rel` or one of its ancestors, in order.
    const candidates: number[] = [];
    const add = (base: string) => {
      const list = this.byBase.get(base);
      if (list) for (const i of list) candidates.push(i);
    };
    add('');
    add(rel);
    for (let slash = rel.indexOf('/'); slash >= 0; slash = rel.indexOf('/', slash + 1)) add(rel.slice(0, slash));
    if (candidates.length === 0) return undefined;
    candidates.sort((a, b) => a - b);
    let last = -1;
    for (const i of candidates) {
      if (i === last) continue;
      last = i;
      if (this.hosts[i].isMatch(rel)) return this.hosts[i].name;
    }
    return undefined;
  }
}

/**
 * A container image's root filesystem kept in a repository (`rootfs/etc/nginx/...`,
 * `docker/rootfs/...`): the directory named rootfs is a host of its own, that container.
 */
function rootfsHost(folder: string, rel: string): string | undefined {
  const parts = rel.split('/');
  const at = parts.lastIndexOf('rootfs', parts.length - 2);
  if (at < 0) return undefined;
  return `${folder}#${parts.slice(0, at + 1).join('/')}`;
}
