import type { DiscoveryInit } from '../discovery/config.js'
import type { Options, Parsed } from './command.js'
import { UsageError } from './command.js'

/** `dms-net node` flags for discovery and reachability (docs/discovery.md). */
export const discoveryOptions: Options = {
  dht: { type: 'boolean' },
  'dht-prefix': { type: 'string' },
  rendezvous: { type: 'string' },
  'relay-client': { type: 'boolean' },
  'relay-server': { type: 'boolean' },
  'relay-max-reservations': { type: 'string' },
  autonat: { type: 'boolean' },
  'hole-punching': { type: 'boolean' },
  mdns: { type: 'boolean' },
  announce: { type: 'string', multiple: true },
  stun: { type: 'string', multiple: true },
  nat: { type: 'boolean' }
}

export const discoveryHelp = [
  '  --dht                   Kademlia DHT: dial peers by id alone, keep the peer store current',
  '  --dht-prefix PREFIX     DHT protocol prefix, so DMS networks do not mix (default /dms)',
  '  --rendezvous NAME       advertise and find NAME through the DHT, dialling what is found (implies --dht)',
  '  --relay-client          reserve a slot on a relay (reachable behind NAT) and dial peers through relays',
  '  --relay-server          serve as a relay for others (public nodes); see --relay-max-reservations',
  '  --relay-max-reservations N',
  '                          reservations a relay server holds at once (default 32)',
  '  --autonat               ask peers whether this node is publicly reachable',
  '  --hole-punching         upgrade relayed connections to direct ones (DCUtR; implies --relay-client)',
  '  --stun HOST:PORT        STUN server (TCP) for TCP hole punching between two NATs (repeatable; implies --hole-punching)',
  '  --mdns                  find peers on the local network',
  '  --announce MULTIADDR    also announce this address, e.g. a router port forward (repeatable)',
  '  --nat                   behind a NAT: --dht --relay-client --autonat --hole-punching'
].join('\n')

/** The discovery part of a node's configuration, from `dms-net node` flags: only what the flags switch on, so a --config file's choices stand otherwise. */
export function discoveryFromFlags (values: Parsed['values']): DiscoveryInit {
  const on = (name: string): boolean => values[name] === true || (values.nat === true && ['dht', 'relay-client', 'autonat', 'hole-punching'].includes(name))
  const rendezvous = typeof values.rendezvous === 'string' ? values.rendezvous : undefined
  let maxReservations: number | undefined
  if (typeof values['relay-max-reservations'] === 'string') {
    maxReservations = Number(values['relay-max-reservations'])
    if (!Number.isInteger(maxReservations) || maxReservations <= 0) throw new UsageError(`--relay-max-reservations must be a positive whole number (got ${JSON.stringify(values['relay-max-reservations'])})`)
  }
  const flags: DiscoveryInit = {
    dht: on('dht') || rendezvous != null,
    ...(typeof values['dht-prefix'] === 'string' ? { dhtPrefix: values['dht-prefix'] } : {}),
    ...(rendezvous != null ? { rendezvous } : {}),
    relayClient: on('relay-client'),
    relayServer: on('relay-server'),
    ...(maxReservations != null ? { relayLimits: { maxReservations } } : {}),
    autonat: on('autonat'),
    holePunching: on('hole-punching') || values.stun != null,
    mdns: on('mdns'),
    ...(values.announce != null ? { announce: values.announce as string[] } : {}),
    ...(values.stun != null ? { stun: values.stun as string[] } : {})
  }
  return Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== false)) as DiscoveryInit
}
