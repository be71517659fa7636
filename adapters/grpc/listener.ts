import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { ServerCredentials, type Server as GrpcServer } from '@grpc/grpc-js';
import { serverContextOptions, type ServerTlsMaterial } from '../../core/config/tls.ts';

/** Every HTTP/2 client (gRPC) opens with this preface (RFC 9113 §3.4); HTTP/1.1 requests never do. */
const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export interface SharedListener {
  port: number;
  /**
   * Stops accepting connections at once; resolves when every connection has ended (the caller ends them by
   * shutting the gRPC and HTTP servers down).
   */
  close(): Promise<void>;
  /** Ends the HTTP/1.1 connections (node:http tracks only connections it accepted itself, so we do). */
  destroyHttpConnections(): void;
  http: HttpServer;
  /**
   * Over TLS: serves this certificate, key and client CA to connections accepted from now on (node's
   * setSecureContext); connections already open keep the context they were accepted with. Throws when OpenSSL refuses
   * the material (check it first: core/config/tls.ts checkServerTls). Undefined for a plaintext listener.
   */
  setTls?: (material: ServerTlsMaterial) => void;
}

export interface ListenerTls extends ServerTlsMaterial {
  /** A client whose handshake failed (plaintext, untrusted or missing client certificate), for a debug log line. */
  onClientError?: (err: Error, remote: string | undefined) => void;
}

/**
 * Over TLS the protocol is negotiated, not sniffed (RFC 9113 §3.2: HTTP/2 over TLS uses ALPN). gRPC clients offer
 * only `h2`; HTTP clients (curl, Prometheus, kubelet) offer `http/1.1`, usually with `h2`: they get HTTP/1.1, which is
 * what the probes and /metrics speak. A client that offers neither is refused with a TLS alert.
 */
function chooseProtocol({ protocols }: { protocols: string[] }): string | undefined {
  if (protocols.includes('http/1.1')) return 'http/1.1';
  return protocols.includes('h2') ? 'h2' : undefined;
}

/**
 * One TCP port for both protocols: reads the first bytes of each connection, hands HTTP/2 connections to grpc-js
 * (createConnectionInjector) and the rest to a node:http server (metrics, probes). With `tls`, every connection is a
 * TLS connection first (mTLS when `tls.clientCa` is set: no valid client certificate, no connection); the decrypted
 * stream is routed by its ALPN protocol.
 */
export async function listenShared(grpc: GrpcServer, http: HttpServer, port: number, host: string, tls?: ListenerTls): Promise<SharedListener> {
  // grpc-js speaks HTTP/2 over the stream it is given; over TLS that stream is our already decrypted TLS socket.
  const injector = grpc.createConnectionInjector(ServerCredentials.createInsecure());
  const httpSockets = new Set<Socket>();
  const toHttp = (socket: Socket) => {
    httpSockets.add(socket);
    socket.once('close', () => httpSockets.delete(socket));
    http.emit('connection', socket);
  };
  const routeTls = (socket: TLSSocket) => {
    socket.on('error', () => socket.destroy());
    if (socket.alpnProtocol === 'h2') injector.injectConnection(socket);
    else toHttp(socket);
  };
  const route = (socket: Socket) => {
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, preface.length);
      const isHttp2 = seen.subarray(0, n).equals(preface.subarray(0, n));
      if (isHttp2 && seen.length < preface.length) return; // need more bytes to be sure
      socket.off('data', onData);
      socket.pause();
      socket.unshift(seen);
      if (isHttp2) {
        // The HTTP/2 session reads the bytes already buffered on the socket, then takes over its handle.
        injector.injectConnection(socket);
      } else {
        // node:http reads through the stream here, so the socket must flow again.
        toHttp(socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  };
  const tlsServer = tls === undefined ? undefined : createTlsServer({
    noDelay: true,
    ...serverContextOptions(tls),
    ALPNCallback: chooseProtocol,
    // A client that opens a connection and never finishes the handshake must not hold it for the default 120 s.
    handshakeTimeout: 10_000,
    ...(tls.clientCa === undefined ? {} : { requestCert: true, rejectUnauthorized: true }),
  }, routeTls).on('tlsClientError', (err: Error, socket: TLSSocket) => tls.onClientError?.(err, socket.remoteAddress));
  const tcp: TcpServer = tlsServer ?? createTcpServer({ noDelay: true }, route);
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, host, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  const address = tcp.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    http,
    close: () => new Promise<void>((resolve) => tcp.close(() => resolve())),
    destroyHttpConnections: () => {
      for (const socket of httpSockets) socket.destroy();
    },
    // Only the context changes: ALPN, the handshake timeout and the client-certificate requirement are the server's.
    ...(tlsServer === undefined ? {} : { setTls: (material: ServerTlsMaterial) => tlsServer.setSecureContext(serverContextOptions(material)) }),
  };
}

export { createHttpServer };
