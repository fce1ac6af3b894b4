import { basicSteps, departureStep } from './basic-steps.js'
import { swarmSteps } from './swarm-steps.js'
import { vpnSteps } from './vpn-steps.js'
import { discoverySteps } from './discovery-steps.js'
import type { DemoStep } from './context.js'

/** Every step `dms-net demo` runs, in order. A capability adds its steps here. */
export const demoSteps: DemoStep[] = [
  ...basicSteps,
  ...swarmSteps,
  ...vpnSteps,
  ...discoverySteps,
  departureStep
]
