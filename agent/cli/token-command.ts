/**
 * `spool token create`: makes a token on this machine, without an agent.
 * The agent only ever holds hashes, so the token is shown here once and the
 * administrator pastes the hash line into the config.
 */
import { newToken, ROLES, tokenConfigLine, type Role } from '../api/auth.js';
import { requiredFlag, usageError, type CommandSpec } from './command.js';
import { EXIT } from './remote.js';

export const TOKEN_CREATE_COMMAND: CommandSpec = {
  name: 'token create',
  usage: '--role viewer|operator|admin --name NAME',
  summary: 'make an API token (no agent needed): prints it once and the line to add under server.tokens',
  options: { role: { type: 'string' }, name: { type: 'string' } },
  args: { min: 0, max: 0, names: '' },
  remote: false,
  async run({ values, stdout }) {
    const role = requiredFlag(values, 'role', 'operator');
    if (!(ROLES as readonly string[]).includes(role)) throw usageError(`Expected \`--role\` to be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`);
    const name = requiredFlag(values, 'name', 'console');
    const token = newToken();
    stdout.write(
      [
        `New ${role} token "${name}" (shown only now; the agent keeps only its hash):`,
        '',
        `  ${token}`,
        '',
        'Add this line under server.tokens in the agent\u2019s config, then reload the agent (systemctl reload spool-agent, or SIGHUP; running jobs go on):',
        '',
        tokenConfigLine(name, role as Role, token),
        '',
        'Use it with:  export SPOOL_TOKEN=<the token>   (or --token, which other users can see in ps)',
        '',
      ].join('\n'),
    );
    return EXIT.ok;
  },
};
