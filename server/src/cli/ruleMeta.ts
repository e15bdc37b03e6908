/**
 * What the command line says about each diagnostic code (SARIF `tool.driver.rules[]`, the JSON
 * output's rule list). ONE adapter: when the rules registry (server/src/rules/) lands, `ruleInfos`
 * reads its `meta` instead of this table, and nothing else changes.
 */
import { DIAGNOSTIC_CODES, type DiagnosticCode, type Severity } from '../core/types';

export interface RuleInfo {
  code: DiagnosticCode;
  /** The severity the rule reports with (a rule may report a milder case lower). */
  severity: Severity;
  /** One sentence: what the rule finds. */
  description: string;
  /** The rule's documentation page, relative to the repository root. */
  docs: string;
}

const DESCRIPTIONS: Record<DiagnosticCode, [Severity, string]> = {
  syntax: ['error', 'A line the program itself rejects or cannot read (sshd, nginx, nft, iptables-restore, ... would refuse the file).'],
  'invalid-port': ['error', 'A port number, range or service name the program does not accept (0, above 65535, a reversed range, an unknown service).'],
  'ephemeral-port': [
    'warning',
    'A listening port inside an ephemeral range: the kernel hands these ports to outgoing connections, so the bind may fail at start.',
  ],
  'port-conflict': ['error', 'Two programs (or two sockets of one) bind the same port on overlapping addresses of one host: the later bind fails.'],
  'duplicate-default-server': ['error', 'Two nginx server blocks claim default_server for the same address and port (nginx -t rejects it).'],
  'duplicate-listen-options': ['error', 'nginx socket options (backlog, reuseport, ipv6only, ...) given on more than one listen of the same address and port.'],
  'firewall-blocked': ['warning', "A program listens on a port that the host's firewall drops or rejects."],
  'ssh-lockout': ['error', "The firewall does not let in sshd's port: applying it would cut off remote access."],
  'docker-bypasses-firewall': [
    'warning',
    'A port Docker publishes is reachable although the host firewall seems to block it (Docker writes its own iptables rules).',
  ],
  'upstream-unbound': ['warning', 'A proxy points at a port on this host that nothing listens on.'],
  'firewall-unused': ['information', 'A firewall rule opens a port that nothing on the host listens on.'],
};

/** Every diagnostic code with its metadata, in DIAGNOSTIC_CODES order (SARIF's ruleIndex is the position). */
export function ruleInfos(): RuleInfo[] {
  return DIAGNOSTIC_CODES.map((code) => ({ code, severity: DESCRIPTIONS[code][0], description: DESCRIPTIONS[code][1], docs: `docs/rules/${code}.md` }));
}
