/** The YAML test inputs of the corpus and the examples. */
import * as fs from 'fs';
import * as path from 'path';

/** Every .yml/.yaml file below `dir` (none when it is missing), .git and node_modules left out. */
export function yamlFiles(dir: string, out: string[] = []): string[] {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== '.git' && e.name !== 'node_modules') yamlFiles(p, out);
    else if (e.isFile() && /\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out;
}
