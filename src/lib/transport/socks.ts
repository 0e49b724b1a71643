import {connect as netConnect, isIP, type Socket} from 'node:net'
import {connect as tlsConnect, type ConnectionOptions} from 'node:tls'

import type {buildConnector} from 'undici'

/**
 * An undici connector that reaches the API server through a SOCKS5 proxy (RFC 1928, with RFC 1929
 * username/password from the URL), as kubectl's `proxy-url: socks5://` does: the proxy resolves
 * the server's name. undici 7's own Socks5ProxyAgent prints an ExperimentalWarning on stderr,
 * which meshdbg must not.
 */
export function socksConnector(proxyUrl: string, tls: ConnectionOptions, timeoutMs: number): buildConnector.connector {
  const proxy = new URL(proxyUrl)
  return (options, callback) => {
    const host = options.hostname.replace(/^\[|\]$/g, '')
    const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80)
    socksConnect(proxy, host, port, timeoutMs).then(
      (socket) => {
        if (options.protocol !== 'https:') return callback(null, socket)
        // No SNI for an IP address (Node warns about it); the certificate is still checked against `host`.
        const secure = tlsConnect({...tls, socket, host, ...(tls.servername || isIP(host) ? {} : {servername: host})})
        const onError = (error: Error) => callback(error, null)
        secure.once('error', onError)
        secure.once('secureConnect', () => {
          secure.off('error', onError)
          callback(null, secure)
        })
      },
      (error: Error) => callback(error, null),
    )
  }
}

const REPLIES: Readonly<Record<number, string>> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
}

export class SocksError extends Error {
  readonly code = 'ESOCKS'
  constructor(message: string) {
    super(message)
    this.name = 'SocksError'
  }
}

/** A TCP connection to host:port through the proxy, ready for the application's bytes. */
export function socksConnect(proxy: URL, host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(Number(proxy.port) || 1080, proxy.hostname.replace(/^\[|\]$/g, ''))
    let buffered = Buffer.alloc(0)
    let want: {bytes: number; then: (data: Buffer) => void} | undefined
    const fail = (error: Error) => {
      clearTimeout(timer)
      socket.destroy()
      reject(error)
    }
    const timer = setTimeout(() => fail(new SocksError(`the SOCKS proxy ${proxy.host} did not answer within ${timeoutMs}ms`)), timeoutMs)
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      while (want && buffered.length >= want.bytes) {
        const {bytes, then} = want
        want = undefined
        const data = buffered.subarray(0, bytes)
        buffered = buffered.subarray(bytes)
        then(data)
      }
    }
    const read = (bytes: number, then: (data: Buffer) => void) => {
      want = {bytes, then}
      onData(Buffer.alloc(0))
    }
    socket.on('data', onData)
    socket.once('error', fail)
    socket.once('close', () => fail(new SocksError(`the SOCKS proxy ${proxy.host} closed the connection`)))

    const username = decodeURIComponent(proxy.username)
    const password = decodeURIComponent(proxy.password)
    const withAuth = username !== '' || password !== ''
    const sendConnect = () => {
      const ipVersion = isIP(host)
      const address =
        ipVersion === 4 ? Buffer.from([1, ...host.split('.').map(Number)])
        : ipVersion === 6 ? Buffer.concat([Buffer.from([4]), ipv6Bytes(host)])
        : Buffer.concat([Buffer.from([3, Buffer.byteLength(host)]), Buffer.from(host)])
      const portBytes = Buffer.alloc(2)
      portBytes.writeUInt16BE(port)
      socket.write(Buffer.concat([Buffer.from([5, 1, 0]), address, portBytes]))
      read(4, (head) => {
        if (head[0] !== 5) return fail(new SocksError(`${proxy.host} is not a SOCKS5 proxy`))
        if (head[1] !== 0) return fail(new SocksError(`the SOCKS proxy ${proxy.host} could not connect to ${host}:${port}: ${REPLIES[head[1]] ?? `error ${head[1]}`}`))
        const finish = (rest: number) => read(rest, () => {
          clearTimeout(timer)
          socket.off('data', onData)
          socket.removeAllListeners('error')
          socket.removeAllListeners('close')
          if (buffered.length > 0) socket.unshift(buffered)
          resolve(socket)
        })
        if (head[3] === 1) finish(4 + 2)
        else if (head[3] === 4) finish(16 + 2)
        else if (head[3] === 3) read(1, (length) => finish(length[0] + 2))
        else fail(new SocksError(`the SOCKS proxy ${proxy.host} answered with an unknown address type`))
      })
    }
    socket.once('connect', () => {
      socket.write(Buffer.from(withAuth ? [5, 2, 0, 2] : [5, 1, 0]))
      read(2, (choice) => {
        if (choice[0] !== 5) return fail(new SocksError(`${proxy.host} is not a SOCKS5 proxy`))
        if (choice[1] === 0) return sendConnect()
        if (choice[1] !== 2 || !withAuth) return fail(new SocksError(`the SOCKS proxy ${proxy.host} accepts none of our authentication methods${withAuth ? '' : ' (it may need a username and password in proxy-url)'}`))
        const user = Buffer.from(username)
        const pass = Buffer.from(password)
        socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]))
        read(2, (status) => (status[1] === 0 ? sendConnect() : fail(new SocksError(`the SOCKS proxy ${proxy.host} rejected the username and password`))))
      })
    })
  })
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail = ''] = address.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === '' ? [] : tail.split(':')
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left
  const bytes = Buffer.alloc(16)
  groups.forEach((group, index) => bytes.writeUInt16BE(Number.parseInt(group || '0', 16), index * 2))
  return bytes
}
