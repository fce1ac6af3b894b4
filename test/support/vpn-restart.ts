// Runs inside a test namespace: one node with the VPN created with it (createNode({ features })) leads a VPN,
// then stops and starts twice. After each step it prints one JSON line: the step, whether the TUN device
// exists, and the VPN's state. The device must go with every stop and come back with restore().
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { createNode } from '../../runtime/node.js'
import { vpn } from '../../runtime/vpn/vpn-service.js'

const device = 'dmsrestart0'
const hasDevice = (): boolean => { try { execFileSync('ip', ['link', 'show', device], { stdio: 'ignore' }); return true } catch { return false } }
const dataDir = mkdtempSync(join(tmpdir(), 'dms-vpn-restart-'))
const node = createNode({ dataDir, features: { vpn: vpn({ device }) } })
const report = (step: string): void => { process.stdout.write(`${JSON.stringify({ step, device: hasDevice(), state: node.features.vpn.status().state, ip: node.features.vpn.status().ip })}\n`) }

await node.start()
// a leader with one member nobody can reach: the device comes up all the same
await node.features.vpn.start(['12D3KooWCndKw2UnnxuXSSBvabDknGGj8HBHarkuMdT36S2rT6K1'], { subnet: '10.91.0.0/24' })
report('started')
for (let run = 1; run <= 2; run++) {
  await node.stop()
  report(`stopped ${run}`)
  await node.start()
  await node.features.vpn.restore()
  report(`restored ${run}`)
}
await node.stop()
report('stopped')
rmSync(dataDir, { recursive: true, force: true })
