/** `portolan check` arguments. A wrong one is a UsageError (exit 2). */
import type { Severity } from '../core/types';

export class UsageError extends Error {}

export type OutputFormat = 'text' | 'json' | 'sarif';

export interface CheckOptions {
  paths: string[];
  format: OutputFormat;
  /** The lowest severity that makes the run fail (exit 1). */
  threshold: Severity;
  /** Fail when there are more warnings than this; undefined = no limit. */
  maxWarnings?: number;
  /** Errors only: warnings, information and hints are neither printed nor counted. */
  quiet: boolean;
  /** Print the files read and skipped instead of the findings. */
  listFiles: boolean;
}

export const USAGE = `usage: portolan check [options] [PATH...]
  Checks the sshd, nginx, docker-compose and firewall configs under each PATH (default: .).

options:
  --format text|json|sarif     output (default text: file:line:col severity code message)
  --severity-threshold LEVEL   lowest severity that fails the run: error (default), warning,
                               information or hint
  --max-warnings N             also fail when there are more than N warnings
  --quiet                      errors only: warnings and notes are neither printed nor counted
  --list-files                 print every file read (format, host, program instance) and every
                               candidate skipped, with the reason, instead of the findings
  -h, --help                   this text
  --version                    Portolan's version

exit status: 0 nothing at or above the threshold, 1 findings at or above it (or more warnings
than --max-warnings), 2 a usage or configuration error (a missing PATH, a .portolan.json that is
not valid JSON or has a value of the wrong shape; its other mistakes are portolan-json findings).
`;

const SEVERITIES: Severity[] = ['error', 'warning', 'information', 'hint'];
const FORMATS: OutputFormat[] = ['text', 'json', 'sarif'];

export function parseCheckArgs(args: string[]): CheckOptions {
  const opts: CheckOptions = { paths: [], format: 'text', threshold: 'error', quiet: false, listFiles: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      opts.paths.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      opts.paths.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (eq > 0) return arg.slice(eq + 1);
      if (i + 1 >= args.length) throw new UsageError(`${name} needs a value`);
      return args[++i];
    };
    const flag = () => {
      if (eq > 0) throw new UsageError(`${name} takes no value`);
    };
    switch (name) {
      case '--format':
      case '-f': {
        const v = value();
        if (!FORMATS.includes(v as OutputFormat)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')} (not '${v}')`);
        opts.format = v as OutputFormat;
        break;
      }
      case '--severity-threshold': {
        const v = value();
        if (!SEVERITIES.includes(v as Severity)) throw new UsageError(`--severity-threshold must be one of ${SEVERITIES.join(', ')} (not '${v}')`);
        opts.threshold = v as Severity;
        break;
      }
      case '--max-warnings': {
        const v = value();
        if (!/^\d+$/.test(v)) throw new UsageError(`--max-warnings needs a whole number >= 0 (not '${v}')`);
        opts.maxWarnings = Number(v);
        break;
      }
      case '--quiet':
      case '-q':
        flag();
        opts.quiet = true;
        break;
      case '--list-files':
        flag();
        opts.listFiles = true;
        break;
      default:
        throw new UsageError(`unknown option ${name}`);
    }
  }
  if (opts.listFiles && opts.format === 'sarif') throw new UsageError('--list-files prints text or json, not sarif');
  return opts;
}
