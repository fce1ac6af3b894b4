import { spawn } from 'node:child_process'
import type { Namespace } from '../../runtime/netdev/netns.js'

/** One iperf3 TCP run from `client` to `serverIp` in `server`'s namespace (a one-off server there); Mbit/s received. */
export async function iperf (client: Namespace, server: Namespace, serverIp: string, seconds: number): Promise<number> {
  const daemon = spawn('ip', ['netns', 'exec', server.name, 'iperf3', '-s', '-1', '-B', serverIp], { stdio: 'ignore' })
  try {
    await new Promise((resolve) => setTimeout(resolve, 300))
    const report = JSON.parse(await client.exec('iperf3', ['-c', serverIp, '-t', String(seconds), '-J'], { timeoutMs: (seconds + 20) * 1000 })) as { end: { sum_received: { bits_per_second: number } } }
    return report.end.sum_received.bits_per_second / 1e6
  } finally {
    daemon.kill()
  }
}
