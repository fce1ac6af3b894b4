import { createNode } from '../../node.js'
import { startControlServer } from '../../control/server.js'
import { nodeControlMethods, nodeControlStreams } from '../../control/node-methods.js'
import { swarmControlMethods } from '../../control/swarm-methods.js'
import { createSwarm } from '../../swarm/swarm-service.js'
import { vpnControlMethods } from '../../control/vpn-methods.js'
import { createVpn } from '../../vpn/vpn-service.js'
import { UsageError } from '../command.js'
import { inspectPort, startInspectorServer } from '../../inspect/inspector-server.js'
import { eventLine } from '../format.js'
import { discoveryFromFlags, discoveryHelp, discoveryOptions } from '../discovery-flags.js'
import type { Command } from '../command.js'

export const nodeCommand: Command = {
  name: 'node',
  summary: 'Run a node in the foreground: print its id and addresses, log its events, answer other dms-net commands.',
  help: [
    '  --listen MULTIADDR      listen address (repeatable; default /ip4/127.0.0.1/tcp/0)',
    '  --bootstrap MULTIADDR   peer to dial at start and redial when it drops (repeatable, needs /p2p/<id>)',
    '  --json                  log events as JSON lines',
    '  --vpn-accept PEER|any   accept VPN invitations from this peer (repeatable; peers of our private swarm always may)',
    '  --vpn-device NAME       TUN device of the VPN (default dmsvpn0)',
    '  --vpn-mtu BYTES         MTU of the VPN device (default 16000; see docs/vpn.md)',
    '  --vpn-firewall          also drop non-member VPN traffic in the kernel (nftables)',
    '  --inspect [PORT]        serve the live inspector on 127.0.0.1:PORT (default 7700): a local page, and a relay for the Stately inspector',
    discoveryHelp,
    '',
    'example: dms-net node --data ./a --listen /ip4/0.0.0.0/tcp/4001',
    'behind a NAT: dms-net node --data ./a --listen /ip4/0.0.0.0/tcp/4001 --bootstrap /ip4/…/tcp/4001/p2p/<relay> --nat'
  ].join('\n'),
  options: {
    listen: { type: 'string', multiple: true },
    bootstrap: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    'vpn-accept': { type: 'string', multiple: true },
    'vpn-device': { type: 'string' },
    'vpn-mtu': { type: 'string' },
    'vpn-firewall': { type: 'boolean' },
    inspect: { type: 'string' },
    ...discoveryOptions
  },
  optionalValues: { inspect: '7700' },
  run: async ({ values, dataDir }) => {
    const json = values.json === true
    let port: number | undefined
    try { port = typeof values.inspect === 'string' ? inspectPort(values.inspect) : undefined } catch (err) { throw new UsageError((err as Error).message) }
    const inspector = port != null ? await startInspectorServer({ port }) : undefined
    const node = createNode({
      dataDir,
      discovery: discoveryFromFlags(values),
      ...(inspector != null ? { inspect: inspector.observer('node') } : {}),
      ...(values.listen != null ? { listen: values.listen as string[] } : {}),
      ...(values.bootstrap != null ? { bootstrap: values.bootstrap as string[] } : {})
    })
    const print = (line: string): void => { process.stdout.write(`${line}\n`) }
    node.on('*', (event) => { print(json ? JSON.stringify({ time: Date.now(), ...event }) : eventLine(event)) })
    const swarm = createSwarm(node)
    const accept = (values['vpn-accept'] as string[] | undefined) ?? []
    let vpn
    try {
      vpn = createVpn(node, {
        acceptFrom: accept.includes('any') ? 'any' : accept,
        ...(typeof values['vpn-device'] === 'string' ? { device: values['vpn-device'] } : {}),
        ...(typeof values['vpn-mtu'] === 'string' ? { mtu: Number(values['vpn-mtu']) } : {}),
        firewall: values['vpn-firewall'] === true
      })
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
    await node.init()
    const control = await startControlServer({ dataDir, methods: { ...nodeControlMethods(node), ...swarmControlMethods(swarm), ...vpnControlMethods(vpn) }, streams: nodeControlStreams(node) })
    try {
      await node.start()
    } catch (err) {
      await control.close()
      await node.stop()
      throw err
    }
    const restored = await swarm.restore().catch((err: unknown) => { print(`could not rejoin the private swarm: ${(err as Error).message}`); return undefined })
    if (restored != null && restored.role !== 'none') print(`private swarm: ${restored.role}, ${restored.state}, key ${restored.fingerprint ?? '-'}`)
    const vpnRestored = await vpn.restore().catch((err: unknown) => { print(`could not bring the VPN back: ${(err as Error).message}`); return undefined })
    if (vpnRestored != null && vpnRestored.role !== 'none') print(`vpn: ${vpnRestored.role}, ${vpnRestored.state}, ${vpnRestored.ip ?? '-'} (version ${vpnRestored.version ?? '-'})`)
    const status = node.status()
    if (json) print(JSON.stringify({ type: 'node.running', peerId: status.peerId, addresses: status.host.addresses, control: control.path }))
    else {
      print(`dms-net node ${status.peerId}`)
      for (const address of status.host.addresses) print(`  listening on ${address}`)
      const mechanisms = status.discovery.find((d) => d.network === 'public')?.mechanisms ?? []
      print(`  discovery ${mechanisms.length > 0 ? mechanisms.join(', ') : 'bootstrap peers only (see --help: --dht, --nat, …)'}`)
      print(`  control socket ${control.path} (try: dms-net status --data ${dataDir})`)
    }
    if (inspector != null) print(json ? JSON.stringify({ type: 'inspector', url: inspector.url, stately: inspector.statelyUrl }) : `  inspector ${inspector.url} (Stately inspector: ${inspector.statelyUrl})`)
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    if (!json) print('stopping…')
    await control.close()
    await vpn.close()
    await node.stop()
    await inspector?.close()
    return 0
  }
}
