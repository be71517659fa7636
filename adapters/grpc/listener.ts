import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { ServerCredentials, type Server as GrpcServer } from '@grpc/grpc-js';

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
}

/**
 * One TCP port for both protocols: reads the first bytes of each connection, hands HTTP/2 connections to grpc-js
 * (createConnectionInjector) and the rest to a node:http server (metrics, probes).
 */
export async function listenShared(grpc: GrpcServer, http: HttpServer, port: number, host: string): Promise<SharedListener> {
  const injector = grpc.createConnectionInjector(ServerCredentials.createInsecure());
  const httpSockets = new Set<Socket>();
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
        httpSockets.add(socket);
        socket.once('close', () => httpSockets.delete(socket));
        http.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  };
  const tcp: TcpServer = createTcpServer({ noDelay: true }, route);
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
  };
}

export { createHttpServer };
