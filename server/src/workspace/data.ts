/** Loads the shipped port registry from data/ (the one place the registry touches the disk). */
import * as fs from 'fs';
import * as path from 'path';
import { PortRegistry, type CuratedData, type IanaData, type ServicesData } from '../core/registry';

let cached: PortRegistry | undefined;

export function dataDir(): string {
  // server/out/workspace -> repo root /data
  return path.resolve(__dirname, '..', '..', '..', 'data');
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
