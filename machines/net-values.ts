/** A dotted IPv4 address, each part 0–255 without leading zeros: what may enter a table or a ruleset. */
export const isIpv4 = (ip: unknown): ip is string =>
  typeof ip === 'string' && /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(ip) && ip.split('.').every((part) => Number(part) <= 255 && String(Number(part)) === part)

/** A TCP or UDP port number a member may publish or a rule may name: 1–65535. */
export const isPort = (port: unknown): port is number => typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535
