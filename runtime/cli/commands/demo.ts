import type { Command } from '../command.js'

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Three local nodes: connect, message, publish a job, private swarm (create, join, refuse, rotate, revoke), VPN (as root), then shut down.',
  help: [
    '  --inspect [PORT]   watch it in the inspector on 127.0.0.1:PORT (default 7700); the demo then stays up until Ctrl-C',
    '  --data DIR         keep the nodes\' state in DIR/alice, DIR/bob and DIR/carol (default: a temporary directory, removed after)'
  ].join('\n'),
  options: { inspect: { type: 'string' } },
  optionalValues: { inspect: '7700' },
  run: async (parsed) => await (await import('./demo-run.js')).runDemo(parsed)
}
