/** Loads the shipped port registry from data/ (the one place the registry touches the disk). */
import * as fs from 'fs';
import * as path from 'path';
import { PortRegistry, type CuratedData, type IanaData, type ServicesData } from '../core/registry';

let cached: PortRegistry | undefined;

let dir: string | undefined;

/**
 * The folder holding data/: the nearest `data/iana-ports.json` above this module. That is the repository's
 * data/ for tsc's output (server/out/workspace/) and for tsx (server/src/workspace/), and the package's
 * data/ for the esbuild bundle (extension/server/out/server.js).
 */
export function dataDir(): string {
  if (dir) return dir;
  for (let at = __dirname; ; at = path.dirname(at)) {
    if (fs.existsSync(path.join(at, 'data', 'iana-ports.json'))) return (dir = path.join(at, 'data'));
    if (path.dirname(at) === at) return (dir = path.resolve(__dirname, '..', '..', '..', 'data'));
  }
}

export function loadRegistry(): PortRegistry {
  if (!cached) {
    const iana = JSON.parse(fs.readFileSync(path.join(dataDir(), 'iana-ports.json'), 'utf8')) as IanaData;
    const curated = JSON.parse(fs.readFileSync(path.join(dataDir(), 'curated-ports.json'), 'utf8')) as CuratedData;
    const services = JSON.parse(fs.readFileSync(path.join(dataDir(), 'etc-services.json'), 'utf8')) as ServicesData;
    cached = new PortRegistry(iana, curated, services);
  }
  return cached;
}
