import { createWriteStream } from 'node:fs'
import type { WriteStream } from 'node:fs'
import { createNode } from '../../node.js'
import { startControlServer } from '../../control/server.js'
import { nodeControl } from '../../control/node-methods.js'
import { swarmControlMethods } from '../../control/swarm-methods.js'
import { createSwarm } from '../../swarm/swarm-service.js'
import { vpnControlMethods } from '../../control/vpn-methods.js'
import { createVpn } from '../../vpn/vpn-service.js'
import { UsageError } from '../command.js'
import { inspectPort } from '../arguments.js'
import { metricsAddress, startMetricsServer } from '../metrics-server.js'
import { eventLine } from '../format.js'
import { UNCONFIRMED, hostAddresses } from '../overview.js'
import { terminalWidth } from '../terminal.js'
import { discoveryFromFlags } from '../discovery-flags.js'
import type { Parsed } from '../command.js'
import { readConfigFile } from '../config-file.js'
import { vpnOptions } from '../vpn-options.js'
import { readSavedConfig } from '../saved-config.js'
import { jsonText } from '../../json-text.js'

/** The --log-file: appended to, mode 0600; an unusable path is a usage error before the node starts. */
async function openLogFile (path: string): Promise<WriteStream> {
  const stream = createWriteStream(path, { flags: 'a', mode: 0o600 })
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => {
      // a log that fails later (a full disk) is said once on stderr; the node goes on
      stream.on('error', (err: NodeJS.ErrnoException) => { process.stderr.write(`dms-net node: --log-file ${path}: ${err.code ?? err.message}; logging there stops\n`) })
      resolve()
    })
    stream.once('error', (err: NodeJS.ErrnoException) => { reject(new UsageError(`cannot open --log-file ${path}: ${err.code ?? err.message}`)) })
  })
  return stream
}

/** `dms-net node`: the daemon. Loaded only when that command runs, so client commands load no libp2p. */
export async function runNode ({ values, dataDir: flagDataDir }: Parsed): Promise<number> {
  const json = values.json === true
  const { node: given, vpn: vpnFile } = typeof values.config === 'string' ? await readConfigFile(values.config) : { node: {}, vpn: {} }
  // --data wins over the file's dataDir, which wins over $DMS_NET_DATA and the default
  const dataDir = values.data === undefined && typeof given.dataDir === 'string' ? given.dataDir : flagDataDir
  // the data dir's saved options (dms-net config set), under --config's and the flags
  const saved = await readSavedConfig(dataDir)
  const file = { ...saved, ...given, discovery: { ...saved.discovery, ...given.discovery }, ...(saved.pubsub != null || given.pubsub != null ? { pubsub: { ...saved.pubsub, ...given.pubsub } } : {}) }
  const port = typeof values.inspect === 'string' ? inspectPort(values.inspect) : undefined
  const metricsAt = typeof values.metrics === 'string' ? metricsAddress(values.metrics) : undefined
  // before anything that would need closing: a bad --log-file is refused with nothing started
  const log = typeof values['log-file'] === 'string' ? await openLogFile(values['log-file']) : undefined
  // the inspector (and its WebSocket library) is loaded only when asked for
  const inspector = port != null ? await (await import('../../inspect/inspector-server.js')).startInspectorServer({ port }) : undefined
  const node = createNode({
    ...file,
    dataDir,
    discovery: { ...file.discovery, ...discoveryFromFlags(values) },
    ...(inspector != null ? { inspect: inspector.observer('node') } : {}),
    ...(metricsAt != null ? { metrics: { process: true } } : {}),
    ...(values.listen != null ? { listen: values.listen as string[] } : {}),
    ...(values.bootstrap != null ? { bootstrap: values.bootstrap as string[] } : {})
  })
  const print = (line: string, onScreen = line): void => { process.stdout.write(`${onScreen}\n`); log?.write(`${line}\n`) }
  // on a terminal, a long event breaks between its facts; to a file or pipe, one line per event
  const width = process.stdout.isTTY === true ? terminalWidth() : Infinity
  node.on('*', (event) => {
    if (json) print(jsonText({ time: Date.now(), ...event }))
    else print(eventLine(event), eventLine(event, width))
  })
  const swarm = createSwarm(node)
  let vpn
  try {
    vpn = createVpn(node, vpnOptions(vpnFile, values))
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  await node.init()
  const nodeMethods = nodeControl(node)
  const control = await startControlServer({ dataDir, methods: { ...nodeMethods.methods, ...swarmControlMethods(swarm), ...vpnControlMethods(vpn) }, streams: nodeMethods.streams })
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | undefined
  try {
    if (metricsAt != null) metricsServer = await startMetricsServer(metricsAt, node.metrics)
    await node.start()
  } catch (err) {
    await metricsServer?.close()
    await control.close()
    await node.stop()
    throw err
  }
  const restored = await swarm.restore().catch((err: unknown) => { print(`could not rejoin the private swarm: ${(err as Error).message}`); return undefined })
  if (restored != null && restored.role !== 'none') print(`private swarm: ${restored.role}, ${restored.state}, key ${restored.fingerprint ?? '-'}`)
  const vpnRestored = await vpn.restore().catch((err: unknown) => { print(`could not bring the VPN back: ${(err as Error).message}`); return undefined })
  if (vpnRestored != null && vpnRestored.role !== 'none') print(`vpn: ${vpnRestored.role}, ${vpnRestored.state}, ${vpnRestored.ip ?? '-'} (version ${vpnRestored.version ?? '-'})`)
  const status = node.status()
  if (json) print(JSON.stringify({ type: 'node.running', peerId: status.peerId, addresses: status.host.addresses, listening: status.host.listening ?? [], control: control.path, ...(metricsServer != null ? { metrics: metricsServer.url } : {}) }))
  else {
    print(`dms-net node ${status.peerId}`)
    // a whole multiaddr with its peer id is wider than a terminal: there, the id is the line above
    for (const { address, announced } of hostAddresses(status.host)) {
      const shown = width === Infinity ? address : address.replace(`/p2p/${status.peerId}`, '')
      const note = announced ? '' : ` ${UNCONFIRMED}`
      print(`  listening on ${address}${note}`, `  listening on ${shown}${note}`)
    }
    if (width !== Infinity) print('  (dial it as that address + /p2p/ + the id above)')
    const mechanisms = status.discovery.find((d) => d.network === 'public')?.mechanisms ?? []
    print(`  discovery ${mechanisms.length > 0 ? mechanisms.join(', ') : 'bootstrap peers only (see --help: --dht, --nat, …)'}`)
    print(`  control socket ${control.path}`)
    if (metricsServer != null) print(`  metrics ${metricsServer.url}`)
    print(`  try: dms-net status --data ${dataDir}`)
  }
  if (inspector != null) print(json ? JSON.stringify({ type: 'inspector', url: inspector.url, stately: inspector.statelyUrl }) : `  inspector ${inspector.url} (Stately inspector: ${inspector.statelyUrl})`)
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  if (!json) print('stopping…')
  await metricsServer?.close()
  await control.close()
  await node.stop() // takes the VPN device down too; membership stays for the next start
  await inspector?.close()
  await new Promise((resolve) => { if (log == null) resolve(undefined); else log.end(resolve) })
  return 0
}
