import type { Command } from './command.js';
import { CLIENT_ADD_USAGE, clientAdd } from './client-add.js';
import { doctor } from './doctor.js';
import { keysList } from './keys-list.js';
import { keysRotate } from './keys-rotate.js';
import { meshStatus } from './mesh-status.js';
import { REVOKE_USAGE, revokeCommand } from './revoke.js';
import { serve } from './serve.js';
import { tokenInspect } from './token-inspect.js';
import { USER_ADD_USAGE, userAdd } from './user-add.js';

/** Every `authmesh` subcommand, in the order `authmesh --help` lists them. Add a command here. */
export const commands: readonly Command[] = [
  serve,
  {
    name: 'user add',
    summary: 'create or replace a user (password on stdin)',
    usage: `usage: ${USER_ADD_USAGE}`,
    run: userAdd,
  },
  {
    name: 'client add',
    summary: 'create or replace a client; prints its secret once',
    usage: `usage: ${CLIENT_ADD_USAGE}`,
    run: clientAdd,
  },
  keysRotate,
  keysList,
  {
    name: 'revoke',
    summary:
      'revoke a subject, session, token id, key or everything, and broadcast it (--wait: until the mesh applied it)',
    usage: `usage: ${REVOKE_USAGE}`,
    run: revokeCommand,
  },
  meshStatus,
  tokenInspect,
  doctor,
];
