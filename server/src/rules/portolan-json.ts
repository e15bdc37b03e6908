/** portolan-json: a mistake in a workspace folder's `.portolan.json` (core/portolanJson.ts), reported on that file, never silently ignored. */
import { CONFIG_MESSAGES } from '../core/portolanJson';
import { parserRule } from './rule';

export const portolanJson = parserRule({
  code: 'portolan-json',
  severity: 'warning',
  description:
    "A mistake in the folder's .portolan.json: not valid JSON, a key or value of the wrong shape, a glob that matches nothing, a file two hosts claim.",
  fixable: false,
  messages: {
    [CONFIG_MESSAGES.invalidJson]: 'Not valid JSON, at the place the JSON reader stopped: nothing of the file applies (error).',
    [CONFIG_MESSAGES.wrongShape]:
      'A value of the wrong type (hosts not a map of glob arrays, oneHost not true or groups of globs, ...): that part is ignored (error).',
    [CONFIG_MESSAGES.unknownKey]: 'A key .portolan.json does not read (a typo of hosts, oneHost, hostPerProject or kubernetes.nodePortRange?) (warning).',
    [CONFIG_MESSAGES.matchesNothing]: 'A glob that matches none of the files Portolan reads in the folder, or a negated glob that takes none out (warning).',
    [CONFIG_MESSAGES.onlyRemoves]: 'A negated glob (`!b/**`) in a list with no glob that adds files: a `!` glob only takes files out of the others (warning).',
    [CONFIG_MESSAGES.claimedTwice]: 'A file the globs of two hosts match: it is on the first of them (warning).',
  },
  docs: {
    body: '`.portolan.json` at the root of a workspace folder says which files run on which host: `hosts` (host name → globs), `oneHost` (`true`, or groups of globs whose files run on one machine), `hostPerProject` (every project on a machine of its own) and `kubernetes.nodePortRange` (the widened --service-node-port-range of a cluster); see the README. Its mistakes are findings on the file rather than silently ignored, and VS Code also checks it against `schemas/portolan.schema.json` as you type. The command line stops with exit status 2 on a file that is not valid JSON or whose values have the wrong shape (it cannot know the hosts); the other mistakes are findings.',
    fires: { '.portolan.json': '{ "host": { "web": ["etc/**"] } }\n', 'etc/ssh/sshd_config': 'Port 22\n' },
    silent: { '.portolan.json': '{ "hosts": { "web": ["etc/**"] } }\n', 'etc/ssh/sshd_config': 'Port 22\n' },
  },
});
