/** The edits HAProxy's quick fixes make, in its own syntax. */
import { setLiteralUpstreamPort } from '../../core/fixes';
import type { FormatWriter } from '../../core/types';

/** A `server` line's port (its span holds the written digits: `server s1 127.0.0.1:3001 check`) pointed elsewhere. */
export const haproxyWriter: FormatWriter = {
  setUpstreamPort: setLiteralUpstreamPort,
};
