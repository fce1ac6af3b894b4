import { discoveryHelp, discoveryOptions } from '../discovery-flags.js'
import type { Command } from '../command.js'

export const nodeCommand: Command = {
  name: 'node',
  summary: 'Run a node in the foreground: print its id and addresses, log its events, answer other dms-net commands.',
  help: [
    '  --config FILE           JSON file of createNode options and vpn (docs/cli.md),',
    '                          over the saved config (dms-net config); flags win',
    '  --listen MULTIADDR      listen address (repeatable; default /ip4/127.0.0.1/tcp/0)',
    '  --bootstrap MULTIADDR   peer to dial at start and redial when it drops (repeatable, needs /p2p/<id>)',
    '  --json                  log events as JSON lines',
    '  --log-file FILE         also append the log to FILE (mode 0600)',
    '  --vpn-accept PEER|any   accept VPN invitations from this peer (repeatable; peers of our private swarm always may)',
    '  --vpn-device NAME       TUN device of the VPN (default dmsvpn0)',
    '  --vpn-mtu BYTES         MTU of the VPN device (default 16000; see docs/vpn.md)',
    '  --vpn-no-offload        no TUN offloads (TCP super-packets) on the VPN device',
    '  --vpn-firewall          also drop non-member VPN traffic in the kernel (nftables)',
    '  --vpn-accept-ports      let the VPN leader publish ports on this host (nftables DNAT)',
    '  --metrics [HOST:]PORT   serve Prometheus metrics at http://127.0.0.1:PORT/metrics (loopback only)',
    '  --inspect [PORT]        serve the live inspector on 127.0.0.1:PORT (default 7700): a local page, and a relay for the Stately inspector',
    discoveryHelp,
    '',
    'example: dms-net node --data ./a --listen /ip4/0.0.0.0/tcp/4001',
    'behind a NAT: dms-net node --data ./a --listen /ip4/0.0.0.0/tcp/4001 --bootstrap /ip4/…/tcp/4001/p2p/<relay> --nat'
  ].join('\n'),
  options: {
    config: { type: 'string' },
    listen: { type: 'string', multiple: true },
    bootstrap: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    'log-file': { type: 'string' },
    'vpn-accept': { type: 'string', multiple: true },
    'vpn-device': { type: 'string' },
    'vpn-mtu': { type: 'string' },
    'vpn-no-offload': { type: 'boolean' },
    'vpn-firewall': { type: 'boolean' },
    'vpn-accept-ports': { type: 'boolean' },
    inspect: { type: 'string' },
    metrics: { type: 'string' },
    ...discoveryOptions
  },
  optionalValues: { inspect: '7700' },
  run: async (parsed) => await (await import('./node-run.js')).runNode(parsed)
}
